// ServerContext: what every route handler may use — the store, the metrics,
// the durability gate, the worker pool, the dumps — plus flags shared with the
// connection code and the stream code.
//
// Owned by the Server; outlives every connection and every posted task.
// Thread safety: members are thread-safe themselves (atomics, or classes
// documented as such); the references are constant after construction.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "server/dump_service.h"
#include "server/durability_gate.h"
#include "server/http_message.h"
#include "server/metrics.h"
#include "server/workers.h"
#include "store/store.h"

namespace ctxd::server {

class AccessTokens;

class ServerContext {
 public:
  ServerContext(store::Store& store, Metrics& metrics, size_t worker_threads, const std::string& dump_dir)
      : store(store), metrics(metrics), gate(store), workers(worker_threads), dumps(store, dump_dir) {}
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  // Runs `task` on the worker pool; an exception it throws becomes a 500.
  void OffloadRead(Responder respond, std::function<void(const Responder&)> task);

  store::Store& store;
  Metrics& metrics;
  DurabilityGate gate;
  Workers workers;
  // The dump directory and the dumps of this process. Stream code that
  // broadcasts `context_dumped` adds a listener (dumps.AddListener) before
  // the server runs.
  DumpService dumps;

  // Set when shutdown starts: /readyz answers 503.
  std::atomic<bool> shutting_down{false};
  // Open stream clients (WebSocket, SSE, Socket.IO): "connected_clients" of
  // GET /ctx/all. Incremented and decremented by the stream code.
  std::atomic<int64_t> stream_clients{0};
  // Clients in a session's room (GET /v1/sessions "clients"); set by the
  // Socket.IO code, 0 until then. Constant once the server runs.
  std::function<int64_t(const std::string& session)> session_clients;
  // Engine.IO long-polling (GET/POST /socket.io/); set by the Socket.IO
  // code. Constant once the server runs.
  std::function<void(HttpRequest& request, const Responder& respond)> socketio_polling;
  // A REST graph command of `session` was refused (command:failed); set by
  // the Socket.IO code. `command_type` names the route's command (undo,
  // redo, save, restore), or is empty when the body's `command` does.
  // Constant once the server runs.
  std::function<void(const std::string& session, std::string_view command_type,
                     const std::string& request_body, const std::string& error_body)>
      command_refused;
  // --auth-file: the tokens, or null when the server is open. The HTTP
  // session checks every request; the stream code checks the writes a
  // stream carries (WebSocket ops, Socket.IO events). Constant once the
  // server runs.
  const AccessTokens* access_tokens = nullptr;
};

}  // namespace ctxd::server
