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
// malformed, not UTF-8 or nested deeper than kMaxJsonDepth.
StatusOr<Json> ParseJson(std::string_view text);
// ParseJson, and the value must be an object.
StatusOr<Json> ParseJsonObject(std::string_view text);

// The canonical JSON text of `value` (what the engine stores).
std::string CanonicalJson(const Json& value);

// Optional string field: absent or null leaves `*out` as it is; another type is an error.
Status OptionalString(const Json& object, const char* name, std::string* out);
// Required string field.
Status RequiredString(const Json& object, const char* name, std::string* out);
// Required field of any JSON type; returns nullptr (and an error) when absent.
const Json* RequiredField(const Json& object, const char* name, Status* status);

// Unsigned decimal integer (query parameters, headers): no sign, no spaces.
std::optional<uint64_t> ParseUint(std::string_view text);

}  // namespace ctxd::server
