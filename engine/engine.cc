#include "engine/engine.h"

#include "engine/apply.h"
#include "engine/executor.h"
#include "engine/request_digest.h"
#include "engine/transaction.h"

namespace ctxd::engine {

namespace {

bool IsContextCommand(const CommandBody& body) {
  return std::holds_alternative<SetContext>(body) || std::holds_alternative<DeleteContext>(body) ||
         std::holds_alternative<BatchContext>(body);
}

Status ValidateCommand(const Command& command) {
  CTXD_RETURN_IF_ERROR(ValidateName("actor", command.actor));
  CTXD_RETURN_IF_ERROR(ValidateName("command_id", command.command_id));
  if (!command.session.empty()) return ValidateName("session", command.session);
  if (!IsContextCommand(command.body)) {
    return Status::InvalidArgument("graph and session commands need a session");
  }
  return Status::Ok();
}

// A retry of a command whose client-chosen id was seen: the original answer.
// The same id on a different request is refused: answering it as a retry
// would tell the client that a request it never made succeeded.
std::optional<StatusOr<Outcome>> FindDuplicate(const State& state, const Command& command, uint64_t digest) {
  if (!command.client_command_id) return std::nullopt;
  const DedupeEntry* entry = state.dedupe.Find(command.command_id);
  if (entry == nullptr) return std::nullopt;
  if (entry->request_digest != 0 && entry->request_digest != digest) {
    return Status::Conflict("the command id '" + command.command_id +
                            "' was already used for a different request (seq " + std::to_string(entry->seq) +
                            "); a new request needs a new id");
  }
  Outcome outcome;
  outcome.result.seq = entry->seq;
  outcome.result.changed = false;
  outcome.result.deduplicated = true;
  if (std::holds_alternative<SetContext>(command.body)) outcome.result.version = entry->seq;
  outcome.result.ref_seq = entry->ref_seq;
  outcome.result.command_id = command.command_id;
  outcome.result.result = entry->result;
  return outcome;
}

Event MakeEvent(const Command& command, uint64_t digest, uint64_t seq, int64_t ts_us, const Draft& draft,
                std::vector<Change> changes) {
  Event event;
  event.seq = seq;
  event.ts_us = ts_us;
  event.type = draft.type;
  event.actor = command.actor;
  event.session = command.session;
  event.command_id = command.command_id;
  event.client_command_id = command.client_command_id;
  event.request_digest = digest;
  event.undoes = draft.undoes;
  event.redoes = draft.redoes;
  event.label = draft.label;
  event.result = draft.result;
  event.changes = std::move(changes);
  return event;
}

CommandResult MakeResult(const Command& command, const State& state, const Draft& draft, bool appended) {
  CommandResult result;
  result.seq = state.head_seq;
  result.changed = appended;
  if (std::holds_alternative<SetContext>(command.body)) {
    result.version = appended ? state.head_seq : draft.version;
  }
  result.ref_seq = draft.undoes != 0 ? draft.undoes : draft.redoes;
  result.command_id = command.command_id;
  result.result = draft.result;
  return result;
}

// Runs the command's handler inside `tx`: on success the state holds the
// changes, on failure the transaction is rolled back.
Status Run(State& state, const Command& command, Transaction& tx, Draft& draft) {
  Executor executor(state, command, tx, draft);
  Status status = std::visit(executor, command.body);
  if (!status.ok()) tx.Rollback();
  return status;
}

}  // namespace

StatusOr<Outcome> Execute(State& state, const Command& command, int64_t ts_us) {
  const uint64_t digest = command.client_command_id ? RequestDigest(command) : 0;
  if (auto duplicate = FindDuplicate(state, command, digest)) return std::move(*duplicate);
  CTXD_RETURN_IF_ERROR(ValidateCommand(command));
  // Handlers may create the session (graph lookups, changes); a command that
  // appends nothing must not leave it behind.
  bool new_session = !command.session.empty() && !state.sessions.contains(command.session);
  auto drop_new_session = [&] {
    if (new_session) state.sessions.erase(command.session);
  };
  uint64_t seq = state.head_seq + 1;
  Transaction tx(state, command.session, seq, command.actor, ts_us);
  Draft draft;
  Status status = Run(state, command, tx, draft);
  if (!status.ok()) {
    drop_new_session();
    return status;
  }
  if (tx.changes().empty() && !draft.append_unchanged) {
    drop_new_session();
    return Outcome{std::nullopt, MakeResult(command, state, draft, false)};
  }
  Event event = MakeEvent(command, digest, seq, ts_us, draft, {});
  // The handlers read the stack tops they name, so this only fails on a bug.
  status = CheckBookkeeping(state, event);
  if (!status.ok()) {
    tx.Rollback();
    drop_new_session();
    return Status::Internal("bookkeeping refused its own event: " + status.message());
  }
  event.changes = tx.TakeChanges();
  ApplyBookkeeping(state, event);
  return Outcome{std::move(event), MakeResult(command, state, draft, true)};
}

namespace {

// Apply and ApplyTaking: `Event` is const for Apply, mutable for ApplyTaking.
template <typename E>
Status ApplyEvent(State& state, E& event, bool take) {
  if (event.seq != state.head_seq + 1) {
    return Status::Corruption("event seq " + std::to_string(event.seq) + " does not follow head seq " +
                              std::to_string(state.head_seq));
  }
  ChangeApplier applier(state, event.session, event.seq, event.actor, event.ts_us);
  applier.set_check_cycles(false);  // checked when the event was made
  for (size_t i = 0; i < event.changes.size(); ++i) {
    Status status;
    if constexpr (std::is_const_v<E>) {
      status = applier.Apply(event.changes[i]);
    } else {
      status = take ? applier.Take(event.changes[i]) : applier.Apply(event.changes[i]);
    }
    if (!status.ok()) {
      return Status::Corruption("event seq " + std::to_string(event.seq) + " change " + std::to_string(i) +
                                " (" + ChangeName(event.changes[i]) +
                                ") does not fit the state: " + status.message());
    }
  }
  return Bookkeep(state, event);
}

}  // namespace

Status Apply(State& state, const Event& event) { return ApplyEvent(state, event, false); }

// An undoable event's changes go onto the undo stack, so they stay intact.
Status ApplyTaking(State& state, Event& event) { return ApplyEvent(state, event, !IsUndoable(event)); }

}  // namespace ctxd::engine
