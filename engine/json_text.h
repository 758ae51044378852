// Writing JSON text by hand where building an nlohmann::json tree would only
// cost time: event JSON, command results, HTTP answers.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace ctxd::engine {

// Appends `text` as a JSON string literal, escaped exactly as nlohmann's
// dump() does (so the output is canonical JSON). The engine validates every
// name and key before it reaches an event; text that is not UTF-8 (a
// client's bytes echoed in an error message) has each offending byte
// replaced by U+FFFD, so the output is always valid JSON.
void AppendJsonString(std::string* out, std::string_view text);

// `text` as a JSON string literal.
std::string JsonString(std::string_view text);

}  // namespace ctxd::engine
