// The small pieces under the formats: JSON kinds and Python type names,
// plain text of string values, JSON string escaping and CSV fields.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tools/dump/csv_field.h"
#include "tools/dump/dump_format.h"
#include "tools/dump/dump_sink.h"
#include "tools/dump/json_text.h"

namespace ctxd::dump {
namespace {

std::string Canonical(const char* json) { return nlohmann::json::parse(json).dump(); }

TEST(JsonTextTest, PythonTypeNamesFollowTheOldServer) {
  EXPECT_EQ(PythonTypeName(Canonical(R"("x")")), "str");
  EXPECT_EQ(PythonTypeName(Canonical("12")), "int");
  EXPECT_EQ(PythonTypeName(Canonical("-12")), "int");
  EXPECT_EQ(PythonTypeName(Canonical("18446744073709551615")), "int");
  EXPECT_EQ(PythonTypeName(Canonical("1.5")), "float");
  EXPECT_EQ(PythonTypeName(Canonical("2.0")), "float");
  EXPECT_EQ(PythonTypeName(Canonical("-1e-7")), "float");
  EXPECT_EQ(PythonTypeName(Canonical("true")), "bool");
  EXPECT_EQ(PythonTypeName(Canonical("false")), "bool");
  EXPECT_EQ(PythonTypeName(Canonical("null")), "NoneType");
  EXPECT_EQ(PythonTypeName(Canonical(R"({"a":1})")), "dict");
  EXPECT_EQ(PythonTypeName(Canonical("[1]")), "list");
}

TEST(JsonTextTest, PlainTextUnquotesStringsOnly) {
  EXPECT_EQ(PlainText(Canonical(R"("hello")")), "hello");
  EXPECT_EQ(PlainText(Canonical(R"("a\"b\\c\nd")")), "a\"b\\c\nd");
  EXPECT_EQ(PlainText(Canonical(R"("ünï ✓")")), "ünï ✓");
  EXPECT_EQ(PlainText(Canonical(R"("")")), "");
  EXPECT_EQ(PlainText(Canonical(R"({"a":"b"})")), R"({"a":"b"})");
  EXPECT_EQ(PlainText(Canonical("3.25")), "3.25");
}

TEST(JsonTextTest, JsonStringEscapesAsNlohmannDoes) {
  for (const char* text :
       {"plain", "with \"quotes\"", "back\\slash", "ctl\x01\x1f", "nl\n\r\t", "ünï ✓", "", "\x7f"}) {
    EXPECT_EQ(JsonString(text), nlohmann::json(text).dump()) << text;
  }
  EXPECT_EQ(JsonString("bad \xff utf8"), "\"bad \xef\xbf\xbd utf8\"");
}

TEST(JsonTextTest, IndentJsonPrettyPrints) {
  EXPECT_EQ(IndentJson(R"({"a":[1,2]})", 2), "{\n  \"a\": [\n    1,\n    2\n  ]\n}");
  EXPECT_EQ(IndentJson("not json", 2), "not json");
}

TEST(CsvFieldTest, QuotesOnlyWhenNeeded) {
  auto field = [](std::string_view text) {
    std::string out;
    AppendCsvField(&out, text);
    return out;
  };
  EXPECT_EQ(field("plain"), "plain");
  EXPECT_EQ(field(""), "");
  EXPECT_EQ(field("a,b"), "\"a,b\"");
  EXPECT_EQ(field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(field("\""), "\"\"\"\"");
  EXPECT_EQ(field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(field("cr\rlf"), "\"cr\rlf\"");
  EXPECT_EQ(field(" spaces "), " spaces ");
}

TEST(DumpFormatTest, NamesAndExtensions) {
  EXPECT_EQ(ParseDumpFormat("pretty"), DumpFormat::kPretty);
  EXPECT_EQ(ParseDumpFormat("JSON"), std::nullopt);
  EXPECT_EQ(ParseDumpFormat("xml"), std::nullopt);
  EXPECT_EQ(DumpFormatName(DumpFormat::kCsv), "csv");
  EXPECT_EQ(DumpExtension(DumpFormat::kPretty), "txt");
  EXPECT_EQ(DumpExtension(DumpFormat::kJson), "json");
}

TEST(DumpSinkTest, AFailedWriteSaysWhy) {
  std::ofstream full("/dev/full", std::ios::binary);  // every write: ENOSPC
  ASSERT_TRUE(full.is_open());
  DumpSink sink(full);
  sink.Append(std::string(100000, 'x'));
  const Status status = sink.Finish();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "writing the dump failed: No space left on device");
}

}  // namespace
}  // namespace ctxd::dump
