// Store: ties the layers together. It validates each command against the
// current state, appends its event durably, applies it and publishes it.
//
// Write path (single writer, DESIGN.md "Durability"): Submit() queues a
// command; one writer thread drains everything queued, executes each command
// against the state (under the state lock), writes all resulting events and
// their index entries in ONE synced RocksDB WriteBatch (group commit), then
// publishes the events and fires the completions. Submissions keep queueing
// while a batch is being written, so the next batch fills during the fsync.
// At low concurrency SubmitDeferred + CommitPending let the submitting thread
// commit instead (see there); one batch is committed at a time either way.
// If the write fails, every command of the batch fails with kUnavailable and
// the state is rebuilt from the log (the engine is deterministic), so it is
// exactly as before the batch.
//
// Reads run under a shared lock on the in-memory state. The writer applies a
// batch before its fsync returns, so a read may observe events up to
// state().head_seq, of which only those <= durable_seq() are durable; a
// caller that must not reveal undurable data waits for durable_seq().
//
// Thread safety: every public method is safe from any thread.
#pragma once

#include <atomic>
#include <boost/uuid/random_generator.hpp>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <latch>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "engine/command.h"
#include "engine/event.h"
#include "engine/state.h"
#include "log/event_log.h"
#include "snapshots/snapshotter.h"

namespace ctxd::store {

struct StoreOptions {
  std::string dir = "./ctxd-data";
  bool sync = true;  // false = --durability=async: no fsync per batch
  snapshots::SnapshotPolicy snapshots;
  engine::EngineLimits limits;
  size_t max_batch = 4096;  // commands per group commit
  void* env = nullptr;      // test hook: a rocksdb::Env* (fault injection)
};

// What one group commit did, for metrics and benchmarks.
struct CommitStats {
  size_t events = 0;         // events in the WriteBatch
  size_t commands = 0;       // commands answered by it (refused and no-op ones included)
  double write_seconds = 0;  // the RocksDB write, fsync included
  bool ok = true;
};

class Store {
 public:
  using Completion = std::function<void(StatusOr<engine::CommandResult>)>;
  // The events of one durable batch, shared: listeners may keep them.
  using CommittedEvents = std::shared_ptr<const std::vector<engine::Event>>;
  // Runs on the committing thread (the writer, or a CommitPending caller;
  // never two at once) after each durable batch, in seq order; must be quick.
  using CommitListener = std::function<void(const CommittedEvents& events)>;

  // Opens the log and recovers the state (newest snapshot + replay).
  static StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~Store();  // Close()
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Queues `command` (a command without command_id gets a generated UUID);
  // `done` runs on the writer thread once the command is
  // durable (or refused). After Close() it fails with kUnavailable.
  void Submit(engine::Command command, Completion done);
  // Submit for a caller that will call CommitPending() soon, typically an
  // I/O thread once it has handled the other requests it has ready. The
  // writer is not woken here: a thread with several requests ready (or a
  // WebSocket client's pipelined ops) defers them all before CommitPending,
  // so an idle writer starts one batch with all of them instead of an fsync
  // for the first alone. A writer busy with a batch takes them when it ends.
  // `source` names the client (any stable address; nullptr: unnamed). At
  // low concurrency (the last batch was one command, or at most
  // kSoloBatchMax from one source) CommitPending commits on the caller's
  // thread, which saves the two thread wake-ups of a hand-off to the writer
  // and back; they cost more than the commit's CPU when one client writes
  // at a time, and that client is waiting for the answers anyway.
  void SubmitDeferred(engine::Command command, Completion done, const void* source = nullptr);
  static constexpr size_t kSoloBatchMax = 64;
  // Commits what is queued on the calling thread (blocking for the fsync;
  // completions run before this returns) when no batch is being committed
  // and the last batch was a low-concurrency one (above); otherwise leaves
  // it to the writer, waking it if it is idle. The caller must hold no lock
  // that a completion or a commit listener takes.
  void CommitPending();
  // Submit and wait.
  StatusOr<engine::CommandResult> Execute(engine::Command command);

  // Runs `fn(const engine::State&)` under the shared state lock.
  template <typename Fn>
  auto Read(Fn&& fn) const {
    std::shared_lock lock(state_mu_);
    return fn(state_);
  }

  // Builds the graph.restore command that brings `session` back to save
  // `name` (or to `seq` when name is empty).
  StatusOr<engine::Command> MakeRestore(const std::string& session, const std::string& name, uint64_t seq);
  // The state after event `seq` (point-in-time reads).
  StatusOr<engine::State> StateAt(uint64_t seq) const;
  // The reads of events below return at most `limit` events, and fewer
  // once those read come to kReadBytes encoded (always at least one): a
  // page of large events holds a few MiB, not `limit` times 2 MiB. Callers
  // page on from the last seq returned.
  static constexpr size_t kReadBytes = size_t{4} << 20;
  // Events of `key` (context) with seq >= from, ascending.
  StatusOr<std::vector<engine::Event>> KeyHistory(const std::string& key, uint64_t from,
                                                  uint64_t limit) const;
  // Events of node `node` in `session`, ascending.
  StatusOr<std::vector<engine::Event>> NodeHistory(const std::string& session, const std::string& node,
                                                   uint64_t from, uint64_t limit) const;
  // Durable events with seq >= from, ascending.
  StatusOr<std::vector<engine::Event>> ReadEvents(uint64_t from, uint64_t limit) const;

  void AddCommitListener(CommitListener fn);
  // Runs on the committing thread after every attempted write; must be quick.
  // For a failed write it runs after the state was rolled back, so a reader
  // that saw the failed batch (state head > durable_seq) can be told.
  using CommitStatsListener = std::function<void(const CommitStats& stats)>;
  void AddCommitStatsListener(CommitStatsListener fn);
  uint64_t durable_seq() const { return durable_seq_.load(std::memory_order_acquire); }
  const std::string& store_id() const { return log_->store_id(); }
  log::EventLog& event_log() { return *log_; }
  snapshots::Snapshotter& snapshotter() { return *snapshotter_; }
  const engine::EngineLimits& limits() const { return options_.limits; }

  // Stops accepting commands, commits everything already queued, stops the
  // writer and the snapshotter. Idempotent.
  void Close();

  // Index prefixes (docs/event-format.md).
  static std::string KeyIndexPrefix(std::string_view key);
  static std::string NodeIndexPrefix(std::string_view session, std::string_view node);
  static std::string SessionIndexPrefix(std::string_view session);

 private:
  struct Submission {
    engine::Command command;
    Completion done;
    const void* source = nullptr;
  };
  struct Batch;

  Store(const StoreOptions& options, std::unique_ptr<log::EventLog> log, engine::State state);
  void WriterLoop();
  // Queues a submission; false (and `done` failed) after Close().
  bool Enqueue(engine::Command& command, Completion& done, const void* source, std::unique_lock<std::mutex>& lock);
  // One command, or a few from one named source: see SubmitDeferred.
  static bool IsSolo(const std::vector<Submission>& batch);
  std::vector<Submission> TakePending();
  // The next batch's submissions, at most max_batch; queue_mu_ held.
  std::vector<Submission> TakeBatchLocked();
  // Execute + commit, then lets the next batch start.
  void RunBatch(Batch& batch);
  void ExecuteBatch(Batch& batch);
  void CommitBatch(Batch& batch);
  void RecoverAfterFailedWrite();
  void PublishStats(const CommitStats& stats);
  StatusOr<std::vector<engine::Event>> ReadIndexedEvents(const std::string& prefix, uint64_t from,
                                                         uint64_t limit) const;

  // Constant after construction.
  const StoreOptions options_;
  std::unique_ptr<log::EventLog> log_;
  std::unique_ptr<snapshots::Snapshotter> snapshotter_;

  // The state: written by the committing thread only, read under a shared lock.
  mutable std::shared_mutex state_mu_;
  engine::State state_;  // guarded by state_mu_
  std::atomic<uint64_t> durable_seq_{0};
  boost::uuids::random_generator uuid_generator_;  // committing thread only: ids for commands without one

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::vector<Submission> pending_;  // guarded by queue_mu_
  bool closing_ = false;             // guarded by queue_mu_
  bool committing_ = false;          // a batch is being committed; guarded by queue_mu_
  bool last_batch_solo_ = true;      // guarded by queue_mu_
  // Counted down by the writer as it first waits for work; the constructor
  // waits for it, so a command deferred right after Open stays queued until
  // CommitPending rather than being taken by a writer still starting up.
  std::latch writer_waiting_{1};

  std::mutex listeners_mu_;
  std::vector<CommitListener> listeners_;             // guarded by listeners_mu_
  std::vector<CommitStatsListener> stats_listeners_;  // guarded by listeners_mu_

  std::once_flag close_once_;
  std::thread writer_;  // started last
};

}  // namespace ctxd::store
