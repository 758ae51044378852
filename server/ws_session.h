// WsSession: one WebSocket connection on GET /v1/ws (API.md "WebSocket
// /v1/ws").
//
// After the upgrade it sends {"op":"hello","head","store"}, then follows the
// log as a Subscriber from `from` (default: live only) with the /v1/events
// filters; events go out as pre-built frames through the WsTransport's
// OutputQueue, many per write. Client ops (set, command, undo, redo) are
// parsed as the REST handlers parse them and submitted to the store at once,
// many in flight; their answers come back from the committing thread in commit
// (= seq) order, are gathered in a small inbox and leave with one post per
// burst. Reading pauses while StreamOptions::max_ops_in_flight are pending
// or the output is full, so a client that does not read its acks cannot
// grow the server's memory.
//
// Closing: a client close is answered by Beast; a socket that takes nothing
// for the stall timeout is closed with 1008 and "slow consumer; resume
// from=N" (N = the first event it did not get); shutdown waits for the ops
// in flight, then closes with 1001 "going away; resume from=N".
//
// Model: Beast's chat-multi websocket_session. Everything runs on the
// connection's strand, except OnAnswer (committing thread) and the Subscriber's
// Offer/Tick (hub).
#pragma once

#include <boost/beast/websocket/stream.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/stream_context.h"
#include "server/stream_subscriber.h"
#include "server/ws_ops.h"
#include "server/ws_transport.h"

namespace ctxd::server {

class WsSession : public Subscriber, public Closable {
 public:
  WsSession(StreamSocket socket, StreamContext& context);
  ~WsSession() override;

  // Strand: answers the upgrade `request` (or refuses it with an HTTP error).
  // `early`: what the client sent after the request, read with it.
  void Run(http::request<http::string_body> request, const beast::flat_buffer& early);
  // Any thread: close with 1001 once the ops in flight are answered.
  void Shutdown() override;

 protected:
  OutputQueue& output() override { return ws_.next_layer().output(); }
  void OnStalled() override;
  void OnLogError(const Status& status) override;

 private:
  std::shared_ptr<WsSession> self() { return std::static_pointer_cast<WsSession>(shared_from_this()); }
  void OnAccept(beast::error_code ec, EventFilter filter, uint64_t from);
  void DoRead();
  void OnRead(beast::error_code ec);
  void HandleOp(std::string_view text);
  void CommitDeferredOps();
  void PushMessage(std::string_view payload);
  struct Answer {
    std::string id;  // JSON text
    WsOpKind kind;
    StatusOr<engine::CommandResult> result;
  };
  void OnAnswer(Answer answer);  // committing thread
  void DrainAnswers();
  void OnOutputProgress();
  void MaybeCloseForShutdown();
  void CloseWith(beast::websocket::close_code code, std::string reason);
  void Reject(const HttpResponse& response);
  void Finish();

  const StreamContext context_;  // a copy: the destructor may run after Streams is gone
  beast::websocket::stream<WsTransport> ws_;
  beast::flat_buffer read_buffer_;
  StreamMembership membership_;
  ShutdownGrace grace_;
  size_t in_flight_ = 0;       // ops submitted, answer not yet drained
  bool ops_deferred_ = false;  // submitted deferred since the last CommitDeferredOps
  bool reading_ = false;
  bool read_done_ = false;  // the read side failed or the client closed
  bool closing_ = false;    // our close started
  bool finished_ = false;
  bool read_only_ = false;  // the client's access token may not write (--auth-file)

  std::mutex answers_mu_;
  std::vector<Answer> answers_;   // results not yet rendered; guarded by answers_mu_
  bool answers_posted_ = false;   // guarded by answers_mu_
  std::vector<Answer> draining_;  // strand: swapped with answers_, keeps its capacity
};

}  // namespace ctxd::server
