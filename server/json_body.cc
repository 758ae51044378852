#include "server/json_body.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "engine/engine.h"

namespace ctxd::server {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

size_t SkipDigits(std::string_view text, size_t pos) {
  while (pos < text.size() && IsDigit(text[pos])) ++pos;
  return pos;
}

// The number token at `start` ('-' or a digit): -?digits(.digits)?([eE][+-]?digits)?
std::string_view NumberAt(std::string_view text, size_t start) {
  size_t end = SkipDigits(text, text[start] == '-' ? start + 1 : start);
  if (end < text.size() && text[end] == '.') end = SkipDigits(text, end + 1);
  if (end < text.size() && (text[end] == 'e' || text[end] == 'E')) {
    ++end;
    if (end < text.size() && (text[end] == '+' || text[end] == '-')) ++end;
    end = SkipDigits(text, end);
  }
  return text.substr(start, std::max<size_t>(end - start, 1));
}

// Whether `number` is a valid JSON integer literal beyond what 64 bits hold
// (2^64 - 1, or -2^63), which nlohmann would parse as a double.
bool IsBigInteger(std::string_view number) {
  const bool negative = number.front() == '-';
  const std::string_view digits = number.substr(negative ? 1 : 0);
  // Not JSON (the parser says so), or a fraction or an exponent: not an integer.
  if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) return false;
  if (digits.find_first_not_of("0123456789") != std::string_view::npos) return false;
  const std::string_view max = negative ? "9223372036854775808" : "18446744073709551615";
  return digits.size() > max.size() || (digits.size() == max.size() && digits > max);
}

// Skips the string at `*pos` (its opening quote) without decoding it; false
// when it does not end.
bool SkipString(std::string_view text, size_t* pos) {
  for (size_t i = *pos + 1; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      *pos = i + 1;
      return true;
    }
  }
  return false;
}

// What a look at `text` before parsing finds: how deep its brackets nest
// outside strings (counted until past `depth_limit`), and the first integer
// literal that nlohmann would turn into a double, losing digits.
struct Prescan {
  int depth = 0;
  std::string_view big_integer;
};

Prescan Look(std::string_view text, int depth_limit) {
  Prescan found;
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      size_t end = i;
      if (!SkipString(text, &end)) return found;  // never closed: the parser says so
      i = end - 1;
    } else if (c == '[' || c == '{') {
      if (++depth > found.depth && (found.depth = depth) > depth_limit) return found;
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (IsDigit(c) || c == '-') {  // a number: digits appear nowhere else outside strings
      const std::string_view number = NumberAt(text, i);
      if (found.big_integer.empty() && IsBigInteger(number)) found.big_integer = number;
      i += number.size() - 1;
    }
  }
  return found;
}

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void SkipSpace(std::string_view text, size_t* pos) {
  while (*pos < text.size() && IsJsonSpace(text[*pos])) ++*pos;
}

// Skips whitespace, then consumes `c`; false when it is not next.
bool Consume(std::string_view text, size_t* pos, char c) {
  SkipSpace(text, pos);
  if (*pos == text.size() || text[*pos] != c) return false;
  ++*pos;
  return true;
}

// A string without escapes or control characters at `*pos` (its opening
// quote), quotes included; empty when there is none. UTF-8 is checked by
// the caller.
std::string_view PlainString(std::string_view text, size_t* pos) {
  if (*pos == text.size() || text[*pos] != '"') return {};
  size_t end = *pos + 1;
  while (end < text.size() && text[end] != '"') {
    const auto byte = static_cast<unsigned char>(text[end]);
    if (byte < 0x20 || byte == '\\') return {};
    ++end;
  }
  if (end == text.size()) return {};
  const std::string_view value = text.substr(*pos, end + 1 - *pos);
  *pos = end + 1;
  return value;
}

// Decimal digits of an unsigned integer that fits in 64 bits (no sign,
// fraction, exponent or leading zero), or empty.
std::string_view PlainUnsigned(std::string_view text, size_t* pos) {
  const size_t end = SkipDigits(text, *pos);
  const std::string_view digits = text.substr(*pos, end - *pos);
  if (digits.empty() || (digits.size() > 1 && digits[0] == '0')) return {};
  if (end < text.size() && (text[end] == '.' || text[end] == 'e' || text[end] == 'E')) return {};
  uint64_t value = 0;
  if (std::from_chars(digits.data(), digits.data() + digits.size(), value).ec != std::errc()) return {};
  *pos = end;
  return digits;
}

// One `"name": value` member of a flat object.
bool ParseFlatMember(std::string_view text, size_t* pos, FlatMember* member) {
  SkipSpace(text, pos);
  const std::string_view name = PlainString(text, pos);
  if (name.empty() || !Consume(text, pos, ':')) return false;
  member->name = name.substr(1, name.size() - 2);
  SkipSpace(text, pos);
  member->json = PlainString(text, pos);
  member->is_string = !member->json.empty();
  if (!member->is_string) member->json = PlainUnsigned(text, pos);
  return !member->json.empty();
}

// Skips the value at `*pos` by its structure alone: strings and brackets
// are matched, scalars run to the next delimiter. Nothing is decoded or
// checked, and nesting is counted, not recursed into.
bool SkipValue(std::string_view text, size_t* pos) {
  if (*pos == text.size()) return false;
  if (text[*pos] == '"') return SkipString(text, pos);
  if (text[*pos] != '{' && text[*pos] != '[') {
    const size_t end = std::min(text.find_first_of(",}] \t\r\n", *pos), text.size());
    if (end == *pos) return false;
    *pos = end;
    return true;
  }
  int depth = 0;
  while (*pos < text.size()) {
    const char c = text[*pos];
    if (c == '"') {
      if (!SkipString(text, pos)) return false;
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if ((c == '}' || c == ']') && --depth == 0) {
      ++*pos;
      return true;
    }
    ++*pos;
  }
  return false;
}

// Whether the quoted member name `quoted` is `name`, escapes decoded.
bool NameIs(std::string_view quoted, std::string_view name) {
  const std::string_view raw = quoted.substr(1, quoted.size() - 2);
  if (raw.find('\\') == std::string_view::npos) return raw == name;
  const Json decoded = Json::parse(quoted, nullptr, /*allow_exceptions=*/false);
  return decoded.is_string() && decoded.get_ref<const std::string&>() == name;
}

}  // namespace

std::string_view TopLevelMember(std::string_view text, std::string_view name) {
  std::string_view found;
  size_t pos = 0;
  if (!Consume(text, &pos, '{')) return found;
  do {
    SkipSpace(text, &pos);
    const size_t name_start = pos;
    if (pos == text.size() || text[pos] != '"' || !SkipString(text, &pos)) return found;
    const std::string_view quoted = text.substr(name_start, pos - name_start);
    if (!Consume(text, &pos, ':')) return found;
    SkipSpace(text, &pos);
    const size_t value_start = pos;
    if (!SkipValue(text, &pos)) return found;
    if (NameIs(quoted, name)) found = text.substr(value_start, pos - value_start);  // the last one wins
  } while (Consume(text, &pos, ','));
  return found;
}

const FlatMember* FlatObject::Find(std::string_view name) const {
  for (size_t i = 0; i < size; ++i) {
    if (members[i].name == name) return &members[i];
  }
  return nullptr;
}

bool ParseFlatObject(std::string_view text, FlatObject* out) {
  size_t pos = 0;
  out->size = 0;
  if (!Consume(text, &pos, '{')) return false;
  SkipSpace(text, &pos);
  if (pos < text.size() && text[pos] == '}') {
    ++pos;
  } else {
    while (true) {
      if (out->size == kMaxFlatMembers) return false;
      FlatMember& member = out->members[out->size];
      if (!ParseFlatMember(text, &pos, &member) || out->Find(member.name) != nullptr) return false;
      ++out->size;
      if (Consume(text, &pos, '}')) break;
      if (!Consume(text, &pos, ',')) return false;
    }
  }
  SkipSpace(text, &pos);
  // One UTF-8 check over the whole text covers every name and string.
  return pos == text.size() && engine::IsValidUtf8(text);
}

StatusOr<Json> ParseJson(std::string_view text, std::string_view what) {
  const std::string subject(what);
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Status::InvalidArgument(subject + " is empty; expected JSON");
  }
  const Prescan prescan = Look(text, kMaxJsonDepth);
  if (prescan.depth > kMaxJsonDepth) {
    return Status::InvalidArgument(subject + " is JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                                   " levels");
  }
  if (!prescan.big_integer.empty()) {
    return Status::InvalidArgument(subject + " has the integer " + std::string(prescan.big_integer) +
                                   ", beyond the 64 bits integers are kept exactly in; send it as a string");
  }
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {  // parse_error, or out_of_range for a number like 1e400
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, ...".
    const std::string_view detail = e.what();
    const size_t bracket = detail.find("] ");
    return Status::InvalidArgument(
        subject + " is not valid JSON: " +
        std::string(bracket == std::string_view::npos ? detail : detail.substr(bracket + 2)));
  }
}

StatusOr<Json> ParseJsonObject(std::string_view text, std::string_view what) {
  auto value = ParseJson(text, what);
  if (value.ok() && !value->is_object()) {
    return Status::InvalidArgument(std::string(what) + " must be a JSON object");
  }
  return value;
}

std::string CanonicalJson(const Json& value) {
  // Parsed input is valid UTF-8, so the strict handler never throws here.
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Built by appending: GCC 12's -Warray-bounds misreads `std::string("'") +
// name + ...` once it is inlined into a caller.
Status FieldError(const char* name, const char* what) {
  std::string message = "'";
  message += name;
  message += "' ";
  message += what;
  return Status::InvalidArgument(std::move(message));
}

Status OptionalString(const Json& object, const char* name, std::string* out) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return FieldError(name, "must be a string");
  *out = it->get_ref<const std::string&>();
  return Status::Ok();
}

Status RequiredString(const Json& object, const char* name, std::string* out) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) {
    return FieldError(name, "is required");
  }
  if (!it->is_string()) return FieldError(name, "must be a string");
  *out = it->get_ref<const std::string&>();
  return Status::Ok();
}

const Json* RequiredField(const Json& object, const char* name, Status* status) {
  auto it = object.find(name);
  if (it == object.end()) {
    *status = FieldError(name, "is required");
    return nullptr;
  }
  return &*it;
}

std::optional<uint64_t> ParseUint(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace ctxd::server
