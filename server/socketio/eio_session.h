// EioSession: one Engine.IO 4 session (docs/server.md "Socket.IO") — its
// outgoing packet queue, its transport (HTTP long-polling, then perhaps a
// WebSocket after the 2probe/3probe/5 upgrade, or a WebSocket from the
// start), the heartbeat (a ping every pingInterval, closed when no pong
// comes within pingTimeout), and its Socket.IO sockets (SioSockets).
//
// Outgoing packets wait in one queue: a parked polling GET takes them all
// (joined by \x1e); on the WebSocket they move to the OutputQueue as frames
// (a live event's frame is the hub's shared buffer, no copy). The queue is
// bounded: a client that takes nothing (a WebSocket whose socket stalls, a
// polling client that stops polling) is closed, and resumes with from_seq.
//
// Ownership: held by shared_ptr — by EioServer's session table until
// Close(), by the hub while a socket is joined, by pending handlers. All
// state lives on the session's own strand; polling requests arrive on their
// connections' strands and are posted here. Offer (from the hub) is the one
// entry from any thread.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "server/connection.h"
#include "server/http_message.h"
#include "server/socketio/packet.h"
#include "server/socketio/sio_hub.h"
#include "server/socketio/sio_sockets.h"
#include "server/ws_transport.h"

namespace ctxd::server::socketio {

class EioServer;

struct SessionLimits {
  EioOptions eio;
  size_t max_queued_packets = 16384;
  size_t max_queued_bytes = 16 * 1024 * 1024;  // beyond one packet, however large
  OutputLimits output;
  std::chrono::seconds close_timeout{3};
};

class EioSession : public FrameSink,
                   public SocketHost,
                   public Closable,
                   public std::enable_shared_from_this<EioSession> {
 public:
  EioSession(EioServer& server, std::string sid, Strand strand);
  ~EioSession() override;

  const Strand& strand() const { return strand_; }

  // Strand. The handshake GET: answers the open packet, starts the heartbeat.
  void OpenPolling(const Responder& respond);
  // Strand, before the session opens: see SioSockets::set_read_only.
  void set_read_only(bool read_only) { sockets_.set_read_only(read_only); }
  void OnPollGet(const Responder& respond);
  void OnPollPost(const std::string& body, const Responder& respond);
  // Strand: a WebSocket on this session (an upgrade when `upgrade`, else a
  // session opened on the WebSocket).
  void OnWebSocket(StreamSocket socket, const beast::flat_buffer& early,
                   http::request<http::string_body> request, bool upgrade);
  void Close(std::string_view why);

  // FrameSink (any thread).
  void Offer(Nsp nsp, std::vector<FramePtr> frames) override;
  // Closable (any thread): the server shuts down.
  void Shutdown() override;

  // SocketHost (strand).
  void Send(std::string packet) override;
  void Deliver(const FramePtr& frame) override;
  void Fail(std::string_view why) override { Close(why); }
  size_t queued_packets() const override { return queue_.size(); }
  size_t queued_bytes() const override { return queued_bytes_; }
  void PostToStrand(std::function<void()> task) override;
  std::shared_ptr<FrameSink> sink() override { return shared_from_this(); }
  const std::string& eio_sid() const override { return sid_; }

 private:
  enum class Transport { kPolling, kWebSocket };
  using WsStream = beast::websocket::stream<WsTransport>;
  struct Item {
    FramePtr frame;     // a shared frame, or
    std::string owned;  // a packet of this session
    std::string_view packet() const { return frame ? frame->packet() : std::string_view(owned); }
  };

  void Push(Item item);
  void Wake();  // hands the queue to the transport
  void AnswerPoll(std::string body);
  void DrainToWebSocket();
  void PopFront();
  void RefillLater();
  void HandlePacket(std::string_view packet);
  void SchedulePing();
  void SendPing();
  void OnPong();
  void OnWsAccept(beast::error_code ec, bool upgrade);
  void ReadWs();
  void OnWsRead(beast::error_code ec);
  void OnWsPacket(std::string_view packet);
  void OnOutputProgress();
  void DropWebSocket();
  void TakeInbox();

  EioServer& server_;
  // Also used by the destructor, which may run after the EioServer is gone
  // (with the io_context's handlers); these outlive the io_context.
  ServerContext& context_;
  ConnectionRegistry& registry_;
  const std::string sid_;
  const Strand strand_;
  const SessionLimits limits_;
  SioSockets sockets_;
  net::steady_timer ping_timer_;
  bool awaiting_pong_ = false;

  std::deque<Item> queue_;
  size_t queued_bytes_ = 0;
  size_t largest_queued_ = 0;        // the largest packet queued since the queue was last empty
  bool slow_ = false;                // the queue overflowed: closing, nothing more is queued
  bool refill_posted_ = false;       // RefillLater has a task on the strand
  std::optional<Responder> parked_;  // a polling GET waiting for packets
  Transport transport_ = Transport::kPolling;
  // Probed (2probe answered), waiting for 5: polls get a noop at once, so
  // that a GET that arrives after the probe does not hold the upgrade up.
  bool upgrading_ = false;
  std::unique_ptr<WsStream> ws_;  // once a WebSocket came; kept until the session goes
  beast::flat_buffer ws_buffer_;
  bool ws_reading_ = false;
  bool ws_failed_ = false;
  bool ws_counted_ = false;  // in the connection metric
  bool closed_ = false;
  uint64_t registry_id_ = 0;

  std::mutex inbox_mu_;
  std::vector<std::pair<Nsp, std::vector<FramePtr>>> inbox_;  // guarded by inbox_mu_
  bool inbox_posted_ = false;                                 // guarded by inbox_mu_
};

}  // namespace ctxd::server::socketio
