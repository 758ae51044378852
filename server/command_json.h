// Graph commands in their JSON form (API.md "A command is one JSON object
// named by its `command` field") -> engine command bodies.
#pragma once

#include "common/status.h"
#include "engine/command.h"
#include "server/json_body.h"

namespace ctxd::server {

// create_node, delete_node, link, unlink, set_property, delete_property or
// batch. A create_node without "node_id" gets a new UUID. kInvalidArgument
// names the missing or mistyped field, or the unknown command.
StatusOr<engine::CommandBody> ParseGraphCommand(const Json& command);

}  // namespace ctxd::server
