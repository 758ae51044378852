#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "engine/engine.h"
#include "engine/event_codec.h"
#include "log/event_log.h"
#include "snapshots/recovery.h"
#include "snapshots/snapshot_codec.h"
#include "snapshots/snapshotter.h"
#include "tests/store/random_commands.h"
#include "tests/testutil/old_snapshots.h"
#include "tests/testutil/temp_dir.h"

namespace ctxd::snapshots {
namespace {

// Runs `n` random commands against `state`, appending each event to `log`
// (when given) with ts = seq * 1000.
void RunRandom(engine::State& state, int n, log::EventLog* log = nullptr, uint32_t seed = 7) {
  testutil::RandomCommands gen(seed, 5, 20);
  for (int i = 0; i < n; ++i) {
    auto command = gen.Next(state);
    auto outcome = engine::Execute(state, command, static_cast<int64_t>(state.head_seq + 1) * 1000);
    if (!outcome.ok() || !outcome->event || !log) continue;
    log::LogRecord record{outcome->event->seq, {}, {}};
    engine::EncodeEvent(*outcome->event, &record.payload);
    ASSERT_TRUE(log->Append({record}, false).ok());
  }
}

std::unique_ptr<log::EventLog> OpenLog(const std::string& dir) {
  auto log = log::EventLog::Open(dir, {});
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  return std::move(log).value();
}

TEST(SnapshotCodecTest, RoundTripsARichState) {
  engine::State state;
  RunRandom(state, 3000);
  ASSERT_FALSE(state.context.empty());
  ASSERT_FALSE(state.sessions.empty());
  const std::string bytes = EncodeState(state);
  auto decoded = DecodeState(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(*decoded == state);
  EXPECT_EQ(EncodeState(*decoded), bytes);
}

TEST(SnapshotCodecTest, EqualStatesEncodeIdentically) {
  engine::State a, b;
  RunRandom(a, 500, nullptr, 3);
  RunRandom(b, 500, nullptr, 3);
  EXPECT_EQ(EncodeState(a), EncodeState(b));
}

TEST(SnapshotCodecTest, TruncatedOrForeignBytesAreCorruption) {
  engine::State state;
  RunRandom(state, 200);
  const std::string bytes = EncodeState(state);
  for (size_t cut : {size_t{0}, size_t{1}, bytes.size() / 2, bytes.size() - 1}) {
    EXPECT_EQ(DecodeState(bytes.substr(0, cut)).status().code(), StatusCode::kCorruption) << cut;
  }
  EXPECT_EQ(DecodeState(bytes + "x").status().code(), StatusCode::kCorruption);
  std::string newer = bytes;
  newer[0] = static_cast<char>(kSnapshotFormatVersion + 1);
  EXPECT_EQ(DecodeState(newer).status().code(), StatusCode::kCorruption);
  newer[0] = 0;
  EXPECT_EQ(DecodeState(newer).status().code(), StatusCode::kCorruption);
}

TEST(SnapshotCodecTest, RequestDigestsRoundTripAndVersion1HasNone) {
  engine::State state;
  RunRandom(state, 3000);
  ASSERT_GT(state.dedupe.size(), 0u);
  for (const auto& id : state.dedupe.order()) ASSERT_NE(state.dedupe.Find(id)->request_digest, 0u) << id;
  auto decoded = DecodeState(EncodeState(state));
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->dedupe == state.dedupe);

  // A single dedupe entry, so that the version 1 layout is the version 2
  // bytes without the entry's last varint.
  engine::State one;
  engine::Command command;
  command.command_id = "client-1";
  command.client_command_id = true;
  command.body = engine::SetContext{"k", "1", std::nullopt};
  ASSERT_TRUE(engine::Execute(one, command, 1000).ok());
  std::string v1 = testutil::EncodeVersion2(one);
  const uint64_t digest = one.dedupe.Find("client-1")->request_digest;
  std::string tail;
  engine::ByteWriter(&tail).Varint(digest);
  ASSERT_EQ(v1.substr(v1.size() - tail.size()), tail);
  v1.resize(v1.size() - tail.size());
  v1[0] = 1;
  auto old = DecodeState(v1);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->dedupe.Find("client-1")->request_digest, 0u);
  EXPECT_EQ(old->dedupe.Find("client-1")->seq, 1u);
  EXPECT_EQ(old->context.at("k").value, "1");
}

TEST(SnapshotCodecTest, UndoByteLimitRoundTripsAndVersion2HasNone) {
  engine::State state(engine::EngineLimits{.max_undo_bytes = 5000});
  RunRandom(state, 3000);
  ASSERT_FALSE(state.sessions.empty());
  auto decoded = DecodeState(EncodeState(state));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->max_undo_bytes, 5000u);
  EXPECT_TRUE(*decoded == state);  // the stacks' byte sums included
  size_t sessions_at_the_limit = 0;
  for (const auto& [id, session] : decoded->sessions) {
    uint64_t undo_bytes = 0;
    for (const auto& entry : session.undo) undo_bytes += entry.bytes;
    EXPECT_EQ(session.undo_bytes, undo_bytes) << id;
    EXPECT_TRUE(undo_bytes <= 5000 || session.undo.size() == 1) << id;
    if (undo_bytes > 4000) ++sessions_at_the_limit;
  }
  EXPECT_GT(sessions_at_the_limit, 0u);

  auto old = DecodeState(testutil::EncodeVersion2(state));
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->max_undo_bytes, 0u);
  old->max_undo_bytes = state.max_undo_bytes;
  EXPECT_TRUE(*old == state);
}

// 60,000 keys: a context whose map spans several of its pool's chunks.
engine::State LargeContext() {
  engine::State state;
  for (int i = 0; i < 60000; ++i) {
    engine::Command command;
    command.actor = "actor-" + std::to_string(i % 7);
    command.body = engine::SetContext{"key-" + std::to_string(i), "\"value " + std::to_string(i * 31) + "\"",
                                      std::nullopt};
    command.command_id = "c" + std::to_string(i);
    EXPECT_TRUE(engine::Execute(state, command, i).ok());
  }
  RunRandom(state, 300);  // sessions, graphs and stacks after the context
  return state;
}

TEST(SnapshotCodecTest, RoundTripsALargeContext) {
  const engine::State state = LargeContext();
  auto decoded = DecodeState(EncodeState(state));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(*decoded == state);
}

// Decoded values point into the snapshot's bytes (engine::ContextValue);
// they must behave exactly as values the engine set itself, after the bytes
// the caller passed are gone and as commands overwrite and delete them.
TEST(SnapshotCodecTest, ValuesLoadedFromASnapshotBehaveAsSetOnes) {
  engine::State live = LargeContext();
  auto decoded = DecodeState(std::string(EncodeState(live)));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  engine::State copy = *decoded;
  for (engine::State* state : {&live, &*decoded}) {
    RunRandom(*state, 2000, nullptr, 11);
    engine::Command set, del;
    set.actor = del.actor = "tester";
    set.command_id = "set-key-1";
    del.command_id = "delete-key-2";
    set.body = engine::SetContext{"key-1", "\"changed\"", std::nullopt};
    del.body = engine::DeleteContext{"key-2", std::nullopt};
    auto set_outcome = engine::Execute(*state, set, state->head_ts_us + 1);
    ASSERT_TRUE(set_outcome.ok()) << set_outcome.status().ToString();
    auto del_outcome = engine::Execute(*state, del, state->head_ts_us + 1);
    ASSERT_TRUE(del_outcome.ok()) << del_outcome.status().ToString();
  }
  EXPECT_TRUE(*decoded == live);
  EXPECT_EQ(EncodeState(*decoded), EncodeState(live));
  decoded = StatusOr<engine::State>(engine::State());  // the copy still holds the bytes
  EXPECT_EQ(copy.context.at("key-59999").value, "\"value " + std::to_string(59999 * 31) + "\"");
}

TEST(SnapshotCodecTest, TruncatedLargeContextIsCorruption) {
  const std::string bytes = EncodeState(LargeContext());
  for (size_t cut : {size_t{40}, bytes.size() / 3, bytes.size() / 2, bytes.size() - 1}) {
    EXPECT_EQ(DecodeState(bytes.substr(0, cut)).status().code(), StatusCode::kCorruption) << cut;
  }
}

TEST(SnapshotCodecTest, KeysOutOfOrderAreCorruption) {
  engine::State state;
  state.context["a"].value = "1";
  state.context["b"].value = "2";
  std::string bytes = EncodeState(state);
  // Swap the two one-byte keys: "b" is now encoded before "a".
  const size_t a = bytes.find(
                   "\x01"
                   "a"),
               b = bytes.find(
                   "\x01"
                   "b");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  std::swap(bytes[a + 1], bytes[b + 1]);
  EXPECT_EQ(DecodeState(bytes).status().code(), StatusCode::kCorruption);
}

TEST(RecoveryTest, RebuildStateAtEverySeqMatchesTheLiveStateThen) {
  testutil::TempDir dir;
  auto log = OpenLog(dir.path());
  engine::State live;
  std::vector<std::string> encoded{EncodeState(live)};
  testutil::RandomCommands gen(11, 3, 10);
  while (live.head_seq < 120) {
    auto outcome = engine::Execute(live, gen.Next(live), static_cast<int64_t>(live.head_seq + 1) * 1000);
    if (!outcome.ok() || !outcome->event) continue;
    log::LogRecord record{outcome->event->seq, {}, {}};
    engine::EncodeEvent(*outcome->event, &record.payload);
    ASSERT_TRUE(log->Append({record}, false).ok());
    encoded.push_back(EncodeState(live));
    if (live.head_seq % 40 == 0) {
      ASSERT_TRUE(log->PutSnapshot(live.head_seq, encoded.back()).ok());
    }
  }
  for (uint64_t seq = 0; seq <= 120; ++seq) {
    auto state = RebuildState(*log, {}, seq);
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    EXPECT_EQ(EncodeState(*state), encoded[seq]) << "seq " << seq;
  }
  EXPECT_EQ(RebuildState(*log, {}, 121).status().code(), StatusCode::kInvalidArgument);
}

// Long enough for the two-thread replay (read + decode beside apply).
TEST(RecoveryTest, LongReplayMatchesTheLiveState) {
  testutil::TempDir dir;
  auto log = OpenLog(dir.path());
  engine::State live;
  RunRandom(live, 12000, log.get(), 11);
  ASSERT_GT(live.head_seq, 8192u);  // the parallel replay's threshold
  engine::State replayed;
  ASSERT_TRUE(ReplayInto(*log, replayed, log->head_seq()).ok());
  EXPECT_TRUE(replayed == live);
  // From the middle, as after a snapshot.
  auto middle = RebuildState(*log, {}, 1000);
  ASSERT_TRUE(middle.ok());
  ASSERT_TRUE(ReplayInto(*log, *middle, log->head_seq()).ok());
  EXPECT_TRUE(*middle == live);
}

TEST(RecoveryTest, LongReplayStopsAtACorruptEvent) {
  testutil::TempDir dir;
  auto log = OpenLog(dir.path());
  engine::State live;
  RunRandom(live, 12000, log.get(), 11);
  const uint64_t bad = log->head_seq() + 1;
  ASSERT_TRUE(log->Append({log::LogRecord{bad, "not an event", {}}}, false).ok());
  engine::State replayed;
  Status status = ReplayInto(*log, replayed, bad);
  EXPECT_EQ(status.code(), StatusCode::kCorruption) << status.ToString();
  EXPECT_NE(status.message().find("event " + std::to_string(bad)), std::string::npos) << status.ToString();
  EXPECT_TRUE(replayed == live);  // everything before it was applied
}

TEST(RecoveryTest, SeqAtTimeFindsTheLastEventAtOrBeforeATime) {
  testutil::TempDir dir;
  auto log = OpenLog(dir.path());
  engine::State state;
  RunRandom(state, 400, log.get());
  const uint64_t head = log->head_seq();
  ASSERT_GT(head, 10u);
  EXPECT_EQ(SeqAtTime(*log, 0).value(), 0u);
  EXPECT_EQ(SeqAtTime(*log, 1000).value(), 1u);
  EXPECT_EQ(SeqAtTime(*log, 5500).value(), 5u);
  EXPECT_EQ(SeqAtTime(*log, 1'000'000'000).value(), head);
}

TEST(SnapshotterTest, WritesEveryNEventsAndKeepsTheNewest) {
  testutil::TempDir dir;
  auto log = OpenLog(dir.path());
  SnapshotPolicy policy;
  policy.every_events = 50;
  policy.keep = 2;
  Snapshotter snapshotter(*log, {}, policy);
  engine::State state;
  while (state.head_seq < 260) {
    const uint64_t before = state.head_seq;
    RunRandom(state, 10, log.get(), static_cast<uint32_t>(before));
    snapshotter.OnCommitted(log->head_seq());
  }
  // Once no snapshot is due, none is being written (or pruned) either.
  const uint64_t head = log->head_seq();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (head - snapshotter.last_snapshot_seq() >= policy.every_events &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Snapshots land at whatever seq the follower had reached when one was due,
  // so the newest is within one interval of the head, not at a fixed seq.
  EXPECT_LT(head - snapshotter.last_snapshot_seq(), policy.every_events);
  auto list = log->ListSnapshots();
  ASSERT_TRUE(list.ok());
  EXPECT_LE(list->size(), 2u);
  for (const auto& info : *list) {
    auto decoded = DecodeState(log->ReadSnapshot(info.seq).value());
    ASSERT_TRUE(decoded.ok());
    engine::State replayed;
    ASSERT_TRUE(ReplayInto(*log, replayed, info.seq).ok());
    EXPECT_TRUE(*decoded == replayed);
  }
}

// A log in a temporary directory, a snapshotter over it that takes no
// snapshot of its own accord, and the state the log's events make.
struct FollowerFixture {
  testutil::TempDir dir;
  std::unique_ptr<log::EventLog> log = OpenLog(dir.path());
  Snapshotter snapshotter{*log, {}, SnapshotPolicy{.every_events = 0}};
  engine::State live;
};

TEST(SnapshotterTest, ReadsTheFollowerCaughtUpToTheLogWithoutWritingASnapshot) {
  FollowerFixture f;
  auto& [dir, log, snapshotter, live] = f;
  for (uint32_t round = 0; round < 3; ++round) {
    RunRandom(live, 200, log.get(), round);
    engine::State read;
    auto seq = snapshotter.ReadCaughtUp([&](const engine::State& state) { read = state; });
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
    EXPECT_EQ(*seq, log->head_seq());
    EXPECT_EQ(read.head_seq, live.head_seq);
    EXPECT_TRUE(read == live) << "round " << round;
  }
  EXPECT_TRUE(log->ListSnapshots().value().empty());
}

TEST(SnapshotterTest, ReadsTheStateAtAGivenSeqForwardAndBack) {
  FollowerFixture f;
  auto& [dir, log, snapshotter, live] = f;
  RunRandom(live, 600, log.get());
  ASSERT_TRUE(snapshotter.SnapshotNow().ok());  // the follower at the head, a snapshot there
  RunRandom(live, 300, log.get(), 9);
  const uint64_t head = log->head_seq();
  // Back past the snapshot, forward, and back again before it.
  for (uint64_t seq : {uint64_t{150}, uint64_t{400}, head - 10, head, uint64_t{1}}) {
    engine::State read;
    ASSERT_TRUE(snapshotter.ReadAt(seq, [&](const engine::State& state) { read = state; }).ok()) << seq;
    auto expected = RebuildState(*log, {}, seq);
    ASSERT_TRUE(expected.ok());
    EXPECT_EQ(read.head_seq, seq);
    EXPECT_TRUE(read == *expected) << seq;
  }
  EXPECT_FALSE(snapshotter.ReadAt(head + 1, [](const engine::State&) {}).ok());
  engine::State caught_up;
  ASSERT_TRUE(snapshotter.ReadCaughtUp([&](const engine::State& state) { caught_up = state; }).ok());
  EXPECT_TRUE(caught_up == live);
}

// Polls `done` for up to 10 s.
bool Eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TEST(SnapshotterTest, WritesAfterAnIntervalWhenEventsAreFewerThanTheCount) {
  testutil::TempDir dir;
  auto log = OpenLog(dir.path());
  SnapshotPolicy policy;
  policy.every_events = 1000000;
  policy.every = std::chrono::milliseconds(50);
  Snapshotter snapshotter(*log, {}, policy);
  engine::State state;
  RunRandom(state, 20, log.get());
  snapshotter.OnCommitted(log->head_seq());
  ASSERT_TRUE(Eventually([&] { return snapshotter.last_snapshot_seq() == log->head_seq(); }));
  // Nothing new: no snapshot however long it waits. Then the new events,
  // far fewer than the count, are snapshotted at the next interval.
  const uint64_t first = snapshotter.last_snapshot_seq();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(log->ListSnapshots().value().size(), 1u);
  RunRandom(state, 5, log.get(), 99);
  ASSERT_GT(log->head_seq(), first);
  snapshotter.OnCommitted(log->head_seq());
  EXPECT_TRUE(Eventually([&] { return snapshotter.last_snapshot_seq() == log->head_seq(); }));
  EXPECT_EQ(log->ListSnapshots().value().size(), 2u);
}

}  // namespace
}  // namespace ctxd::snapshots
