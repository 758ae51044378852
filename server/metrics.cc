#include "server/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <atomic>

namespace ctxd::server {

const char* RouteClassName(RouteClass route) {
  switch (route) {
    case RouteClass::kContextRead:
      return "context_read";
    case RouteClass::kContextWrite:
      return "context_write";
    case RouteClass::kGraphRead:
      return "graph_read";
    case RouteClass::kGraphWrite:
      return "graph_write";
    case RouteClass::kEvents:
      return "events";
    case RouteClass::kLegacy:
      return "legacy";
    case RouteClass::kOps:
      return "ops";
    case RouteClass::kDumps:
      return "dumps";
    case RouteClass::kOther:
      return "other";
  }
  return "other";
}

namespace {

prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

prometheus::Histogram::BucketBoundaries BatchBuckets() {
  return {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};
}

}  // namespace

struct Metrics::Impl {
  prometheus::Registry registry;
  prometheus::Counter* events_appended = nullptr;
  prometheus::Histogram* batch_size = nullptr;
  prometheus::Histogram* fsync = nullptr;
  prometheus::Histogram* commit_latency = nullptr;
  std::array<prometheus::Histogram*, kRouteClassCount> request_duration{};
  prometheus::Gauge* connections = nullptr;
  prometheus::Gauge* subscribers = nullptr;
  prometheus::Gauge* subscriber_lag = nullptr;
  prometheus::Gauge* head_seq = nullptr;
  prometheus::Gauge* durable_seq = nullptr;
  prometheus::Gauge* snapshot_age = nullptr;
  prometheus::Gauge* socketio_sessions = nullptr;
  prometheus::Family<prometheus::Gauge>* socketio_sockets = nullptr;
  std::atomic<int64_t> open_connections{0};

  prometheus::Gauge* AddGauge(const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
  }
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {
  auto& r = impl_->registry;
  impl_->events_appended = &prometheus::BuildCounter()
                                .Name("ctxd_events_appended_total")
                                .Help("Events appended to the log")
                                .Register(r)
                                .Add({});
  impl_->batch_size = &prometheus::BuildHistogram()
                           .Name("ctxd_commit_batch_size")
                           .Help("Commands answered per group commit (one WriteBatch, one fsync)")
                           .Register(r)
                           .Add({}, BatchBuckets());
  impl_->fsync = &prometheus::BuildHistogram()
                      .Name("ctxd_fsync_seconds")
                      .Help("Group commit write to the log, fsync included")
                      .Register(r)
                      .Add({}, LatencyBuckets());
  impl_->commit_latency = &prometheus::BuildHistogram()
                               .Name("ctxd_commit_seconds")
                               .Help("Write requests: submit to durable acknowledgement")
                               .Register(r)
                               .Add({}, LatencyBuckets());
  auto& duration = prometheus::BuildHistogram()
                       .Name("ctxd_request_duration_seconds")
                       .Help("HTTP request latency by route class")
                       .Register(r);
  for (int i = 0; i < kRouteClassCount; ++i) {
    impl_->request_duration[i] =
        &duration.Add({{"route", RouteClassName(static_cast<RouteClass>(i))}}, LatencyBuckets());
  }
  impl_->connections = impl_->AddGauge("ctxd_connections", "Open HTTP connections");
  impl_->subscribers = impl_->AddGauge("ctxd_subscribers", "Live stream subscribers (WebSocket, SSE)");
  impl_->subscriber_lag = impl_->AddGauge("ctxd_subscriber_lag", "Events the slowest subscriber is behind");
  impl_->head_seq = impl_->AddGauge("ctxd_head_seq", "Seq of the last applied event");
  impl_->durable_seq = impl_->AddGauge("ctxd_durable_seq", "Seq of the last durable event");
  impl_->snapshot_age = impl_->AddGauge("ctxd_snapshot_age_events", "Events since the newest snapshot");
  impl_->socketio_sessions = impl_->AddGauge("ctxd_socketio_sessions", "Live Engine.IO sessions");
  impl_->socketio_sockets = &prometheus::BuildGauge()
                                 .Name("ctxd_socketio_sockets")
                                 .Help("Connected Socket.IO sockets by namespace")
                                 .Register(r);
  impl_->socketio_sockets->Add({{"namespace", "/"}});
  impl_->socketio_sockets->Add({{"namespace", "/graph"}});
}

Metrics::~Metrics() = default;

void Metrics::ObserveRequest(RouteClass route, double seconds) {
  impl_->request_duration[static_cast<int>(route)]->Observe(seconds);
}

void Metrics::ObserveCommit(size_t commands, size_t events, double write_seconds) {
  impl_->batch_size->Observe(static_cast<double>(commands));
  if (events == 0) return;
  impl_->events_appended->Increment(static_cast<double>(events));
  impl_->fsync->Observe(write_seconds);
}

void Metrics::ObserveCommitLatency(double seconds) { impl_->commit_latency->Observe(seconds); }

void Metrics::ConnectionOpened() {
  ++impl_->open_connections;
  impl_->connections->Increment();
}

void Metrics::ConnectionClosed() {
  --impl_->open_connections;
  impl_->connections->Decrement();
}

int64_t Metrics::connections() const { return impl_->open_connections.load(); }

void Metrics::SetSubscribers(int64_t count) { impl_->subscribers->Set(static_cast<double>(count)); }
void Metrics::SetSubscriberLag(int64_t events) { impl_->subscriber_lag->Set(static_cast<double>(events)); }

void Metrics::SetSocketIoSessions(int64_t count) { impl_->socketio_sessions->Set(static_cast<double>(count)); }
void Metrics::SetSocketIoSockets(const std::string& nsp, int64_t count) {
  impl_->socketio_sockets->Add({{"namespace", nsp}}).Set(static_cast<double>(count));
}

std::string Metrics::Render(uint64_t head_seq, uint64_t durable_seq, uint64_t snapshot_seq) {
  impl_->head_seq->Set(static_cast<double>(head_seq));
  impl_->durable_seq->Set(static_cast<double>(durable_seq));
  impl_->snapshot_age->Set(static_cast<double>(durable_seq > snapshot_seq ? durable_seq - snapshot_seq : 0));
  return prometheus::TextSerializer().Serialize(impl_->registry.Collect());
}

}  // namespace ctxd::server
