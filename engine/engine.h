// The deterministic state machine: commands -> events, events -> state.
//
// Pure: no I/O, no clocks, no randomness. Applying the same events in the
// same order to equal states always yields equal states. Not thread-safe; the
// caller serializes access to the State.
#pragma once

#include <cstdint>
#include <optional>

#include "common/status.h"
#include "engine/command.h"
#include "engine/event.h"
#include "engine/state.h"
#include "engine/utf8.h"

namespace ctxd::engine {

struct Outcome {
  std::optional<Event> event;  // absent when nothing is appended (no-op set, dedupe hit)
  CommandResult result;
};

// Validates `command` against `state`. When accepted, applies it to `state`
// and returns the event it became, with seq = state.head_seq + 1 and the given
// commit time. When refused, `state` is unchanged and the status says why:
// kInvalidArgument, kNotFound, kConflict, kPreconditionFailed,
// kNothingToUndo or kNothingToRedo.
StatusOr<Outcome> Execute(State& state, const Command& command, int64_t ts_us);

// Applies a committed event (replay). Returns kCorruption, with `state` in an
// unspecified state, when the event does not fit the state; a log that
// replays cleanly never does that.
Status Apply(State& state, const Event& event);
// The same, but may move values out of `event` into `state` (`event` is then
// unspecified): replay, which decodes every event into one Event.
Status ApplyTaking(State& state, Event& event);

// Validation shared with the server: 1-1024 bytes of UTF-8, no control characters.
Status ValidateKey(std::string_view key);
// Session, node and property ids, names and types: 1-1024 bytes of UTF-8, no control characters.
Status ValidateName(std::string_view what, std::string_view name);

}  // namespace ctxd::engine
