#include "server/json_body.h"

#include <charconv>

namespace ctxd::server {
namespace {

// Nesting depth of `text`, counting brackets outside strings; stops early
// once past `limit`.
int NestingDepth(std::string_view text, int limit) {
  int depth = 0;
  int max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth && (max_depth = depth) > limit) return max_depth;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

}  // namespace

StatusOr<Json> ParseJson(std::string_view text) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Status::InvalidArgument("the request body is empty; expected JSON");
  }
  if (NestingDepth(text, kMaxJsonDepth) > kMaxJsonDepth) {
    return Status::InvalidArgument("the JSON body is nested deeper than " + std::to_string(kMaxJsonDepth) +
                                   " levels");
  }
  Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return Status::InvalidArgument("the request body is not valid JSON (or not UTF-8)");
  }
  return value;
}

StatusOr<Json> ParseJsonObject(std::string_view text) {
  auto value = ParseJson(text);
  if (value.ok() && !value->is_object()) {
    return Status::InvalidArgument("the request body must be a JSON object");
  }
  return value;
}

std::string CanonicalJson(const Json& value) {
  // Parsed input is valid UTF-8, so the strict handler never throws here.
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Status OptionalString(const Json& object, const char* name, std::string* out) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return Status::InvalidArgument(std::string("'") + name + "' must be a string");
  *out = it->get_ref<const std::string&>();
  return Status::Ok();
}

Status RequiredString(const Json& object, const char* name, std::string* out) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) {
    return Status::InvalidArgument(std::string("'") + name + "' is required");
  }
  if (!it->is_string()) return Status::InvalidArgument(std::string("'") + name + "' must be a string");
  *out = it->get_ref<const std::string&>();
  return Status::Ok();
}

const Json* RequiredField(const Json& object, const char* name, Status* status) {
  auto it = object.find(name);
  if (it == object.end()) {
    *status = Status::InvalidArgument(std::string("'") + name + "' is required");
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
