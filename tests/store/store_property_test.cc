// Property: for a long random mix of commands submitted concurrently, the
// live state, a full replay of the log, and newest snapshot + tail are all
// identical (byte-identical encodings), and every stored snapshot equals a
// full replay to its seq. Finally, undoing everything in every session
// empties its graph.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "engine/engine.h"
#include "snapshots/recovery.h"
#include "snapshots/snapshot_codec.h"
#include "store/store.h"
#include "tests/store/random_commands.h"
#include "tests/testutil/temp_dir.h"

namespace ctxd {
namespace {

constexpr int kSessions = 6;
constexpr int kCommandsPerThread = 2600;
constexpr int kThreads = 4;

std::unique_ptr<store::Store> OpenStore(const std::string& dir) {
  store::StoreOptions options;
  options.dir = dir;
  options.sync = false;  // durability is not what this test is about
  options.snapshots.every_events = 700;
  options.snapshots.keep = 1000;
  options.limits.max_undo_depth = 100000;  // so "undo everything" can reach the start
  auto store = store::Store::Open(options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return std::move(store).value();
}

engine::State FullReplay(const log::EventLog& log, uint64_t to, const engine::EngineLimits& limits) {
  engine::State state(limits);
  Status replayed = snapshots::ReplayInto(log, state, to);
  EXPECT_TRUE(replayed.ok()) << replayed.ToString();
  return state;
}

// Submits random commands from several threads; returns how many were accepted.
int RunRandomLoad(store::Store& store) {
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      testutil::RandomCommands gen(1234 + t, kSessions, 40);
      for (int i = 0; i < kCommandsPerThread; ++i) {
        auto command = store.Read([&](const engine::State& s) { return gen.Next(s); });
        if (i % 97 == 0) {
          auto restore = store.MakeRestore(command.session, "save0", 0);
          if (restore.ok()) command = std::move(restore).value();
        }
        auto result = store.Execute(std::move(command));
        if (result.ok() && result->changed) accepted++;
      }
    });
  }
  for (auto& t : threads) t.join();
  return accepted;
}

// Undoes one step of `session`; on a conflict with a context key another
// writer changed, puts the key back to what the undo expects and retries.
Status UndoOnce(store::Store& store, const std::string& session, int* conflicts) {
  engine::Command undo;
  undo.session = session;
  undo.body = engine::Undo{};
  auto result = store.Execute(undo);
  if (result.ok() || result.status().code() != StatusCode::kConflict) return result.status();
  ++*conflicts;
  auto fixes = store.Read([&](const engine::State& s) {
    std::vector<engine::Command> commands;
    for (const auto& change : s.sessions.at(session).undo.back().changes) {
      engine::Command fix;
      if (auto* put = std::get_if<engine::CtxPut>(&change)) {
        fix.body = engine::SetContext{put->key, put->value, std::nullopt};
      } else if (auto* del = std::get_if<engine::CtxDel>(&change)) {
        if (!s.context.contains(del->key)) continue;
        fix.body = engine::DeleteContext{del->key, std::nullopt};
      } else {
        continue;
      }
      commands.push_back(std::move(fix));
    }
    return commands;
  });
  for (auto& fix : fixes) (void)store.Execute(std::move(fix));
  return store.Execute(undo).status();
}

TEST(StorePropertyTest, LiveReplayAndSnapshotPlusTailAreIdentical) {
  testutil::TempDir dir;
  auto store = OpenStore(dir.path());
  const int accepted = RunRandomLoad(*store);
  ASSERT_GE(kThreads * kCommandsPerThread, 10000);
  EXPECT_GT(accepted, 3000);

  const auto live = store->Read([](const engine::State& s) { return s; });
  ASSERT_EQ(live.head_seq, store->durable_seq());
  const auto replayed = FullReplay(store->event_log(), live.head_seq, store->limits());
  EXPECT_TRUE(replayed == live);
  EXPECT_EQ(snapshots::EncodeState(replayed), snapshots::EncodeState(live));

  auto snapshot = store->snapshotter().SnapshotNow();
  ASSERT_TRUE(snapshot.ok());
  auto snapshots = store->event_log().ListSnapshots();
  ASSERT_TRUE(snapshots.ok());
  EXPECT_GE(snapshots->size(), 5u);
  for (const auto& info : *snapshots) {
    auto bytes = store->event_log().ReadSnapshot(info.seq);
    ASSERT_TRUE(bytes.ok());
    auto decoded = snapshots::DecodeState(*bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_TRUE(*decoded == FullReplay(store->event_log(), info.seq, store->limits())) << "seq " << info.seq;
  }

  store.reset();
  store = OpenStore(dir.path());  // newest snapshot + tail
  const auto recovered = store->Read([](const engine::State& s) { return s; });
  EXPECT_EQ(snapshots::EncodeState(recovered), snapshots::EncodeState(live));
}

TEST(StorePropertyTest, UndoingEverythingEmptiesEveryGraph) {
  testutil::TempDir dir;
  auto store = OpenStore(dir.path());
  RunRandomLoad(*store);
  int conflicts = 0, undone_steps = 0;
  for (int i = 0; i < kSessions; ++i) {
    const std::string session = "s" + std::to_string(i);
    for (int steps = 0;; ++steps) {
      ASSERT_LT(steps, kThreads * kCommandsPerThread) << "undo does not terminate";
      Status undone = UndoOnce(*store, session, &conflicts);
      if (undone.code() == StatusCode::kNothingToUndo) break;
      ASSERT_TRUE(undone.ok()) << session << ": " << undone.ToString();
      ++undone_steps;
    }
    const size_t nodes = store->Read([&](const engine::State& s) {
      auto it = s.sessions.find(session);
      return it == s.sessions.end() ? 0 : it->second.graph.nodes.size();
    });
    EXPECT_EQ(nodes, 0u) << session;
  }
  // Other writers' context sets make some undos conflict; both paths must run.
  EXPECT_GT(undone_steps, 1000);
  EXPECT_GT(conflicts, 0);
  const auto live = store->Read([](const engine::State& s) { return s; });
  EXPECT_TRUE(FullReplay(store->event_log(), live.head_seq, store->limits()) == live);
}

}  // namespace
}  // namespace ctxd
