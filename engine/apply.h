// Applying primitive changes and event bookkeeping: the code shared by live
// execution (Execute) and replay (Apply), so both produce identical states.
// Internal to engine/. Not thread-safe: runs under the caller's
// serialization of the State, like Execute and Apply.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "engine/change.h"
#include "engine/event.h"
#include "engine/state.h"

namespace ctxd::engine {

// Applies the changes of one event (seq, actor, ts) to `state`, checking each
// change's precondition first: the state must hold exactly the change's
// before-image. Graph changes go to the graph of `session`, created when
// absent. Holds references: `state`, `session` and `actor` must outlive it.
class ChangeApplier {
 public:
  ChangeApplier(State& state, const std::string& session, uint64_t seq, const std::string& actor,
                int64_t ts_us)
      : state_(state), session_(session), seq_(seq), actor_(actor), ts_us_(ts_us) {}

  // On a failed precondition returns kConflict saying what differs (e.g.
  // "key 'a' was changed since (now version 15)") and changes nothing.
  Status Apply(const Change& change);
  // The same, and for a context change also sets `*replaced` to the entry it
  // replaced without its value (nullopt when the key did not exist), so a
  // transaction can roll it back without a lookup of its own.
  Status Apply(const Change& change, std::optional<ContextEntry>* replaced);
  // The same, but may move the change's value into the state, leaving
  // `change` unspecified (replay of an event nothing else reads).
  Status Take(Change& change);

  // Whether an edge.add is checked for a cycle (on by default). Off where
  // the edges cannot close one: replay of the log, whose edges were checked
  // when they were made, and undo, redo and restore, which only step
  // through states the graph has been in.
  void set_check_cycles(bool check) { check_cycles_ = check; }

  // The cycle checks of one applier (one command) look at no more edges
  // than this in all: beyond it the edge.add fails with kInvalidArgument,
  // so no command holds the state for long (0.4 s here).
  static constexpr size_t kMaxCycleCheckSteps = 4'000'000;

 private:
  Status PutEntry(const CtxPut& c, ContextEntry** entry);
  void RecordReplaced(const ContextEntry& entry);
  Status Do(const CtxPut& c);
  Status Do(const CtxDel& c);
  Status Do(const NodeAdd& c);
  Status Do(const NodeRemove& c);
  Status Do(const EdgeAdd& c);
  Status CheckNoCycle(const Graph& graph, const EdgeAdd& c);
  Status Do(const EdgeRemove& c);
  Status Do(const PropPut& c);
  Status Do(const PropDel& c);
  StatusOr<Graph*> SessionGraph();

  State& state_;
  const std::string& session_;
  const uint64_t seq_;
  const std::string& actor_;
  const int64_t ts_us_;
  Graph* graph_ = nullptr;                           // resolved on the first graph change
  std::optional<ContextEntry>* replaced_ = nullptr;  // during Apply(change, replaced)
  bool check_cycles_ = true;
  size_t cycle_check_steps_ = 0;  // of every check so far
};

// Everything an event does besides its changes: head seq/ts, the session's
// last_seq, undo/redo stacks, save points and the dedupe table. Checks before
// it mutates: on kCorruption (an undo/redo that does not match the stack top,
// a session event without a session) `state` is unchanged.
Status Bookkeep(State& state, const Event& event);
// The two halves of Bookkeep, for Execute, which must check before it moves
// the changes into the event.
Status CheckBookkeeping(const State& state, const Event& event);
void ApplyBookkeeping(State& state, const Event& event);

// Whether `event` pushes an undo entry for its session.
bool IsUndoable(const Event& event);

}  // namespace ctxd::engine
