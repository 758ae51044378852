#include "server/command_json.h"

#include <string>
#include <utility>

#include "server/write_path.h"

namespace ctxd::server {
namespace {

StatusOr<engine::Props> ReadProps(const Json& command) {
  engine::Props props;
  auto it = command.find("props");
  if (it == command.end() || it->is_null()) return props;
  if (!it->is_object()) return Status::InvalidArgument("'props' must be an object");
  for (const auto& [name, value] : it->items()) props.emplace(name, CanonicalJson(value));
  return props;
}

StatusOr<engine::GraphOp> ParseCreateNode(const Json& command) {
  engine::CreateNode op;
  CTXD_RETURN_IF_ERROR(RequiredString(command, "type", &op.type));
  CTXD_RETURN_IF_ERROR(RequiredString(command, "name", &op.name));
  std::string parent;
  CTXD_RETURN_IF_ERROR(OptionalString(command, "parent_id", &parent));
  if (!parent.empty()) op.parent_id = std::move(parent);
  CTXD_RETURN_IF_ERROR(OptionalString(command, "node_id", &op.node_id));
  if (op.node_id.empty()) {
    op.node_id = NewUuid();
    op.node_id_generated = true;
  }
  auto props = ReadProps(command);
  if (!props.ok()) return props.status();
  op.props = std::move(props).value();
  return engine::GraphOp(std::move(op));
}

template <typename Op>
StatusOr<engine::GraphOp> ParseEdge(const Json& command) {
  Op op;
  CTXD_RETURN_IF_ERROR(RequiredString(command, "parent_id", &op.parent_id));
  CTXD_RETURN_IF_ERROR(RequiredString(command, "child_id", &op.child_id));
  return engine::GraphOp(std::move(op));
}

StatusOr<engine::GraphOp> ParseSetProperty(const Json& command) {
  engine::SetProperty op;
  CTXD_RETURN_IF_ERROR(RequiredString(command, "node_id", &op.node_id));
  CTXD_RETURN_IF_ERROR(RequiredString(command, "property", &op.property));
  Status status;
  const Json* value = RequiredField(command, "value", &status);
  if (value == nullptr) return status;
  op.value = CanonicalJson(*value);
  return engine::GraphOp(std::move(op));
}

StatusOr<engine::GraphOp> ParseGraphOp(const Json& command, const std::string& name) {
  if (name == "create_node") return ParseCreateNode(command);
  if (name == "delete_node") {
    engine::DeleteNode op;
    CTXD_RETURN_IF_ERROR(RequiredString(command, "node_id", &op.node_id));
    return engine::GraphOp(std::move(op));
  }
  if (name == "link") return ParseEdge<engine::Link>(command);
  if (name == "unlink") return ParseEdge<engine::Unlink>(command);
  if (name == "set_property") return ParseSetProperty(command);
  if (name == "delete_property") {
    engine::DeleteProperty op;
    CTXD_RETURN_IF_ERROR(RequiredString(command, "node_id", &op.node_id));
    CTXD_RETURN_IF_ERROR(RequiredString(command, "property", &op.property));
    return engine::GraphOp(std::move(op));
  }
  return Status::InvalidArgument("unknown command '" + name +
                                 "' (expected create_node, delete_node, link, unlink, set_property, "
                                 "delete_property or batch)");
}

Status CommandName(const Json& command, std::string* name) {
  if (!command.is_object()) return Status::InvalidArgument("a command must be a JSON object");
  return RequiredString(command, "command", name);
}

StatusOr<engine::CommandBody> ParseBatch(const Json& command) {
  auto list = command.find("commands");
  if (list == command.end() || !list->is_array() || list->empty()) {
    return Status::InvalidArgument("'commands' must be a non-empty array of commands");
  }
  engine::BatchGraph batch;
  for (const auto& item : *list) {
    std::string name;
    CTXD_RETURN_IF_ERROR(CommandName(item, &name));
    if (name == "batch") return Status::InvalidArgument("a batch cannot contain a batch");
    auto op = ParseGraphOp(item, name);
    if (!op.ok()) return op.status();
    batch.ops.push_back(std::move(op).value());
  }
  return engine::CommandBody(std::move(batch));
}

}  // namespace

StatusOr<engine::CommandBody> ParseGraphCommand(const Json& command) {
  std::string name;
  CTXD_RETURN_IF_ERROR(CommandName(command, &name));
  if (name == "batch") return ParseBatch(command);
  auto op = ParseGraphOp(command, name);
  if (!op.ok()) return op.status();
  return std::visit([](auto&& o) { return engine::CommandBody(std::move(o)); }, std::move(op).value());
}

}  // namespace ctxd::server
