// The state derived from the log: context, per-session graphs, undo/redo
// stacks, save points and the dedupe table.
//
// Containers are ordered so that iteration order, and therefore every
// serialization of a State, depends only on the events applied.
// Thread safety: none; the Store guards it (one writer, many readers).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/change.h"
#include "engine/context_value.h"
#include "engine/node_pool.h"

namespace ctxd::engine {

struct ContextEntry {
  ContextValue value;        // canonical JSON
  uint64_t version = 0;      // seq of the last change
  uint64_t created_seq = 0;  // seq that created it (after its last delete)
  std::string actor;         // actor of the last change
  int64_t ts_us = 0;         // ts of the last change
  friend bool operator==(const ContextEntry&, const ContextEntry&) = default;
};

// Key -> entry, ascending by key. Its nodes come from a pool (see NodePoolAllocator).
using ContextMap = std::map<std::string, ContextEntry, std::less<std::string>,
                            NodePoolAllocator<std::pair<const std::string, ContextEntry>>>;

struct Node {
  std::string type;
  std::string name;
  Props props;
  std::set<std::string> parents;
  std::set<std::string> children;
  friend bool operator==(const Node&, const Node&) = default;
};

struct Graph {
  std::map<std::string, Node> nodes;
  uint64_t edge_count = 0;
  friend bool operator==(const Graph&, const Graph&) = default;
};

// One undoable step: the command's seq, its id and the changes it made.
struct UndoEntry {
  UndoEntry() = default;
  UndoEntry(uint64_t seq, std::string command_id, std::vector<Change> changes);

  uint64_t seq = 0;
  std::string command_id;
  std::vector<Change> changes;
  // What the entry holds, about: its strings plus a fixed amount per change.
  // Derived from the content alone (never from the allocator or the build),
  // so a replay evicts exactly the entries the live state evicted.
  uint64_t bytes = 0;
  friend bool operator==(const UndoEntry&, const UndoEntry&) = default;
};

struct SavePoint {
  uint64_t seq = 0;  // the session.save event
  int64_t ts_us = 0;
  friend bool operator==(const SavePoint&, const SavePoint&) = default;
};

struct Session {
  Graph graph;
  std::deque<UndoEntry> undo;  // back() is the next to undo
  std::deque<UndoEntry> redo;  // back() is the next to redo
  uint64_t undo_bytes = 0;     // the sum of the undo entries' bytes
  uint64_t redo_bytes = 0;     // and of the redo entries'
  std::map<std::string, SavePoint> saves;
  uint64_t last_seq = 0;
  friend bool operator==(const Session&, const Session&) = default;
};

// The original answer of a command with a client-supplied command_id.
struct DedupeEntry {
  uint64_t seq = 0;
  uint64_t ref_seq = 0;  // undoes / redoes, 0 otherwise
  std::string result;
  uint64_t request_digest = 0;  // 0: unknown (an event from before digests), matches any retry
  friend bool operator==(const DedupeEntry&, const DedupeEntry&) = default;
};

// command_id -> original answer, bounded, evicting the oldest first.
class DedupeTable {
 public:
  explicit DedupeTable(size_t capacity = 100000) : capacity_(capacity) {}

  const DedupeEntry* Find(const std::string& command_id) const;
  // Inserts (or refreshes nothing if present) and evicts beyond capacity.
  void Insert(const std::string& command_id, DedupeEntry entry);
  size_t size() const { return order_.size(); }
  size_t capacity() const { return capacity_; }
  // Oldest first.
  const std::deque<std::string>& order() const { return order_; }

  friend bool operator==(const DedupeTable& a, const DedupeTable& b) {
    return a.capacity_ == b.capacity_ && a.order_ == b.order_ && a.entries_ == b.entries_;
  }

 private:
  size_t capacity_;
  std::deque<std::string> order_;
  std::unordered_map<std::string, DedupeEntry> entries_;
};

struct EngineLimits {
  size_t max_undo_depth = 1000;
  // Per session and stack: older entries go once the entries' bytes pass
  // this; the newest stays whatever its size. 0: no byte limit.
  uint64_t max_undo_bytes = uint64_t{64} << 20;
  size_t max_value_bytes = size_t{1} << 20;  // a context or property value's canonical JSON
  size_t dedupe_capacity = 100000;
};

struct State {
  State() = default;
  explicit State(const EngineLimits& limits)
      : max_undo_depth(limits.max_undo_depth),
        max_undo_bytes(limits.max_undo_bytes),
        max_value_bytes(limits.max_value_bytes),
        dedupe(limits.dedupe_capacity) {}

  // The undo limits are the store's: kept in snapshots and carried on from
  // them, so that a replay bounds the stacks as the live state did.
  size_t max_undo_depth = 1000;
  uint64_t max_undo_bytes = EngineLimits{}.max_undo_bytes;
  size_t max_value_bytes = EngineLimits{}.max_value_bytes;  // checked when a command writes a value
  ContextMap context;
  std::map<std::string, Session> sessions;
  DedupeTable dedupe;
  uint64_t head_seq = 0;   // seq of the last applied event
  int64_t head_ts_us = 0;  // ts of the last applied event

  friend bool operator==(const State&, const State&) = default;
};

}  // namespace ctxd::engine
