#include "server/stream_subscriber.h"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

namespace ctxd::server {

Subscriber::Subscriber(StreamHub& hub, Strand strand, StreamFormat format)
    : hub_(hub), strand_(std::move(strand)), format_(format) {}

Subscriber::~Subscriber() = default;

void Subscriber::Begin(EventFilter filter, uint64_t next_seq) {
  filter_ = std::move(filter);
  next_seq_.store(std::max<uint64_t>(next_seq, 1), std::memory_order_relaxed);
  {
    std::lock_guard lock(inbox_mu_);
    registered_ = true;
  }
  following_ = true;
  hub_.Add(shared_from_this());
}

bool Subscriber::registered() {
  std::lock_guard lock(inbox_mu_);
  return registered_;
}

void Subscriber::End() {
  if (!following_) return;
  following_ = false;
  {
    std::lock_guard lock(inbox_mu_);
    registered_ = false;
    inbox_.clear();
    inbox_events_ = 0;
  }
  backlog_.clear();
  backlog_events_ = backlog_bytes_ = backlog_index_ = 0;
  hub_.Remove(this);
}

void Subscriber::Offer(const std::shared_ptr<const EventBatch>& batch) {
  {
    std::lock_guard lock(inbox_mu_);
    if (!registered_) return;
    inbox_.push_back(batch);
    inbox_events_ += batch->events.size();
    // Not drained by the strand (busy, or far behind): keep the newest.
    while (inbox_.size() > 1 && inbox_events_ > hub_.limits().backlog_events) {
      inbox_events_ -= inbox_.front()->events.size();
      inbox_.pop_front();
    }
    if (wake_posted_) return;
    wake_posted_ = true;
  }
  // Runs at once, on the caller's thread, when the strand is idle and the
  // caller is an I/O thread (the hub's flush); otherwise it is queued.
  net::dispatch(strand_, [self = shared_from_this()] {
    {
      std::lock_guard lock(self->inbox_mu_);
      self->wake_posted_ = false;
    }
    self->Pump();
  });
}

void Subscriber::TakeInbox() {
  std::deque<std::shared_ptr<const EventBatch>> taken;
  {
    std::lock_guard lock(inbox_mu_);
    taken.swap(inbox_);
    inbox_events_ = 0;
  }
  for (auto& batch : taken) {
    backlog_events_ += batch->events.size();
    backlog_bytes_ += batch->bytes(format_);
    backlog_.push_back(std::move(batch));
  }
  TrimBacklog();
}

// Beyond its bounds the backlog loses its oldest batches; the gap is read
// back from the log when the socket has room again.
void Subscriber::TrimBacklog() {
  const StreamLimits& limits = hub_.limits();
  while (backlog_.size() > 1 &&
         (backlog_events_ > limits.backlog_events || backlog_bytes_ > limits.backlog_bytes)) {
    const EventBatch& front = *backlog_.front();
    backlog_events_ -= front.events.size();
    backlog_bytes_ -= front.bytes(format_);
    backlog_.pop_front();
    backlog_index_ = 0;
  }
}

void Subscriber::Pump() {
  OutputQueue& out = output();
  const OutputQueue::Corked corked(out);  // one write for everything moved here
  while (following_ && !reading_log_ && out.HasRoom()) {
    if (backlog_.empty()) TakeInbox();
    // Skip what was already delivered.
    while (!backlog_.empty()) {
      const EventBatch& front = *backlog_.front();
      if (backlog_index_ < front.events.size() && front.events[backlog_index_].event->seq >= next_seq()) {
        break;
      }
      if (++backlog_index_ >= front.events.size()) {
        backlog_events_ -= front.events.size();
        backlog_bytes_ -= front.bytes(format_);
        backlog_.pop_front();
        backlog_index_ = 0;
      }
    }
    if (!backlog_.empty()) {
      const StreamEvent& event = backlog_.front()->events[backlog_index_];
      if (event.event->seq != next_seq()) return ReadLog();  // a gap
      DeliverLive(event, backlog_.front());
      continue;
    }
    if (next_seq() <= hub_.published_seq()) return ReadLog();  // before the subscription
    return;                                                    // at the live edge
  }
}

void Subscriber::DeliverLive(const StreamEvent& event, const std::shared_ptr<const EventBatch>& batch) {
  const uint64_t seq = event.event->seq;
  next_seq_.store(seq + 1, std::memory_order_relaxed);
  if (!filter_.Matches(*event.event)) return;
  const std::string_view frame = batch->Frame(format_, event);
  if (frame.empty()) {
    // The flush did not render it in this form (no subscriber of its
    // snapshot took it so): build it here.
    output().PushData(BuildEventFrame(format_, *event.event), seq);
    return;
  }
  // A range of the batch's shared buffer: no copy, and consecutive events
  // extend one range.
  output().PushShared(batch, frame, seq);
}

// One page from next_seq on the worker pool, serialized there.
void Subscriber::ReadLog() {
  reading_log_ = true;
  hub_.workers().Post([self = shared_from_this(), from = next_seq(), filter = filter_] {
    // A client that went away while this waited for a worker: nothing to
    // read for it (thousands of abandoned catch-ups would hold up every
    // read that shares the pool, and shutdown).
    if (!self->registered()) return;
    LogPage page;
    auto events = self->hub_.store().ReadEvents(from, self->hub_.limits().catch_up_page);
    if (!events.ok()) {
      page.status = events.status();
    } else {
      for (const auto& event : *events) {
        page.last_seq = event.seq;
        if (filter.Matches(event)) page.frames.emplace_back(event.seq, BuildEventFrame(self->format_, event));
      }
    }
    net::post(self->strand_, [self, page = std::move(page)]() mutable { self->OnLogPage(std::move(page)); });
  });
}

void Subscriber::OnLogPage(LogPage page) {
  reading_log_ = false;
  if (!following_) return;
  if (!page.status.ok()) {
    spdlog::error("stream catch-up from {} failed: {}", next_seq(), page.status.ToString());
    return OnLogError(page.status);
  }
  if (page.last_seq < next_seq()) return;  // nothing durable there yet: wait for the hub
  const OutputQueue::Corked corked(output());
  for (auto& [seq, frame] : page.frames) output().PushData(std::move(frame), seq);
  next_seq_.store(page.last_seq + 1, std::memory_order_relaxed);
  Pump();
}

uint64_t Subscriber::Tick(std::chrono::steady_clock::time_point now, uint64_t published) {
  const uint64_t next = next_seq();
  const uint64_t lag = published >= next ? published - next + 1 : 0;
  const OutputQueue& out = output();
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  const int64_t stalled_since = out.stalled_since_ns();
  const auto& limits = hub_.limits();
  if (stalled_since != 0 &&
      now_ns - stalled_since >
          std::chrono::duration_cast<std::chrono::nanoseconds>(limits.stall_timeout).count() &&
      !stall_posted_.exchange(true)) {
    net::post(strand_, [self = shared_from_this()] { self->OnStalled(); });
  }
  if (wants_heartbeat() && stalled_since == 0 &&
      now_ns - out.last_write_ns() >
          std::chrono::duration_cast<std::chrono::nanoseconds>(limits.sse_heartbeat).count() &&
      !heartbeat_posted_.exchange(true)) {
    net::post(strand_, [self = shared_from_this()] {
      self->heartbeat_posted_ = false;
      self->OnHeartbeat();
    });
  }
  return lag;
}

}  // namespace ctxd::server
