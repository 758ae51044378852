// Progress: a bar on a terminal, nothing for short runs elsewhere.
#include "tools/replay/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <thread>

namespace ctxd::replay {
namespace {

std::string Contents(std::FILE* file) {
  std::fflush(file);
  std::rewind(file);
  std::string text;
  char buf[256];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, file)) > 0) text.append(buf, n);
  return text;
}

TEST(ProgressTest, BarRedrawsInPlaceAndEndsItsLine) {
  std::FILE* out = std::tmpfile();
  {
    Progress progress("replaying", 1000, Progress::Mode::kBar, out);
    progress.Update(10);
    std::this_thread::sleep_for(std::chrono::milliseconds(120));
    progress.Update(500);
  }
  std::string text = Contents(out);
  EXPECT_NE(text.find("\rreplaying ["), std::string::npos) << text;
  EXPECT_NE(text.find(" 50% 500/1000"), std::string::npos) << text;
  EXPECT_NE(text.find("100% 1000/1000"), std::string::npos) << text;
  EXPECT_TRUE(text.ends_with("\n"));
  std::fclose(out);
}

TEST(ProgressTest, ShortRunsPrintNothing) {
  std::FILE* out = std::tmpfile();
  {
    Progress lines("replaying", 1000, Progress::Mode::kLines, out);
    for (uint64_t i = 0; i <= 1000; ++i) lines.Update(i);
    Progress bar("replaying", 1000, Progress::Mode::kBar, out);
    bar.Update(1000);
  }
  EXPECT_EQ(Contents(out), "");
  std::fclose(out);
}

TEST(ProgressTest, AutoOnAFileIsLines) {
  std::FILE* out = std::tmpfile();
  {
    Progress progress("x", 10, Progress::Mode::kAuto, out);
    progress.Update(5);
  }
  EXPECT_EQ(Contents(out), "");
  std::fclose(out);
}

}  // namespace
}  // namespace ctxd::replay
