// What the format writers share: metadata, node and history JSON.
#include "engine/event_json.h"
#include "tools/dump/formats.h"
#include "tools/dump/json_text.h"

namespace ctxd::dump {
namespace {

void AppendOrNull(std::string* out, const std::optional<std::string>& json) {
  out->append(json ? *json : std::string("null"));
}

}  // namespace

std::string MetadataText(const nlohmann::ordered_json& value) {
  if (!value.is_string()) return value.dump();
  const std::string& text = value.get_ref<const std::string&>();
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return text;
}

nlohmann::ordered_json Metadata(const DumpInput& input) {
  const DumpRequest& request = input.request;
  nlohmann::ordered_json meta;
  meta["dump_timestamp"] = engine::FormatTimestamp(request.dump_ts_us);
  meta["requested_by"] = request.requested_by;
  meta["format"] = DumpFormatName(request.format);
  meta["key_count"] = input.state.context.size();
  meta["seq"] = input.state.head_seq;
  meta["store_id"] = request.store_id;
  meta["seq_timestamp"] = input.state.head_seq == 0
                              ? nlohmann::ordered_json()
                              : nlohmann::ordered_json(engine::FormatTimestamp(input.state.head_ts_us));
  if (request.at_time_us) meta["at_time"] = engine::FormatTimestamp(*request.at_time_us);
  if (request.session) meta["session"] = *request.session;
  meta["session_count"] = input.state.sessions.size();
  meta["include_history"] = request.include_history;
  if (request.include_history) meta["history_count"] = request.history.size();
  return meta;
}

void AppendNodeJson(std::string* out, const std::string& id, const engine::Node& node,
                    const std::string* session) {
  out->push_back('{');
  if (session != nullptr) {
    out->append("\"session\":");
    AppendJsonString(out, *session);
    out->push_back(',');
  }
  engine::AppendNodeFields(out, id, node);
  out->push_back('}');
}

void AppendHistoryJson(std::string* out, const HistoryEntry& entry) {
  out->append("{\"timestamp\":");
  AppendJsonString(out, engine::FormatTimestamp(entry.ts_us));
  out->append(",\"key\":");
  AppendJsonString(out, entry.key);
  out->append(",\"before\":");
  AppendOrNull(out, entry.before);
  out->append(",\"after\":");
  AppendOrNull(out, entry.after);
  out->append(",\"who\":");
  AppendJsonString(out, entry.who);
  out->append(",\"seq\":");
  out->append(std::to_string(entry.seq));
  out->push_back('}');
}

}  // namespace ctxd::dump
