// Server: the ctxd HTTP server over one Store. Owns the I/O threads, the
// listener, the route table, the worker pool and the metrics.
//
// Life cycle: Listen() binds (port 0 picks a free port); Run() serves until
// SIGINT/SIGTERM or Stop(), then shuts down gracefully: /readyz turns 503,
// the listener closes, connections stop reading new requests, the store
// commits everything already submitted (Store::Close), every request in
// flight is answered, connections close (waiting at most a few seconds).
//
// Thread safety: Listen and Run from one thread; Stop from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "server/origin_policy.h"
#include "store/store.h"

namespace ctxd::server {

class AccessTokens;
class ServerContext;
class StreamRoutes;
class ConnectionRegistry;
class TlsTerminator;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  size_t io_threads = 2;
  size_t worker_threads = 2;
  size_t body_limit = 2 * 1024 * 1024;
  size_t header_limit = 8 * 1024;
  size_t max_connections = 10000;
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds request_timeout{30};
  std::chrono::seconds drain_timeout{5};  // at shutdown, for connections to finish
  std::string dump_dir;                   // for the dump routes
  // Streams (/v1/ws, /v1/stream): a subscriber whose socket takes nothing
  // for this long is closed; SSE comment heartbeat interval.
  std::chrono::milliseconds stream_stall_timeout{10000};
  std::chrono::seconds sse_heartbeat{15};
  // --auth-file: every request but /healthz and /readyz needs a token; null:
  // open. Not owned; outlives the server.
  const AccessTokens* access_tokens = nullptr;
  // --cors-origin: the web pages, besides ctxd's own, that may use it.
  OriginPolicy origins;
  // --allowed-host: the host names served (against DNS rebinding).
  HostPolicy hosts;
  // --tls-cert/--tls-key: every connection is TLS (tls_relay.h); null:
  // plain. Not owned; outlives the server.
  const TlsTerminator* tls = nullptr;
};

// The numeric address --listen's host names: the host itself when it is an
// IP address, else the first address the resolver gives, IPv4 first
// ("localhost" -> 127.0.0.1, as the old servers took CONTEXT_SERVER_HOST).
// kInvalidArgument when it names none ("999.1.1.1").
StatusOr<std::string> ResolveListenHost(const std::string& host);

class Server {
 public:
  Server(store::Store& store, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; kUnavailable when the address cannot be bound.
  Status Listen();
  // The bound port (after Listen).
  uint16_t port() const;
  const std::string& host() const;

  // Serves until a signal or Stop(); returns after the graceful shutdown.
  void Run();
  void Stop();

  // For the stream code, before Run().
  ServerContext& context();
  StreamRoutes& stream_routes();
  ConnectionRegistry& registry();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ctxd::server
