// Metrics: the Prometheus series ctxd exposes on GET /metrics (API.md).
//
// Backed by prometheus-cpp's registry; this header keeps it out of the
// handlers. Counters and histograms are updated from any thread (I/O threads,
// the store's committing thread); gauges that describe the store are computed at
// scrape time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace ctxd::server {

// Request latency is reported per class of route.
enum class RouteClass {
  kContextRead,
  kContextWrite,
  kGraphRead,
  kGraphWrite,
  kEvents,
  kLegacy,
  kOps,
  kDumps,
  kOther
};
inline constexpr int kRouteClassCount = 9;
const char* RouteClassName(RouteClass route);

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void ObserveRequest(RouteClass route, double seconds);
  // One group commit (the store's commit stats listener, committing thread):
  // `commands` answered, `events` appended, the RocksDB write with its fsync
  // took `write_seconds`.
  void ObserveCommit(size_t commands, size_t events, double write_seconds);
  // Submit -> durable completion of one write request.
  void ObserveCommitLatency(double seconds);
  void ConnectionOpened();
  void ConnectionClosed();
  // For the stream code: subscriber count and the worst lag in events.
  void SetSubscribers(int64_t count);
  void SetSubscriberLag(int64_t events);
  // For the Socket.IO code: live Engine.IO sessions, and Socket.IO sockets
  // per namespace ("/" or "/graph").
  void SetSocketIoSessions(int64_t count);
  void SetSocketIoSockets(const std::string& nsp, int64_t count);

  // The Prometheus text exposition; `head_seq`, `durable_seq` and
  // `snapshot_seq` set the store gauges first.
  std::string Render(uint64_t head_seq, uint64_t durable_seq, uint64_t snapshot_seq);

  int64_t connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ctxd::server
