#include "server/socketio/eio_session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "server/responses.h"
#include "server/socketio/eio_server.h"
#include "server/stream_hub.h"

namespace ctxd::server::socketio {
namespace websocket = beast::websocket;

namespace {

// Packets in one answer to a poll. python-engineio clients (4.3) refuse a
// payload of more than 16 and drop the connection; the rest waits for the
// next poll.
constexpr size_t kMaxPollPackets = 16;

HttpResponse TextResponse(std::string body) {
  HttpResponse response;
  response.content_type = "text/plain; charset=UTF-8";
  response.body = std::move(body);
  return response;
}

}  // namespace

EioSession::EioSession(EioServer& server, std::string sid, Strand strand)
    : server_(server),
      context_(server.context()),
      registry_(server.registry()),
      sid_(std::move(sid)),
      strand_(std::move(strand)),
      limits_(server.limits()),
      sockets_(server.context(), server.hub(), *this),
      ping_timer_(strand_) {}

EioSession::~EioSession() {
  if (ws_counted_) context_.metrics.ConnectionClosed();
  if (registry_id_ != 0) registry_.Remove(registry_id_);
}

void EioSession::OpenPolling(const Responder& respond) {
  registry_id_ = registry_.Add(std::weak_ptr<Closable>(shared_from_this()));
  respond(TextResponse(OpenPacket(sid_, true, limits_.eio)));
  SchedulePing();
}

void EioSession::OnPollGet(const Responder& respond) {
  if (closed_ || transport_ == Transport::kWebSocket || parked_) {
    return respond(BadRequest("Engine.IO: a poll is already pending, or the session is not polling"));
  }
  if (upgrading_) return respond(TextResponse(std::string(1, static_cast<char>(EioType::kNoop))));
  sockets_.OnRoom();  // the last poll took the queue: a replay goes on
  parked_ = respond;
  Wake();
}

void EioSession::OnPollPost(const std::string& body, const Responder& respond) {
  if (closed_ || transport_ == Transport::kWebSocket) {
    return respond(BadRequest("Engine.IO: the session is not polling"));
  }
  if (body.size() > static_cast<size_t>(limits_.eio.max_payload)) {
    respond(ErrorResponse(413, "PAYLOAD_TOO_LARGE", "Engine.IO payload over maxPayload"));
    return Close("payload too large");
  }
  for (const std::string_view packet : SplitPayload(body)) {
    if (closed_) break;
    HandlePacket(packet);
  }
  respond(TextResponse("ok"));
}

void EioSession::HandlePacket(std::string_view packet) {
  if (packet.empty()) return;
  switch (static_cast<EioType>(packet.front())) {
    case EioType::kClose:
      return Close("client closed");
    case EioType::kPong:
      return OnPong();
    case EioType::kMessage:
      return sockets_.OnMessage(packet.substr(1));
    default:
      return;  // a client ping (Engine.IO 3), noop, stray upgrade
  }
}

void EioSession::SchedulePing() {
  ping_timer_.expires_after(std::chrono::milliseconds(limits_.eio.ping_interval_ms));
  ping_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec && !self->closed_) self->SendPing();
  });
}

void EioSession::SendPing() {
  awaiting_pong_ = true;
  Send(std::string(1, static_cast<char>(EioType::kPing)));
  ping_timer_.expires_after(std::chrono::milliseconds(limits_.eio.ping_timeout_ms));
  ping_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec && self->awaiting_pong_) self->Close("ping timeout");
  });
}

void EioSession::OnPong() {
  if (!awaiting_pong_) return;
  awaiting_pong_ = false;
  SchedulePing();
}

void EioSession::Send(std::string packet) { Push({nullptr, std::move(packet)}); }

void EioSession::Deliver(const FramePtr& frame) { Push({frame, std::string()}); }

void EioSession::Push(Item item) {
  if (closed_ || slow_) return;
  queued_bytes_ += item.packet().size();
  largest_queued_ = std::max(largest_queued_, item.packet().size());
  queue_.push_back(std::move(item));
  // A backlog, not one large packet (the context_snapshot of a large
  // context, queued with the CONNECT answer), is what makes a consumer
  // slow: the largest packet does not count. The session closes after the
  // handler that pushed: closing now would take the Socket.IO sockets from
  // under the code that is sending to them (a replay, held frames).
  if (queue_.size() > limits_.max_queued_packets ||
      queued_bytes_ > largest_queued_ + limits_.max_queued_bytes) {
    slow_ = true;
    return PostToStrand([this] { Close("slow consumer"); });
  }
  Wake();
}

void EioSession::Wake() {
  if (transport_ == Transport::kWebSocket) return DrainToWebSocket();
  if (!parked_ || queue_.empty()) return;
  const size_t count = std::min(queue_.size(), kMaxPollPackets);
  std::vector<std::string_view> packets;
  packets.reserve(count);
  for (size_t i = 0; i < count; ++i) packets.push_back(queue_[i].packet());
  std::string body = JoinPayload(packets);
  for (size_t i = 0; i < count; ++i) PopFront();
  AnswerPoll(std::move(body));
}

// After a large packet left, largest_queued_ stays as it was until the
// queue empties: the limit is lenient by that one packet for a while.
void EioSession::PopFront() {
  queued_bytes_ -= queue_.front().packet().size();
  queue_.pop_front();
  if (queue_.empty()) largest_queued_ = 0;
}

void EioSession::AnswerPoll(std::string body) {
  if (!parked_) return;
  (*parked_)(TextResponse(std::move(body)));
  parked_.reset();
}

// Moves queued packets to the WebSocket's output while it has room. A
// write the socket takes at once starts no asynchronous write, so no
// progress callback would come for what is left: go on while that makes
// room (unless an outer Corked holds the write; it drains after).
void EioSession::DrainToWebSocket() {
  if (!ws_ || ws_failed_) return;
  OutputQueue& out = ws_->next_layer().output();
  while (!queue_.empty() && out.HasRoom()) {
    const OutputQueue::Corked corked(out);
    while (!queue_.empty() && out.HasRoom()) {
      Item& item = queue_.front();
      if (item.frame) {
        out.PushShared(item.frame, item.frame->bytes, item.frame->seq);
      } else {
        out.PushData(WsTextFrame(item.owned));
      }
      PopFront();
    }
  }
  if (queue_.empty()) RefillLater();
}

// A replay waiting for room (SioSockets::OnRoom) is topped up from the
// strand, never from under the Push that drained the queue.
void EioSession::RefillLater() {
  if (refill_posted_ || !sockets_.replay_pending()) return;
  refill_posted_ = true;
  PostToStrand([this] {
    refill_posted_ = false;
    sockets_.OnRoom();
  });
}

void EioSession::OnWebSocket(StreamSocket socket, const beast::flat_buffer& early,
                             http::request<http::string_body> request, bool upgrade) {
  if (closed_ || ws_) {
    return RejectUpgrade(std::move(socket), BadRequest("Engine.IO: the session cannot take a WebSocket"));
  }
  ws_ = std::make_unique<WsStream>(std::move(socket), limits_.output);
  ws_->next_layer().Preload(early.data());
  context_.metrics.ConnectionOpened();
  ws_counted_ = true;
  ws_->next_layer().output().SetOwner(weak_from_this(), [this] { OnOutputProgress(); });
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = limits_.close_timeout;
  timeouts.idle_timeout = websocket::stream_base::none();  // the Engine.IO heartbeat
  timeouts.keep_alive_pings = false;
  ws_->set_option(timeouts);
  ws_->set_option(websocket::stream_base::decorator(
      [](websocket::response_type& response) { response.set(http::field::server, "ctxd"); }));
  ws_->read_message_max(static_cast<size_t>(limits_.eio.max_payload));
  ws_->auto_fragment(false);  // WsTransport: each of Beast's messages is one write
  ws_->async_accept(
      request, [self = shared_from_this(), upgrade](beast::error_code ec) { self->OnWsAccept(ec, upgrade); });
}

void EioSession::OnWsAccept(beast::error_code ec, bool upgrade) {
  if (ec || closed_) {
    DropWebSocket();
    if (!upgrade) Close("websocket handshake failed");
    return;
  }
  ws_->next_layer().BeginFrames();
  if (!upgrade) {
    registry_id_ = registry_.Add(std::weak_ptr<Closable>(shared_from_this()));
    transport_ = Transport::kWebSocket;
    Send(OpenPacket(sid_, false, limits_.eio));
    SchedulePing();
  }
  ReadWs();
}

void EioSession::ReadWs() {
  if (ws_reading_ || ws_failed_) return;
  ws_reading_ = true;
  ws_->async_read(ws_buffer_,
                  [self = shared_from_this()](beast::error_code ec, size_t) { self->OnWsRead(ec); });
}

void EioSession::OnWsRead(beast::error_code ec) {
  ws_reading_ = false;
  if (ec) {
    // The client closed or went away (mid-upgrade: the session lives on
    // polling until its heartbeat fails).
    if (transport_ == Transport::kWebSocket) Close("websocket closed");
    return DropWebSocket();
  }
  if (closed_) return;
  if (!ws_->got_text()) return Close("binary Engine.IO packets are not supported");
  OnWsPacket(BufferText(ws_buffer_));
  RecycleReadBuffer(ws_buffer_);
  ReadWs();
}

void EioSession::OnWsPacket(std::string_view packet) {
  if (transport_ == Transport::kPolling && packet == "2probe") {
    upgrading_ = true;
    ws_->next_layer().output().PushData(WsTextFrame("3probe"));
    return AnswerPoll(std::string(1, static_cast<char>(EioType::kNoop)));
  }
  if (transport_ == Transport::kPolling && packet == "5") {
    // A poll still parked (a client that upgraded without probing) ends.
    AnswerPoll(std::string(1, static_cast<char>(EioType::kNoop)));
    transport_ = Transport::kWebSocket;
    upgrading_ = false;
    return DrainToWebSocket();
  }
  HandlePacket(packet);
}

void EioSession::OnOutputProgress() {
  if (!ws_ || ws_failed_) return;
  if (ws_->next_layer().output().failed()) {
    if (transport_ == Transport::kWebSocket) Close("websocket write failed");
    return DropWebSocket();
  }
  if (transport_ == Transport::kWebSocket) DrainToWebSocket();
}

void EioSession::DropWebSocket() {
  if (!ws_ || ws_failed_) return;
  ws_failed_ = true;
  upgrading_ = false;  // a failed probe: polling goes on
  beast::error_code ec;
  ws_->next_layer().next_layer().shutdown(net::socket_base::shutdown_send, ec);
  ws_->next_layer().next_layer().close(ec);
}

void EioSession::Close(std::string_view why) {
  if (closed_) return;
  closed_ = true;
  spdlog::debug("engine.io session {} closed: {}", sid_, why);
  sockets_.CloseAll();
  ping_timer_.cancel();
  AnswerPoll(std::string(1, static_cast<char>(EioType::kClose)));
  queue_.clear();
  queued_bytes_ = 0;
  largest_queued_ = 0;
  if (ws_ && !ws_failed_ && transport_ == Transport::kWebSocket && ws_->is_open()) {
    ws_->next_layer().output().PushData(WsTextFrame(std::string(1, static_cast<char>(EioType::kClose))));
    ws_->async_close(websocket::close_code::normal,
                     [self = shared_from_this()](beast::error_code) { self->DropWebSocket(); });
  } else {
    DropWebSocket();
  }
  if (registry_id_ != 0) {
    registry_.Remove(registry_id_);
    registry_id_ = 0;
  }
  server_.Remove(sid_);
}

void EioSession::Shutdown() {
  net::post(strand_, [self = shared_from_this()] { self->Close("server shutting down"); });
}

void EioSession::PostToStrand(std::function<void()> task) {
  net::post(strand_, [self = shared_from_this(), task = std::move(task)] { task(); });
}

void EioSession::Offer(Nsp nsp, std::vector<FramePtr> frames) {
  {
    std::lock_guard lock(inbox_mu_);
    inbox_.emplace_back(nsp, std::move(frames));
    if (inbox_posted_) return;
    inbox_posted_ = true;
  }
  net::post(strand_, [self = shared_from_this()] { self->TakeInbox(); });
}

void EioSession::TakeInbox() {
  std::vector<std::pair<Nsp, std::vector<FramePtr>>> taken;
  {
    std::lock_guard lock(inbox_mu_);
    taken.swap(inbox_);
    inbox_posted_ = false;
  }
  if (closed_) return;
  {
    std::optional<OutputQueue::Corked> corked;
    if (ws_ && !ws_failed_) corked.emplace(ws_->next_layer().output());
    for (const auto& [nsp, frames] : taken) sockets_.OnFrames(nsp, frames);
  }
  if (transport_ == Transport::kWebSocket) DrainToWebSocket();  // what the corked write left
}

}  // namespace ctxd::server::socketio
