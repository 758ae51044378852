// Rebuilding the state at a seq for ctxd-replay: snapshots::RebuildState up
// to the newest snapshot at or below the target, then the replay of the
// rest in steps, so that a long replay can show its progress.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "engine/state.h"
#include "log/event_log.h"
#include "tools/replay/progress.h"

namespace ctxd::replay {

// The state after event `seq` (<= the log's head). `progress_mode` governs
// the replay's progress display.
StatusOr<engine::State> RebuildAt(const log::EventLog& log, uint64_t seq, Progress::Mode progress_mode);

}  // namespace ctxd::replay
