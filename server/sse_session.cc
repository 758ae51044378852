#include "server/sse_session.h"

#include <boost/asio/post.hpp>
#include <limits>

#include "server/json_body.h"
#include "server/origin_policy.h"
#include "server/read_path.h"
#include "server/responses.h"

namespace ctxd::server {
namespace {

constexpr std::string_view kHeaderLines =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/event-stream\r\n"
    "Cache-Control: no-cache\r\n"
    "Connection: close\r\n"
    "X-Accel-Buffering: no\r\n";

// A request with an Origin got here past the OriginPolicy: that page may
// read the stream (an EventSource on another origin needs to be told).
std::string ResponseHeader(const http::request<http::string_body>& request) {
  std::string header(kHeaderLines);
  if (auto origin = request.find(http::field::origin); origin != request.end()) {
    header += CorsHeaderLines(origin->value());
  }
  return header + "\r\n";
}

// Where the stream starts: Last-Event-ID: N -> N+1, else `from`, else after the head.
StatusOr<uint64_t> StartSeq(const http::request<http::string_body>& request, const HttpRequest& view,
                            uint64_t head) {
  auto last_id = request.find("Last-Event-ID");
  if (last_id != request.end()) {
    auto seq = ParseUint(std::string_view(last_id->value().data(), last_id->value().size()));
    if (!seq) return Status::InvalidArgument("Last-Event-ID must be an event seq");
    if (*seq == std::numeric_limits<uint64_t>::max()) {
      return Status::InvalidArgument("Last-Event-ID is the largest seq: there is no event after it");
    }
    return *seq + 1;
  }
  auto from = UintQuery(view, "from", 0);
  if (!from.ok()) return from.status();
  return *from == 0 ? head + 1 : *from;
}

}  // namespace

SseSession::SseSession(StreamSocket socket, StreamContext& context)
    : Subscriber(context.hub, socket.get_executor(), StreamFormat::kSse),
      context_(context),
      socket_(std::move(socket)),
      output_(socket_, context.options.output),
      membership_(context_),
      grace_(context_, strand_) {
  // The connection still counts (ctxd_connections, --max-connections) after
  // the HTTP session handed it over.
  context_.server.metrics.ConnectionOpened();
}

SseSession::~SseSession() { context_.server.metrics.ConnectionClosed(); }

void SseSession::Run(const http::request<http::string_body>& request) {
  output_.SetOwner(weak_from_this(), [this] { OnOutputProgress(); });
  if (request.method() != http::verb::get) return Reject(MethodNotAllowed("GET"));
  auto target = ReadStreamTarget(request.target());
  if (!target.ok()) return Reject(ErrorResponse(target.status()));
  const uint64_t head = context_.server.store.durable_seq();
  auto start = StartSeq(request, target->request, head);
  if (!start.ok()) return Reject(ErrorResponse(start.status()));

  membership_.Join(std::weak_ptr<Closable>(self()));
  output_.PushData(ResponseHeader(request));
  Begin(std::move(target->filter), *start);
  if (context_.server.shutting_down) Shutdown();
  Pump();
  DoRead();
}

void SseSession::Reject(const HttpResponse& response) {
  output_.PushControl(RenderHttpError(response));
  output_.Flush([self = self()](beast::error_code) { self->Finish(); });
}

// Only to notice that the client went away.
void SseSession::DoRead() {
  socket_.async_read_some(net::buffer(discard_), [self = self()](beast::error_code ec, size_t) {
    if (ec) return self->Finish();
    self->DoRead();
  });
}

void SseSession::OnOutputProgress() {
  if (output_.failed()) return Finish();
  Pump();
}

void SseSession::OnHeartbeat() {
  if (!ending_ && output_.empty()) output_.PushData(std::string(": ping\n\n"));
}

void SseSession::Shutdown() {
  net::post(strand_, [self = self()] {
    if (self->grace_.Start()) self->MaybeEndForShutdown();
  });
}

void SseSession::MaybeEndForShutdown() {
  if (ending_ || finished_) return;
  if (grace_.MayEnd(next_seq(), [self = self()] { self->MaybeEndForShutdown(); })) EndAfterFlush();
}

// Ends the answer after what is queued: the body ends with the connection.
void SseSession::EndAfterFlush() {
  if (ending_ || finished_) return;
  ending_ = true;
  End();
  output_.Seal();
  output_.Flush([self = self()](beast::error_code) { self->Finish(); });
}

void SseSession::Finish() {
  if (finished_) return;
  finished_ = true;
  End();
  grace_.Cancel();
  membership_.Leave();
  beast::error_code ec;
  socket_.shutdown(net::socket_base::shutdown_send, ec);
  socket_.close(ec);
}

}  // namespace ctxd::server
