// The four dump formats of the old context server (API.md, "Compatibility"),
// their names and file extensions. Layouts: docs/replay.md, "Dump formats".
#pragma once

#include <optional>
#include <string_view>

namespace ctxd::dump {

enum class DumpFormat { kJson, kPretty, kCsv, kTxt };

// "json", "pretty", "csv", "txt".
std::string_view DumpFormatName(DumpFormat format);
// nullopt for anything else (case-sensitive, as the old server).
std::optional<DumpFormat> ParseDumpFormat(std::string_view name);
// File extension without the dot: json, txt (pretty), csv, txt.
std::string_view DumpExtension(DumpFormat format);

}  // namespace ctxd::dump
