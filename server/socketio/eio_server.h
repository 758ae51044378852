// EioServer: the Engine.IO endpoint /socket.io/ — the session table, the
// long-polling requests (routed from the HTTP session like any request) and
// the WebSocket hand-off (a connection taken over from the HTTP session).
// It checks the query (EIO=4, transport, sid) and passes each request to its
// session's strand. See docs/server.md "Socket.IO".
//
// Ownership: owned by SocketIo; outlives the sessions' use of it (they are
// destroyed with the io_context's handlers before it). Thread safety: every
// public method is safe from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "server/connection.h"
#include "server/http_message.h"
#include "server/server_context.h"
#include "server/socketio/eio_session.h"
#include "server/socketio/sio_hub.h"

namespace ctxd::server::socketio {

// Answers a refused WebSocket request (before the upgrade) with `response`
// and closes the socket.
void RejectUpgrade(StreamSocket socket, const HttpResponse& response);

class EioServer {
 public:
  EioServer(ServerContext& context, SioHub& hub, ConnectionRegistry& registry, net::io_context& ioc,
            SessionLimits limits);
  EioServer(const EioServer&) = delete;
  EioServer& operator=(const EioServer&) = delete;

  // GET and POST /socket.io/ without an upgrade.
  void HandlePolling(HttpRequest& request, const Responder& respond);
  // GET /socket.io/ with Upgrade: websocket.
  // `early`: what the client sent after the request, read with it.
  void HandleWebSocket(HttpStream stream, beast::flat_buffer early, http::request<http::string_body> request);
  // The session closed: it leaves the table.
  void Remove(const std::string& sid);

  ServerContext& context() { return context_; }
  SioHub& hub() { return hub_; }
  ConnectionRegistry& registry() { return registry_; }
  const SessionLimits& limits() const { return limits_; }

 private:
  std::shared_ptr<EioSession> Create();
  std::shared_ptr<EioSession> Find(const std::string& sid);

  ServerContext& context_;
  SioHub& hub_;
  ConnectionRegistry& registry_;
  net::io_context& ioc_;
  const SessionLimits limits_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<EioSession>> sessions_;  // guarded by mu_
};

}  // namespace ctxd::server::socketio
