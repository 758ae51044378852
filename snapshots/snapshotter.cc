#include "snapshots/snapshotter.h"

#include <spdlog/spdlog.h>

#include "common/thread_name.h"
#include "snapshots/recovery.h"
#include "snapshots/snapshot_codec.h"

namespace ctxd::snapshots {

Snapshotter::Snapshotter(log::EventLog& log, engine::EngineLimits limits, SnapshotPolicy policy)
    : log_(log), limits_(limits), policy_(policy) {
  auto list = log_.ListSnapshots();
  if (list.ok() && !list->empty()) last_snapshot_seq_ = list->back().seq;
  head_seq_ = log_.head_seq();
  last_snapshot_time_ = std::chrono::steady_clock::now();
  thread_ = std::thread([this] { Run(); });
  NameThread(thread_, "ctxd-snapshot");
}

Snapshotter::~Snapshotter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Snapshotter::OnCommitted(uint64_t head_seq) {
  bool due;
  {
    std::lock_guard lock(mu_);
    head_seq_ = head_seq;
    due = policy_.every_events > 0 && head_seq - last_snapshot_seq_ >= policy_.every_events;
  }
  if (due) cv_.notify_one();
}

uint64_t Snapshotter::last_snapshot_seq() const {
  std::lock_guard lock(mu_);
  return last_snapshot_seq_;
}

bool Snapshotter::Due(uint64_t head) const {
  if (head <= last_snapshot_seq_) return false;
  if (policy_.every_events > 0 && head - last_snapshot_seq_ >= policy_.every_events) return true;
  return policy_.every.count() > 0 &&
         std::chrono::steady_clock::now() - last_snapshot_time_ >= policy_.every;
}

void Snapshotter::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (policy_.every.count() > 0) {
      cv_.wait_for(lock, policy_.every, [&] { return stopping_ || Due(head_seq_); });
    } else {
      cv_.wait(lock, [&] { return stopping_ || Due(head_seq_); });
    }
    if (stopping_ || !Due(head_seq_)) continue;
    lock.unlock();
    auto written = SnapshotNow();
    if (!written.ok()) spdlog::warn("snapshot failed: {}", written.status().ToString());
    lock.lock();
    if (!written.ok()) last_snapshot_time_ = std::chrono::steady_clock::now();  // retry later, not in a loop
  }
}

StatusOr<uint64_t> Snapshotter::SnapshotNow() {
  std::lock_guard work(work_mu_);
  auto seq = CatchUpAndWrite();
  if (!seq.ok()) return seq;
  // Pruned first, so that once last_snapshot_seq() shows the new snapshot
  // the ones it replaces are gone.
  Status pruned = Prune();
  if (!pruned.ok()) spdlog::warn("pruning old snapshots failed: {}", pruned.ToString());
  std::lock_guard lock(mu_);
  last_snapshot_seq_ = *seq;
  last_snapshot_time_ = std::chrono::steady_clock::now();
  return seq;
}

StatusOr<uint64_t> Snapshotter::ReadCaughtUp(const std::function<void(const engine::State&)>& read) {
  std::lock_guard work(work_mu_);
  auto head = CatchUp();
  if (head.ok()) read(*follower_);
  return head;
}

Status Snapshotter::ReadAt(uint64_t seq, const std::function<void(const engine::State&)>& read) {
  std::lock_guard work(work_mu_);
  CTXD_RETURN_IF_ERROR(CatchUpTo(seq));
  read(*follower_);
  return Status::Ok();
}

StatusOr<uint64_t> Snapshotter::CatchUp() {
  const uint64_t head = log_.head_seq();
  CTXD_RETURN_IF_ERROR(CatchUpTo(head));
  return head;
}

Status Snapshotter::CatchUpTo(uint64_t seq) {
  if (!follower_ || follower_->head_seq > seq) {
    auto state = RebuildState(log_, limits_, seq);
    if (!state.ok()) return state.status();
    follower_ = std::move(state).value();
  }
  return ReplayInto(log_, *follower_, seq);
}

StatusOr<uint64_t> Snapshotter::CatchUpAndWrite() {
  auto head = CatchUp();
  if (!head.ok()) return head;
  CTXD_RETURN_IF_ERROR(log_.PutSnapshot(*head, EncodeState(*follower_)));
  spdlog::debug("snapshot written at seq {}", *head);
  return head;
}

Status Snapshotter::Prune() {
  auto list = log_.ListSnapshots();
  if (!list.ok()) return list.status();
  const size_t keep = std::max<size_t>(policy_.keep, 1);
  for (size_t i = 0; i + keep < list->size(); ++i) {
    CTXD_RETURN_IF_ERROR(log_.DeleteSnapshot((*list)[i].seq));
  }
  return Status::Ok();
}

}  // namespace ctxd::snapshots
