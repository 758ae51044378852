#include "server/server_context.h"

#include <spdlog/spdlog.h>

#include <exception>

#include "server/responses.h"

namespace ctxd::server {

void ServerContext::OffloadRead(Responder respond, std::function<void(const Responder&)> task) {
  workers.Post([respond = std::move(respond), task = std::move(task)] {
    try {
      task(respond);
    } catch (const std::exception& e) {
      spdlog::error("background read failed: {}", e.what());
      respond(ErrorResponse(500, "INTERNAL_ERROR", "internal error"));
    }
  });
}

}  // namespace ctxd::server
