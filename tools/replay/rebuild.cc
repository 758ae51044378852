#include "tools/replay/rebuild.h"

#include <algorithm>

#include "snapshots/recovery.h"

namespace ctxd::replay {
namespace {

constexpr uint64_t kReplayStep = 16384;

// The seq of the newest snapshot at or below `seq`, 0 when none.
uint64_t NewestSnapshotAtOrBelow(const log::EventLog& log, uint64_t seq) {
  auto snapshots = log.ListSnapshots();
  if (!snapshots.ok()) return 0;
  uint64_t best = 0;
  for (const log::SnapshotInfo& info : *snapshots) {
    if (info.seq <= seq) best = std::max(best, info.seq);
  }
  return best;
}

}  // namespace

StatusOr<engine::State> RebuildAt(const log::EventLog& log, uint64_t seq, Progress::Mode progress_mode) {
  auto state = snapshots::RebuildState(log, engine::EngineLimits{}, NewestSnapshotAtOrBelow(log, seq));
  if (!state.ok()) return state.status();
  const uint64_t base = state->head_seq;
  Progress progress("replaying events", seq - base, progress_mode);
  while (state->head_seq < seq) {
    const uint64_t to = std::min(seq, state->head_seq + kReplayStep);
    CTXD_RETURN_IF_ERROR(snapshots::ReplayInto(log, *state, to));
    progress.Update(to - base);
  }
  progress.Finish();
  return state;
}

}  // namespace ctxd::replay
