// Commands: what clients ask for. The engine validates a command against the
// State and turns an accepted one into an Event.
//
// Everything non-deterministic (generated ids, the restore target graph, the
// commit time) is filled in before the engine sees the command.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "engine/change.h"
#include "engine/state.h"

namespace ctxd::engine {

struct SetContext {
  std::string key;
  std::string value;                // canonical JSON
  std::optional<uint64_t> if_match;  // 0 = must not exist
};
struct DeleteContext {
  std::string key;
  std::optional<uint64_t> if_match;
};
struct BatchContext {
  std::vector<std::pair<std::string, std::string>> sets;  // key -> canonical JSON
  std::vector<std::string> deletes;
};

struct CreateNode {
  std::string node_id;  // the caller generates one when the client gave none
  std::string type;
  std::string name;
  std::optional<std::string> parent_id;
  Props props;
  bool node_id_generated = false;  // by the caller: not part of the request (request_digest.h)
};
struct DeleteNode {
  std::string node_id;
};
struct Link {
  std::string parent_id;
  std::string child_id;
};
struct Unlink {
  std::string parent_id;
  std::string child_id;
};
struct SetProperty {
  std::string node_id;
  std::string property;
  std::string value;  // canonical JSON
};
struct DeleteProperty {
  std::string node_id;
  std::string property;
};
using GraphOp = std::variant<CreateNode, DeleteNode, Link, Unlink, SetProperty, DeleteProperty>;
// Atomic: all ops or none; one undo step.
struct BatchGraph {
  std::vector<GraphOp> ops;
};
// Makes the session graph equal to `target` (the graph at an earlier point,
// which the caller rebuilt from the log).
struct RestoreGraph {
  std::string label;  // the save name, or "seq:N"
  Graph target;
};
struct Undo {};
struct Redo {};
struct SaveSession {
  std::string name;
};

using CommandBody = std::variant<SetContext, DeleteContext, BatchContext, CreateNode, DeleteNode, Link,
                                 Unlink, SetProperty, DeleteProperty, BatchGraph, RestoreGraph, Undo,
                                 Redo, SaveSession>;

struct Command {
  std::string actor = "anonymous";
  std::string session;     // required for graph and session commands
  std::string command_id;  // the caller generates one when the client gave none
  bool client_command_id = false;
  CommandBody body;
};

// The answer to a command.
struct CommandResult {
  uint64_t seq = 0;         // the event's seq; the head seq when nothing was appended
  bool changed = true;      // false: nothing appended (same value, or a dedupe hit)
  bool deduplicated = false;
  uint64_t version = 0;     // context.set: the key's version after the command
  uint64_t ref_seq = 0;     // undo/redo: seq of the original command
  std::string command_id;
  std::string result;       // canonical JSON, empty when none
};

}  // namespace ctxd::engine
