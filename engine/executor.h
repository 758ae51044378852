// Turns one command into changes inside a Transaction. Internal to engine/;
// Execute (engine.cc) owns the Transaction, the event and the bookkeeping.
// Lives for one Execute call; not thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "engine/command.h"
#include "engine/event.h"
#include "engine/state.h"
#include "engine/transaction.h"

namespace ctxd::engine {

// What a command adds to its event besides the changes.
struct Draft {
  EventType type = EventType::kContextSet;
  std::string result;  // canonical JSON, empty when none
  std::string label;
  uint64_t undoes = 0;
  uint64_t redoes = 0;
  uint64_t version = 0;  // context.set without a change: the key's version
  // Explicit user actions (save, restore, undo) append an event even when
  // they change nothing.
  bool append_unchanged = false;
};

// One command. The handlers validate against the current state, add their
// changes to the transaction and fill in the draft. On an error the caller
// rolls the transaction back.
class Executor {
 public:
  Executor(State& state, const Command& command, Transaction& tx, Draft& draft)
      : state_(state), command_(command), tx_(tx), draft_(draft) {}

  // context_commands.cc
  Status operator()(const SetContext& c);
  Status operator()(const DeleteContext& c);
  Status operator()(const BatchContext& c);
  // graph_commands.cc
  Status operator()(const CreateNode& c);
  Status operator()(const DeleteNode& c);
  Status operator()(const Link& c);
  Status operator()(const Unlink& c);
  Status operator()(const SetProperty& c);
  Status operator()(const DeleteProperty& c);
  Status operator()(const BatchGraph& c);
  // session_commands.cc
  Status operator()(const RestoreGraph& c);
  Status operator()(const Undo& c);
  Status operator()(const Redo& c);
  Status operator()(const SaveSession& c);

 private:
  // Graph ops, shared by the single commands and BatchGraph. `result` gets
  // the op's result JSON (empty when none).
  Status Op(const CreateNode& op, std::string* result);
  Status Op(const DeleteNode& op, std::string* result);
  Status Op(const Link& op, std::string* result);
  Status Op(const Unlink& op, std::string* result);
  Status Op(const SetProperty& op, std::string* result);
  Status Op(const DeleteProperty& op, std::string* result);
  template <typename T>
  Status SingleOp(const T& op, EventType type);

  Status RestoreEdgesAndNodes(const Graph& target);
  Status RestoreAdditions(const Graph& target);
  // Re-applies `changes` (undo: the inverse; redo: the original).
  Status Replay(const std::vector<Change>& changes, const char* verb, uint64_t seq);

  // The command's session graph; the session exists (Execute created it).
  Graph& graph();
  Session* FindSession();

  State& state_;
  const Command& command_;
  Transaction& tx_;
  Draft& draft_;
};

// The value of a context set or property: canonical JSON, so never empty,
// and at most `max_bytes` (kPayloadTooLarge beyond).
Status ValidateValue(std::string_view what, const std::string& value, size_t max_bytes);

}  // namespace ctxd::engine
