// What the stream sessions (WebSocket /v1/ws, SSE /v1/stream) share: their
// options and the server's objects they use. Owned by Streams; outlives
// every session.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
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

// A stream session's place among the open streams, from Join() until
// Leave() or its destruction: registered for shutdown (ConnectionRegistry)
// and counted in ServerContext::stream_clients (GET /ctx/all, metrics).
// `context` is the session's own copy, which outlives this member.
// The session's strand only.
class StreamMembership {
 public:
  explicit StreamMembership(const StreamContext& context) : context_(context) {}
  ~StreamMembership() { Leave(); }
  StreamMembership(const StreamMembership&) = delete;
  StreamMembership& operator=(const StreamMembership&) = delete;

  void Join(std::weak_ptr<Closable> session) {
    registry_id_ = context_.registry.Add(std::move(session));
    ++context_.server.stream_clients;
  }
  void Leave() {
    if (registry_id_ == 0) return;
    context_.registry.Remove(registry_id_);
    registry_id_ = 0;
    --context_.server.stream_clients;
  }

 private:
  const StreamContext& context_;
  uint64_t registry_id_ = 0;  // 0: not a member
};

// A stream session's shutdown: once started, the session ends when every
// event already durable is out (its next seq is past the durable seq), or
// when StreamOptions::shutdown_grace is over, checking every 10 ms.
// `context` is the session's own copy, which outlives this member.
// The session's strand only.
class ShutdownGrace {
 public:
  ShutdownGrace(const StreamContext& context, Strand strand) : context_(context), timer_(std::move(strand)) {}

  bool started() const { return started_; }
  // Starts the grace time; false when it had started already.
  bool Start() {
    if (started_) return false;
    started_ = true;
    deadline_ = std::chrono::steady_clock::now() + context_.options.shutdown_grace;
    return true;
  }
  // Whether the session may end now, its events up to `next_seq` (exclusive)
  // being out; if not, `check_again` runs on the strand in 10 ms.
  bool MayEnd(uint64_t next_seq, std::function<void()> check_again) {
    const bool caught_up = next_seq > context_.server.store.durable_seq();
    if (caught_up || std::chrono::steady_clock::now() >= deadline_) return true;
    timer_.expires_after(std::chrono::milliseconds(10));
    timer_.async_wait([check_again = std::move(check_again)](beast::error_code ec) {
      if (!ec) check_again();
    });
    return false;
  }
  void Cancel() { timer_.cancel(); }

 private:
  const StreamContext& context_;
  net::steady_timer timer_;
  bool started_ = false;
  std::chrono::steady_clock::time_point deadline_;
};

// An HTTP error answer written by hand on a socket taken over from the HTTP
// session (a refused upgrade, a bad SSE query): the status line, JSON
// headers and the response's own (Allow), `Connection: close`, the body.
std::string RenderHttpError(const HttpResponse& response);

// RFC 6455 4.2.1: one Sec-WebSocket-Key, the base64 of 16 bytes. Beast only
// requires the header to be there and short.
Status CheckWebSocketKey(const http::request<http::string_body>& request);

}  // namespace ctxd::server
