#include "snapshots/recovery.h"

#include <spdlog/spdlog.h>

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
    auto state = DecodeState(*bytes);
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

Status ReplayInto(const log::EventLog& log, engine::State& state, uint64_t to) {
  if (to <= state.head_seq) return Status::Ok();
  Status failure;
  engine::Event event;  // decoded into again and again: no allocation per event
  Status read =
      log.ReadRange(state.head_seq + 1, to, to - state.head_seq, [&](uint64_t seq, std::string_view payload) {
        Status decoded = engine::DecodeEventInto(payload, &event);
        if (!decoded.ok()) {
          failure = Status::Corruption("event " + std::to_string(seq) + ": " + decoded.message());
          return false;
        }
        failure = engine::ApplyTaking(state, event);
        return failure.ok();
      });
  CTXD_RETURN_IF_ERROR(read);
  CTXD_RETURN_IF_ERROR(failure);
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
