// Reading JSON request bodies without exceptions, and typed field access
// that reports what was wrong ("'actor' must be a string").
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ctxd::server {

using Json = nlohmann::json;

// Deeper documents are refused before parsing: nlohmann's dump() recurses.
inline constexpr int kMaxJsonDepth = 256;

// Parses `text` as one JSON value. kInvalidArgument when it is empty,
// malformed, not UTF-8 or nested deeper than kMaxJsonDepth, with a message
// that names the text as `what` and says where the parser stopped.
StatusOr<Json> ParseJson(std::string_view text, std::string_view what = "the request body");
// ParseJson, and the value must be an object.
StatusOr<Json> ParseJsonObject(std::string_view text, std::string_view what = "the request body");

// The canonical JSON text of `value` (what the engine stores).
std::string CanonicalJson(const Json& value);

// The fast path of small write bodies and WebSocket ops, which need no JSON
// tree. A flat object is a JSON object whose members are all plain strings
// (no backslash, no control character, valid UTF-8) or unsigned integers
// that fit in 64 bits, with distinct names; JSON whitespace is allowed
// around the tokens. For such values the input text is already canonical
// JSON (what CanonicalJson would produce), so `json` is used as it is.
struct FlatMember {
  std::string_view name;
  std::string_view json;  // the value's text: a string with its quotes, or digits
  bool is_string = false;
  // The string's content without quotes (is_string only).
  std::string_view text() const { return json.substr(1, json.size() - 2); }
};
inline constexpr size_t kMaxFlatMembers = 8;
struct FlatObject {
  FlatMember members[kMaxFlatMembers];
  size_t size = 0;
  // The member called `name`, or nullptr.
  const FlatMember* Find(std::string_view name) const;
};
// Fills `out` when `text` is a flat object of at most kMaxFlatMembers
// members; false for any other text (the caller parses it with
// ParseJsonObject, which gives the same values and the error messages).
bool ParseFlatObject(std::string_view text, FlatObject* out);

// The text of the value of the last member called `name` of the object in
// `text`, found by the object's structure alone, so that values nlohmann
// refuses (a lone surrogate, 1e400) do not hide it; as far as the object can
// be walked from its start. Empty when there is no such member.
std::string_view TopLevelMember(std::string_view text, std::string_view name);

// kInvalidArgument "'name' what", e.g. FieldError("at", "must be a sequence number").
Status FieldError(const char* name, const char* what);
// Optional string field: absent or null leaves `*out` as it is; another type is an error.
Status OptionalString(const Json& object, const char* name, std::string* out);
// Required string field.
Status RequiredString(const Json& object, const char* name, std::string* out);
// Required field of any JSON type; returns nullptr (and an error) when absent.
const Json* RequiredField(const Json& object, const char* name, Status* status);

// Unsigned decimal integer (query parameters, headers): no sign, no spaces.
std::optional<uint64_t> ParseUint(std::string_view text);

}  // namespace ctxd::server
