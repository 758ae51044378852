#include "server/stream_hub.h"

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include "engine/event_json.h"
#include "server/stream_subscriber.h"

namespace ctxd::server {
namespace {

constexpr std::string_view kWsEventPrefix = "{\"op\":\"event\",\"event\":";

void AppendWsEventFrame(std::string* out, const std::string& json) {
  const size_t payload = kWsEventPrefix.size() + json.size() + 1;
  AppendWsFrameHeader(out, payload);
  out->append(kWsEventPrefix);
  out->append(json);
  out->push_back('}');
}

// The event JSON is one line: values are canonical JSON, which escapes
// control characters inside strings.
void AppendSseEventFrame(std::string* out, const engine::Event& event, const std::string& json) {
  out->append("id: ");
  out->append(std::to_string(event.seq));
  out->append("\nevent: ");
  out->append(engine::EventTypeName(event.type));
  out->append("\ndata: ");
  out->append(json);
  out->append("\n\n");
}

}  // namespace

void AppendWsFrameHeader(std::string* out, size_t payload_size) {
  out->push_back(static_cast<char>(0x81));  // FIN, text
  if (payload_size < 126) {
    out->push_back(static_cast<char>(payload_size));
  } else if (payload_size <= 0xFFFF) {
    out->push_back(static_cast<char>(126));
    out->push_back(static_cast<char>(payload_size >> 8));
    out->push_back(static_cast<char>(payload_size & 0xFF));
  } else {
    out->push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out->push_back(static_cast<char>((payload_size >> shift) & 0xFF));
  }
}

std::string WsTextFrame(std::string_view payload) {
  std::string frame;
  frame.reserve(payload.size() + 10);
  AppendWsFrameHeader(&frame, payload.size());
  frame.append(payload);
  return frame;
}

namespace {

// Appends `event` to `batch`, rendered in the forms `forms` names.
void RenderInto(EventBatch& batch, const engine::Event& event, WantedForms forms) {
  StreamEvent& out = batch.events.emplace_back();
  out.event = &event;
  const bool ws = forms[static_cast<int>(StreamFormat::kWebSocket)];
  const bool sse = forms[static_cast<int>(StreamFormat::kSse)];
  if (!ws && !sse) return;
  const std::string json = engine::EventToJson(event);
  if (ws) {
    out.ws_begin = batch.ws.size();
    AppendWsEventFrame(&batch.ws, json);
    out.ws_size = batch.ws.size() - out.ws_begin;
  }
  if (sse) {
    out.sse_begin = batch.sse.size();
    AppendSseEventFrame(&batch.sse, event, json);
    out.sse_size = batch.sse.size() - out.sse_begin;
  }
}

}  // namespace

std::shared_ptr<const EventBatch> RenderEventBatch(
    std::vector<store::Store::CommittedEvents> sources,
    const std::function<WantedForms(const engine::Event&)>& wanted) {
  auto batch = std::make_shared<EventBatch>();
  batch->sources = std::move(sources);
  size_t count = 0;
  for (const auto& source : batch->sources) count += source->size();
  batch->events.reserve(count);
  for (const auto& source : batch->sources) {
    for (const engine::Event& event : *source) RenderInto(*batch, event, wanted(event));
  }
  return batch;
}

std::string BuildEventFrame(StreamFormat format, const engine::Event& event) {
  const std::string json = engine::EventToJson(event);
  std::string frame;
  frame.reserve(json.size() + 64);
  if (format == StreamFormat::kWebSocket) {
    AppendWsEventFrame(&frame, json);
  } else {
    AppendSseEventFrame(&frame, event, json);
  }
  return frame;
}

StreamHub::StreamHub(store::Store& store, Workers& workers, Metrics& metrics, net::io_context& ioc,
                     StreamLimits limits)
    : store_(store),
      workers_(workers),
      metrics_(metrics),
      limits_(limits),
      strand_(net::make_strand(ioc)),
      flush_timer_(strand_),
      tick_timer_(strand_) {
  published_.store(store.durable_seq());
}

StreamHub::~StreamHub() = default;

void StreamHub::OnCommit(const store::Store::CommittedEvents& events) {
  if (events->empty()) return;
  std::lock_guard lock(pending_mu_);
  if (subscriber_count_ == 0) return Publish(events->back().seq);
  pending_.push_back(events);
  if (flush_posted_) return;
  flush_posted_ = true;
  net::post(strand_, [this] { ScheduleFlush(); });
}

void StreamHub::Publish(uint64_t seq) {
  if (seq > published_.load(std::memory_order_relaxed)) published_.store(seq, std::memory_order_release);
}

uint64_t StreamHub::Add(const std::shared_ptr<Subscriber>& subscriber) {
  std::lock_guard lock(subscribers_mu_);
  subscribers_.push_back(subscriber);
  std::lock_guard pending_lock(pending_mu_);
  ++subscriber_count_;
  metrics_.SetSubscribers(static_cast<int64_t>(subscriber_count_));
  return published_.load(std::memory_order_acquire);
}

void StreamHub::Remove(const Subscriber* subscriber) {
  std::shared_ptr<Subscriber> removed;  // released outside the locks
  std::lock_guard lock(subscribers_mu_);
  auto it = std::find_if(subscribers_.begin(), subscribers_.end(),
                         [subscriber](const auto& s) { return s.get() == subscriber; });
  if (it == subscribers_.end()) return;
  removed = std::move(*it);
  *it = std::move(subscribers_.back());
  subscribers_.pop_back();
  std::lock_guard pending_lock(pending_mu_);
  --subscriber_count_;
  metrics_.SetSubscribers(static_cast<int64_t>(subscriber_count_));
}

// Strand. A flush right away when the last one is long enough ago, else at
// the end of the coalescing interval: events committed meanwhile join it.
void StreamHub::ScheduleFlush() {
  if (flushing_) return;  // OnFlushDone schedules the next one
  size_t subscribers = 0;
  {
    std::lock_guard lock(pending_mu_);
    subscribers = subscriber_count_;
  }
  const auto interval = std::min<std::chrono::microseconds>(limits_.coalesce_max,
                                                            limits_.coalesce_per_subscriber * subscribers);
  const auto due = last_flush_ + interval;
  if (std::chrono::steady_clock::now() >= due) return Flush();
  flush_timer_.expires_at(due);
  flush_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Flush();
  });
}

// Strand: serialize each event once, offer the batch to every subscriber.
void StreamHub::Flush() {
  last_flush_ = std::chrono::steady_clock::now();
  std::vector<store::Store::CommittedEvents> commits;
  {
    std::lock_guard lock(pending_mu_);
    commits.swap(pending_);
    flush_posted_ = false;
  }
  if (commits.empty()) return;
  // Publish first, then offer outside the lock: a subscriber added from now
  // on reads this batch from the log; one in the snapshot gets it offered.
  auto snapshot = std::make_shared<std::vector<std::shared_ptr<Subscriber>>>();
  {
    std::lock_guard lock(subscribers_mu_);
    *snapshot = subscribers_;
    std::lock_guard pending_lock(pending_mu_);
    Publish(commits.back()->back().seq);
  }
  WantedForms present = {false, false};
  for (const auto& subscriber : *snapshot) present[static_cast<int>(subscriber->format())] = true;
  std::shared_ptr<const EventBatch> shared =
      RenderEventBatch(std::move(commits), [&subscribers = *snapshot, present](const engine::Event& event) {
        // Stops at the first taker of each form the subscribers use: with
        // unfiltered subscribers, one look per event.
        WantedForms wanted = {false, false};
        for (const auto& subscriber : subscribers) {
          bool& form_wanted = wanted[static_cast<int>(subscriber->format())];
          form_wanted = form_wanted || subscriber->Wants(event);
          if (wanted == present) break;
        }
        return wanted;
      });
  // Offers run each subscriber's delivery on the spot when its strand is
  // idle (Subscriber::Offer): a thread writes to one socket after another,
  // without a post and a wake-up per subscriber. The subscribers are split
  // among the I/O threads; the next flush starts when every part is done,
  // so batches reach each subscriber in order.
  const size_t parts = std::clamp<size_t>(snapshot->size() / 64, 1, limits_.fanout_threads);
  flushing_ = true;
  parts_left_.store(parts, std::memory_order_relaxed);
  for (size_t part = 1; part < parts; ++part) {
    net::post(strand_.get_inner_executor(),
              [this, snapshot, shared, part, parts] { OfferPart(*snapshot, shared, part, parts); });
  }
  OfferPart(*snapshot, shared, 0, parts);
}

void StreamHub::OfferPart(const std::vector<std::shared_ptr<Subscriber>>& subscribers,
                          const std::shared_ptr<const EventBatch>& batch, size_t part, size_t parts) {
  const size_t begin = subscribers.size() * part / parts;
  const size_t end = subscribers.size() * (part + 1) / parts;
  for (size_t i = begin; i < end; ++i) subscribers[i]->Offer(batch);
  if (parts_left_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    net::post(strand_, [this] {
      flushing_ = false;
      ScheduleFlush();
    });
  }
}

void StreamHub::Start() {
  net::post(strand_, [this] { Tick(); });
}

// Strand, once a second.
void StreamHub::Tick() {
  const auto now = std::chrono::steady_clock::now();
  const uint64_t published = published_seq();
  uint64_t worst = 0;
  {
    std::lock_guard lock(subscribers_mu_);
    for (const auto& subscriber : subscribers_) worst = std::max(worst, subscriber->Tick(now, published));
  }
  metrics_.SetSubscriberLag(static_cast<int64_t>(worst));
  tick_timer_.expires_after(std::chrono::seconds(1));
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Tick();
  });
}

}  // namespace ctxd::server
