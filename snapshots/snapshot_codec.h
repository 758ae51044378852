// Serializes the full engine State (context, sessions, graphs, undo/redo
// stacks, saves and the dedupe table) to bytes and back.
// Layout and versioning: docs/snapshot-format.md. Deterministic: equal
// states encode to identical bytes.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "engine/state.h"

namespace ctxd::snapshots {

// Written by this build. Versions 1 (no request digests) and 2 (no undo byte
// limit) are still read.
inline constexpr uint8_t kSnapshotFormatVersion = 3;

std::string EncodeState(const engine::State& state);
// kCorruption when the bytes are malformed, truncated or of an unknown version.
// The state's context values stay inside `bytes` (engine::ContextValue), which
// they share; the view overload copies the bytes once for that.
StatusOr<engine::State> DecodeState(std::string bytes);
StatusOr<engine::State> DecodeState(std::string_view bytes);

}  // namespace ctxd::snapshots
