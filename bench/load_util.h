// What the load drivers (http_load, ws_load, watch_load) share: the clock and
// deadlines, the target address, one io_context per thread, a latency
// histogram, and the report of a coroutine that threw.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ctxd::bench {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

// `seconds` after `from`.
inline Clock::time_point After(Clock::time_point from, double seconds) {
  return from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// The steady clock in microseconds: latencies between the driver's own
// time stamps, taken on any of its threads.
inline int64_t SteadyNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count();
}

// Wall-clock microseconds since the epoch: comparable with the `ts` that
// ctxd writes into its events.
inline int64_t WallNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// HOST:PORT with HOST an IP address; throws on anything else.
inline net::ip::tcp::endpoint ParseTarget(const std::string& target) {
  const size_t colon = target.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("--target must be HOST:PORT");
  return {net::ip::make_address(target.substr(0, colon)),
          static_cast<uint16_t>(std::stoi(target.substr(colon + 1)))};
}

// Thousands of connections need more descriptors than the default soft limit.
inline void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// Polls `done` every 5 ms for up to `seconds`; its last answer.
inline bool WaitFor(const std::function<bool()>& done, double seconds) {
  const auto deadline = After(Clock::now(), seconds);
  while (!done() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return done();
}

// A co_spawn completion handler: a coroutine that threw is counted in
// `failed` and what it threw is printed after `who`.
template <typename Counter>
auto CountFailure(Counter& failed, const char* who) {
  return [&failed, who](std::exception_ptr e) {
    if (!e) return;
    ++failed;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "%s: %s\n", who, ex.what());
    }
  };
}

// Runs one io_context per thread; joins them on destruction.
class Runners {
 public:
  explicit Runners(int threads) {
    for (int t = 0; t < std::max(1, threads); ++t) {
      iocs_.push_back(std::make_unique<net::io_context>(1));
      guards_.emplace_back(iocs_.back()->get_executor());
    }
  }
  ~Runners() { Join(); }
  void Start() {
    for (auto& ioc : iocs_) threads_.emplace_back([&ioc] { ioc->run(); });
  }
  void Join() {
    for (auto& ioc : iocs_) ioc->stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  net::io_context& at(size_t i) { return *iocs_[i % iocs_.size()]; }
  size_t size() const { return iocs_.size(); }

 private:
  std::vector<std::unique_ptr<net::io_context>> iocs_;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
};

// Latency histogram: 10 µs buckets up to 10 s; cheap to merge. Optionally a
// timeline: per second of the sample's time, the count, how many took over
// 50 ms, and the worst.
class Histogram {
 public:
  struct Second {
    uint64_t count = 0;
    uint64_t over_50ms = 0;
    double max = 0;
  };

  Histogram() : buckets_(kBuckets, 0) {}
  void Add(double micros) {
    const auto index = static_cast<size_t>(std::max(0.0, micros) / kWidthUs);
    ++buckets_[std::min(index, kBuckets - 1)];
    ++count_;
    max_ = std::max(max_, micros);
  }
  void AddToTimeline(int64_t ts_us, double micros) {
    const int64_t second = ts_us / 1000000;
    if (timeline_.empty()) first_second_ = second;
    if (second < first_second_) return;
    const auto index = static_cast<size_t>(second - first_second_);
    if (index >= kMaxSeconds) return;
    if (index >= timeline_.size()) timeline_.resize(index + 1);
    timeline_[index].count++;
    timeline_[index].max = std::max(timeline_[index].max, micros);
    if (micros > 50000) timeline_[index].over_50ms++;
  }
  void Merge(const Histogram& other) {
    MergeTimeline(other);
    for (size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
    count_ += other.count_;
    max_ = std::max(max_, other.max_);
  }
  // The p-th quantile (0..1) in µs: the middle of its bucket.
  double Percentile(double p) const {
    if (count_ == 0) return 0;
    const auto want = static_cast<uint64_t>(p * static_cast<double>(count_));
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += buckets_[i];
      if (seen > want) return (static_cast<double>(i) + 0.5) * kWidthUs;
    }
    return max_;
  }
  uint64_t count() const { return count_; }
  double max() const { return max_; }
  const std::vector<Second>& timeline() const { return timeline_; }

 private:
  static constexpr size_t kBuckets = 1000000;
  static constexpr double kWidthUs = 10;
  static constexpr size_t kMaxSeconds = 3600;

  void MergeTimeline(const Histogram& other) {
    if (other.timeline_.empty()) return;
    if (timeline_.empty()) first_second_ = other.first_second_;
    const int64_t shift = other.first_second_ - first_second_;
    for (size_t i = 0; i < other.timeline_.size(); ++i) {
      const int64_t index = static_cast<int64_t>(i) + shift;
      if (index < 0) continue;
      if (static_cast<size_t>(index) >= timeline_.size()) timeline_.resize(static_cast<size_t>(index) + 1);
      Second& to = timeline_[static_cast<size_t>(index)];
      to.count += other.timeline_[i].count;
      to.over_50ms += other.timeline_[i].over_50ms;
      to.max = std::max(to.max, other.timeline_[i].max);
    }
  }

  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  double max_ = 0;
  int64_t first_second_ = 0;
  std::vector<Second> timeline_;
};

}  // namespace ctxd::bench
