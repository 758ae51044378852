// OutputQueue: what a stream connection (WebSocket, SSE) still has to write,
// written to its socket in order with one gather write in flight.
//
// Live events arrive as ranges of shared immutable buffers, built once for
// every subscriber (StreamHub); consecutive ranges of one buffer merge into
// one, so a subscriber usually writes a whole flush of events from one
// buffer without copying it. Acks, control frames and catch-up pages are
// owned strings, merged the same way. One write takes up to kMaxGather
// buffers: a subscriber that is behind gets many events per syscall.
//
// Data (events, acks) can be sealed: after Seal() data pushes are dropped
// while control pushes (a WebSocket close or pong) still go out. Each event
// buffer remembers its seq, so a connection closed as too slow can tell the
// client where to resume (DiscardUnsent).
//
// Ownership: a member of its session, next to the socket it writes to. A
// write in flight holds the session alive through the owner set by
// SetOwner (a weak_ptr that is locked when the write starts).
// Thread safety: all methods on the connection's strand, except the
// stall/idle accessors, which are atomics read by the hub's tick.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/connection.h"

namespace ctxd::server {

using StreamSocket = net::basic_stream_socket<net::ip::tcp, Strand>;

struct OutputLimits {
  size_t max_bytes = 512 * 1024;  // queued and unsent; above it HasRoom() is false
  size_t max_buffers = 4096;
};

class OutputQueue {
 public:
  // Cork() for the life of a scope.
  class Corked {
   public:
    explicit Corked(OutputQueue& queue) : queue_(queue) { queue_.Cork(); }
    ~Corked() { queue_.Uncork(); }
    Corked(const Corked&) = delete;
    Corked& operator=(const Corked&) = delete;

   private:
    OutputQueue& queue_;
  };

  static constexpr size_t kMaxGather = 64;  // asio passes at most 64 iovecs per writev

  OutputQueue(StreamSocket& socket, OutputLimits limits) : socket_(socket), limits_(limits) {}
  OutputQueue(const OutputQueue&) = delete;
  OutputQueue& operator=(const OutputQueue&) = delete;

  // `owner` is kept alive by each write in flight; `on_progress` runs on the
  // strand after each completed write (more room), and after a failure.
  void SetOwner(std::weak_ptr<void> owner, std::function<void()> on_progress);

  // `data` inside a buffer that `owner` keeps alive: a live event (seq > 0).
  void PushShared(std::shared_ptr<const void> owner, std::string_view data, uint64_t seq);
  // An event frame (seq > 0) or another message (seq 0).
  void PushData(std::string buffer, uint64_t seq = 0);
  // Between Cork() and Uncork() pushes only queue; Uncork writes them
  // together (a subscriber moving many events at once).
  void Cork() { ++corked_; }
  void Uncork() {
    if (--corked_ == 0) StartWrite();
  }
  // Written even after Seal(): protocol frames that must precede the close.
  void PushControl(std::string buffer);
  // Data pushed from now on is dropped.
  void Seal() { sealed_ = true; }
  bool sealed() const { return sealed_; }

  // Room for more data under the limits (and no failure).
  bool HasRoom() const {
    return !failed() && bytes_ < limits_.max_bytes && segments_.size() < limits_.max_buffers;
  }
  size_t bytes() const { return bytes_; }
  bool empty() const { return segments_.empty(); }
  bool failed() const { return static_cast<bool>(error_); }

  // Drops every buffer that no write has started on; returns the smallest
  // event seq among them (0 when none was an event).
  uint64_t DiscardUnsent();
  // Calls `done` once everything pushed so far is written (or the socket failed).
  void Flush(std::function<void(beast::error_code)> done);

  // For the hub's tick, from any thread: since when the queue has had data
  // that the socket did not take (0 = it is empty), and when the last byte
  // was written (steady clock, nanoseconds).
  int64_t stalled_since_ns() const { return stalled_since_ns_.load(std::memory_order_relaxed); }
  int64_t last_write_ns() const { return last_write_ns_.load(std::memory_order_relaxed); }

 private:
  struct Segment {
    std::shared_ptr<const void> owner;  // set: `view` is in a shared buffer
    std::string_view view;
    std::string owned;
    uint64_t seq = 0;  // the first event in it, 0 when none
    std::string_view data() const { return owner ? view : std::string_view(owned); }
  };

  void Push(Segment segment);
  size_t Gather();  // fills gather_ from the front; returns the segment count
  void StartWrite();
  void OnWrite(beast::error_code ec, size_t written);
  void Consume(size_t written);
  void Fail(beast::error_code ec);
  void NotifyFlushed();
  static int64_t NowNs();

  StreamSocket& socket_;
  const OutputLimits limits_;
  std::weak_ptr<void> owner_;
  std::function<void()> on_progress_;
  std::deque<Segment> segments_;
  size_t front_offset_ = 0;  // bytes of the front segment already written
  size_t in_flight_ = 0;     // segments (from the front) the write in flight covers
  size_t bytes_ = 0;         // unsent bytes
  bool writing_ = false;
  bool sealed_ = false;
  int corked_ = 0;
  beast::error_code error_;
  std::vector<net::const_buffer> gather_;
  std::vector<std::function<void(beast::error_code)>> flush_waiters_;
  std::atomic<int64_t> stalled_since_ns_{0};
  std::atomic<int64_t> last_write_ns_{0};
};

}  // namespace ctxd::server
