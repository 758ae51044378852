#include "server/stream_output.h"

#include <algorithm>
#include <boost/asio/post.hpp>

namespace ctxd::server {
namespace {

// Owned buffers merge into the tail up to this size.
constexpr size_t kTailCapacity = 64 * 1024;

}  // namespace

int64_t OutputQueue::NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void OutputQueue::SetOwner(std::weak_ptr<void> owner, std::function<void()> on_progress) {
  owner_ = std::move(owner);
  on_progress_ = std::move(on_progress);
  beast::error_code ec;
  socket_.non_blocking(true, ec);  // StartWrite's first try must not block
  last_write_ns_.store(NowNs(), std::memory_order_relaxed);
}

void OutputQueue::PushShared(std::shared_ptr<const void> owner, std::string_view data, uint64_t seq) {
  if (sealed_ || failed() || data.empty()) return;
  // The range that follows the tail's in the same buffer extends it.
  if (segments_.size() > in_flight_) {
    Segment& tail = segments_.back();
    if (tail.owner == owner && tail.view.data() + tail.view.size() == data.data()) {
      tail.view = std::string_view(tail.view.data(), tail.view.size() + data.size());
      if (tail.seq == 0) tail.seq = seq;
      bytes_ += data.size();
      return StartWrite();
    }
  }
  Push({std::move(owner), data, {}, seq});
}

void OutputQueue::PushData(std::string buffer, uint64_t seq) {
  if (sealed_ || failed()) return;
  Push({nullptr, {}, std::move(buffer), seq});
}

void OutputQueue::PushControl(std::string buffer) {
  if (failed()) return;
  Push({nullptr, {}, std::move(buffer), 0});
}

void OutputQueue::Push(Segment segment) {
  const size_t size = segment.data().size();
  if (size == 0) return;
  bytes_ += size;
  if (segments_.empty()) stalled_since_ns_.store(NowNs(), std::memory_order_relaxed);
  // Append to the tail when it is an owned buffer no write has started on.
  if (!segment.owner && segments_.size() > in_flight_) {
    Segment& tail = segments_.back();
    if (!tail.owner && tail.owned.size() + size <= kTailCapacity) {
      if (tail.seq == 0) tail.seq = segment.seq;
      tail.owned.append(segment.owned);
      return StartWrite();
    }
  }
  segments_.push_back(std::move(segment));
  StartWrite();
}

size_t OutputQueue::Gather() {
  gather_.clear();
  const size_t count = std::min(segments_.size(), kMaxGather);
  for (size_t i = 0; i < count; ++i) {
    std::string_view data = segments_[i].data();
    if (i == 0) data.remove_prefix(front_offset_);
    gather_.emplace_back(data.data(), data.size());
  }
  return count;
}

// Writes at once what the socket takes (non-blocking): usually all of it,
// without a completion handler. The rest waits for the socket in one
// asynchronous write. Called from the strand code that pushed, so it never
// calls back into the session synchronously: failures and flush waiters
// are posted.
void OutputQueue::StartWrite() {
  if (writing_ || corked_ > 0 || failed() || segments_.empty()) return;
  auto owner = owner_.lock();
  if (!owner) return;
  Gather();
  beast::error_code ec;
  const size_t written = socket_.write_some(gather_, ec);
  if (ec && ec != net::error::would_block && ec != net::error::try_again) {
    Fail(ec);
    net::post(socket_.get_executor(), [this, owner] {
      NotifyFlushed();
      if (on_progress_) on_progress_();
    });
    return;
  }
  Consume(written);
  if (segments_.empty()) {
    if (!flush_waiters_.empty()) {
      net::post(socket_.get_executor(), [this, owner] {
        if (segments_.empty()) NotifyFlushed();
      });
    }
    return;
  }
  in_flight_ = Gather();
  writing_ = true;
  socket_.async_write_some(
      gather_, [this, owner = std::move(owner)](beast::error_code ec2, size_t n) { OnWrite(ec2, n); });
}

void OutputQueue::OnWrite(beast::error_code ec, size_t written) {
  writing_ = false;
  in_flight_ = 0;
  if (ec) {
    Fail(ec);
    NotifyFlushed();
    if (on_progress_) on_progress_();
    return;
  }
  Consume(written);
  if (segments_.empty()) {
    NotifyFlushed();
  } else {
    StartWrite();
  }
  if (on_progress_) on_progress_();
}

void OutputQueue::Consume(size_t written) {
  if (written == 0) return;
  bytes_ -= written;
  while (written > 0) {
    const size_t left = segments_.front().data().size() - front_offset_;
    if (written < left) {
      front_offset_ += written;
      break;
    }
    written -= left;
    front_offset_ = 0;
    segments_.pop_front();
  }
  const int64_t now = NowNs();
  last_write_ns_.store(now, std::memory_order_relaxed);
  stalled_since_ns_.store(segments_.empty() ? 0 : now, std::memory_order_relaxed);
}

void OutputQueue::Fail(beast::error_code ec) {
  error_ = ec;
  segments_.clear();
  front_offset_ = 0;
  bytes_ = 0;
  in_flight_ = 0;
  stalled_since_ns_.store(0, std::memory_order_relaxed);
}

uint64_t OutputQueue::DiscardUnsent() {
  // The front segment is kept when a write started on it (in flight or
  // partly written): a frame is never cut.
  const size_t keep = std::max<size_t>(in_flight_, front_offset_ > 0 ? 1 : 0);
  uint64_t first_seq = 0;
  while (segments_.size() > keep) {
    const Segment& segment = segments_.back();
    if (segment.seq != 0) first_seq = segment.seq;
    bytes_ -= segment.data().size();
    segments_.pop_back();
  }
  return first_seq;
}

void OutputQueue::Flush(std::function<void(beast::error_code)> done) {
  if (failed() || segments_.empty()) return done(error_);
  flush_waiters_.push_back(std::move(done));
}

void OutputQueue::NotifyFlushed() {
  auto waiters = std::move(flush_waiters_);
  flush_waiters_.clear();
  for (auto& waiter : waiters) waiter(error_);
}

}  // namespace ctxd::server
