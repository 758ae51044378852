// The route handlers, one group per file. Each answers exactly once through
// `respond`; path parameters are in request.segments (decoded).
#pragma once

#include "server/http_message.h"
#include "server/server_context.h"

namespace ctxd::server {

using Handler = void (*)(ServerContext& ctx, HttpRequest& request, const Responder& respond);

// context_routes.cc: /v1/context..., /v1/changes
void GetContextList(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void GetContextKey(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void PutContextKey(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void DeleteContextKey(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void PostContextBatch(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void GetKeyHistory(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void GetChanges(ServerContext& ctx, HttpRequest& request, const Responder& respond);

// graph_routes.cc: /v1/sessions..., POST /api/v1/commands/execute
void ListSessions(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void GetGraph(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void GetNode(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void PostCommand(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void PostUndo(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void PostRedo(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void PostSave(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void ListSaves(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void PostRestore(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void LegacyExecuteCommand(ServerContext& ctx, HttpRequest& request, const Responder& respond);

// events_routes.cc: /v1/events...
void ListEvents(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void GetEvent(ServerContext& ctx, HttpRequest& request, const Responder& respond);

// legacy_routes.cc: the old context server's /ctx routes
void LegacyGetContext(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void LegacySetContext(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void LegacyAllContext(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void LegacyHistory(ServerContext& ctx, HttpRequest& request, const Responder& respond);

// dump_routes.cc: /v1/dumps..., the old /ctx/dump routes
void PostDump(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void ListDumps(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void GetDump(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void LegacyPostDump(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void LegacyListDumps(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void LegacyGetDump(ServerContext& ctx, HttpRequest& request, const Responder& respond);

// socketio/socket_io.cc: Engine.IO long-polling on /socket.io/
void SocketIoPolling(ServerContext& ctx, HttpRequest& request, const Responder& respond);

// ops_routes.cc: /healthz, /readyz, /metrics
void Healthz(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void Readyz(ServerContext& ctx, HttpRequest& request, const Responder& respond);
void MetricsText(ServerContext& ctx, HttpRequest& request, const Responder& respond);

// dashboard_routes.cc: GET and HEAD of / and /dashboard/{file}
void Dashboard(ServerContext& ctx, HttpRequest& request, const Responder& respond);

}  // namespace ctxd::server
