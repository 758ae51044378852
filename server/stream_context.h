// What the stream sessions (WebSocket /v1/ws, SSE /v1/stream) share: their
// options and the server's objects they use. Owned by Streams; outlives
// every session.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "server/connection.h"
#include "server/http_message.h"
#include "server/server_context.h"
#include "server/stream_hub.h"
#include "server/stream_output.h"

namespace ctxd::server {

struct StreamOptions {
  size_t max_message_bytes = 2 * 1024 * 1024;  // a client WebSocket message
  size_t max_ops_in_flight = 4096;             // per WebSocket; reading pauses beyond it
  // A WebSocket close handshake (or a 1008 to a client that does not read)
  // that does not finish in this time ends the connection.
  std::chrono::seconds close_timeout{3};
  // At shutdown, how long a stream may wait for events already committed.
  std::chrono::milliseconds shutdown_grace{1000};
  OutputLimits output;
  StreamLimits hub;
};

struct StreamContext {
  ServerContext& server;
  StreamHub& hub;
  ConnectionRegistry& registry;
  const StreamOptions& options;
};

// An HTTP error answer written by hand on a socket taken over from the HTTP
// session (a refused upgrade, a bad SSE query): the status line, JSON
// headers, `Connection: close`, the body.
std::string RenderHttpError(const HttpResponse& response);

}  // namespace ctxd::server
