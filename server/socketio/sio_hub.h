// SioHub: the Socket.IO side of the committed-event stream, and the
// namespaces' membership (docs/server.md "Socket.IO").
//
// Like StreamHub, it is fed by one store commit listener that only appends
// the batch's events to a pending list and posts one flush. The flush runs
// on the hub's strand: it maps each event to its Socket.IO events
// (event_map.h) and builds each one ONCE as a Frame (a WebSocket text frame
// whose tail is the Engine.IO packet for long-polling), then hands each
// member of the namespace (or /graph room) the frames meant for it in one
// Offer. Members (FrameSink, the Engine.IO sessions) queue them on their own
// strand; nothing a member does reaches the writer.
//
// Ordering: batches are offered in seq order. Join() returns
// published_seq() under the membership lock: a member gets every event
// after it, and reads anything before it from the log (Replay).
//
// Ownership: owned by SocketIo (server.cc); outlives the sessions, which
// Leave before they go. Thread safety: every public method is safe from any
// thread.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/event.h"
#include "server/metrics.h"
#include "server/socketio/event_map.h"
#include "server/workers.h"
#include "store/store.h"

namespace ctxd::server::socketio {

namespace net = boost::asio;

class FrameSink;

// One Socket.IO event on the wire, shared by every socket it goes to.
struct Frame {
  std::string bytes;  // an unmasked WebSocket text frame: header, then the packet
  size_t header = 0;
  uint64_t seq = 0;                   // the event's seq; 0 for events outside the log
  const FrameSink* except = nullptr;  // a context_set's sender gets a confirmation instead
  std::string_view packet() const { return std::string_view(bytes).substr(header); }
};
using FramePtr = std::shared_ptr<const Frame>;
std::shared_ptr<Frame> MakeFrame(std::string packet, uint64_t seq = 0);

// A member of the namespaces: an Engine.IO session.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // Any thread, quick: frames for the session's socket in `nsp`, in order.
  virtual void Offer(Nsp nsp, std::vector<FramePtr> frames) = 0;
};

class SioHub {
 public:
  SioHub(store::Store& store, Workers& workers, Metrics& metrics, net::io_context& ioc);
  SioHub(const SioHub&) = delete;
  SioHub& operator=(const SioHub&) = delete;

  // The store's commit listener (committing thread).
  void OnCommit(const std::vector<engine::Event>& events);

  // Adds `sink` to `nsp` (room `room` in /graph); returns published_seq().
  uint64_t Join(const std::shared_ptr<FrameSink>& sink, Nsp nsp, const std::string& room);
  void Leave(const FrameSink* sink, Nsp nsp, const std::string& room);
  // Sends `packet` (outside the log) to `nsp` (room `room` in /graph).
  void Broadcast(Nsp nsp, const std::string& room, std::string packet);
  int64_t RoomSize(const std::string& room) const;
  int64_t NamespaceSize(Nsp nsp) const;
  uint64_t published_seq() const { return published_.load(std::memory_order_acquire); }

  // A context_set of `sink` with this command id: its context_updated
  // skips `sink`. Forget when the set failed.
  void ExpectOwnSet(const std::string& command_id, const FrameSink* sink);
  void ForgetOwnSet(const std::string& command_id);

  // On the worker pool: the packets for `nsp`/`room` of the events from
  // `from` on, up to `to`, a page of whole events: it ends before the event
  // that would take it past `max_packets` or `max_bytes` (the first event
  // goes in whatever it holds). `last_seq` is the last event read: the next
  // page starts after it; `to` once all were.
  struct ReplayPage {
    std::vector<std::string> packets;
    uint64_t last_seq = 0;
  };
  using ReplayDone = std::function<void(StatusOr<ReplayPage> page)>;
  void Replay(Nsp nsp, const std::string& room, uint64_t from, uint64_t to, size_t max_packets,
              size_t max_bytes, ReplayDone done);

  store::Store& store() { return store_; }
  Workers& workers() { return workers_; }

 private:
  struct Member {
    std::shared_ptr<FrameSink> sink;
    std::string room;
  };
  void Flush();
  void Deliver(const std::vector<engine::Event>& events);
  MapLookup Lookup() const;
  void UpdateGauges();  // under mu_

  store::Store& store_;
  Workers& workers_;
  Metrics& metrics_;
  net::strand<net::io_context::executor_type> strand_;

  mutable std::mutex mu_;
  std::vector<Member> members_[2];                              // by Nsp; guarded by mu_
  std::map<std::string, int64_t> room_sizes_;                   // guarded by mu_
  std::unordered_map<std::string, const FrameSink*> own_sets_;  // guarded by mu_

  std::mutex pending_mu_;
  // Lock order: mu_, then pending_mu_. The committing thread takes only pending_mu_.
  std::vector<engine::Event> pending_;  // guarded by pending_mu_
  bool flush_posted_ = false;           // a Flush is posted, or a batch is mapped off the strand; pending_mu_
  size_t member_count_ = 0;             // guarded by pending_mu_ (and mu_ to change)
  std::atomic<uint64_t> published_{0};  // written under pending_mu_
};

}  // namespace ctxd::server::socketio
