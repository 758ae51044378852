#include "engine/apply.h"

#include <string_view>
#include <unordered_set>
#include <vector>

namespace ctxd::engine {

namespace {

std::string Quote(const std::string& s) { return "'" + s + "'"; }

std::string EdgeName(const std::string& parent, const std::string& child) {
  return "edge " + Quote(parent) + " -> " + Quote(child);
}

// `entry` (nullptr: the key is absent) holds `expected` (nullptr: absent).
Status CheckEntry(const std::string& key, const ContextEntry* entry, const std::string* expected) {
  if (entry == nullptr) {
    if (expected == nullptr) return Status::Ok();
    return Status::Conflict("key " + Quote(key) + " was deleted since");
  }
  if (expected != nullptr && entry->value == *expected) return Status::Ok();
  return Status::Conflict("key " + Quote(key) + (expected == nullptr ? " was created" : " was changed") +
                          " since (now version " + std::to_string(entry->version) + ")");
}

Status MissingNode(const std::string& node) {
  return Status::Conflict("node " + Quote(node) + " does not exist");
}

enum class Reach { kNo, kYes, kTooCostly };

// One side of Reaches: the nodes it has seen, those still to expand, and
// how many edges it has looked at.
struct SearchSide {
  std::unordered_set<std::string_view> seen;
  std::vector<const std::string*> pending;
  size_t steps = 0;
};

// Whether `from` reaches `to` by child edges. Searches down from `from` and
// up from `to` in turns, the side that has looked at fewer edges going
// next, and ends when they meet or either side runs out. So a check costs
// about twice the smaller of the two neighbourhoods: linking a new node
// above a deep chain, or a chain's nodes leaf first, looks at a few edges,
// not at the whole chain. kTooCostly once `budget` edges were looked at.
Reach Reaches(const Graph& graph, const std::string& from, const std::string& to, size_t budget,
              size_t* steps) {
  if (from == to) return Reach::kYes;
  SearchSide down, up;
  down.seen.insert(from);
  down.pending.push_back(&from);
  up.seen.insert(to);
  up.pending.push_back(&to);
  while (!down.pending.empty() && !up.pending.empty()) {
    const bool going_down = down.steps <= up.steps;
    SearchSide& side = going_down ? down : up;
    const SearchSide& other = going_down ? up : down;
    auto node = graph.nodes.find(*side.pending.back());
    side.pending.pop_back();
    if (node == graph.nodes.end()) continue;
    for (const std::string& next : going_down ? node->second.children : node->second.parents) {
      if (other.seen.contains(next)) return Reach::kYes;
      if (side.seen.insert(next).second) side.pending.push_back(&next);
    }
    side.steps += 1 + (going_down ? node->second.children.size() : node->second.parents.size());
    if (down.steps + up.steps > budget) return Reach::kTooCostly;
  }
  *steps += down.steps + up.steps;
  return Reach::kNo;
}

// The node holds `expected` for property `name` (nullptr: absent).
Status CheckProperty(const Node& node, const std::string& node_id, const std::string& name,
                     const std::string* expected) {
  auto it = node.props.find(name);
  auto conflict = [&](const char* what) {
    return Status::Conflict("node " + Quote(node_id) + " property " + Quote(name) + " was " + what +
                            " since");
  };
  if (it == node.props.end()) return expected == nullptr ? Status::Ok() : conflict("deleted");
  if (expected == nullptr) return conflict("created");
  if (it->second != *expected) return conflict("changed");
  return Status::Ok();
}

// Pushes `entry` on `stack` (whose entries hold `stack_bytes`) and drops its
// oldest entries past the state's depth limit, and past its byte limit while
// more than the new entry is left.
void PushBounded(const State& state, std::deque<UndoEntry>& stack, uint64_t& stack_bytes, UndoEntry entry) {
  stack_bytes += entry.bytes;
  stack.push_back(std::move(entry));
  auto over_limits = [&] {
    const bool too_large = state.max_undo_bytes != 0 && stack_bytes > state.max_undo_bytes;
    return stack.size() > state.max_undo_depth || (too_large && stack.size() > 1);
  };
  while (!stack.empty() && over_limits()) {
    stack_bytes -= stack.front().bytes;
    stack.pop_front();
  }
}

// Moves the top of `from` to `to` (CheckBookkeeping made sure there is one).
void MoveTop(const State& state, std::deque<UndoEntry>& from, uint64_t& from_bytes, std::deque<UndoEntry>& to,
             uint64_t& to_bytes) {
  UndoEntry entry = std::move(from.back());
  from.pop_back();
  from_bytes -= entry.bytes;
  PushBounded(state, to, to_bytes, std::move(entry));
}

void UpdateSession(State& state, Session& session, const Event& event) {
  switch (event.type) {
    case EventType::kUndo:
      MoveTop(state, session.undo, session.undo_bytes, session.redo, session.redo_bytes);
      return;
    case EventType::kRedo:
      MoveTop(state, session.redo, session.redo_bytes, session.undo, session.undo_bytes);
      return;
    case EventType::kSave:
      session.saves[event.label] = SavePoint{event.seq, event.ts_us};
      return;
    default:
      break;
  }
  if (IsUndoable(event)) {
    PushBounded(state, session.undo, session.undo_bytes,
                UndoEntry(event.seq, event.command_id, event.changes));
    session.redo.clear();
    session.redo_bytes = 0;
  }
}

bool NeedsSession(EventType type) {
  return type != EventType::kContextSet && type != EventType::kContextDelete &&
         type != EventType::kContextBatch;
}

Status Corrupt(const Event& event, const std::string& what) {
  return Status::Corruption("event seq " + std::to_string(event.seq) + ": " + what);
}

}  // namespace

Status CheckBookkeeping(const State& state, const Event& event) {
  if (event.session.empty()) {
    return NeedsSession(event.type) ? Corrupt(event, "session event without a session") : Status::Ok();
  }
  auto it = state.sessions.find(event.session);
  const Session* session = it == state.sessions.end() ? nullptr : &it->second;
  auto top_is = [](const std::deque<UndoEntry>* stack, uint64_t seq) {
    return stack != nullptr && !stack->empty() && stack->back().seq == seq;
  };
  if (event.type == EventType::kUndo && !top_is(session ? &session->undo : nullptr, event.undoes)) {
    return Corrupt(event, "undoes seq " + std::to_string(event.undoes) + ", not the top of the undo stack");
  }
  if (event.type == EventType::kRedo && !top_is(session ? &session->redo : nullptr, event.redoes)) {
    return Corrupt(event, "redoes seq " + std::to_string(event.redoes) + ", not the top of the redo stack");
  }
  return Status::Ok();
}

bool IsUndoable(const Event& event) {
  switch (event.type) {
    case EventType::kUndo:
    case EventType::kRedo:
    case EventType::kSave:
      return false;
    case EventType::kContextSet:
    case EventType::kContextDelete:
    case EventType::kContextBatch:
      return !event.session.empty();
    default:
      return true;
  }
}

Status ChangeApplier::Apply(const Change& change) {
  return std::visit([this](const auto& c) { return Do(c); }, change);
}

Status ChangeApplier::Apply(const Change& change, std::optional<ContextEntry>* replaced) {
  replaced_ = replaced;
  Status status = Apply(change);
  replaced_ = nullptr;
  return status;
}

Status ChangeApplier::Take(Change& change) {
  auto* put = std::get_if<CtxPut>(&change);
  if (put == nullptr) return Apply(change);
  ContextEntry* entry = nullptr;
  CTXD_RETURN_IF_ERROR(PutEntry(*put, &entry));
  entry->value.Take(put->value);
  return Status::Ok();
}

// Checks the before-image and updates everything but the value; one lookup.
Status ChangeApplier::PutEntry(const CtxPut& c, ContextEntry** entry) {
  auto& context = state_.context;
  auto it = context.lower_bound(c.key);
  const bool found = it != context.end() && it->first == c.key;
  CTXD_RETURN_IF_ERROR(CheckEntry(c.key, found ? &it->second : nullptr, c.old ? &*c.old : nullptr));
  if (found) {
    RecordReplaced(it->second);
  } else {
    it = context.emplace_hint(it, c.key, ContextEntry{});
    it->second.created_seq = seq_;
  }
  *entry = &it->second;
  (*entry)->version = seq_;
  (*entry)->actor = actor_;
  (*entry)->ts_us = ts_us_;
  return Status::Ok();
}

Status ChangeApplier::Do(const CtxPut& c) {
  ContextEntry* entry = nullptr;
  CTXD_RETURN_IF_ERROR(PutEntry(c, &entry));
  entry->value = c.value;
  return Status::Ok();
}

Status ChangeApplier::Do(const CtxDel& c) {
  auto it = state_.context.find(c.key);
  const bool found = it != state_.context.end();
  CTXD_RETURN_IF_ERROR(CheckEntry(c.key, found ? &it->second : nullptr, &c.old));
  RecordReplaced(it->second);
  state_.context.erase(it);
  return Status::Ok();
}

void ChangeApplier::RecordReplaced(const ContextEntry& entry) {
  if (replaced_ == nullptr) return;
  *replaced_ = ContextEntry{
      .version = entry.version, .created_seq = entry.created_seq, .actor = entry.actor, .ts_us = entry.ts_us};
}

StatusOr<Graph*> ChangeApplier::SessionGraph() {
  if (graph_ != nullptr) return graph_;
  if (session_.empty()) return Status::Conflict("graph change without a session");
  graph_ = &state_.sessions[session_].graph;
  return graph_;
}

Status ChangeApplier::Do(const NodeAdd& c) {
  auto graph = SessionGraph();
  if (!graph.ok()) return graph.status();
  auto [it, inserted] = (*graph)->nodes.try_emplace(c.node);
  if (!inserted) return Status::Conflict("node " + Quote(c.node) + " already exists");
  it->second.type = c.type;
  it->second.name = c.name;
  it->second.props = c.props;
  return Status::Ok();
}

Status ChangeApplier::Do(const NodeRemove& c) {
  auto graph = SessionGraph();
  if (!graph.ok()) return graph.status();
  auto it = (*graph)->nodes.find(c.node);
  if (it == (*graph)->nodes.end()) return MissingNode(c.node);
  const Node& node = it->second;
  if (node.type != c.type || node.name != c.name || node.props != c.props) {
    return Status::Conflict("node " + Quote(c.node) + " was changed since");
  }
  if (!node.parents.empty() || !node.children.empty()) {
    return Status::Conflict("node " + Quote(c.node) + " still has edges");
  }
  (*graph)->nodes.erase(it);
  return Status::Ok();
}

Status ChangeApplier::CheckNoCycle(const Graph& graph, const EdgeAdd& c) {
  switch (Reaches(graph, c.child, c.parent, kMaxCycleCheckSteps - cycle_check_steps_, &cycle_check_steps_)) {
    case Reach::kNo:
      return Status::Ok();
    case Reach::kYes:
      return Status::Conflict(EdgeName(c.parent, c.child) + " would create a cycle");
    case Reach::kTooCostly:
      break;
  }
  return Status::InvalidArgument("checking " + EdgeName(c.parent, c.child) + " for a cycle took more than " +
                                 std::to_string(kMaxCycleCheckSteps) +
                                 " steps for this command: send its links in smaller commands");
}

Status ChangeApplier::Do(const EdgeAdd& c) {
  auto graph = SessionGraph();
  if (!graph.ok()) return graph.status();
  auto& nodes = (*graph)->nodes;
  auto parent = nodes.find(c.parent);
  if (parent == nodes.end()) return MissingNode(c.parent);
  auto child = nodes.find(c.child);
  if (child == nodes.end()) return MissingNode(c.child);
  if (parent->second.children.contains(c.child)) {
    return Status::Conflict(EdgeName(c.parent, c.child) + " already exists");
  }
  if (check_cycles_) CTXD_RETURN_IF_ERROR(CheckNoCycle(**graph, c));
  parent->second.children.insert(c.child);
  child->second.parents.insert(c.parent);
  ++(*graph)->edge_count;
  return Status::Ok();
}

Status ChangeApplier::Do(const EdgeRemove& c) {
  auto graph = SessionGraph();
  if (!graph.ok()) return graph.status();
  auto& nodes = (*graph)->nodes;
  auto parent = nodes.find(c.parent);
  auto child = nodes.find(c.child);
  if (parent == nodes.end() || child == nodes.end() || !parent->second.children.contains(c.child)) {
    return Status::Conflict(EdgeName(c.parent, c.child) + " does not exist");
  }
  parent->second.children.erase(c.child);
  child->second.parents.erase(c.parent);
  --(*graph)->edge_count;
  return Status::Ok();
}

Status ChangeApplier::Do(const PropPut& c) {
  auto graph = SessionGraph();
  if (!graph.ok()) return graph.status();
  auto it = (*graph)->nodes.find(c.node);
  if (it == (*graph)->nodes.end()) return MissingNode(c.node);
  CTXD_RETURN_IF_ERROR(CheckProperty(it->second, c.node, c.name, c.old ? &*c.old : nullptr));
  it->second.props[c.name] = c.value;
  return Status::Ok();
}

Status ChangeApplier::Do(const PropDel& c) {
  auto graph = SessionGraph();
  if (!graph.ok()) return graph.status();
  auto it = (*graph)->nodes.find(c.node);
  if (it == (*graph)->nodes.end()) return MissingNode(c.node);
  CTXD_RETURN_IF_ERROR(CheckProperty(it->second, c.node, c.name, &c.old));
  it->second.props.erase(c.name);
  return Status::Ok();
}

Status Bookkeep(State& state, const Event& event) {
  CTXD_RETURN_IF_ERROR(CheckBookkeeping(state, event));
  ApplyBookkeeping(state, event);
  return Status::Ok();
}

void ApplyBookkeeping(State& state, const Event& event) {
  state.head_seq = event.seq;
  state.head_ts_us = event.ts_us;
  if (!event.session.empty()) {
    Session& session = state.sessions[event.session];
    session.last_seq = event.seq;
    UpdateSession(state, session, event);
  }
  if (event.client_command_id) {
    uint64_t ref_seq = event.type == EventType::kUndo   ? event.undoes
                       : event.type == EventType::kRedo ? event.redoes
                                                        : 0;
    state.dedupe.Insert(event.command_id,
                        DedupeEntry{event.seq, ref_seq, event.result, event.request_digest});
  }
}

}  // namespace ctxd::engine
