// SocketIo: the Socket.IO server inside ctxd (docs/server.md "Socket.IO"):
// the hub fed by the store's commit listener, the Engine.IO endpoint, and
// their hooks — the /socket.io/ WebSocket hand-off, the long-polling route
// (ServerContext::socketio_polling), room sizes for GET /v1/sessions
// (ServerContext::session_clients), context_dumped (DumpService listener)
// and command:failed for refused REST commands
// (ServerContext::command_refused).
//
// Ownership: owned by the Server; created before it runs, destroyed after
// its io_context. Thread safety: construct before the server runs.
#pragma once

#include <boost/asio/io_context.hpp>

#include "server/connection.h"
#include "server/server_context.h"
#include "server/socketio/eio_server.h"
#include "server/socketio/sio_hub.h"

namespace ctxd::server::socketio {

class SocketIo {
 public:
  SocketIo(ServerContext& context, ConnectionRegistry& registry, net::io_context& ioc, StreamRoutes& routes,
           SessionLimits limits);
  SocketIo(const SocketIo&) = delete;
  SocketIo& operator=(const SocketIo&) = delete;

 private:
  void OnCommandRefused(const std::string& session, std::string_view command_type,
                        const std::string& request_body, const std::string& error_body);

  SioHub hub_;
  EioServer server_;
};

}  // namespace ctxd::server::socketio
