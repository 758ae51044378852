#include "tools/dump/json_text.h"

#include <nlohmann/json.hpp>

namespace ctxd::dump {
namespace {

// Printable ASCII other than '"' and '\\' is written as it is by dump().
bool NeedsEscaping(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return true;
  }
  return false;
}

std::string Dump(const nlohmann::json& value, int indent = -1) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

JsonKind KindOf(std::string_view canonical) {
  if (canonical.empty()) return JsonKind::kNull;
  switch (canonical.front()) {
    case '"':
      return JsonKind::kString;
    case '{':
      return JsonKind::kObject;
    case '[':
      return JsonKind::kArray;
    case 't':
    case 'f':
      return JsonKind::kBool;
    case 'n':
      return JsonKind::kNull;
    default:
      return canonical.find_first_of(".eE") == std::string_view::npos ? JsonKind::kInt : JsonKind::kFloat;
  }
}

std::string_view PythonTypeName(std::string_view canonical) {
  switch (KindOf(canonical)) {
    case JsonKind::kString:
      return "str";
    case JsonKind::kInt:
      return "int";
    case JsonKind::kFloat:
      return "float";
    case JsonKind::kBool:
      return "bool";
    case JsonKind::kNull:
      return "NoneType";
    case JsonKind::kObject:
      return "dict";
    case JsonKind::kArray:
      return "list";
  }
  return "NoneType";
}

std::string PlainText(std::string_view canonical) {
  if (KindOf(canonical) != JsonKind::kString || canonical.size() < 2) return std::string(canonical);
  std::string_view inner = canonical.substr(1, canonical.size() - 2);
  if (inner.find('\\') == std::string_view::npos) return std::string(inner);
  auto parsed = nlohmann::json::parse(canonical, nullptr, false);
  if (!parsed.is_string()) return std::string(canonical);
  return parsed.get<std::string>();
}

void AppendJsonString(std::string* out, std::string_view text) {
  if (!NeedsEscaping(text)) {
    out->push_back('"');
    out->append(text);
    out->push_back('"');
    return;
  }
  out->append(Dump(nlohmann::json(std::string(text))));
}

std::string JsonString(std::string_view text) {
  std::string out;
  AppendJsonString(&out, text);
  return out;
}

std::string IndentJson(std::string_view canonical, int indent) {
  auto parsed = nlohmann::json::parse(canonical, nullptr, false);
  if (parsed.is_discarded()) return std::string(canonical);
  return Dump(parsed, indent);
}

}  // namespace ctxd::dump
