#include "engine/node_pool.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace ctxd::engine {
namespace {

using PooledMap = std::map<int, std::string, std::less<int>, NodePoolAllocator<std::pair<const int, std::string>>>;

// Enough nodes for chunks of 2 MiB and more (the huge-page ones).
constexpr int kMany = 100000;

PooledMap Filled(int n) {
  PooledMap map;
  for (int i = 0; i < n; ++i) map.emplace_hint(map.end(), i, std::to_string(i));
  return map;
}

TEST(NodePoolTest, HoldsManyNodesAndRecyclesErasedOnes) {
  PooledMap map = Filled(kMany);
  for (int i = 0; i < kMany; i += 2) map.erase(i);
  for (int i = 0; i < kMany; i += 2) map.emplace(i, "again " + std::to_string(i));
  ASSERT_EQ(map.size(), static_cast<size_t>(kMany));
  EXPECT_EQ(map.at(4), "again 4");
  EXPECT_EQ(map.at(kMany - 1), std::to_string(kMany - 1));
}

TEST(NodePoolTest, ACopyHasItsOwnPool) {
  PooledMap original = Filled(1000);
  PooledMap copy = original;
  EXPECT_NE(copy.get_allocator(), original.get_allocator());
  copy.clear();
  for (int i = 0; i < 5000; ++i) copy.emplace(-i, "copy");
  EXPECT_EQ(original, Filled(1000));
}

TEST(NodePoolTest, MovedAndSwappedMapsTakeTheirNodesAlong) {
  PooledMap a = Filled(3000);
  PooledMap b = std::move(a);
  EXPECT_EQ(b.size(), 3000u);
  a.emplace(1, "the moved-from map gets a new pool");
  PooledMap c = Filled(10);
  std::swap(b, c);
  EXPECT_EQ(b.size(), 10u);
  EXPECT_EQ(c.size(), 3000u);
  c = std::move(a);
  EXPECT_EQ(c.at(1), "the moved-from map gets a new pool");
  b = c;  // copy assignment keeps b's pool
  EXPECT_EQ(b, c);
}

#if defined(__SANITIZE_ADDRESS__)
// Only in a -DCTXD_SANITIZE=ON build: a node back on the free list is
// poisoned, so a use after erase is reported like one after free.
TEST(NodePoolDeathTest, AFreedNodeIsPoisonedUnderAddressSanitizer) {
  NodePool pool;
  auto* node = static_cast<char*>(pool.Allocate(48));
  node[40] = 1;  // handed out: usable
  ASSERT_TRUE(pool.Deallocate(node, 48));
  EXPECT_DEATH(static_cast<volatile char*>(node)[40] = 2, "use-after-poison");
}
#endif

}  // namespace
}  // namespace ctxd::engine
