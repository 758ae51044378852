#include "server/socketio/socket_io.h"

#include "engine/event_json.h"
#include "server/json_body.h"
#include "server/responses.h"
#include "server/routes.h"
#include "tools/dump/dump_format.h"

namespace ctxd::server {

void SocketIoPolling(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  if (!ctx.socketio_polling) return respond(NotFound("Socket.IO is not served"));
  ctx.socketio_polling(request, respond);
}

}  // namespace ctxd::server

namespace ctxd::server::socketio {
namespace {

// A string field of a JSON object text, "" when absent.
std::string StringField(const Json& object, const char* name) {
  if (!object.is_object()) return std::string();
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

SocketIo::SocketIo(ServerContext& context, ConnectionRegistry& registry, net::io_context& ioc,
                   StreamRoutes& routes, SessionLimits limits)
    : hub_(context.store, context.workers, context.metrics, ioc),
      server_(context, hub_, registry, ioc, std::move(limits)) {
  context.store.AddCommitListener(
      [this](const store::Store::CommittedEvents& events) { hub_.OnCommit(*events); });
  context.session_clients = [this](const std::string& session) { return hub_.RoomSize(session); };
  context.socketio_polling = [this](HttpRequest& request, const Responder& respond) {
    server_.HandlePolling(request, respond);
  };
  context.command_refused = [this](const std::string& session, std::string_view command_type,
                                   const std::string& request_body, const std::string& error_body) {
    OnCommandRefused(session, command_type, request_body, error_body);
  };
  context.dumps.AddListener([this](const DumpRecord& record) {
    hub_.Broadcast(Nsp::kRoot, std::string(),
                   EventMessage(kRootNamespace, "context_dumped",
                                ContextDumpedPayload(record.name, dump::DumpFormatName(record.info.format),
                                                     record.who, static_cast<int64_t>(record.info.key_count),
                                                     engine::FormatTimestamp(record.ts_us))));
  });
  routes.Add(std::string(kEngineIoPath),
             [this](HttpStream stream, beast::flat_buffer early, http::request<http::string_body> request) {
               server_.HandleWebSocket(std::move(stream), std::move(early), std::move(request));
             });
}

void SocketIo::OnCommandRefused(const std::string& session, std::string_view command_type,
                                const std::string& request_body, const std::string& error_body) {
  auto request = ParseJson(request_body);
  auto error = ParseJson(error_body);
  std::string message = error_body;
  if (error.ok() && error->is_object() && error->contains("error")) {
    const Json& inner = (*error)["error"];
    message = inner.is_object() ? StringField(inner, "message") : StringField(*error, "error");
  }
  const Json empty;
  const Json& body = request.ok() ? *request : empty;
  hub_.Broadcast(Nsp::kGraph, session,
                 EventMessage(kGraphNamespace, "command:failed",
                              CommandFailedPayload(StringField(body, "command_id"),
                                                   command_type.empty() ? StringField(body, "command")
                                                                        : std::string(command_type),
                                                   message, NowTimestamp())));
}

}  // namespace ctxd::server::socketio
