#include "engine/event_json.h"

#include <chrono>
#include <set>
#include <string_view>

#include "engine/json_text.h"
#include "engine/state.h"

namespace ctxd::engine {

namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kSecondsPerDay = 86'400;

// Writes `value` as exactly `width` decimal digits (zero padded).
void AppendDigits(std::string* out, int64_t value, int width) {
  char buf[20];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out->append(buf, width);
}

// `"name":` preceded by a comma: every field but "seq" follows another.
void AppendKey(std::string* out, std::string_view name) {
  out->push_back(',');
  out->push_back('"');
  out->append(name);
  out->append("\":");
}

void AppendStringField(std::string* out, std::string_view name, std::string_view value) {
  AppendKey(out, name);
  AppendJsonString(out, value);
}

// Values are canonical JSON text already: embedded as they are.
void AppendRawField(std::string* out, std::string_view name, std::string_view json) {
  AppendKey(out, name);
  out->append(json);
}

void AppendOptionalRawField(std::string* out, std::string_view name, const std::optional<std::string>& json) {
  if (json) AppendRawField(out, name, *json);
}

void AppendProps(std::string* out, const Props& props) {
  AppendKey(out, "props");
  out->push_back('{');
  bool first = true;
  for (const auto& [name, value] : props) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, name);
    out->push_back(':');
    out->append(value);
  }
  out->push_back('}');
}

void AppendFields(std::string* out, const CtxPut& c) {
  AppendStringField(out, "key", c.key);
  AppendRawField(out, "value", c.value);
  AppendOptionalRawField(out, "old", c.old);
}
void AppendFields(std::string* out, const CtxDel& c) {
  AppendStringField(out, "key", c.key);
  AppendRawField(out, "old", c.old);
}
void AppendNodeChangeFields(std::string* out, const std::string& node, const std::string& type,
                            const std::string& name, const Props& props) {
  AppendStringField(out, "node", node);
  AppendStringField(out, "type", type);
  AppendStringField(out, "name", name);
  AppendProps(out, props);
}
void AppendFields(std::string* out, const NodeAdd& c) {
  AppendNodeChangeFields(out, c.node, c.type, c.name, c.props);
}
void AppendFields(std::string* out, const NodeRemove& c) {
  AppendNodeChangeFields(out, c.node, c.type, c.name, c.props);
}
void AppendFields(std::string* out, const EdgeAdd& c) {
  AppendStringField(out, "parent", c.parent);
  AppendStringField(out, "child", c.child);
}
void AppendFields(std::string* out, const EdgeRemove& c) {
  AppendStringField(out, "parent", c.parent);
  AppendStringField(out, "child", c.child);
}
void AppendFields(std::string* out, const PropPut& c) {
  AppendStringField(out, "node", c.node);
  AppendStringField(out, "name", c.name);
  AppendRawField(out, "value", c.value);
  AppendOptionalRawField(out, "old", c.old);
}
void AppendFields(std::string* out, const PropDel& c) {
  AppendStringField(out, "node", c.node);
  AppendStringField(out, "name", c.name);
  AppendRawField(out, "old", c.old);
}

void AppendChange(std::string* out, const Change& change) {
  out->append("{\"op\":\"");
  out->append(ChangeName(change));
  out->push_back('"');
  std::visit([out](const auto& c) { AppendFields(out, c); }, change);
  out->push_back('}');
}

void AppendChanges(std::string* out, const std::vector<Change>& changes) {
  AppendKey(out, "changes");
  out->push_back('[');
  for (size_t i = 0; i < changes.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendChange(out, changes[i]);
  }
  out->push_back(']');
}

// Reads exactly `width` digits at `*pos`.
bool ReadDigits(std::string_view text, size_t* pos, int width, int* value) {
  if (*pos + width > text.size()) return false;
  int v = 0;
  for (int i = 0; i < width; ++i) {
    char c = text[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += width;
  *value = v;
  return true;
}

bool Expect(std::string_view text, size_t* pos, std::string_view choices) {
  if (*pos >= text.size() || choices.find(text[*pos]) == std::string_view::npos) return false;
  ++*pos;
  return true;
}

// ".123456789": up to 9 digits; microseconds keep the first six.
bool ReadFraction(std::string_view text, size_t* pos, int64_t* micros) {
  *micros = 0;
  if (*pos >= text.size() || text[*pos] != '.') return true;
  ++*pos;
  size_t start = *pos;
  int64_t scale = 100'000;
  while (*pos < text.size() && text[*pos] >= '0' && text[*pos] <= '9') {
    *micros += (text[*pos] - '0') * scale;
    scale /= 10;
    ++*pos;
  }
  size_t digits = *pos - start;
  return digits >= 1 && digits <= 9;
}

// "Z" or "±hh:mm", as seconds east of UTC.
bool ReadOffset(std::string_view text, size_t* pos, int64_t* offset_seconds) {
  if (Expect(text, pos, "Zz")) {
    *offset_seconds = 0;
    return true;
  }
  if (*pos >= text.size()) return false;
  int sign = text[*pos] == '-' ? -1 : 1;
  int hours, minutes;
  if (!Expect(text, pos, "+-") || !ReadDigits(text, pos, 2, &hours) || !Expect(text, pos, ":") ||
      !ReadDigits(text, pos, 2, &minutes) || hours > 23 || minutes > 59) {
    return false;
  }
  *offset_seconds = sign * (hours * 3600 + minutes * 60);
  return true;
}

void AppendStringArray(std::string* out, const std::set<std::string>& items) {
  out->push_back('[');
  bool first = true;
  for (const auto& item : items) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, item);
  }
  out->push_back(']');
}

}  // namespace

void AppendNodeFields(std::string* out, std::string_view id, const Node& node) {
  out->append("\"id\":");
  AppendJsonString(out, id);
  AppendStringField(out, "type", node.type);
  AppendStringField(out, "name", node.name);
  AppendProps(out, node.props);
  AppendKey(out, "parents");
  AppendStringArray(out, node.parents);
  AppendKey(out, "children");
  AppendStringArray(out, node.children);
}

std::string EventToJson(const Event& event) {
  std::string out;
  out.reserve(256);
  out.append("{\"seq\":");
  out.append(std::to_string(event.seq));
  AppendStringField(&out, "ts", FormatTimestamp(event.ts_us));
  AppendStringField(&out, "type", EventTypeName(event.type));
  AppendStringField(&out, "actor", event.actor);
  if (!event.session.empty()) AppendStringField(&out, "session", event.session);
  AppendStringField(&out, "command_id", event.command_id);
  AppendChanges(&out, event.changes);
  if (event.type == EventType::kUndo) AppendRawField(&out, "undoes", std::to_string(event.undoes));
  if (event.type == EventType::kRedo) AppendRawField(&out, "redoes", std::to_string(event.redoes));
  if (!event.label.empty()) AppendStringField(&out, "label", event.label);
  if (!event.result.empty()) AppendRawField(&out, "result", event.result);
  out.push_back('}');
  return out;
}

std::string FormatTimestamp(int64_t ts_us) {
  using namespace std::chrono;
  // Floor division so that instants before 1970 still get a fraction in [0, 1s).
  int64_t seconds = ts_us / kMicrosPerSecond;
  int64_t micros = ts_us % kMicrosPerSecond;
  if (micros < 0) {
    micros += kMicrosPerSecond;
    --seconds;
  }
  int64_t day_number = seconds / kSecondsPerDay;
  int64_t second_of_day = seconds % kSecondsPerDay;
  if (second_of_day < 0) {
    second_of_day += kSecondsPerDay;
    --day_number;
  }
  year_month_day date{sys_days{days{day_number}}};
  std::string out;
  out.reserve(27);
  AppendDigits(&out, static_cast<int>(date.year()), 4);
  out.push_back('-');
  AppendDigits(&out, static_cast<unsigned>(date.month()), 2);
  out.push_back('-');
  AppendDigits(&out, static_cast<unsigned>(date.day()), 2);
  out.push_back('T');
  AppendDigits(&out, second_of_day / 3600, 2);
  out.push_back(':');
  AppendDigits(&out, second_of_day / 60 % 60, 2);
  out.push_back(':');
  AppendDigits(&out, second_of_day % 60, 2);
  out.push_back('.');
  AppendDigits(&out, micros, 6);
  out.push_back('Z');
  return out;
}

bool ParseTimestamp(std::string_view text, int64_t* ts_us) {
  using namespace std::chrono;
  size_t pos = 0;
  int y, mo, d, h, mi, s;
  int64_t micros, offset;
  bool well_formed =
      ReadDigits(text, &pos, 4, &y) && Expect(text, &pos, "-") && ReadDigits(text, &pos, 2, &mo) &&
      Expect(text, &pos, "-") && ReadDigits(text, &pos, 2, &d) && Expect(text, &pos, "Tt ") &&
      ReadDigits(text, &pos, 2, &h) && Expect(text, &pos, ":") && ReadDigits(text, &pos, 2, &mi) &&
      Expect(text, &pos, ":") && ReadDigits(text, &pos, 2, &s) && ReadFraction(text, &pos, &micros) &&
      ReadOffset(text, &pos, &offset) && pos == text.size();
  if (!well_formed) return false;
  year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  // Second 60 is a leap second (RFC 3339); it lands on the next minute's :00.
  if (!date.ok() || h > 23 || mi > 59 || s > 60) return false;
  int64_t day_number = sys_days{date}.time_since_epoch().count();
  int64_t seconds = day_number * kSecondsPerDay + h * 3600 + mi * 60 + s - offset;
  *ts_us = seconds * kMicrosPerSecond + micros;
  return true;
}

}  // namespace ctxd::engine
