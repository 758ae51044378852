#include "store/store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "snapshots/recovery.h"
#include "snapshots/snapshot_codec.h"
#include "tests/testutil/fault_env.h"
#include "tests/testutil/temp_dir.h"

namespace ctxd::store {
namespace {

engine::Command Set(const std::string& key, const std::string& value, const std::string& session = "") {
  engine::Command command;
  command.session = session;
  command.body = engine::SetContext{key, value, std::nullopt};
  return command;
}

engine::Command Graph(const std::string& session, engine::CommandBody body) {
  engine::Command command;
  command.session = session;
  command.body = std::move(body);
  return command;
}

class StoreTest : public ::testing::Test {
 protected:
  void Open(void* env = nullptr) {
    store_.reset();
    StoreOptions options;
    options.dir = dir_.path();
    options.env = env;
    options.snapshots.every_events = 0;
    auto store = Store::Open(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  std::optional<std::string> Value(const std::string& key) {
    return store_->Read([&](const engine::State& s) -> std::optional<std::string> {
      auto it = s.context.find(key);
      if (it == s.context.end()) return std::nullopt;
      return it->second.value.str();
    });
  }
  engine::State Live() {
    return store_->Read([](const engine::State& s) { return s; });
  }
  engine::State Replayed() {
    engine::State state(store_->limits());
    EXPECT_TRUE(snapshots::ReplayInto(store_->event_log(), state, store_->durable_seq()).ok());
    return state;
  }

  testutil::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, ExecuteAssignsDenseSeqsAndAppliesTheCommand) {
  Open();
  auto first = store_->Execute(Set("a", "1"));
  auto second = store_->Execute(Set("b", "\"x\""));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(first->seq, 1u);
  EXPECT_EQ(second->seq, 2u);
  EXPECT_EQ(Value("b"), "\"x\"");
  EXPECT_EQ(store_->durable_seq(), 2u);
}

TEST_F(StoreTest, RefusedCommandAppendsNothing) {
  Open();
  ASSERT_TRUE(store_->Execute(Set("a", "1")).ok());
  auto refused = store_->Execute(Graph("s", engine::DeleteNode{"nope"}));
  EXPECT_EQ(refused.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->event_log().head_seq(), 1u);
}

TEST_F(StoreTest, SetToSameValueAppendsNothing) {
  Open();
  ASSERT_TRUE(store_->Execute(Set("a", "1")).ok());
  auto again = store_->Execute(Set("a", "1"));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->changed);
  EXPECT_EQ(store_->event_log().head_seq(), 1u);
}

TEST_F(StoreTest, ConcurrentSubmittersAreGroupCommittedDensely) {
  Open();
  constexpr int kThreads = 16, kEach = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto r = store_->Execute(Set("t" + std::to_string(t) + "-" + std::to_string(i), std::to_string(i)));
        ASSERT_TRUE(r.ok()) << r.status().ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(store_->durable_seq(), uint64_t{kThreads * kEach});
  EXPECT_TRUE(Live() == Replayed());
}

TEST_F(StoreTest, CommitListenersSeeEveryEventInOrder) {
  Open();
  std::vector<uint64_t> seen;
  store_->AddCommitListener([&](const Store::CommittedEvents& events) {
    for (const auto& e : *events) seen.push_back(e.seq);
  });
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store_->Execute(Set("k", std::to_string(i))).ok());
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2, 3, 4, 5}));
}

TEST_F(StoreTest, ReopenRecoversTheSameState) {
  Open();
  ASSERT_TRUE(store_->Execute(Set("a", "1", "s1")).ok());
  ASSERT_TRUE(store_->Execute(Graph("s1", engine::CreateNode{"n1", "task", "Build", std::nullopt, {}})).ok());
  const auto before = Live();
  Open();
  EXPECT_TRUE(Live() == before);
  EXPECT_EQ(store_->durable_seq(), 2u);
}

TEST_F(StoreTest, RecoveryUsesSnapshotPlusTail) {
  Open();
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(store_->Execute(Set("k" + std::to_string(i % 7), std::to_string(i))).ok());
  ASSERT_EQ(store_->snapshotter().SnapshotNow().value(), 50u);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store_->Execute(Set("t", std::to_string(i))).ok());
  const auto before = Live();
  Open();
  EXPECT_TRUE(Live() == before);
}

TEST_F(StoreTest, CorruptSnapshotIsSkipped) {
  Open();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(store_->Execute(Set("k", std::to_string(i))).ok());
  ASSERT_TRUE(store_->snapshotter().SnapshotNow().ok());
  const auto before = Live();
  ASSERT_TRUE(store_->event_log().PutSnapshot(20, "\x01garbage").ok());  // overwrite with junk
  Open();
  EXPECT_TRUE(Live() == before);
}

TEST_F(StoreTest, StateAtRebuildsAnyPastSeq) {
  Open();
  std::vector<engine::State> states;
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(store_->Execute(Set("k" + std::to_string(i % 4), std::to_string(i))).ok());
    states.push_back(Live());
    if (i == 12) {
      ASSERT_TRUE(store_->snapshotter().SnapshotNow().ok());
    }
  }
  for (uint64_t seq = 1; seq <= 30; ++seq) {
    auto at = store_->StateAt(seq);
    ASSERT_TRUE(at.ok());
    EXPECT_TRUE(*at == states[seq - 1]) << "seq " << seq;
  }
  EXPECT_EQ(store_->StateAt(31).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, KeyHistoryListsEveryChangeOfAKey) {
  Open();
  ASSERT_TRUE(store_->Execute(Set("a", "1")).ok());
  ASSERT_TRUE(store_->Execute(Set("b", "1")).ok());
  ASSERT_TRUE(store_->Execute(Set("a", "2")).ok());
  auto history = store_->KeyHistory("a", 0, 100);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].seq, 1u);
  EXPECT_EQ((*history)[1].seq, 3u);
  EXPECT_EQ(store_->KeyHistory("a", 2, 100)->size(), 1u);
}

TEST_F(StoreTest, RestoreBringsTheGraphBackToASave) {
  Open();
  ASSERT_TRUE(store_->Execute(Graph("s", engine::CreateNode{"a", "task", "A", std::nullopt, {}})).ok());
  ASSERT_TRUE(store_->Execute(Graph("s", engine::SaveSession{"v1"})).ok());
  const auto saved = Live().sessions.at("s").graph;
  ASSERT_TRUE(store_->Execute(Graph("s", engine::CreateNode{"b", "task", "B", std::string("a"), {}})).ok());
  ASSERT_TRUE(store_->Execute(Graph("s", engine::SetProperty{"a", "color", "\"red\""})).ok());
  auto restore = store_->MakeRestore("s", "v1", 0);
  ASSERT_TRUE(restore.ok());
  ASSERT_TRUE(store_->Execute(std::move(restore).value()).ok());
  EXPECT_TRUE(Live().sessions.at("s").graph == saved);
  EXPECT_EQ(store_->MakeRestore("s", "nope", 0).status().code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, SubmitAfterCloseIsUnavailable) {
  Open();
  store_->Close();
  EXPECT_EQ(store_->Execute(Set("a", "1")).status().code(), StatusCode::kUnavailable);
}

class StoreFaultTest : public StoreTest {
 protected:
  // The store runs on fault_'s env, so it must close before fault_ goes.
  void TearDown() override { store_.reset(); }

  testutil::FaultInjectionEnv fault_;
};

TEST_F(StoreFaultTest, FailedWriteFailsTheBatchAndLeavesStateUnchanged) {
  Open(fault_.env());
  ASSERT_TRUE(store_->Execute(Set("a", "1")).ok());
  const auto before = Live();
  std::vector<std::pair<bool, uint64_t>> stats;  // ok, the state's head when the stats came
  store_->AddCommitStatsListener([&](const CommitStats& s) {
    stats.emplace_back(s.ok, store_->Read([](const engine::State& state) { return state.head_seq; }));
  });
  fault_.SetFailWrites(true);
  auto failed = store_->Execute(Set("a", "2"));
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Live() == before);
  // The failure is reported after the rollback, so readers of the failed batch can be told.
  EXPECT_EQ(stats, (std::vector<std::pair<bool, uint64_t>>{{false, 1}}));
  EXPECT_EQ(Value("a"), "1");  // reads keep working
  EXPECT_EQ(store_->KeyHistory("a", 0, 10)->size(), 1u);
  fault_.SetFailWrites(false);
  auto retried = store_->Execute(Set("a", "3"));
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_EQ(retried->seq, 2u);
  EXPECT_TRUE(Live() == Replayed());
}

TEST_F(StoreFaultTest, FailedSyncIsNotResurrectedAfterRestart) {
  Open(fault_.env());
  ASSERT_TRUE(store_->Execute(Set("a", "1")).ok());
  fault_.SetFailSyncs(true);
  EXPECT_EQ(store_->Execute(Set("a", "lost")).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store_->Execute(Set("b", "lost")).status().code(), StatusCode::kUnavailable);
  fault_.SetFailSyncs(false);
  auto kept = store_->Execute(Set("c", "kept"));
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->seq, 2u);
  const auto before = Live();
  Open(fault_.env());
  EXPECT_TRUE(Live() == before);
  EXPECT_EQ(Value("a"), "1");
  EXPECT_EQ(Value("b"), std::nullopt);
  EXPECT_EQ(store_->durable_seq(), 2u);
}

TEST_F(StoreFaultTest, DiskFullFailsCleanlyAndRecovers) {
  Open(fault_.env());
  fault_.SetFault(testutil::FaultInjectionEnv::Fault::kNoSpace);
  fault_.SetFailWrites(true);
  std::atomic<int> unavailable{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto r = store_->Execute(Set("k" + std::to_string(t), "1"));
      if (r.status().code() == StatusCode::kUnavailable) unavailable++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(unavailable.load(), 8);
  EXPECT_EQ(store_->durable_seq(), 0u);
  EXPECT_TRUE(Live().context.empty());
  fault_.SetFailWrites(false);
  ASSERT_TRUE(store_->Execute(Set("k", "2")).ok());
  EXPECT_TRUE(Live() == Replayed());
}

// A completion that can be waited for.
struct Answer {
  std::promise<StatusOr<engine::CommandResult>> promise;
  std::future<StatusOr<engine::CommandResult>> future = promise.get_future();
  Store::Completion Done() {
    return [this](StatusOr<engine::CommandResult> r) { promise.set_value(std::move(r)); };
  }
  bool Ready() { return future.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }
};

// Holds the write of set a=2 in its fsync and returns once the state shows
// it (the writer applies a batch before its write returns).
void StartHeldWrite(Store& store, testutil::FaultInjectionEnv& fault, Answer& answer) {
  fault.SetHoldSyncs(true);
  store.Submit(Set("a", "2"), answer.Done());
  ASSERT_TRUE(fault.WaitForHeldSync(std::chrono::seconds(30)));
  EXPECT_EQ(store.Read([](const engine::State& s) { return s.head_seq; }), 2u);  // reads see it ...
  EXPECT_EQ(store.durable_seq(), 1u);                                            // ... not yet durable
  EXPECT_FALSE(answer.Ready());                                                  // ... nobody answered
}

TEST_F(StoreFaultTest, CompletionFiresOnlyAfterTheWriteReturns) {
  Open(fault_.env());
  ASSERT_TRUE(store_->Execute(Set("a", "1")).ok());
  Answer answer;
  StartHeldWrite(*store_, fault_, answer);
  fault_.SetHoldSyncs(false);
  auto result = answer.future.get();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->seq, 2u);
  EXPECT_EQ(store_->durable_seq(), 2u);
  EXPECT_TRUE(Live() == Replayed());
}

TEST_F(StoreFaultTest, FailedWriteSeenByReadersIsRolledBackBeforeItIsReported) {
  Open(fault_.env());
  ASSERT_TRUE(store_->Execute(Set("a", "1")).ok());
  const auto before = Live();
  std::vector<std::pair<bool, uint64_t>> stats;  // ok, the state's head when the stats came
  store_->AddCommitStatsListener([&](const CommitStats& s) {
    stats.emplace_back(s.ok, store_->Read([](const engine::State& state) { return state.head_seq; }));
  });
  Answer answer;
  StartHeldWrite(*store_, fault_, answer);
  fault_.SetFailSyncs(true);
  fault_.SetHoldSyncs(false);
  EXPECT_EQ(answer.future.get().status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Live() == before);
  EXPECT_EQ(stats, (std::vector<std::pair<bool, uint64_t>>{{false, 1}}));
  fault_.SetFailSyncs(false);
  auto later = store_->Execute(Set("b", "2"));
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  EXPECT_EQ(later->seq, 2u);
  EXPECT_EQ(Value("a"), "1");
  EXPECT_TRUE(Live() == Replayed());
  const auto after = Live();
  Open(fault_.env());
  EXPECT_TRUE(Live() == after);
}

// The names of this process's threads (/proc/self/task/*/comm).
std::vector<std::string> ThreadNames() {
  std::vector<std::string> names;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    names.push_back(name);
  }
  return names;
}

TEST_F(StoreTest, TheWriterAndTheSnapshotterThreadsAreNamed) {
  Open();
  const std::vector<std::string> names = ThreadNames();
  EXPECT_EQ(std::count(names.begin(), names.end(), "ctxd-writer"), 1);
  EXPECT_EQ(std::count(names.begin(), names.end(), "ctxd-snapshot"), 1);
}

TEST_F(StoreTest, CommitPendingCommitsOnTheCallersThreadWhenTheStoreIsIdle) {
  Open();
  for (int i = 1; i <= 3; ++i) {
    std::optional<std::thread::id> ran_on;
    store_->SubmitDeferred(Set("a", std::to_string(i)), [&](StatusOr<engine::CommandResult> r) {
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ran_on = std::this_thread::get_id();
    });
    store_->CommitPending();
    EXPECT_EQ(ran_on, std::this_thread::get_id());
    EXPECT_EQ(store_->durable_seq(), static_cast<uint64_t>(i));
  }
  EXPECT_TRUE(Live() == Replayed());
}

TEST_F(StoreTest, CommandsDeferredTogetherShareOneCommit) {
  Open();
  std::vector<size_t> batch_sizes;  // written by the committing thread: this one
  store_->AddCommitStatsListener([&](const CommitStats& stats) { batch_sizes.push_back(stats.commands); });
  Answer a, b, c;
  store_->SubmitDeferred(Set("a", "1"), a.Done());
  store_->SubmitDeferred(Set("b", "1"), b.Done());
  store_->SubmitDeferred(Set("c", "1"), c.Done());
  store_->CommitPending();
  ASSERT_TRUE(c.Ready());
  EXPECT_EQ(batch_sizes, std::vector<size_t>{3});
  EXPECT_EQ(a.future.get()->seq, 1u);
  EXPECT_EQ(c.future.get()->seq, 3u);
  EXPECT_TRUE(Live() == Replayed());
}

// Defers one set per source, then CommitPending; the threads the
// completions ran on.
std::vector<std::thread::id> DeferAndCommit(Store& store, const std::vector<const void*>& sources) {
  std::vector<std::thread::id> ran_on;
  std::mutex mu;
  std::vector<Answer> answers(sources.size());
  for (size_t i = 0; i < sources.size(); ++i) {
    store.SubmitDeferred(
        Set("solo-" + std::to_string(i), std::to_string(store.durable_seq())),
        [&, done = answers[i].Done()](StatusOr<engine::CommandResult> r) mutable {
          {
            std::lock_guard lock(mu);
            ran_on.push_back(std::this_thread::get_id());
          }
          done(std::move(r));
        },
        sources[i]);
  }
  store.CommitPending();
  for (Answer& answer : answers) EXPECT_TRUE(answer.future.get().ok());
  return ran_on;
}

TEST_F(StoreTest, AfterABatchFromOneSourceCommitPendingStillCommitsOnTheCaller) {
  Open();
  const int client = 0, other = 0;
  const auto here = std::this_thread::get_id();
  using Threads = std::vector<std::thread::id>;
  EXPECT_EQ(DeferAndCommit(*store_, {&client, &client, &client}), Threads(3, here));  // idle store
  EXPECT_EQ(DeferAndCommit(*store_, {&client, &client, &other}), Threads(3, here));   // after a solo batch
  const Threads mixed_next = DeferAndCommit(*store_, {&client, &client});            // after a mixed one
  EXPECT_EQ(mixed_next.size(), 2u);
  EXPECT_EQ(std::count(mixed_next.begin(), mixed_next.end(), here), 0);  // the writer's
  EXPECT_TRUE(Live() == Replayed());
}

// Runs `calls` on another thread; false if it did not return within 10 s
// (it committed on its caller and is stuck in a held fsync).
bool ReturnsOnAnotherThread(std::function<void()> calls) {
  auto call = std::async(std::launch::async, std::move(calls));
  return call.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
}

bool DeferredSubmitReturns(Store& store, engine::Command command, Answer& answer) {
  return ReturnsOnAnotherThread([&store, &answer, command = std::move(command)]() mutable {
    store.SubmitDeferred(std::move(command), answer.Done());
    store.CommitPending();
  });
}

TEST_F(StoreFaultTest, CommitPendingLeavesCommandsQueuedBehindABatchInItsFsyncToTheWriter) {
  Open(fault_.env());
  ASSERT_TRUE(store_->Execute(Set("a", "1")).ok());
  Answer held;
  StartHeldWrite(*store_, fault_, held);
  Answer queued;
  const bool returned = DeferredSubmitReturns(*store_, Set("b", "1"), queued);
  EXPECT_FALSE(queued.Ready());
  fault_.SetHoldSyncs(false);
  EXPECT_TRUE(returned);
  EXPECT_EQ(held.future.get()->seq, 2u);
  EXPECT_EQ(queued.future.get()->seq, 3u);
  EXPECT_TRUE(Live() == Replayed());
}

TEST_F(StoreFaultTest, AfterABatchOfSeveralCommitPendingHandsDeferredCommandsToTheWriter) {
  Open(fault_.env());
  // Committed on this thread, so the writer stays asleep throughout: when
  // CommitPending returns nothing is left running that could pick up d.
  Answer a, b;
  store_->SubmitDeferred(Set("a", "1"), a.Done());
  store_->SubmitDeferred(Set("b", "1"), b.Done());
  store_->CommitPending();
  ASSERT_TRUE(b.Ready());
  EXPECT_EQ(b.future.get()->seq, 2u);
  fault_.SetHoldSyncs(true);
  Answer d;
  store_->SubmitDeferred(Set("d", "1"), d.Done());
  // Deferred: nothing commits it until CommitPending, which leaves it to the
  // writer (the last batch had two commands) and returns at once.
  EXPECT_FALSE(fault_.WaitForHeldSync(std::chrono::milliseconds(200)));
  EXPECT_TRUE(ReturnsOnAnotherThread([this] { store_->CommitPending(); }));
  const bool writer_held = fault_.WaitForHeldSync(std::chrono::seconds(30));
  fault_.SetHoldSyncs(false);
  EXPECT_TRUE(writer_held);
  EXPECT_EQ(d.future.get()->seq, 3u);
  EXPECT_TRUE(Live() == Replayed());
}

}  // namespace
}  // namespace ctxd::store
