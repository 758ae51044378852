#include "server/ws_session.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "server/access_tokens.h"
#include "server/io_pool.h"
#include "server/read_path.h"
#include "server/responses.h"

namespace ctxd::server {
namespace websocket = beast::websocket;

namespace {

// A close reason is at most 123 bytes.
std::string ResumeReason(std::string_view why, uint64_t from) {
  return std::string(why) + "; resume from=" + std::to_string(from);
}

}  // namespace

WsSession::WsSession(StreamSocket socket, StreamContext& context)
    : Subscriber(context.hub, socket.get_executor(), StreamFormat::kWebSocket),
      context_(context),
      ws_(std::move(socket), context.options.output),
      membership_(context_),
      grace_(context_, strand_) {
  ws_.next_layer().OnInputDrained([this] { CommitDeferredOps(); });
  // The connection still counts (ctxd_connections, --max-connections) after
  // the HTTP session handed it over.
  context_.server.metrics.ConnectionOpened();
}

WsSession::~WsSession() { context_.server.metrics.ConnectionClosed(); }

void WsSession::Run(http::request<http::string_body> request, const beast::flat_buffer& early) {
  output().SetOwner(weak_from_this(), [this] { OnOutputProgress(); });
  ws_.next_layer().Preload(early.data());
  if (request.method() != http::verb::get) return Reject(MethodNotAllowed("GET"));
  if (!websocket::is_upgrade(request)) {
    return Reject(BadRequest("GET /v1/ws is a WebSocket endpoint: send an Upgrade: websocket request"));
  }
  if (Status key = CheckWebSocketKey(request); !key.ok()) return Reject(BadRequest(key.message()));
  auto target = ReadStreamTarget(request.target());
  if (!target.ok()) return Reject(ErrorResponse(target.status()));
  auto from = UintQuery(target->request, "from", 0);
  if (!from.ok()) return Reject(ErrorResponse(from.status()));
  const auto authorization = request.find(http::field::authorization);
  read_only_ = !MayWrite(
      context_.server.access_tokens,
      authorization == request.end() ? std::nullopt : std::optional<std::string_view>(authorization->value()),
      target->request.target);

  auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
  timeouts.handshake_timeout = context_.options.close_timeout;  // also bounds the close handshake
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& response) { response.set(http::field::server, "ctxd"); }));
  ws_.read_message_max(context_.options.max_message_bytes);
  ws_.auto_fragment(false);  // WsTransport: each of Beast's messages is one write
  ws_.async_accept(
      request, [self = self(), filter = std::move(target->filter),
                from = *from](beast::error_code ec) mutable { self->OnAccept(ec, std::move(filter), from); });
}

void WsSession::Reject(const HttpResponse& response) {
  output().PushControl(RenderHttpError(response));
  output().Flush([self = self()](beast::error_code) { self->Finish(); });
}

void WsSession::OnAccept(beast::error_code ec, EventFilter filter, uint64_t from) {
  if (ec) return Finish();
  ws_.next_layer().BeginFrames();
  membership_.Join(std::weak_ptr<Closable>(self()));
  store::Store& store = context_.server.store;
  const uint64_t head = store.durable_seq();
  std::string hello = "{\"op\":\"hello\",\"head\":" + std::to_string(head) + ",\"store\":";
  AppendJsonString(&hello, store.store_id());
  hello.push_back('}');
  PushMessage(hello);
  // Without `from`: live only, the events after the head announced in hello.
  Begin(std::move(filter), from == 0 ? head + 1 : from);
  if (context_.server.shutting_down) Shutdown();
  Pump();
  DoRead();
}

void WsSession::PushMessage(std::string_view payload) { output().PushData(WsTextFrame(payload)); }

void WsSession::DoRead() {
  const bool may_read = !reading_ && !read_done_ && !finished_ && !closing_ &&
                        in_flight_ < context_.options.max_ops_in_flight && output().HasRoom();
  if (!may_read) return CommitDeferredOps();
  reading_ = true;
  ws_.async_read(read_buffer_, [self = self()](beast::error_code ec, size_t) { self->OnRead(ec); });
}

void WsSession::OnRead(beast::error_code ec) {
  reading_ = false;
  if (ec) {
    // The client closed (Beast answered it), went away, sent a message over
    // the limit (Beast closed with 1009), or the connection is being closed.
    read_done_ = true;
    CommitDeferredOps();
    if (ec != websocket::error::closed && ec != net::error::operation_aborted && ec != net::error::eof &&
        ec != net::error::connection_reset) {
      spdlog::debug("websocket read: {}", ec.message());
    }
    if (!closing_) return Finish();
    return;
  }
  if (!ws_.got_text()) {
    PushMessage(
        RenderWsError("null", Status::InvalidArgument("binary messages are not supported: send JSON text")));
  } else {
    HandleOp(BufferText(read_buffer_));
  }
  RecycleReadBuffer(read_buffer_);
  DoRead();
}

void WsSession::HandleOp(std::string_view text) {
  std::string id;
  auto op = ParseWsOp(text, &id);
  if (!op.ok()) return PushMessage(RenderWsError(id, op.status()));
  if (read_only_) {
    return PushMessage(
        RenderWsError(id, ErrorResponse(403, "FORBIDDEN", "this access token may read but not write")));
  }
  if (grace_.started()) {
    return PushMessage(RenderWsError(id, Status::Unavailable("the server is shutting down")));
  }
  ++in_flight_;
  const WsOpKind kind = op->kind;
  const auto submitted = std::chrono::steady_clock::now();
  ops_deferred_ = true;
  context_.server.store.SubmitDeferred(
      std::move(op->command),
      [self = self(), id = std::move(id), kind, submitted](StatusOr<engine::CommandResult> result) mutable {
        if (result.ok()) {
          self->context_.server.metrics.ObserveCommitLatency(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - submitted).count());
        }
        self->OnAnswer({std::move(id), kind, std::move(result)});
      },
      this);
}

// Ops are submitted deferred and committed once the session stops reading:
// when all the client had sent is handled (the transport's input-drained
// hook), or when reading pauses or ends. Pipelined ops that came together
// share one commit, instead of the first taking an fsync of its own.
void WsSession::CommitDeferredOps() {
  if (!ops_deferred_) return;
  ops_deferred_ = false;
  CommitPendingAfterReadyHandlers(context_.server.store);
}

// The store's committing thread: only queues the result (rendering happens on
// the strand), with one post per burst of answers.
void WsSession::OnAnswer(Answer answer) {
  std::lock_guard lock(answers_mu_);
  answers_.push_back(std::move(answer));
  if (answers_posted_) return;
  answers_posted_ = true;
  net::post(strand_, [self = self()] { self->DrainAnswers(); });
}

void WsSession::DrainAnswers() {
  {
    std::lock_guard lock(answers_mu_);
    draining_.swap(answers_);
    answers_posted_ = false;
  }
  std::string frames;
  for (const Answer& answer : draining_) {
    const std::string payload = answer.result.ok() ? RenderWsAck(answer.kind, answer.id, *answer.result)
                                                   : RenderWsError(answer.id, answer.result.status());
    AppendWsFrameHeader(&frames, payload.size());
    frames.append(payload);
  }
  in_flight_ -= draining_.size();
  draining_.clear();
  output().PushData(std::move(frames));
  DoRead();
  MaybeCloseForShutdown();
}

void WsSession::OnOutputProgress() {
  if (output().failed()) return Finish();
  Pump();
  DoRead();
}

void WsSession::Shutdown() {
  net::post(strand_, [self = self()] {
    if (self->grace_.Start()) self->MaybeCloseForShutdown();
  });
}

// Closes with 1001 once every op in flight is answered and the events
// already durable are out (or the grace time is over).
void WsSession::MaybeCloseForShutdown() {
  if (!grace_.started() || closing_ || finished_ || in_flight_ > 0) return;
  if (!grace_.MayEnd(next_seq(), [self = self()] { self->MaybeCloseForShutdown(); })) return;
  CloseWith(websocket::close_code::going_away, ResumeReason("going away", next_seq()));
}

void WsSession::OnStalled() {
  if (closing_ || finished_) return;
  const uint64_t unsent = output().DiscardUnsent();
  const uint64_t resume = unsent != 0 ? std::min(unsent, next_seq()) : next_seq();
  spdlog::info("websocket subscriber too slow; closing it at seq {}", resume);
  CloseWith(websocket::close_code::policy_error, ResumeReason("slow consumer", resume));
}

void WsSession::OnLogError(const Status& status) {
  CloseWith(websocket::close_code::internal_error, ResumeReason(status.message().substr(0, 60), next_seq()));
}

void WsSession::CloseWith(websocket::close_code code, std::string reason) {
  if (closing_ || finished_) return;
  closing_ = true;
  End();
  if (read_done_ || !ws_.is_open()) return Finish();
  ws_.async_close(websocket::close_reason(code, reason),
                  [self = self()](beast::error_code) { self->Finish(); });
}

void WsSession::Finish() {
  if (finished_) return;
  finished_ = true;
  End();
  grace_.Cancel();
  membership_.Leave();
  beast::error_code ec;
  ws_.next_layer().next_layer().shutdown(net::socket_base::shutdown_send, ec);
  ws_.next_layer().next_layer().close(ec);
}

}  // namespace ctxd::server
