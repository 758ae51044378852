#include "server/dump_service.h"

#include <gtest/gtest.h>

namespace ctxd::server {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

TEST(DumpServiceTest, DumpsLeaveFivePercentAndAtLeast64MiBOfTheirDiskFree) {
  const uint64_t disk = 100 * 1024 * kMiB;
  EXPECT_TRUE(LeavesRoomForTheLog(disk / 2, disk));
  EXPECT_TRUE(LeavesRoomForTheLog(disk / 20, disk));
  EXPECT_FALSE(LeavesRoomForTheLog(disk / 20 - 1, disk));
  EXPECT_FALSE(LeavesRoomForTheLog(0, disk));
  // A small disk keeps 64 MiB.
  EXPECT_TRUE(LeavesRoomForTheLog(64 * kMiB, 200 * kMiB));
  EXPECT_FALSE(LeavesRoomForTheLog(64 * kMiB - 1, 200 * kMiB));
  EXPECT_FALSE(LeavesRoomForTheLog(1 * kMiB, 1 * kMiB));
}

}  // namespace
}  // namespace ctxd::server
