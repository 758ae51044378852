// Snapshotter: writes a snapshot of the state every N events (or T seconds)
// without blocking the write path.
//
// It owns a follower State on its own thread that replays the committed log
// (newest snapshot + tail on first use), so the writer never copies or locks
// its state for a snapshot. Costs a second copy of the state in memory and
// the apply CPU on the other core. Old snapshots beyond `keep` are deleted.
//
// Thread safety: OnCommitted may be called from any thread (the writer);
// everything else runs on the snapshotter's thread or under its mutex.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "common/status.h"
#include "engine/state.h"
#include "log/event_log.h"

namespace ctxd::snapshots {

struct SnapshotPolicy {
  uint64_t every_events = 100000;           // 0 = never by count
  std::chrono::milliseconds every{0};       // 0 = never by time
  size_t keep = 8;                          // newest snapshots retained (>= 1)
};

class Snapshotter {
 public:
  Snapshotter(log::EventLog& log, engine::EngineLimits limits, SnapshotPolicy policy);
  ~Snapshotter();  // stops the thread; an in-progress snapshot completes first
  Snapshotter(const Snapshotter&) = delete;
  Snapshotter& operator=(const Snapshotter&) = delete;

  // Called after each commit with the new head; wakes the thread when due.
  void OnCommitted(uint64_t head_seq);
  // Catches up with the log head and writes a snapshot now, on the calling
  // thread (serialized with the background thread). Returns its seq.
  StatusOr<uint64_t> SnapshotNow();
  uint64_t last_snapshot_seq() const;

  // Calls `read(state)` with the follower caught up to the log's head, on the
  // calling thread (serialized with snapshot work). For reads long enough to
  // hold up the writer if they held the store's state lock (a whole large
  // context): the follower is a copy the writer never touches. Returns the
  // seq the state is at.
  StatusOr<uint64_t> ReadCaughtUp(const std::function<void(const engine::State&)>& read);
  // Calls `read(state)` with the follower at exactly `seq` (at most the log's
  // head): replayed forward to it, or rebuilt from an older snapshot when it
  // is past it. For a point just committed, which the follower has not
  // passed yet in the common case.
  Status ReadAt(uint64_t seq, const std::function<void(const engine::State&)>& read);

 private:
  void Run();
  bool Due(uint64_t head) const;
  StatusOr<uint64_t> CatchUp();  // the follower to the log's head; work_mu_ held
  Status CatchUpTo(uint64_t seq);  // the follower to `seq`; work_mu_ held
  StatusOr<uint64_t> CatchUpAndWrite();
  Status Prune();

  // Constant after construction.
  log::EventLog& log_;
  const engine::EngineLimits limits_;
  const SnapshotPolicy policy_;

  std::mutex work_mu_;  // serializes snapshot work (thread vs SnapshotNow)
  std::optional<engine::State> follower_;  // guarded by work_mu_

  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t head_seq_ = 0;           // guarded by mu_
  uint64_t last_snapshot_seq_ = 0;  // guarded by mu_
  std::chrono::steady_clock::time_point last_snapshot_time_;  // guarded by mu_
  bool stopping_ = false;           // guarded by mu_
  std::thread thread_;
};

}  // namespace ctxd::snapshots
