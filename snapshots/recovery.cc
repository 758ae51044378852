#include "snapshots/recovery.h"

#include <spdlog/spdlog.h>

#include <array>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "engine/event_codec.h"
#include "snapshots/snapshot_codec.h"

namespace ctxd::snapshots {
namespace {

// The newest snapshot at or below `target_seq` that loads cleanly, or an
// empty state when there is none.
engine::State LoadNewestSnapshot(const log::EventLog& log, const engine::EngineLimits& limits,
                                 uint64_t target_seq) {
  auto list = log.ListSnapshots();
  if (!list.ok()) {
    spdlog::warn("cannot list snapshots ({}); replaying the whole log", list.status().ToString());
    return engine::State(limits);
  }
  for (auto it = list->rbegin(); it != list->rend(); ++it) {
    if (it->seq > target_seq) continue;
    auto bytes = log.ReadSnapshot(it->seq);
    if (!bytes.ok()) {
      spdlog::warn("skipping snapshot at seq {}: {}", it->seq, bytes.status().ToString());
      continue;
    }
    auto state = DecodeState(std::move(*bytes));
    if (!state.ok() || state->head_seq != it->seq) {
      spdlog::warn("skipping snapshot at seq {}: {}", it->seq,
                   state.ok() ? "its state is at another seq" : state.status().ToString());
      continue;
    }
    return std::move(state).value();
  }
  return engine::State(limits);
}

}  // namespace

namespace {

// From this many events on, replay reads and decodes on a helper thread
// while the caller applies (ParallelReplay).
constexpr uint64_t kParallelReplayEvents = 8192;
constexpr size_t kBatchEvents = 1024;
constexpr size_t kBatchesInFlight = 4;

Status DecodeFailure(uint64_t seq, const Status& decoded) {
  return Status::Corruption("event " + std::to_string(seq) + ": " + decoded.message());
}

Status ReplaySequential(const log::EventLog& log, engine::State& state, uint64_t to) {
  Status failure;
  engine::Event event;  // decoded into again and again: no allocation per event
  Status read =
      log.ReadRange(state.head_seq + 1, to, to - state.head_seq, [&](uint64_t seq, std::string_view payload) {
        Status decoded = engine::DecodeEventInto(payload, &event);
        if (!decoded.ok()) {
          failure = DecodeFailure(seq, decoded);
          return false;
        }
        failure = engine::ApplyTaking(state, event);
        return failure.ok();
      });
  CTXD_RETURN_IF_ERROR(read);
  return failure;
}

// Replay on two threads: a helper reads and decodes batches of events (RocksDB
// iteration, checksum, decoding: about three quarters of the work) while the
// caller applies the previous batch. Batches are recycled, so their events'
// buffers are reused as in the sequential replay. Owned by one ReplayInto call.
class ParallelReplay {
 public:
  ParallelReplay(const log::EventLog& log, engine::State& state, uint64_t to)
      : log_(log), state_(state), from_(state.head_seq + 1), to_(to) {
    for (auto& batch : batches_) free_.push_back(&batch);
  }

  Status Run() {
    std::thread reader([this] { Read(); });
    Status applied = Apply();
    {
      std::lock_guard lock(mu_);
      stop_ = true;  // the reader stops early when applying failed
    }
    cv_.notify_all();
    reader.join();
    CTXD_RETURN_IF_ERROR(read_status_);
    return applied;
  }

 private:
  struct Batch {
    std::vector<engine::Event> events = std::vector<engine::Event>(kBatchEvents);
    size_t count = 0;
  };

  // Helper thread.
  void Read() {
    Batch* batch = TakeFree();
    Status failure;
    Status read =
        batch == nullptr
            ? Status::Ok()
            : log_.ReadRange(from_, to_, to_ - from_ + 1, [&](uint64_t seq, std::string_view payload) {
                Status decoded = engine::DecodeEventInto(payload, &batch->events[batch->count]);
                if (!decoded.ok()) {
                  failure = DecodeFailure(seq, decoded);
                  return false;
                }
                if (++batch->count < kBatchEvents) return true;
                PushFull(batch);
                batch = TakeFree();
                return batch != nullptr;
              });
    std::lock_guard lock(mu_);
    if (batch != nullptr && batch->count > 0) full_.push_back(batch);
    read_status_ = read.ok() ? failure : read;
    reading_ = false;
    cv_.notify_all();
  }

  // A batch to fill, or nullptr once the caller stopped.
  Batch* TakeFree() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stop_ || !free_.empty(); });
    if (stop_) return nullptr;
    Batch* batch = free_.front();
    free_.pop_front();
    batch->count = 0;
    return batch;
  }

  void PushFull(Batch* batch) {
    {
      std::lock_guard lock(mu_);
      full_.push_back(batch);
    }
    cv_.notify_all();
  }

  // Calling thread: applies batches in order until the reader is done.
  Status Apply() {
    while (true) {
      Batch* batch;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return !full_.empty() || !reading_; });
        if (full_.empty()) return Status::Ok();
        batch = full_.front();
        full_.pop_front();
      }
      for (size_t i = 0; i < batch->count; ++i)
        CTXD_RETURN_IF_ERROR(engine::ApplyTaking(state_, batch->events[i]));
      {
        std::lock_guard lock(mu_);
        free_.push_back(batch);
      }
      cv_.notify_all();
    }
  }

  const log::EventLog& log_;
  engine::State& state_;  // the calling thread's only
  const uint64_t from_;
  const uint64_t to_;
  std::array<Batch, kBatchesInFlight> batches_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch*> free_;  // guarded by mu_
  std::deque<Batch*> full_;  // guarded by mu_: decoded, in seq order
  bool reading_ = true;      // guarded by mu_
  bool stop_ = false;        // guarded by mu_
  Status read_status_;       // guarded by mu_; final once reading_ is false
};

}  // namespace

Status ReplayInto(const log::EventLog& log, engine::State& state, uint64_t to) {
  if (to <= state.head_seq) return Status::Ok();
  const uint64_t from = state.head_seq;
  CTXD_RETURN_IF_ERROR(to - from < kParallelReplayEvents ? ReplaySequential(log, state, to)
                                                         : ParallelReplay(log, state, to).Run());
  if (state.head_seq != to) {
    return Status::Corruption("log ends at seq " + std::to_string(state.head_seq) + ", expected " +
                              std::to_string(to));
  }
  return Status::Ok();
}

StatusOr<engine::State> RebuildState(const log::EventLog& log, const engine::EngineLimits& limits,
                                     uint64_t target_seq) {
  const uint64_t head = log.head_seq();
  if (target_seq == kHead) target_seq = head;
  if (target_seq > head) {
    return Status::InvalidArgument("seq " + std::to_string(target_seq) + " is past the head (" +
                                   std::to_string(head) + ")");
  }
  engine::State state = LoadNewestSnapshot(log, limits, target_seq);
  CTXD_RETURN_IF_ERROR(ReplayInto(log, state, target_seq));
  return state;
}

StatusOr<uint64_t> SeqAtTime(const log::EventLog& log, int64_t ts_us) {
  uint64_t lo = 0, hi = log.head_seq();  // invariant: ts(lo) <= ts_us (seq 0 = before the log)
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo + 1) / 2;
    auto payload = log.ReadEvent(mid);
    if (!payload.ok()) return payload.status();
    auto event = engine::DecodeEvent(*payload);
    if (!event.ok()) return event.status();
    if (event->ts_us <= ts_us) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

}  // namespace ctxd::snapshots
