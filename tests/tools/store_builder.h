// Real stores for the tool tests, written by store::Store (the server's
// writer): random context, graph, undo/redo and save commands over a few
// sessions, with snapshots taken at fixed points.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/store.h"

namespace ctxd::testutil {

// Opens (or creates) the store in `dir` with snapshots only on demand.
std::unique_ptr<store::Store> OpenStore(const std::string& dir, bool sync = false);

// Runs `commands` random commands (seeded) on `store`, taking a snapshot
// after every `snapshot_every` of them (0: none). Returns the seqs of the
// snapshots taken.
std::vector<uint64_t> FillStore(store::Store& store, int commands, int snapshot_every, uint32_t seed);

// A closed store in `dir`: FillStore on a fresh store. Returns its head seq.
uint64_t BuildStore(const std::string& dir, int commands, int snapshot_every, uint32_t seed);

}  // namespace ctxd::testutil
