// Rebuilding state from the log: newest valid snapshot at or below a target
// seq, plus replay of the events after it. Used at start-up, for `?at=SEQ`
// reads, by the snapshotter and by ctxd-replay.
#pragma once

#include <cstdint>
#include <limits>

#include "common/status.h"
#include "engine/state.h"
#include "log/event_log.h"

namespace ctxd::snapshots {

inline constexpr uint64_t kHead = std::numeric_limits<uint64_t>::max();

// The state after event `target_seq` (kHead = the log's head). A snapshot
// that fails to load is skipped with a warning; an older one (or a full
// replay) is used instead. kInvalidArgument when target_seq is past the head.
StatusOr<engine::State> RebuildState(const log::EventLog& log, const engine::EngineLimits& limits,
                                     uint64_t target_seq = kHead);

// Applies events (state.head_seq, to] from the log to `state`.
Status ReplayInto(const log::EventLog& log, engine::State& state, uint64_t to);

// The last seq whose commit time is <= ts_us (0 when none). Commit times
// never decrease along the log, so this is a binary search.
StatusOr<uint64_t> SeqAtTime(const log::EventLog& log, int64_t ts_us);

}  // namespace ctxd::snapshots
