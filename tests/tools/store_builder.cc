#include "tests/tools/store_builder.h"

#include <gtest/gtest.h>

#include "tests/store/random_commands.h"

namespace ctxd::testutil {

std::unique_ptr<store::Store> OpenStore(const std::string& dir, bool sync) {
  store::StoreOptions options;
  options.dir = dir;
  options.sync = sync;
  options.snapshots.every_events = 0;
  auto opened = store::Store::Open(options);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return opened.ok() ? std::move(opened).value() : nullptr;
}

std::vector<uint64_t> FillStore(store::Store& store, int commands, int snapshot_every, uint32_t seed) {
  RandomCommands random(seed, 3, 40);
  std::vector<uint64_t> snapshots;
  for (int i = 1; i <= commands; ++i) {
    engine::Command command = store.Read([&](const engine::State& state) { return random.Next(state); });
    (void)store.Execute(std::move(command));  // refusals are part of the mix
    if (snapshot_every > 0 && i % snapshot_every == 0) {
      auto seq = store.snapshotter().SnapshotNow();
      EXPECT_TRUE(seq.ok()) << seq.status().ToString();
      if (seq.ok() && (snapshots.empty() || snapshots.back() != *seq)) snapshots.push_back(*seq);
    }
  }
  return snapshots;
}

uint64_t BuildStore(const std::string& dir, int commands, int snapshot_every, uint32_t seed) {
  auto store = OpenStore(dir);
  if (!store) return 0;
  FillStore(*store, commands, snapshot_every, seed);
  const uint64_t head = store->durable_seq();
  store->Close();
  return head;
}

}  // namespace ctxd::testutil
