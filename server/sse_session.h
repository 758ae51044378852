// SseSession: one Server-Sent Events stream on GET /v1/stream (API.md "The
// log"): `id: <seq>`, `event: <type>`, `data: <event json>`, blank line.
//
// The answer has no length and `Connection: close`: the body runs until the
// stream ends, which every EventSource, curl -N and requests(stream=True)
// read as it comes. Start: `Last-Event-ID: N` resumes at N+1 and wins over
// `from`; neither means live only. Events are pre-built SSE frames shared
// with every subscriber (StreamHub), written promptly and many per write
// when several are queued. A comment (": ping") goes out when nothing was
// written for the heartbeat interval, so proxies and clients see a live
// connection. A socket that takes nothing for the stall timeout is closed;
// the client resumes with Last-Event-ID. Shutdown ends the answer once the
// events already committed are out (bounded by the grace time).
//
// Thread safety: the connection's strand, except the Subscriber's
// Offer/Tick (hub).
#pragma once

#include <array>
#include <memory>

#include "server/stream_context.h"
#include "server/stream_subscriber.h"

namespace ctxd::server {

class SseSession : public Subscriber, public Closable {
 public:
  SseSession(StreamSocket socket, StreamContext& context);
  ~SseSession() override;

  // Strand: answers `request` (or refuses it with an HTTP error).
  void Run(const http::request<http::string_body>& request);
  void Shutdown() override;

 protected:
  OutputQueue& output() override { return output_; }
  void OnStalled() override { Finish(); }
  void OnHeartbeat() override;
  void OnLogError(const Status&) override { EndAfterFlush(); }
  bool wants_heartbeat() const override { return true; }

 private:
  std::shared_ptr<SseSession> self() { return std::static_pointer_cast<SseSession>(shared_from_this()); }
  void Reject(const HttpResponse& response);
  void DoRead();
  void OnOutputProgress();
  void MaybeEndForShutdown();
  void EndAfterFlush();
  void Finish();

  const StreamContext context_;  // a copy: the destructor may run after Streams is gone
  StreamSocket socket_;
  OutputQueue output_;
  std::array<char, 512> discard_{};  // what the client sends after the request: ignored
  StreamMembership membership_;
  ShutdownGrace grace_;
  bool ending_ = false;
  bool finished_ = false;
};

}  // namespace ctxd::server
