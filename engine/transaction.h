// The changes of one command while it is being executed. Internal to engine/.
//
// Each change is applied (with its precondition check) as it is added, so a
// later op of the same command sees the earlier ones. Rollback restores the
// State exactly as it was, context versions included. Lives for one
// Execute call; not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/apply.h"

namespace ctxd::engine {

class Transaction {
 public:
  // `state`, `session` and `actor` must outlive the transaction.
  Transaction(State& state, const std::string& session, uint64_t seq, const std::string& actor, int64_t ts_us)
      : state_(state), applier_(state, session, seq, actor, ts_us) {}

  // Applies `change` and records it; on a failed precondition nothing is
  // recorded and the ChangeApplier's kConflict is returned.
  Status Add(Change change);
  // For a command that steps back through states the graph has been in
  // (undo, redo, restore): its edges skip the cycle check.
  void TrustEdges() { applier_.set_check_cycles(false); }
  // Undoes every recorded change, newest first, and forgets them.
  void Rollback();

  const std::vector<Change>& changes() const { return changes_; }
  std::vector<Change> TakeChanges() { return std::move(changes_); }

 private:
  State& state_;
  ChangeApplier applier_;
  std::vector<Change> changes_;
  // The entry each recorded context change replaced, in order, without its
  // value: that is the change's `old`, which the applier checked against the
  // entry (copying a value per set cost the writer 3 % of its time). Applying
  // the inverse change would give the key a new version, so Rollback puts
  // these back instead.
  std::vector<std::optional<ContextEntry>> context_before_;
};

}  // namespace ctxd::engine
