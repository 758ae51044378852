// The client -> server operations of GET /v1/ws (API.md "WebSocket /v1/ws")
// and their answers. Validation is the REST handlers' own: the same key,
// actor, session and command-id checks, and the graph commands of
// server/command_json.h.
//
//   {"op":"set","id","key","value","actor"?,"session"?,"command_id"?,"if_match"?}
//       -> {"op":"ack","id","seq","version","changed"}
//   {"op":"command","id","session","command":{...},"actor"?,"command_id"?}
//       -> {"op":"ack","id","seq","command_id","result"}
//   {"op":"undo"|"redo","id","session","actor"?,"command_id"?}
//       -> {"op":"ack","id","seq","undoes"|"redoes"}
//   anything refused -> {"op":"error","id","error":{"code","message"}}
//
// "id" is the client's (a string or a number), echoed as it came; null
// when absent. Beast-free; thread-safe (pure functions).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "engine/command.h"
#include "server/http_message.h"

namespace ctxd::server {

enum class WsOpKind { kSet, kCommand, kUndo, kRedo };

struct WsOp {
  WsOpKind kind = WsOpKind::kSet;
  engine::Command command;
};

// Parses one text message into a command ready for Store::Submit. `id`
// receives the op's "id" as JSON text ("null" when absent or unusable),
// also when the op is refused.
StatusOr<WsOp> ParseWsOp(std::string_view text, std::string* id);

// Message payloads (not framed).
std::string RenderWsAck(WsOpKind kind, std::string_view id, const engine::CommandResult& result);
std::string RenderWsError(std::string_view id, const Status& status);
// The same around a REST error answer (ErrorResponse), for codes that no
// Status carries (FORBIDDEN).
std::string RenderWsError(std::string_view id, const HttpResponse& error);

}  // namespace ctxd::server
