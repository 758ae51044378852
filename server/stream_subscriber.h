// Subscriber: the part of a stream session (WebSocket, SSE) that follows the
// log — from a start seq, through catch-up from the log, to live events from
// the StreamHub — with no gap and no duplicate.
//
// The cursor is next_seq: every event below it has been handed to the
// output (or skipped by the filter). Live batches from the hub land in a
// bounded inbox (any thread) and then in the live backlog (strand); both
// drop their oldest batches beyond StreamLimits::backlog_*. Pump() moves
// events to the session's OutputQueue while it has room:
//   - live events below next_seq are duplicates and dropped;
//   - the live event at next_seq is delivered (if the filter matches);
//   - a live event above next_seq, or nothing live while next_seq <=
//     published_seq, means events are missing (dropped from the backlog, or
//     committed before the subscription): a page is read from the log on the
//     worker pool, serialized there, and delivered; then Pump goes on.
// A subscriber whose socket is slow therefore stops taking from the
// backlog, then falls back to the log, and never holds anything the hub or
// the writer waits for.
//
// Ownership: the session derives from Subscriber and is held by
// shared_ptr; the hub holds it between Begin() and End().
// Thread safety: Offer and the tick accessors from any thread; the rest on
// the session's strand.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/event_filter.h"
#include "server/stream_hub.h"
#include "server/stream_output.h"

namespace ctxd::server {

class Subscriber : public std::enable_shared_from_this<Subscriber> {
 public:
  Subscriber(StreamHub& hub, Strand strand, StreamFormat format);
  virtual ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  StreamFormat format() const { return format_; }
  // Any thread, once registered with the hub (the filter is constant from
  // Begin on): whether this subscriber takes `event`.
  bool Wants(const engine::Event& event) const { return filter_.Matches(event); }
  // From the hub, any thread: a new batch (must be quick).
  void Offer(const std::shared_ptr<const EventBatch>& batch);
  // From the hub's tick, any thread: returns this subscriber's lag in events
  // behind `published` and checks its socket (stall, heartbeat).
  uint64_t Tick(std::chrono::steady_clock::time_point now, uint64_t published);

 protected:
  // Strand: starts following the log at `next_seq`, registered with the hub.
  void Begin(EventFilter filter, uint64_t next_seq);
  // Strand: unregisters; no more events are pushed. Idempotent.
  void End();
  bool following() const { return following_; }
  uint64_t next_seq() const { return next_seq_.load(std::memory_order_relaxed); }
  // Strand: moves what it can to output(); call after the output drained.
  void Pump();

  virtual OutputQueue& output() = 0;
  // Posted to the strand by Tick: the socket took nothing for
  // StreamLimits::stall_timeout.
  virtual void OnStalled() = 0;
  // Posted to the strand by Tick when nothing was written for the
  // heartbeat interval (SSE comment); default: nothing.
  virtual void OnHeartbeat() {}
  // Strand: the log could not be read.
  virtual void OnLogError(const Status& status) = 0;
  // Whether the session wants heartbeats.
  virtual bool wants_heartbeat() const { return false; }

  StreamHub& hub_;
  const Strand strand_;

 private:
  struct LogPage {
    std::vector<std::pair<uint64_t, std::string>> frames;  // seq, frame
    uint64_t last_seq = 0;                                 // last seq read (matching or not)
    Status status;
  };

  void TakeInbox();
  void TrimBacklog();
  void DeliverLive(const StreamEvent& event, const std::shared_ptr<const EventBatch>& batch);
  void ReadLog();
  bool registered();  // Begin..End; any thread
  void OnLogPage(LogPage page);

  const StreamFormat format_;
  EventFilter filter_;  // strand; constant after Begin

  std::mutex inbox_mu_;
  std::deque<std::shared_ptr<const EventBatch>> inbox_;  // guarded by inbox_mu_
  size_t inbox_events_ = 0;                              // guarded by inbox_mu_
  bool wake_posted_ = false;                             // guarded by inbox_mu_
  bool registered_ = false;                              // guarded by inbox_mu_

  // Strand only.
  std::deque<std::shared_ptr<const EventBatch>> backlog_;
  size_t backlog_index_ = 0;  // next event in backlog_.front()
  size_t backlog_events_ = 0;
  size_t backlog_bytes_ = 0;
  bool following_ = false;
  bool reading_log_ = false;

  std::atomic<uint64_t> next_seq_{1};
  std::atomic<bool> stall_posted_{false};
  std::atomic<bool> heartbeat_posted_{false};
};

}  // namespace ctxd::server
