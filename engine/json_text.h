// Writing JSON text by hand where building an nlohmann::json tree would only
// cost time: event JSON, command results, HTTP answers.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace ctxd::engine {

// Appends `text` as a JSON string literal, escaped exactly as nlohmann's
// dump() does (so the output is canonical JSON). `text` must be valid UTF-8;
// the engine validates every name and key before it reaches an event.
void AppendJsonString(std::string* out, std::string_view text);

// `text` as a JSON string literal.
std::string JsonString(std::string_view text);

}  // namespace ctxd::engine
