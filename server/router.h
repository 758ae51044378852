// Router: parses a request's target and dispatches it to its handler.
//
// Unknown path -> 404, known path with another method -> 405, bad target
// (bad percent-encoding) -> 400. Handlers answer through the Responder,
// synchronously or later (after a commit, or from the worker pool). No
// exception leaves Handle: one thrown by a handler becomes a 500.
//
// Thread safety: Handle is safe from any thread (the route table is
// constant after construction).
#pragma once

#include "server/http_message.h"
#include "server/metrics.h"
#include "server/server_context.h"

namespace ctxd::server {

class Router {
 public:
  explicit Router(ServerContext& ctx) : ctx_(ctx) {}

  // Returns the route class, for the request latency metric.
  RouteClass Handle(HttpRequest request, const Responder& respond);

 private:
  ServerContext& ctx_;
};

}  // namespace ctxd::server
