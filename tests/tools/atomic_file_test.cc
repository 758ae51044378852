// Atomic dump files: the file appears whole or not at all, and no temp file
// is left behind either way.
#include "tools/dump/atomic_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/testutil/temp_dir.h"
#include "tests/tools/dump_state_fixture.h"
#include "tools/dump/dump_writer.h"

namespace ctxd::dump {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(AtomicFileWriterTest, CommitPublishesTheWholeFile) {
  testutil::TempDir dir;
  auto writer = AtomicFileWriter::Create(dir.Sub("out.json"));
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  (*writer)->stream() << "hello";
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("out.json"))) << "visible before commit";
  EXPECT_TRUE((*writer)->temp_path().starts_with(dir.Sub(".out.json.tmp-")));
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_EQ(Read(dir.Sub("out.json")), "hello");
  EXPECT_EQ(Entries(dir.path()), std::vector<std::string>{"out.json"});
}

TEST(AtomicFileWriterTest, WithoutCommitNothingAppearsAndTheOldFileStays) {
  testutil::TempDir dir;
  std::ofstream(dir.Sub("out.json")) << "old";
  {
    auto writer = AtomicFileWriter::Create(dir.Sub("out.json"));
    ASSERT_TRUE(writer.ok());
    (*writer)->stream() << "half a du";
  }
  EXPECT_EQ(Read(dir.Sub("out.json")), "old");
  EXPECT_EQ(Entries(dir.path()), std::vector<std::string>{"out.json"});
}

TEST(AtomicFileWriterTest, CommitReplacesTheOldFile) {
  testutil::TempDir dir;
  std::ofstream(dir.Sub("out.json")) << "old";
  auto writer = AtomicFileWriter::Create(dir.Sub("out.json"));
  ASSERT_TRUE(writer.ok());
  (*writer)->stream() << "new";
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_EQ(Read(dir.Sub("out.json")), "new");
}

TEST(AtomicFileWriterTest, MissingDirectoryIsUnavailable) {
  testutil::TempDir dir;
  auto writer = AtomicFileWriter::Create(dir.Sub("absent/out.json"));
  EXPECT_EQ(writer.status().code(), StatusCode::kUnavailable);
}

TEST(AtomicFileWriterTest, FailedRenameLeavesNoTempFile) {
  testutil::TempDir dir;
  std::filesystem::create_directories(dir.Sub("out.json/inside"));
  auto writer = AtomicFileWriter::Create(dir.Sub("out.json"));
  ASSERT_TRUE(writer.ok());
  (*writer)->stream() << "data";
  EXPECT_EQ((*writer)->Commit().code(), StatusCode::kUnavailable);
  EXPECT_EQ(Entries(dir.path()), std::vector<std::string>{"out.json"});
}

class WriteDumpFileTest : public testutil::DumpStateFixture {};

TEST_F(WriteDumpFileTest, WritesTheSameBytesAsTheStream) {
  testutil::TempDir dir;
  DumpRequest request;
  request.format = DumpFormat::kPretty;
  auto info = WriteDumpFile(state_, request, dir.Sub("d.txt"));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  std::ostringstream expected;
  ASSERT_TRUE(WriteDump(state_, request, expected).ok());
  // Only dump_timestamp could differ, and the request fixes it.
  EXPECT_EQ(Read(dir.Sub("d.txt")), expected.str());
  EXPECT_EQ(info->bytes, expected.str().size());
  EXPECT_EQ(Entries(dir.path()), std::vector<std::string>{"d.txt"});
}

TEST_F(WriteDumpFileTest, RefusedDumpLeavesNoFile) {
  testutil::TempDir dir;
  DumpRequest request;
  request.session = "absent";
  EXPECT_EQ(WriteDumpFile(state_, request, dir.Sub("d.json")).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Entries(dir.path()).empty());
}

}  // namespace
}  // namespace ctxd::dump
