// graph.create_node, delete_node, link, unlink, set_property,
// delete_property and graph.batch.
#include <vector>

#include "engine/engine.h"
#include "engine/executor.h"
#include "engine/json_text.h"

namespace ctxd::engine {

namespace {

std::string Quote(const std::string& s) { return "'" + s + "'"; }

Status NodeNotFound(const std::string& id) {
  return Status::NotFound("node " + Quote(id) + " does not exist");
}

const Node* FindNode(const Graph& graph, const std::string& id) {
  auto it = graph.nodes.find(id);
  return it == graph.nodes.end() ? nullptr : &it->second;
}

Status ValidateNewNode(const CreateNode& op, size_t max_value_bytes) {
  CTXD_RETURN_IF_ERROR(ValidateName("node_id", op.node_id));
  CTXD_RETURN_IF_ERROR(ValidateName("type", op.type));
  // The old backend allowed nodes without a name.
  if (!op.name.empty()) CTXD_RETURN_IF_ERROR(ValidateName("name", op.name));
  if (op.parent_id) CTXD_RETURN_IF_ERROR(ValidateName("parent_id", *op.parent_id));
  for (const auto& [name, value] : op.props) {
    CTXD_RETURN_IF_ERROR(ValidateName("property", name));
    CTXD_RETURN_IF_ERROR(ValidateValue("property " + Quote(name), value, max_value_bytes));
  }
  return Status::Ok();
}

std::string BatchResult(const std::vector<std::string>& results) {
  std::string out = "{\"results\":[";
  for (size_t i = 0; i < results.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append(results[i].empty() ? "null" : results[i]);
  }
  out.append("]}");
  return out;
}

const char* OpName(const GraphOp& op) {
  static constexpr const char* kNames[] = {"create_node", "delete_node",  "link",
                                           "unlink",      "set_property", "delete_property"};
  static_assert(std::size(kNames) == std::variant_size_v<GraphOp>);
  return kNames[op.index()];
}

}  // namespace

Graph& Executor::graph() { return state_.sessions[command_.session].graph; }

Status Executor::Op(const CreateNode& op, std::string* result) {
  CTXD_RETURN_IF_ERROR(ValidateNewNode(op, state_.max_value_bytes));
  if (FindNode(graph(), op.node_id) != nullptr) {
    return Status::Conflict("node " + Quote(op.node_id) + " already exists");
  }
  if (op.parent_id && FindNode(graph(), *op.parent_id) == nullptr) return NodeNotFound(*op.parent_id);
  CTXD_RETURN_IF_ERROR(tx_.Add(NodeAdd{op.node_id, op.type, op.name, op.props}));
  if (op.parent_id) CTXD_RETURN_IF_ERROR(tx_.Add(EdgeAdd{*op.parent_id, op.node_id}));
  *result = "{\"node_id\":" + JsonString(op.node_id) + "}";
  return Status::Ok();
}

Status Executor::Op(const DeleteNode& op, std::string*) {
  const Node* node = FindNode(graph(), op.node_id);
  if (node == nullptr) return NodeNotFound(op.node_id);
  // Copies: removing edges edits these sets.
  const std::set<std::string> parents = node->parents;
  const std::set<std::string> children = node->children;
  for (const auto& parent : parents) CTXD_RETURN_IF_ERROR(tx_.Add(EdgeRemove{parent, op.node_id}));
  for (const auto& child : children) CTXD_RETURN_IF_ERROR(tx_.Add(EdgeRemove{op.node_id, child}));
  return tx_.Add(NodeRemove{op.node_id, node->type, node->name, node->props});
}

Status Executor::Op(const Link& op, std::string*) {
  const Node* parent = FindNode(graph(), op.parent_id);
  if (parent == nullptr) return NodeNotFound(op.parent_id);
  if (FindNode(graph(), op.child_id) == nullptr) return NodeNotFound(op.child_id);
  if (parent->children.contains(op.child_id)) {
    return Status::Conflict("edge " + Quote(op.parent_id) + " -> " + Quote(op.child_id) + " already exists");
  }
  // The remaining precondition, no cycle, is the applier's: kConflict.
  return tx_.Add(EdgeAdd{op.parent_id, op.child_id});
}

Status Executor::Op(const Unlink& op, std::string*) {
  const Node* parent = FindNode(graph(), op.parent_id);
  if (parent == nullptr || !parent->children.contains(op.child_id)) {
    return Status::NotFound("edge " + Quote(op.parent_id) + " -> " + Quote(op.child_id) + " does not exist");
  }
  return tx_.Add(EdgeRemove{op.parent_id, op.child_id});
}

Status Executor::Op(const SetProperty& op, std::string*) {
  CTXD_RETURN_IF_ERROR(ValidateName("property", op.property));
  CTXD_RETURN_IF_ERROR(ValidateValue("property " + Quote(op.property), op.value, state_.max_value_bytes));
  const Node* node = FindNode(graph(), op.node_id);
  if (node == nullptr) return NodeNotFound(op.node_id);
  auto it = node->props.find(op.property);
  if (it == node->props.end()) return tx_.Add(PropPut{op.node_id, op.property, op.value, std::nullopt});
  // Setting the current value is accepted and records nothing.
  if (it->second == op.value) return Status::Ok();
  return tx_.Add(PropPut{op.node_id, op.property, op.value, it->second});
}

Status Executor::Op(const DeleteProperty& op, std::string*) {
  const Node* node = FindNode(graph(), op.node_id);
  if (node == nullptr) return NodeNotFound(op.node_id);
  auto it = node->props.find(op.property);
  if (it == node->props.end()) {
    return Status::NotFound("node " + Quote(op.node_id) + " has no property " + Quote(op.property));
  }
  return tx_.Add(PropDel{op.node_id, op.property, it->second});
}

template <typename T>
Status Executor::SingleOp(const T& op, EventType type) {
  draft_.type = type;
  return Op(op, &draft_.result);
}

Status Executor::operator()(const CreateNode& c) { return SingleOp(c, EventType::kCreateNode); }
Status Executor::operator()(const DeleteNode& c) { return SingleOp(c, EventType::kDeleteNode); }
Status Executor::operator()(const Link& c) { return SingleOp(c, EventType::kLink); }
Status Executor::operator()(const Unlink& c) { return SingleOp(c, EventType::kUnlink); }
Status Executor::operator()(const SetProperty& c) { return SingleOp(c, EventType::kSetProperty); }
Status Executor::operator()(const DeleteProperty& c) { return SingleOp(c, EventType::kDeleteProperty); }

Status Executor::operator()(const BatchGraph& c) {
  draft_.type = EventType::kGraphBatch;
  if (c.ops.empty()) return Status::InvalidArgument("batch has no commands");
  std::vector<std::string> results(c.ops.size());
  for (size_t i = 0; i < c.ops.size(); ++i) {
    Status status = std::visit([&](const auto& op) { return Op(op, &results[i]); }, c.ops[i]);
    if (!status.ok()) {
      return Status(status.code(),
                    "commands[" + std::to_string(i) + "] (" + OpName(c.ops[i]) + "): " + status.message());
    }
  }
  draft_.result = BatchResult(results);
  return Status::Ok();
}

}  // namespace ctxd::engine
