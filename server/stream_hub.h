// StreamHub: hands committed events to every live stream subscriber
// (WebSocket /v1/ws, SSE /v1/stream), DESIGN.md "Reads and streams".
//
// Fed by one store commit listener, which runs on the store's committing thread
// and only appends the batch's events to a pending list (one short lock)
// and posts one flush. The flush runs on the hub's strand (an I/O thread):
// it serializes each event ONCE into the wire forms its subscribers need (a
// WebSocket frame, SSE lines) and hands the same immutable batch to every
// subscriber (Subscriber::Offer: a push to its bounded inbox and at most one
// post to its strand). Flushes are spaced by a coalescing interval that
// grows with the number of subscribers (StreamLimits), so a high event rate
// reaches each subscriber as a few large batches rather than one wake-up
// and one write per event. Nothing a subscriber does reaches the writer.
//
// Ordering: batches are offered in seq order. published_seq() is the last
// seq offered; every event after it will be offered to every subscriber
// registered now, so a subscriber that starts at or below it reads the
// difference from the log (see Subscriber).
//
// A tick once a second updates the subscriber gauges (count, worst lag in
// events) and lets each subscriber check for a stalled socket and its
// heartbeat.
//
// Ownership: owned by the server's Streams; outlives every session (the
// sessions unregister themselves). Thread safety: all public methods are
// safe from any thread.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/event.h"
#include "server/metrics.h"
#include "server/workers.h"
#include "store/store.h"

namespace ctxd::server {

namespace net = boost::asio;

class Subscriber;

enum class StreamFormat { kWebSocket, kSse };

// One committed event; its wire forms are ranges of its batch's buffers.
struct StreamEvent {
  const engine::Event* event = nullptr;  // what the filters look at; in EventBatch::sources
  size_t ws_begin = 0, ws_size = 0;      // in EventBatch::ws; size 0: not built
  size_t sse_begin = 0, sse_size = 0;    // in EventBatch::sse
};

// The events of one flush with their wire forms, built once for all
// subscribers and laid out back to back, so that a subscriber that takes a
// run of consecutive events writes one range of one shared buffer.
struct EventBatch {
  std::vector<store::Store::CommittedEvents> sources;  // the store's, shared, not copied
  std::vector<StreamEvent> events;
  std::string ws;   // WebSocket text frames {"op":"event","event":...}
  std::string sse;  // "id: N\nevent: TYPE\ndata: JSON\n\n"

  std::string_view Frame(StreamFormat format, const StreamEvent& event) const {
    return format == StreamFormat::kWebSocket ? std::string_view(ws).substr(event.ws_begin, event.ws_size)
                                              : std::string_view(sse).substr(event.sse_begin, event.sse_size);
  }
  size_t bytes(StreamFormat format) const {
    return format == StreamFormat::kWebSocket ? ws.size() : sse.size();
  }
};

// Which wire forms an event is wanted in, indexed by StreamFormat.
using WantedForms = std::array<bool, 2>;
// A batch of the events of `sources` with each event rendered in the forms
// `wanted` names for it, and in no other: an event no subscriber takes is
// not serialized.
std::shared_ptr<const EventBatch> RenderEventBatch(
    std::vector<store::Store::CommittedEvents> sources,
    const std::function<WantedForms(const engine::Event&)>& wanted);
// The wire form of one event for `format` (catch-up, and events a flush did
// not render in that form: no subscriber of its snapshot took them so).
std::string BuildEventFrame(StreamFormat format, const engine::Event& event);
// A complete unmasked WebSocket text frame around `payload`.
std::string WsTextFrame(std::string_view payload);
void AppendWsFrameHeader(std::string* out, size_t payload_size);

struct StreamLimits {
  // Live events a subscriber may hold beyond what its socket has taken;
  // older ones are dropped and read back from the log.
  size_t backlog_events = 16384;
  size_t backlog_bytes = 16 * 1024 * 1024;
  size_t catch_up_page = 512;  // events per log read
  // Flush spacing: per subscriber, at most `coalesce_max`.
  std::chrono::microseconds coalesce_per_subscriber{20};
  std::chrono::microseconds coalesce_max{20000};
  // Threads a flush's offers are spread over (the I/O threads).
  size_t fanout_threads = 2;
  // A subscriber whose socket takes nothing for this long is closed.
  std::chrono::milliseconds stall_timeout{10000};
  std::chrono::seconds sse_heartbeat{15};
};

class StreamHub {
 public:
  StreamHub(store::Store& store, Workers& workers, Metrics& metrics, net::io_context& ioc,
            StreamLimits limits);
  ~StreamHub();
  StreamHub(const StreamHub&) = delete;
  StreamHub& operator=(const StreamHub&) = delete;

  // The store's commit listener (committing thread).
  void OnCommit(const store::Store::CommittedEvents& events);

  // Registers `subscriber`; returns published_seq() as of registration.
  uint64_t Add(const std::shared_ptr<Subscriber>& subscriber);
  void Remove(const Subscriber* subscriber);
  uint64_t published_seq() const { return published_.load(std::memory_order_acquire); }

  // Starts the tick (once; it runs until the io_context stops).
  void Start();

  store::Store& store() { return store_; }
  Workers& workers() { return workers_; }
  const StreamLimits& limits() const { return limits_; }

 private:
  void ScheduleFlush();
  void Flush();
  void OfferPart(const std::vector<std::shared_ptr<Subscriber>>& subscribers,
                 const std::shared_ptr<const EventBatch>& batch, size_t part, size_t parts);
  void Tick();
  void Publish(uint64_t seq);  // under pending_mu_

  store::Store& store_;
  Workers& workers_;
  Metrics& metrics_;
  const StreamLimits limits_;
  net::strand<net::io_context::executor_type> strand_;
  net::steady_timer flush_timer_;                     // strand
  net::steady_timer tick_timer_;                      // strand
  std::chrono::steady_clock::time_point last_flush_;  // strand
  bool flushing_ = false;                             // strand: a flush's offers are under way
  std::atomic<size_t> parts_left_{0};                 // of the flush under way

  // Lock order: subscribers_mu_, then pending_mu_. The committing thread takes
  // only pending_mu_.
  std::mutex subscribers_mu_;
  std::vector<std::shared_ptr<Subscriber>> subscribers_;  // guarded by subscribers_mu_

  std::mutex pending_mu_;
  std::vector<store::Store::CommittedEvents> pending_;  // guarded by pending_mu_
  bool flush_posted_ = false;                           // guarded by pending_mu_
  size_t subscriber_count_ = 0;         // guarded by pending_mu_ (and subscribers_mu_ to change)
  std::atomic<uint64_t> published_{0};  // written under pending_mu_
};

}  // namespace ctxd::server
