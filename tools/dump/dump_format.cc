#include "tools/dump/dump_format.h"

namespace ctxd::dump {

std::string_view DumpFormatName(DumpFormat format) {
  switch (format) {
    case DumpFormat::kJson:
      return "json";
    case DumpFormat::kPretty:
      return "pretty";
    case DumpFormat::kCsv:
      return "csv";
    case DumpFormat::kTxt:
      return "txt";
  }
  return "json";
}

std::optional<DumpFormat> ParseDumpFormat(std::string_view name) {
  for (DumpFormat f : {DumpFormat::kJson, DumpFormat::kPretty, DumpFormat::kCsv, DumpFormat::kTxt}) {
    if (DumpFormatName(f) == name) return f;
  }
  return std::nullopt;
}

std::string_view DumpExtension(DumpFormat format) {
  switch (format) {
    case DumpFormat::kJson:
      return "json";
    case DumpFormat::kCsv:
      return "csv";
    case DumpFormat::kPretty:
    case DumpFormat::kTxt:
      return "txt";
  }
  return "txt";
}

}  // namespace ctxd::dump
