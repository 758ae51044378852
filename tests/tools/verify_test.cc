// verify on deliberately damaged copies of a real store: every kind of
// corruption is caught and the report names its seq.
#include "tools/replay/verify.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "engine/engine.h"
#include "engine/event_codec.h"
#include "log/keys.h"
#include "snapshots/recovery.h"
#include "snapshots/snapshot_codec.h"
#include "tests/store/random_commands.h"
#include "tests/testutil/old_snapshots.h"
#include "tests/testutil/temp_dir.h"
#include "tests/tools/raw_db.h"
#include "tests/tools/store_builder.h"
#include "tools/replay/secondary_log.h"
#include "tools/replay/state_diff.h"

namespace ctxd::replay {
namespace {

class VerifyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pristine_ = new testutil::TempDir();
    head_ = testutil::BuildStore(pristine_->Sub("store"), 500, 60, 7);
    auto log = SecondaryLog::Open(pristine_->Sub("store"));
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    auto list = (*log)->log().ListSnapshots();
    ASSERT_TRUE(list.ok()) << list.status().ToString();
    for (const auto& info : *list) snapshots_.push_back(info.seq);
  }
  static void TearDownTestSuite() {
    delete pristine_;
    pristine_ = nullptr;
  }

  void SetUp() override {
    ASSERT_GT(head_, 300u);
    ASSERT_GE(snapshots_.size(), 4u);
    std::filesystem::copy(pristine_->Sub("store"), copy_.Sub("store"),
                          std::filesystem::copy_options::recursive);
  }

  std::string Dir() const { return copy_.Sub("store"); }

  VerifyReport Verify() {
    auto log = SecondaryLog::Open(Dir());
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    if (!log.ok()) return {};
    return VerifyLog((*log)->log());
  }

  // The report has exactly these problem seqs, and each text holds `what`.
  void ExpectProblems(const VerifyReport& report, const std::vector<uint64_t>& seqs,
                      const std::string& what) {
    std::vector<uint64_t> got;
    for (const auto& problem : report.problems) {
      got.push_back(problem.seq);
      EXPECT_NE(problem.what.find(what), std::string::npos) << problem.what;
    }
    EXPECT_EQ(got, seqs) << FormatVerifyReport(report);
    EXPECT_FALSE(report.ok());
  }

  engine::Event ReadEvent(uint64_t seq) {
    testutil::RawDb db(Dir());
    auto event = engine::DecodeEvent(db.Get("events", log::EventKey(seq)));
    EXPECT_TRUE(event.ok());
    return event.ok() ? *event : engine::Event{};
  }

  engine::State StateAt(uint64_t seq) {
    auto log = SecondaryLog::Open(Dir());
    auto state = snapshots::RebuildState((*log)->log(), {}, seq);
    EXPECT_TRUE(state.ok()) << state.status().ToString();
    return state.ok() ? *state : engine::State{};
  }

  void ReplaceSnapshot(uint64_t seq, const engine::State& state) {
    log::LogOptions options;
    options.create_if_missing = false;
    auto log = log::EventLog::Open(Dir(), options);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_TRUE((*log)->PutSnapshot(seq, snapshots::EncodeState(state)).ok());
  }

  static testutil::TempDir* pristine_;
  static uint64_t head_;
  static std::vector<uint64_t> snapshots_;
  testutil::TempDir copy_;
};

testutil::TempDir* VerifyTest::pristine_ = nullptr;
uint64_t VerifyTest::head_ = 0;
std::vector<uint64_t> VerifyTest::snapshots_;

TEST_F(VerifyTest, IntactStoreVerifies) {
  VerifyReport report = Verify();
  EXPECT_TRUE(report.ok()) << FormatVerifyReport(report);
  EXPECT_EQ(report.head_seq, head_);
  EXPECT_EQ(report.events_read, head_);
  EXPECT_EQ(report.events_replayed, head_);
  EXPECT_EQ(report.snapshots_matched, snapshots_);
  EXPECT_TRUE(FormatVerifyReport(report).starts_with("OK: "));
}

TEST_F(VerifyTest, GarbageEventIsCaught) {
  testutil::RawDb(Dir()).Put("events", log::EventKey(57), "this is not an event");
  VerifyReport report = Verify();
  ExpectProblems(report, {57}, "cannot decode");
  EXPECT_NE(FormatVerifyReport(report).find("\nseq 57: cannot decode"), std::string::npos);
}

TEST_F(VerifyTest, FlippedByteFailsTheChecksum) {
  const uint64_t seq = snapshots_[1] - 3;
  {
    testutil::RawDb db(Dir());
    std::string value = db.Get("events", log::EventKey(seq));
    value[value.size() / 2] ^= 0x20;
    db.Put("events", log::EventKey(seq), value);
  }
  ExpectProblems(Verify(), {seq}, "cannot decode");
}

TEST_F(VerifyTest, DeletedEventIsAGapAndLaterSnapshotsAreStillChecked) {
  const uint64_t seq = snapshots_[0] + 5;
  testutil::RawDb(Dir()).Delete("events", log::EventKey(seq));
  VerifyReport report = Verify();
  ExpectProblems(report, {seq}, "cannot be read");
  // Replay resumes from the next snapshot, so the ones after it still match.
  EXPECT_EQ(report.snapshots_unchecked, std::vector<uint64_t>{snapshots_[1]});
  EXPECT_EQ(report.snapshots_matched.back(), snapshots_.back());
}

TEST_F(VerifyTest, DeletedStretchIsOneProblem) {
  {
    testutil::RawDb db(Dir());
    for (uint64_t seq = 100; seq <= 110; ++seq) db.Delete("events", log::EventKey(seq));
  }
  VerifyReport report = Verify();
  ExpectProblems(report, {100}, "events 100..110 cannot be read");
}

TEST_F(VerifyTest, MissingFirstEventIsCaught) {
  testutil::RawDb(Dir()).Delete("events", log::EventKey(1));
  ExpectProblems(Verify(), {1}, "event 1 cannot be read");
}

TEST_F(VerifyTest, EventStoredUnderAnotherSeqIsCaught) {
  {
    testutil::RawDb db(Dir());
    db.Put("events", log::EventKey(31), db.Get("events", log::EventKey(30)));
  }
  ExpectProblems(Verify(), {31}, "says it is seq 30");
}

TEST_F(VerifyTest, ValidEventThatDoesNotFitFailsTheReplay) {
  uint64_t seq = 20;
  engine::Event event;
  engine::CtxPut* put = nullptr;
  for (; seq < head_ && put == nullptr; ++seq) {
    event = ReadEvent(seq);
    for (auto& change : event.changes) {
      if (auto* p = std::get_if<engine::CtxPut>(&change); p != nullptr && p->old) put = p;
    }
  }
  ASSERT_NE(put, nullptr);
  --seq;
  put->old = "\"not what was there\"";
  std::string bytes;
  engine::EncodeEvent(event, &bytes);
  testutil::RawDb(Dir()).Put("events", log::EventKey(seq), bytes);
  ExpectProblems(Verify(), {seq}, "replay failed");
}

TEST_F(VerifyTest, SnapshotOfADifferentStateIsCaught) {
  const uint64_t seq = snapshots_[2];
  engine::State state = StateAt(seq);
  ASSERT_FALSE(state.context.empty());
  auto& entry = state.context.begin()->second;
  entry.value = "\"tampered\"";
  ReplaceSnapshot(seq, state);
  VerifyReport report = Verify();
  ExpectProblems(
      report, {seq},
      "snapshot differs from the replayed state: context key '" + state.context.begin()->first + "'");
}

TEST_F(VerifyTest, SnapshotOfAnotherSeqIsCaught) {
  const uint64_t seq = snapshots_[1];
  ReplaceSnapshot(seq, StateAt(seq - 10));
  ExpectProblems(Verify(), {seq}, "it holds seq " + std::to_string(seq - 10));
}

TEST_F(VerifyTest, DamagedSnapshotPartIsCaught) {
  const uint64_t seq = snapshots_[0];
  testutil::RawDb(Dir()).Put("snapshots", log::SnapshotKey(seq, 1), "garbage");
  ExpectProblems(Verify(), {seq}, "snapshot cannot be read");
}

TEST_F(VerifyTest, EveryDamagedPlaceIsReportedInOneRun) {
  const uint64_t last = snapshots_.back();
  engine::State tampered = StateAt(last);
  tampered.head_ts_us += 1;
  ReplaceSnapshot(last, tampered);
  {
    testutil::RawDb db(Dir());
    db.Put("events", log::EventKey(12), "x");
    db.Delete("events", log::EventKey(snapshots_[2] + 1));
  }
  VerifyReport report = Verify();
  std::vector<uint64_t> seqs;
  for (const auto& problem : report.problems) seqs.push_back(problem.seq);
  EXPECT_EQ(seqs, (std::vector<uint64_t>{12, snapshots_[2] + 1, last})) << FormatVerifyReport(report);
}

TEST(VerifyLimitsTest, ReplaysWithTheLimitsInTheSnapshots) {
  testutil::TempDir dir;
  store::StoreOptions options;
  options.dir = dir.Sub("store");
  options.snapshots.every_events = 0;
  options.limits = engine::EngineLimits{.max_undo_depth = 7, .dedupe_capacity = 16};
  auto store = store::Store::Open(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const auto snapshots = testutil::FillStore(**store, 600, 200, 3);
  (*store)->Close();
  ASSERT_EQ(snapshots.size(), 3u);
  auto log = SecondaryLog::Open(dir.Sub("store"));
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(LimitsOfSnapshots((*log)->log(), snapshots).dedupe_capacity, 16u);
  VerifyReport report = VerifyLog((*log)->log());
  EXPECT_TRUE(report.ok()) << FormatVerifyReport(report);
  EXPECT_EQ(report.snapshots_matched, snapshots);
}

// A snapshot as format version 1 wrote it: dedupe entries without a request
// digest. The dedupe table is the last section of the layout.
std::string EncodeVersion1(const engine::State& state) {
  engine::State without = state;
  without.dedupe = engine::DedupeTable(state.dedupe.capacity());
  std::string bytes = testutil::EncodeVersion2(without);
  std::string empty_table;
  engine::ByteWriter(&empty_table).Varint(state.dedupe.capacity());
  empty_table.push_back(0);
  bytes.resize(bytes.size() - empty_table.size());
  engine::ByteWriter w(&bytes);
  w.Varint(state.dedupe.capacity());
  w.Varint(state.dedupe.size());
  for (const auto& id : state.dedupe.order()) {
    const engine::DedupeEntry* entry = state.dedupe.Find(id);
    w.Str(id);
    w.Varint(entry->seq);
    w.Varint(entry->ref_seq);
    w.Str(entry->result);
  }
  bytes[0] = 1;
  return bytes;
}

// The state a log of format version 1 replays to: no request digests.
engine::State WithoutDigests(const engine::State& state) {
  engine::State copy = state;
  copy.dedupe = engine::DedupeTable(state.dedupe.capacity());
  for (const auto& id : state.dedupe.order()) {
    engine::DedupeEntry entry = *state.dedupe.Find(id);
    entry.request_digest = 0;
    copy.dedupe.Insert(id, entry);
  }
  return copy;
}

TEST(SnapshotMatchesTest, ASnapshotOfAnOlderFormatIsComparedByWhatItDecodesTo) {
  engine::State state;
  testutil::RandomCommands random(5, 3, 20);
  for (int i = 0; i < 400; ++i) (void)engine::Execute(state, random.Next(state), 1000 * (i + 1));
  ASSERT_GT(state.dedupe.size(), 0u);
  engine::State old_log = WithoutDigests(state);
  old_log.max_undo_bytes = 0;  // what a log of that time replays with (LimitsOfSnapshots)
  const std::string v1 = EncodeVersion1(old_log);
  old_log.max_value_bytes = 8;  // a limit of the run that replays, which snapshots do not hold
  EXPECT_NE(v1, snapshots::EncodeState(old_log));
  EXPECT_TRUE(SnapshotMatches(old_log, v1));
  EXPECT_TRUE(SnapshotMatches(state, snapshots::EncodeState(state)));
  // A log with digests is not what a snapshot without them was taken of.
  EXPECT_FALSE(SnapshotMatches(state, v1));
  EXPECT_EQ(DescribeSnapshotDifference(state, v1), "the dedupe tables differ");
  engine::State tampered = old_log;
  tampered.context.begin()->second.value = "\"tampered\"";
  EXPECT_FALSE(SnapshotMatches(old_log, EncodeVersion1(tampered)));
  EXPECT_FALSE(SnapshotMatches(old_log, std::string(v1, 0, v1.size() - 1)));
}

}  // namespace
}  // namespace ctxd::replay
