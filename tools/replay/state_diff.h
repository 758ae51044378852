// What verify needs to explain a snapshot: the engine limits the server ran
// with (kept in every snapshot) and a readable account of how a stored
// snapshot differs from the replayed state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/state.h"
#include "log/event_log.h"

namespace ctxd::replay {

// The limits recorded in the first of `snapshot_seqs` that decodes; the
// defaults when none does. Replaying with the server's limits is what makes
// the replayed state comparable byte for byte.
engine::EngineLimits LimitsOfSnapshots(const log::EventLog& log, const std::vector<uint64_t>& snapshot_seqs);

// Whether `snapshot_bytes` is a snapshot of `replayed`: the same bytes as
// its encoding, or for a snapshot of an older format version (which cannot
// be re-encoded) the same state once decoded.
bool SnapshotMatches(const engine::State& replayed, std::string_view snapshot_bytes);

// The first difference between `replayed` and the state encoded in
// `snapshot_bytes`, e.g. "context key 'a': replay has 1, snapshot has 2".
std::string DescribeSnapshotDifference(const engine::State& replayed, std::string_view snapshot_bytes);

}  // namespace ctxd::replay
