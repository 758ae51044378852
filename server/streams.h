// Streams: the live event streams of the server — GET /v1/ws (WsSession)
// and GET /v1/stream (SseSession) over one StreamHub fed by the store's
// commit listener. See docs/server.md "Streams".
//
// Ownership: owned by the Server; created before it runs and destroyed after
// its io_context (sessions refer to it). Thread safety: Register before the
// server runs; the rest is internal.
#pragma once

#include <memory>

#include "server/connection.h"
#include "server/server_context.h"
#include "server/stream_context.h"

namespace ctxd::server {

class Streams {
 public:
  Streams(ServerContext& context, ConnectionRegistry& registry, net::io_context& ioc, StreamOptions options);
  ~Streams();
  Streams(const Streams&) = delete;
  Streams& operator=(const Streams&) = delete;

  // Adds /v1/ws and /v1/stream to `routes` and starts the hub's tick
  // (which runs until the io_context stops).
  void Register(StreamRoutes& routes);

 private:
  const StreamOptions options_;
  StreamHub hub_;
  StreamContext context_;
};

}  // namespace ctxd::server
