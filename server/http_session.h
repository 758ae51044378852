// HttpSession: one HTTP/1.1 connection. Keep-alive, pipelining (answers in
// request order, up to ConnectionLimits::max_pipeline read ahead), limits
// and timeouts, and hand-off of the socket to a StreamHandoff route.
//
// Model: Beast's advanced_server. All work runs on the connection's strand
// (the stream's executor). One read and one write may be in flight at a
// time. Responses arrive through ResponseSink::Deliver from any thread (the
// store's committing thread, the worker pool) and are dispatched to the strand;
// ready responses at the head of the queue leave together in one write.
//
// Pipelined requests see each other's effects in order: writes go to the
// store in request order (its queue is FIFO), and a request that follows an
// unanswered one is held back unless both are writes.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "server/connection.h"
#include "server/http_message.h"
#include "server/io_pool.h"
#include "server/metrics.h"
#include "server/router.h"

namespace ctxd::server {

class AccessTokens;
class HttpSession;
class HostPolicy;
class OriginPolicy;

// What every HTTP session shares; owned by the Server.
struct HttpSessionShared {
  Router& router;
  Metrics& metrics;
  const ConnectionLimits& limits;
  const StreamRoutes& stream_routes;
  ConnectionRegistry& registry;
  IoPool& io;
  const AccessTokens* access_tokens;  // null: no --auth-file
  const OriginPolicy& origins;        // --cors-origin
  const HostPolicy& hosts;            // --allowed-host
};

class HttpSession : public ResponseSink, public Closable, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(net::basic_stream_socket<net::ip::tcp, Strand> socket, HttpSessionShared& shared);
  ~HttpSession() override;

  void Run();
  void Deliver(uint64_t id, HttpResponse response) override;
  // Posts to the strand (from the connection's I/O thread or its DeliveryQueue).
  void Post(uint64_t id, HttpResponse response);
  void Shutdown() override;

 private:
  struct Slot {
    uint64_t id = 0;
    bool ready = false;
    bool keep_alive = true;
    RouteClass route = RouteClass::kOther;
    std::chrono::steady_clock::time_point start;
    HttpResponse response;
    // Set instead of a response: the socket goes to this route.
    const StreamHandoff* handoff = nullptr;
    std::optional<http::request<http::string_body>> handoff_request;
    // Not GET/HEAD/OPTIONS: it may change the state.
    bool write = false;
    bool head = false;  // HEAD: the answer has no body
    // The request's Origin, which the OriginPolicy allowed: the answer says
    // that page may read it.
    std::string origin;
    // Held back until the requests before it allow it (CanDispatch).
    std::optional<HttpRequest> deferred;
  };

  void DoRead();
  void OnHeader(beast::error_code ec);
  HttpResponse RequestError(int status, std::string_view code, const std::string& message) const;
  static HttpResponse ErrorFor(std::string_view target, int status, std::string_view code,
                               const std::string& message);
  std::string_view TargetSoFar() const;
  static Status CheckTransferEncoding(const http::request_header<>& header);
  void ReadBody();
  void OnRead(beast::error_code ec);
  void OnReadError(beast::error_code ec);
  void Dispatch(http::request<http::string_body> message);
  const StreamHandoff* StreamRouteFor(const http::request<http::string_body>& message) const;
  // The 403 answer when the request's Host names a host ctxd does not
  // answer to (HostPolicy).
  std::optional<HttpResponse> CheckHost(const http::request<http::string_body>& message) const;
  // The 403 answer when the request's Origin (`origin`, empty when none)
  // may not use ctxd (OriginPolicy).
  std::optional<HttpResponse> CheckOrigin(std::string_view origin,
                                          const http::request<http::string_body>& message) const;
  // The 401/403 answer when --auth-file is on and the request's token may
  // not make it.
  std::optional<HttpResponse> CheckAccess(const http::request<http::string_body>& message) const;
  bool CanDispatch(size_t index) const;
  size_t OwedBytes() const;
  void DispatchDeferred();
  void Route(uint64_t id, HttpRequest request);
  void Reject(HttpResponse response);
  void OnResponse(uint64_t id, HttpResponse response);
  void MaybeWrite();
  void Serialize(Slot& slot, bool close);
  void OnWrite(beast::error_code ec, bool close_after);
  void HandOff(Slot& slot);
  void SetDeadline(std::chrono::steady_clock::duration timeout);
  void ArmTimer();
  void OnTimer(beast::error_code ec);
  void Close();
  void Linger();

  HttpStream stream_;
  HttpSessionShared& shared_;
  DeliveryQueue& deliveries_;  // of the io_context the connection is on
  uint64_t registry_id_ = 0;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::chrono::steady_clock::time_point request_start_;
  std::deque<Slot> queue_;
  uint64_t next_id_ = 1;
  std::string out_;
  // Read/write timeouts (SetDeadline); stream_ itself never expires.
  net::steady_timer timer_;
  std::chrono::steady_clock::time_point deadline_;
  bool timer_armed_ = false;  // a wait is pending that has not been cancelled
  bool reading_ = false;
  bool writing_ = false;
  bool closing_ = false;  // no more requests will be read
  bool closed_ = false;
  bool lingering_ = false;  // answered with Connection: close; draining input
  bool handed_off_ = false;
};

}  // namespace ctxd::server
