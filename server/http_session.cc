#include "server/http_session.h"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "server/access_tokens.h"
#include "server/origin_policy.h"
#include "server/responses.h"
#include "server/socketio/packet.h"
#include "server/target.h"

namespace ctxd::server {
namespace {

Method ToMethod(http::verb verb) {
  switch (verb) {
    case http::verb::get:
      return Method::kGet;
    case http::verb::head:
      return Method::kHead;
    case http::verb::post:
      return Method::kPost;
    case http::verb::put:
      return Method::kPut;
    case http::verb::delete_:
      return Method::kDelete;
    case http::verb::patch:
      return Method::kPatch;
    case http::verb::options:
      return Method::kOptions;
    default:
      return Method::kOther;
  }
}

std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::chrono::seconds kLingerTime{2};
// Answers owed to one connection before its further requests wait (OwedBytes).
constexpr size_t kMaxOwedBytes = size_t{4} << 20;
// The most one write call is given, so that a slow reader's progress is seen.
constexpr size_t kWritePiece = size_t{1} << 20;

}  // namespace

HttpSession::HttpSession(net::basic_stream_socket<net::ip::tcp, Strand> socket, HttpSessionShared& shared)
    : stream_(std::move(socket)),
      shared_(shared),
      deliveries_(shared.io.DeliveriesOf(stream_.get_executor().context())),
      timer_(stream_.get_executor()) {
  shared_.metrics.ConnectionOpened();
  beast::error_code ec;
  stream_.socket().set_option(net::ip::tcp::no_delay(true), ec);
}

HttpSession::~HttpSession() {
  shared_.metrics.ConnectionClosed();
  if (registry_id_ != 0) shared_.registry.Remove(registry_id_);
}

void HttpSession::Run() {
  registry_id_ = shared_.registry.Add(weak_from_this());
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->DoRead(); });
}

void HttpSession::Shutdown() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    self->closing_ = true;
    // A request half read is dropped; answers already owed are still written.
    if (self->reading_) self->stream_.cancel();
  });
}

void HttpSession::DoRead() {
  if (closing_ || closed_ || queue_.size() >= shared_.limits.max_pipeline) return;
  reading_ = true;
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(shared_.limits.header_limit));
  parser_->body_limit(shared_.limits.body_limit);
  SetDeadline(buffer_.size() == 0 ? shared_.limits.idle_timeout : shared_.limits.request_timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

void HttpSession::OnHeader(beast::error_code ec) {
  if (ec) return OnReadError(ec);
  request_start_ = std::chrono::steady_clock::now();
  if (Status framing = CheckTransferEncoding(parser_->get()); !framing.ok()) {
    HttpResponse refusal = RequestError(400, "BAD_REQUEST", framing.message());
    reading_ = false;
    parser_.reset();
    return Reject(std::move(refusal));
  }
  // Usually the body came with the header: parse it here instead of through
  // another asynchronous read.
  while (!parser_->is_done() && buffer_.size() > 0) {
    const size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == http::error::need_more) break;
    if (ec) return OnReadError(ec);
    if (used == 0) break;
  }
  if (parser_->is_done()) return OnRead({});
  SetDeadline(shared_.limits.request_timeout);
  const auto& header = parser_->get();
  auto expect = header.find(http::field::expect);
  // Only with nothing owed: an interim answer may not overtake the answers
  // of earlier pipelined requests; and HTTP/1.0 clients get none (RFC 9110
  // 10.1.1). Without it a client sends its body after a wait of its own.
  if (expect != header.end() && beast::iequals(expect->value(), "100-continue") && header.version() >= 11 &&
      queue_.empty() && !writing_ && buffer_.size() == 0) {
    // curl waits a second for this before sending a body larger than 1 KiB.
    writing_ = true;
    net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                     [self = shared_from_this()](beast::error_code wec, size_t) {
                       self->writing_ = false;
                       if (wec) return self->OnReadError(wec);
                       self->ReadBody();
                       self->MaybeWrite();
                     });
    return;
  }
  ReadBody();
}

// Beast frames a body as chunked only when chunked is the last coding, and
// otherwise reads it by Content-Length, ignoring the other codings: a body
// sent gzip'ed, or framed some way it does not know, would be taken as it is.
Status HttpSession::CheckTransferEncoding(const http::request_header<>& header) {
  const size_t count = header.count(http::field::transfer_encoding);
  if (count == 0) return Status::Ok();
  const auto coding = header.find(http::field::transfer_encoding)->value();
  if (count == 1 && beast::iequals(coding, "chunked")) return Status::Ok();
  return Status::InvalidArgument("Transfer-Encoding '" + std::string(coding) +
                                 "' is not supported: send the body chunked or with a Content-Length");
}

void HttpSession::ReadBody() {
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
}

void HttpSession::OnRead(beast::error_code ec) {
  if (ec) return OnReadError(ec);
  reading_ = false;
  Dispatch(parser_->release());
  parser_.reset();
  // A client that waits for each answer sends nothing before it, so reading
  // on now would only find the socket empty: one failed recvmsg per request.
  // Its next read starts once the answer is written (OnWrite). Bytes already
  // buffered, or requests already queued behind each other, mean a client
  // that pipelines: keep reading.
  if (buffer_.size() > 0 || queue_.size() > 1) DoRead();
}

void HttpSession::OnReadError(beast::error_code ec) {
  std::optional<HttpResponse> refusal;
  if (ec == http::error::body_limit) {
    refusal = RequestError(
        413, "PAYLOAD_TOO_LARGE",
        "the request body is larger than " + std::to_string(shared_.limits.body_limit) + " bytes");
  } else if (ec == http::error::header_limit) {
    refusal = RequestError(
        431, "BAD_REQUEST",
        "the request header is larger than " + std::to_string(shared_.limits.header_limit) + " bytes");
  } else if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
             ec != http::error::end_of_stream && ec != http::error::partial_message) {
    // A malformed request (bad method, target, version, header or chunk).
    refusal = RequestError(400, "BAD_REQUEST", "malformed HTTP request: " + ec.message());
  }
  reading_ = false;
  parser_.reset();
  if (closed_ || lingering_) return;
  if (refusal) return Reject(std::move(*refusal));
  // End of stream, timeout, reset, cancelled by Shutdown: nothing to answer.
  closing_ = true;
  MaybeWrite();
}

// An error found before routing, in the form of the routes the target names
// (as far as it was read): the old /ctx routes answer {"error", "status"}.
HttpResponse HttpSession::RequestError(int status, std::string_view code, const std::string& message) const {
  return ErrorFor(TargetSoFar(), status, code, message);
}

HttpResponse HttpSession::ErrorFor(std::string_view target, int status, std::string_view code,
                                   const std::string& message) {
  return ErrorForPath(PathOf(target), status, code, message);
}

// The parser's target, or, when it gave up before the end of the request
// line (a line over the header limit), the target in the bytes read so far.
std::string_view HttpSession::TargetSoFar() const {
  if (parser_ && !parser_->get().target().empty()) return parser_->get().target();
  const std::string_view raw(static_cast<const char*>(buffer_.cdata().data()), buffer_.size());
  const size_t space = raw.find(' ');
  if (space == std::string_view::npos) return {};
  const std::string_view rest = raw.substr(space + 1);
  return rest.substr(0, rest.find_first_of(" \r\n"));
}

void HttpSession::Reject(HttpResponse response) {
  closing_ = true;
  Slot& slot = queue_.emplace_back();
  slot.id = next_id_++;
  slot.ready = true;
  slot.keep_alive = false;
  slot.start = std::chrono::steady_clock::now();
  slot.response = std::move(response);
  slot.response.close = true;
  MaybeWrite();
}

// Engine.IO long-polling on /socket.io/ is answered like any request; only
// its WebSocket upgrade leaves the HTTP session.
const StreamHandoff* HttpSession::StreamRouteFor(const http::request<http::string_body>& message) const {
  const std::string_view path = PathOf(message.target());
  if (path == socketio::kEngineIoPath && !beast::websocket::is_upgrade(message)) return nullptr;
  return shared_.stream_routes.Find(path);
}

void HttpSession::Dispatch(http::request<http::string_body> message) {
  if (auto origin_form = FromAbsoluteForm(message.target())) {
    message.target(origin_form->target);
    message.set(http::field::host, origin_form->authority);
  }
  Slot& slot = queue_.emplace_back();
  slot.id = next_id_++;
  slot.keep_alive = message.keep_alive();
  slot.start = request_start_;
  if (!slot.keep_alive) closing_ = true;
  slot.head = message.method() == http::verb::head;
  const std::string_view origin = message[http::field::origin];
  std::optional<HttpResponse> refusal = CheckHost(message);
  if (!refusal) refusal = CheckOrigin(origin, message);
  if (!refusal) refusal = CheckAccess(message);
  if (refusal) {
    slot.ready = true;
    slot.response = std::move(*refusal);
    return MaybeWrite();
  }
  slot.origin = origin;
  if (const StreamHandoff* handoff = StreamRouteFor(message)) {
    closing_ = true;
    slot.handoff = handoff;
    slot.handoff_request.emplace(std::move(message));
    return MaybeWrite();
  }
  HttpRequest request;
  request.method = ToMethod(message.method());
  request.target = message.target();
  request.headers.reserve(8);
  for (const auto& field : message) request.headers.emplace_back(field.name_string(), field.value());
  request.body = std::move(message.body());
  slot.write =
      request.method != Method::kGet && request.method != Method::kHead && request.method != Method::kOptions;
  if (!CanDispatch(queue_.size() - 1)) {
    slot.deferred.emplace(std::move(request));
    return;
  }
  Route(slot.id, std::move(request));
}

std::optional<HttpResponse> HttpSession::CheckHost(const http::request<http::string_body>& message) const {
  const std::string_view host = message[http::field::host];
  if (shared_.hosts.Allows(host)) return std::nullopt;
  return ErrorFor(message.target(), 403, "FORBIDDEN",
                  "requests for the host '" + std::string(host) +
                      "' are refused: ctxd answers to localhost, IP addresses and the names given with "
                      "--allowed-host");
}

std::optional<HttpResponse> HttpSession::CheckOrigin(std::string_view origin,
                                                     const http::request<http::string_body>& message) const {
  if (origin.empty() || shared_.origins.Allows(origin, message[http::field::host])) return std::nullopt;
  return ErrorFor(message.target(), 403, "FORBIDDEN",
                  "requests from the web page at '" + std::string(origin) +
                      "' are refused: ctxd serves other origins only when started with --cors-origin");
}

std::optional<HttpResponse> HttpSession::CheckAccess(const http::request<http::string_body>& message) const {
  // A CORS preflight carries no credentials, and OPTIONS reveals nothing but
  // the methods of a path.
  if (shared_.access_tokens == nullptr || message.method() == http::verb::options) return std::nullopt;
  // Which of two would be the token is a guess a proxy and ctxd could make
  // differently: a read token first and a write token second was refused,
  // the other order allowed.
  if (message.count(http::field::authorization) > 1) {
    return ErrorFor(message.target(), 400, "BAD_REQUEST", "send one Authorization header, not several");
  }
  const auto authorization = message.find(http::field::authorization);
  const std::string token = RequestToken(
      authorization == message.end() ? std::nullopt : std::optional<std::string_view>(authorization->value()),
      message.target());
  const auto verb = message.method();
  const bool write = verb != http::verb::get && verb != http::verb::head && verb != http::verb::options;
  return Authorize(*shared_.access_tokens, PathOf(message.target()), write, token);
}

bool HttpSession::CanDispatch(size_t index) const {
  if (OwedBytes() >= kMaxOwedBytes) return false;  // DispatchDeferred again once written
  const bool write = queue_[index].write;
  for (size_t i = 0; i < index; ++i) {
    const Slot& earlier = queue_[i];
    if (earlier.ready) continue;
    if (earlier.deferred || !write || !earlier.write) return false;
  }
  return true;
}

// Answers ready or being written. Past kMaxOwedBytes no further request of
// the connection is started (CanDispatch), so a client that pipelines large
// reads and does not take the answers holds about one of them, not
// max_pipeline (16 listings of 18 MB had held 288 MB per connection).
size_t HttpSession::OwedBytes() const {
  size_t bytes = out_.size();
  for (const Slot& slot : queue_) {
    if (slot.ready) bytes += slot.response.body.size();
  }
  return bytes;
}

void HttpSession::DispatchDeferred() {
  for (size_t i = 0; i < queue_.size(); ++i) {
    Slot& slot = queue_[i];
    if (!slot.deferred) continue;
    if (!CanDispatch(i)) return;
    net::post(stream_.get_executor(),
              [self = shared_from_this(), id = slot.id, request = std::move(*slot.deferred)]() mutable {
                self->Route(id, std::move(request));
              });
    slot.deferred.reset();
  }
}

void HttpSession::Route(uint64_t id, HttpRequest request) {
  const RouteClass route = shared_.router.Handle(std::move(request), Responder(shared_from_this(), id));
  for (auto& slot : queue_) {
    if (slot.id == id) slot.route = route;
  }
}

// Always posted, even from the strand: the queue is never changed under the
// feet of the code that called the handler.
void HttpSession::Deliver(uint64_t id, HttpResponse response) {
  if (deliveries_.context().get_executor().running_in_this_thread()) return Post(id, std::move(response));
  deliveries_.Push(shared_from_this(), id, std::move(response));
}

void HttpSession::Post(uint64_t id, HttpResponse response) {
  net::post(stream_.get_executor(),
            [self = shared_from_this(), id, response = std::move(response)]() mutable {
              self->OnResponse(id, std::move(response));
            });
}

void HttpSession::OnResponse(uint64_t id, HttpResponse response) {
  if (queue_.empty() || id < queue_.front().id || id - queue_.front().id >= queue_.size()) return;
  Slot& slot = queue_[id - queue_.front().id];
  if (slot.ready || slot.handoff != nullptr) return;  // answered twice: keep the first
  slot.ready = true;
  slot.response = std::move(response);
  DispatchDeferred();
  MaybeWrite();
}

void HttpSession::Serialize(Slot& slot, bool close) {
  const HttpResponse& r = slot.response;
  out_.append("HTTP/1.1 ");
  out_.append(std::to_string(r.status));
  out_.push_back(' ');
  const auto reason = http::obsolete_reason(http::int_to_status(static_cast<unsigned>(r.status)));
  out_.append(reason.data(), reason.size());
  out_.append("\r\n");
  if (r.status != 204) {  // a 204 has neither (RFC 9110 8.6)
    out_.append("Content-Type: ");
    out_.append(r.content_type);
    out_.append("\r\nContent-Length: ");
    out_.append(std::to_string(r.body.size()));
    out_.append("\r\n");
  }
  if (close) out_.append("Connection: close\r\n");
  for (const auto& [name, value] : r.headers) {
    out_.append(name);
    out_.append(": ");
    out_.append(value);
    out_.append("\r\n");
  }
  if (!slot.origin.empty()) out_.append(CorsHeaderLines(slot.origin));
  out_.append("\r\n");
  if (!slot.head) out_.append(r.body);
}

void HttpSession::MaybeWrite() {
  if (writing_ || closed_ || lingering_) return;
  bool close_after = false;
  while (!queue_.empty() && (queue_.front().ready || queue_.front().handoff != nullptr)) {
    Slot& slot = queue_.front();
    if (slot.handoff != nullptr) {
      if (!out_.empty()) break;  // write what precedes it first
      return HandOff(slot);
    }
    close_after = slot.response.close || !slot.keep_alive || (closing_ && queue_.size() == 1 && !reading_);
    Serialize(slot, close_after);
    shared_.metrics.ObserveRequest(
        slot.route, std::chrono::duration<double>(std::chrono::steady_clock::now() - slot.start).count());
    queue_.pop_front();
    if (close_after) break;
  }
  if (out_.empty()) {
    if (queue_.empty() && closing_ && !reading_) Close();
    return;
  }
  writing_ = true;
  if (!reading_) SetDeadline(shared_.limits.request_timeout);
  // The timeout applies to a write that makes no progress: each piece the
  // client takes moves the deadline, so a large download to a slow but
  // steady reader is not cut at request_timeout.
  net::async_write(
      stream_, net::buffer(out_),
      [this, written = size_t{0}](beast::error_code ec, size_t transferred) mutable -> size_t {
        if (ec) return 0;
        if (transferred != written) SetDeadline(shared_.limits.request_timeout);
        written = transferred;
        return kWritePiece;
      },
      [self = shared_from_this(), close_after](beast::error_code ec, size_t) {
        self->OnWrite(ec, close_after);
      });
}

void HttpSession::OnWrite(beast::error_code ec, bool close_after) {
  writing_ = false;
  out_.clear();
  if (out_.capacity() > 64 * 1024) out_.shrink_to_fit();
  if (ec) {
    closing_ = true;
    queue_.clear();
    return Close();
  }
  if (close_after) {
    closing_ = true;
    queue_.clear();
    if (reading_) return Close();
    lingering_ = true;
    beast::error_code shutdown_ec;
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, shutdown_ec);
    if (shutdown_ec) return Close();
    SetDeadline(kLingerTime);
    return Linger();
  }
  if (!reading_) DoRead();
  DispatchDeferred();
  MaybeWrite();
}

void HttpSession::HandOff(Slot& slot) {
  const StreamHandoff& handoff = *slot.handoff;
  http::request<http::string_body> request = std::move(*slot.handoff_request);
  queue_.pop_front();
  handed_off_ = true;
  closed_ = true;
  timer_.cancel();
  handoff(std::move(stream_), std::move(buffer_), std::move(request));
}

// One timer per connection, moved only when it fires or for an earlier
// deadline, instead of basic_stream's timer wait and cancel per read and
// per write. As with basic_stream, a deadline applies to the read or write
// in progress: with none in progress (waiting for answers) nothing expires.
void HttpSession::SetDeadline(std::chrono::steady_clock::duration timeout) {
  deadline_ = std::chrono::steady_clock::now() + timeout;
  if (!closed_ && (!timer_armed_ || deadline_ < timer_.expiry())) ArmTimer();
}

void HttpSession::ArmTimer() {
  timer_armed_ = true;
  timer_.expires_at(deadline_);  // cancels a later wait, which then ignores its abort
  timer_.async_wait([self = shared_from_this()](beast::error_code ec) { self->OnTimer(ec); });
}

void HttpSession::OnTimer(beast::error_code ec) {
  if (ec == net::error::operation_aborted) return;
  timer_armed_ = false;
  if (closed_ || !(reading_ || writing_ || lingering_)) return;
  if (std::chrono::steady_clock::now() < deadline_) return ArmTimer();
  Close();  // timed out: as basic_stream does, close; the read or write fails
}

void HttpSession::Close() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  beast::error_code ec;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  stream_.close();
}

// After answering with Connection: close, stop sending and drain what the
// client still sends for a moment, so that it reads the answer instead of a
// reset (e.g. after 413 while it is still uploading).
void HttpSession::Linger() {
  if (closed_) return;
  buffer_.clear();
  stream_.async_read_some(buffer_.prepare(64 * 1024),
                          [self = shared_from_this()](beast::error_code rec, size_t) {
                            if (rec) return self->Close();
                            self->buffer_.clear();
                            self->Linger();
                          });
}

}  // namespace ctxd::server
