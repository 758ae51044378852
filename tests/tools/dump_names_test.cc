// Dump names: traversal in every spelling is refused, ordinary names pass,
// client-chosen names are made safe, listings show dumps only.
#include "tools/dump/dump_names.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/testutil/temp_dir.h"

namespace ctxd::dump {
namespace {

constexpr int64_t kTs = 1'795'386'501'000'000;  // 2026-11-22T22:28:21Z

bool IsTraversalError(const Status& status) {
  return status.code() == StatusCode::kInvalidArgument &&
         status.message().find("path traversal refused") != std::string::npos;
}

TEST(DumpNamesTest, TraversalIsRefusedInEverySpelling) {
  const std::string cases[] = {"..",
                               "../etc/passwd",
                               "a/../../b",
                               "..%2fsecret",
                               "%2e%2e",
                               "%2E%2E",
                               "%2e%2e%2fetc%2fpasswd",
                               ".%2e",
                               "%252e%252e",
                               "a%2fb",
                               "a%5cb",
                               "/etc/passwd",
                               "/abs.json",
                               "dir/file.json",
                               "..\\windows",
                               "a\\b.json",
                               "C:\\dump.json",
                               std::string("nul\0byte.json", 13),
                               "nul%00byte.json",
                               "dump..json"};
  for (const std::string& name : cases) {
    EXPECT_TRUE(IsTraversalError(CheckDumpName(name))) << name << ": " << CheckDumpName(name).ToString();
    auto sanitized = SanitizeDumpName(name, DumpFormat::kJson, kTs);
    EXPECT_TRUE(!sanitized.ok() && IsTraversalError(sanitized.status())) << name;
    EXPECT_FALSE(DumpPath("/dumps", name).ok()) << name;
  }
}

TEST(DumpNamesTest, OrdinaryNamesPass) {
  for (const char* name :
       {"context_dump_20261122_222821.json", "a.csv", "report-1.txt", "x", "A_B.c-d.json"}) {
    EXPECT_TRUE(CheckDumpName(name).ok()) << name;
  }
  EXPECT_EQ(*DumpPath("/dumps", "a.csv"), "/dumps/a.csv");
}

TEST(DumpNamesTest, OtherUnsafeNamesAreRefusedWithoutTraversal) {
  EXPECT_EQ(CheckDumpName("").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckDumpName(".hidden").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckDumpName(".").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckDumpName("sp ace.json").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckDumpName("pct%41.json").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckDumpName("tab\t.json").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckDumpName(std::string(201, 'a')).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckDumpName(std::string(200, 'a')).ok());
}

TEST(DumpNamesTest, SanitizeReplacesOddBytesAndAddsTheExtension) {
  EXPECT_EQ(*SanitizeDumpName("my report", DumpFormat::kCsv, kTs), "my_report.csv");
  EXPECT_EQ(*SanitizeDumpName("ünï.json", DumpFormat::kJson, kTs), "__n__.json");  // bytes, not characters
  EXPECT_EQ(*SanitizeDumpName(".hidden", DumpFormat::kTxt, kTs), "_hidden.txt");
  EXPECT_EQ(*SanitizeDumpName("keep.ext", DumpFormat::kJson, kTs), "keep.ext");
  EXPECT_EQ(*SanitizeDumpName("pretty", DumpFormat::kPretty, kTs), "pretty.txt");
  EXPECT_EQ(*SanitizeDumpName("", DumpFormat::kJson, kTs), "context_dump_20261122_222821.json");
  EXPECT_FALSE(SanitizeDumpName(std::string(300, 'a'), DumpFormat::kJson, kTs).ok());
}

TEST(DumpNamesTest, DefaultNameUsesUtcTime) {
  EXPECT_EQ(DefaultDumpName(DumpFormat::kCsv, kTs), "context_dump_20261122_222821.csv");
  EXPECT_EQ(DefaultDumpName(DumpFormat::kPretty, 0), "context_dump_19700101_000000.txt");
}

TEST(DumpNamesTest, ListingShowsDumpFilesOnly) {
  testutil::TempDir dir;
  std::ofstream(dir.Sub("a.json")) << "{}";
  std::ofstream(dir.Sub("b.csv")) << "Key\r\n";
  std::ofstream(dir.Sub(".a.json.tmp-123456")) << "partial";
  std::ofstream(dir.Sub("bad name.txt")) << "x";
  std::filesystem::create_directory(dir.Sub("sub.json"));
  auto files = ListDumpFiles(dir.path());
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  std::vector<std::string> names;
  for (const auto& file : *files) names.push_back(file.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a.json", "b.csv"}));
  for (const auto& file : *files) {
    EXPECT_EQ(file.path, dir.Sub(file.name));
    EXPECT_GT(file.modified_us, 0);
  }
  EXPECT_TRUE(ListDumpFiles(dir.Sub("absent"))->empty());
}

}  // namespace
}  // namespace ctxd::dump
