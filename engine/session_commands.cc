// graph.restore, session.undo, session.redo and session.save.
#include <vector>

#include "engine/engine.h"
#include "engine/executor.h"

namespace ctxd::engine {

namespace {

// A node that keeps its id but changes type or name is removed and added
// again rather than edited: node.add/remove are the only changes that carry
// type and name.
bool SameIdentity(const Node& a, const Node& b) { return a.type == b.type && a.name == b.name; }

// Whether node `id` of the current graph survives the restore unchanged in
// identity (its props may still change).
bool Kept(const Graph& target, const std::string& id, const Node& node) {
  auto it = target.nodes.find(id);
  return it != target.nodes.end() && SameIdentity(it->second, node);
}

Status ValidateTarget(const Graph& target) {
  for (const auto& [id, node] : target.nodes) {
    CTXD_RETURN_IF_ERROR(ValidateName("node_id", id));
    CTXD_RETURN_IF_ERROR(ValidateName("type", node.type));
    if (!node.name.empty()) CTXD_RETURN_IF_ERROR(ValidateName("name", node.name));
    for (const auto& [name, value] : node.props) {
      CTXD_RETURN_IF_ERROR(ValidateName("property", name));
      // Any size: the values were within the limit when they were written.
      CTXD_RETURN_IF_ERROR(ValidateValue("property '" + name + "'", value, SIZE_MAX));
    }
  }
  return Status::Ok();
}

// The prop.put/prop.del that turn `from` into `to`, in property order.
void DiffProps(const std::string& id, const Props& from, const Props& to, std::vector<Change>* out) {
  for (const auto& [name, value] : from) {
    if (!to.contains(name)) out->push_back(PropDel{id, name, value});
  }
  for (const auto& [name, value] : to) {
    auto it = from.find(name);
    if (it == from.end()) {
      out->push_back(PropPut{id, name, value, std::nullopt});
    } else if (it->second != value) {
      out->push_back(PropPut{id, name, value, it->second});
    }
  }
}

}  // namespace

Session* Executor::FindSession() {
  auto it = state_.sessions.find(command_.session);
  return it == state_.sessions.end() ? nullptr : &it->second;
}

// Step one of a restore: drop every edge the target lacks (and every edge of
// a node that goes or is replaced), then those nodes.
Status Executor::RestoreEdgesAndNodes(const Graph& target) {
  std::vector<Change> changes;
  for (const auto& [id, node] : graph().nodes) {
    const Node* target_node = Kept(target, id, node) ? &target.nodes.at(id) : nullptr;
    for (const auto& child : node.children) {
      bool keep_edge = target_node != nullptr && target_node->children.contains(child) &&
                       Kept(target, child, graph().nodes.at(child));
      if (!keep_edge) changes.push_back(EdgeRemove{id, child});
    }
  }
  for (const auto& [id, node] : graph().nodes) {
    if (!Kept(target, id, node)) changes.push_back(NodeRemove{id, node.type, node.name, node.props});
  }
  for (auto& change : changes) CTXD_RETURN_IF_ERROR(tx_.Add(std::move(change)));
  return Status::Ok();
}

// Step two: add the target's missing nodes, fix props of kept ones, then add
// the missing edges. Every edge left is a target edge, so no cycle can form
// from a valid target.
Status Executor::RestoreAdditions(const Graph& target) {
  std::vector<Change> changes;
  for (const auto& [id, node] : target.nodes) {
    auto it = graph().nodes.find(id);
    if (it == graph().nodes.end()) {
      changes.push_back(NodeAdd{id, node.type, node.name, node.props});
    } else {
      DiffProps(id, it->second.props, node.props, &changes);
    }
  }
  for (auto& change : changes) CTXD_RETURN_IF_ERROR(tx_.Add(std::move(change)));
  for (const auto& [id, node] : target.nodes) {
    for (const auto& child : node.children) {
      if (!graph().nodes.at(id).children.contains(child)) CTXD_RETURN_IF_ERROR(tx_.Add(EdgeAdd{id, child}));
    }
  }
  return Status::Ok();
}

Status Executor::operator()(const RestoreGraph& c) {
  draft_.type = EventType::kGraphRestore;
  draft_.label = c.label;
  draft_.append_unchanged = true;
  CTXD_RETURN_IF_ERROR(ValidateName("label", c.label));
  CTXD_RETURN_IF_ERROR(ValidateTarget(c.target));
  // The target is a state the graph has been in, rebuilt from the log, and
  // edges are added only once every edge left is one of the target's.
  tx_.TrustEdges();
  Status status = RestoreEdgesAndNodes(c.target);
  if (status.ok()) status = RestoreAdditions(c.target);
  if (!status.ok()) {
    return Status::InvalidArgument("restore target is not a valid graph: " + status.message());
  }
  return Status::Ok();
}

// The session's graph changes only by its own undoable commands, so an undo
// (redo) finds the graph as the command left (found) it and steps back
// through the states it made: no edge it adds can close a cycle.
Status Executor::Replay(const std::vector<Change>& changes, const char* verb, uint64_t seq) {
  tx_.TrustEdges();
  for (const auto& change : changes) {
    Status status = tx_.Add(change);
    if (!status.ok()) {
      return Status::Conflict(std::string("cannot ") + verb + " seq " + std::to_string(seq) + ": " +
                              status.message());
    }
  }
  return Status::Ok();
}

Status Executor::operator()(const Undo&) {
  draft_.type = EventType::kUndo;
  draft_.append_unchanged = true;
  Session* session = FindSession();
  if (session == nullptr || session->undo.empty()) {
    return {StatusCode::kNothingToUndo, "nothing to undo in session '" + command_.session + "'"};
  }
  const UndoEntry& top = session->undo.back();
  draft_.undoes = top.seq;
  return Replay(Invert(top.changes), "undo", top.seq);
}

Status Executor::operator()(const Redo&) {
  draft_.type = EventType::kRedo;
  draft_.append_unchanged = true;
  Session* session = FindSession();
  if (session == nullptr || session->redo.empty()) {
    return {StatusCode::kNothingToRedo, "nothing to redo in session '" + command_.session + "'"};
  }
  const UndoEntry& top = session->redo.back();
  draft_.redoes = top.seq;
  return Replay(top.changes, "redo", top.seq);
}

Status Executor::operator()(const SaveSession& c) {
  draft_.type = EventType::kSave;
  draft_.label = c.name;
  draft_.append_unchanged = true;
  CTXD_RETURN_IF_ERROR(ValidateName("save name", c.name));
  // A restore by seq is labelled "seq:N" (its project_id on Socket.IO, and
  // what a retried request is matched by): a save may not look like one.
  if (c.name.starts_with("seq:")) {
    return Status::InvalidArgument("save name '" + c.name +
                                   "': names starting with 'seq:' name restores by seq");
  }
  return Status::Ok();
}

}  // namespace ctxd::engine
