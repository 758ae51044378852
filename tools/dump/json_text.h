// Helpers on canonical JSON text: the engine keeps every value as the
// compact `dump()` of nlohmann-json, so its kind is visible in the first
// byte and it can be embedded in a document as it is.
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace ctxd::dump {

enum class JsonKind { kString, kInt, kFloat, kBool, kNull, kObject, kArray };

// The kind of a canonical JSON value (an int has no '.', 'e' or 'E').
JsonKind KindOf(std::string_view canonical);

// Python's `type(value).__name__` of the decoded value, as the old server
// wrote it in the csv Type column: str, int, float, bool, NoneType, dict, list.
std::string_view PythonTypeName(std::string_view canonical);

// A string value as its plain text; any other value as its JSON text.
std::string PlainText(std::string_view canonical);

// Appends `text` as a JSON string literal, escaped exactly as nlohmann's
// dump() escapes it. Invalid UTF-8 is replaced by U+FFFD.
void AppendJsonString(std::string* out, std::string_view text);
std::string JsonString(std::string_view text);

// The value re-indented by `indent` spaces per level (nlohmann dump(indent)).
// Text that does not parse is returned unchanged.
std::string IndentJson(std::string_view canonical, int indent);

}  // namespace ctxd::dump
