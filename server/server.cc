#include "server/server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "server/connection.h"
#include "server/io_pool.h"
#include "server/listener.h"
#include "server/router.h"
#include "server/server_context.h"
#include "server/socketio/socket_io.h"
#include "server/streams.h"

namespace ctxd::server {

struct Server::Impl {
  Impl(store::Store& store, ServerOptions opts)
      : options(std::move(opts)),
        store(store),
        context(store, metrics, options.worker_threads, options.dump_dir),
        router(context),
        shared{.router = router,
               .metrics = metrics,
               .limits = limits,
               .stream_routes = stream_routes,
               .registry = registry,
               .io = io,
               .access_tokens = options.access_tokens,
               .origins = options.origins,
               .hosts = options.hosts},
        io(options.io_threads),
        signals(io.main(), SIGINT, SIGTERM) {
    limits.body_limit = options.body_limit;
    limits.header_limit = options.header_limit;
    limits.max_connections = options.max_connections;
    limits.idle_timeout = options.idle_timeout;
    limits.request_timeout = options.request_timeout;
    context.access_tokens = options.access_tokens;
  }

  void WaitForStop();
  void Shutdown();

  // Declared so that they are destroyed in a safe order: the listener, then
  // the io_contexts (whose pending handlers own the sessions), then what the
  // sessions refer to.
  const ServerOptions options;
  store::Store& store;
  Metrics metrics;
  ServerContext context;
  Router router;
  ConnectionLimits limits;
  StreamRoutes stream_routes;
  ConnectionRegistry registry;
  HttpSessionShared shared;
  IoPool io;
  net::signal_set signals;
  std::shared_ptr<Listener> listener;
  // After io: destroyed before it (its timers), while sessions destroyed
  // with the io_context refer only to what is declared above.
  std::unique_ptr<Streams> streams;
  std::unique_ptr<socketio::SocketIo> socketio;
  uint16_t port = 0;

  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stop_requested = false;  // guarded by stop_mu
};

Server::Server(store::Store& store, ServerOptions options)
    : impl_(std::make_unique<Impl>(store, std::move(options))) {
  Impl& impl = *impl_;
  store.AddCommitListener([&impl](const store::Store::CommittedEvents& events) {
    impl.context.gate.OnDurable(events->back().seq);
  });
  store.AddCommitStatsListener([&impl](const store::CommitStats& stats) {
    if (stats.ok) {
      impl.metrics.ObserveCommit(stats.commands, stats.events, stats.write_seconds);
    } else {
      impl.context.gate.FailAll("a write failed and the state this read saw was rolled back; retry");
    }
  });
  StreamOptions streams;
  streams.max_message_bytes = impl.options.body_limit;
  streams.hub.stall_timeout = impl.options.stream_stall_timeout;
  streams.hub.sse_heartbeat = impl.options.sse_heartbeat;
  streams.hub.fanout_threads = impl.options.io_threads;
  impl.streams = std::make_unique<Streams>(impl.context, impl.registry, impl.io.main(), streams);
  impl.streams->Register(impl.stream_routes);
  socketio::SessionLimits socketio;
  socketio.output = streams.output;
  impl.socketio = std::make_unique<socketio::SocketIo>(impl.context, impl.registry, impl.io.main(), impl.stream_routes,
                                                       socketio);
}

Server::~Server() = default;

StatusOr<std::string> ResolveListenHost(const std::string& host) {
  beast::error_code ec;
  if (net::ip::make_address(host, ec); !ec) return host;
  net::io_context ioc;
  net::ip::tcp::resolver resolver(ioc);
  for (const auto protocol : {net::ip::tcp::v4(), net::ip::tcp::v6()}) {
    // Not the default address_configured: a machine with loopback alone
    // would then find no address for localhost.
    auto results = resolver.resolve(protocol, host, "0", net::ip::resolver_base::numeric_service, ec);
    if (!ec && !results.empty()) return results.begin()->endpoint().address().to_string();
  }
  return Status::InvalidArgument("'" + host + "' is neither an IP address nor a name of one");
}

Status Server::Listen() {
  beast::error_code ec;
  auto address = net::ip::make_address(impl_->options.host, ec);
  if (ec) return Status::InvalidArgument("'" + impl_->options.host + "' is not an IP address");
  impl_->listener = std::make_shared<Listener>(impl_->io.main(), impl_->shared, impl_->options.tls);
  CTXD_RETURN_IF_ERROR(impl_->listener->Bind({address, impl_->options.port}));
  impl_->port = impl_->listener->local_endpoint().port();
  return Status::Ok();
}

uint16_t Server::port() const { return impl_->port; }
const std::string& Server::host() const { return impl_->options.host; }
ServerContext& Server::context() { return impl_->context; }
StreamRoutes& Server::stream_routes() { return impl_->stream_routes; }
ConnectionRegistry& Server::registry() { return impl_->registry; }

void Server::Stop() {
  std::lock_guard lock(impl_->stop_mu);
  impl_->stop_requested = true;
  impl_->stop_cv.notify_all();
}

void Server::Run() {
  Impl& impl = *impl_;
  impl.signals.async_wait([this](beast::error_code ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", signal);
    Stop();
    // A second signal while draining ends the process at once.
    impl_->signals.async_wait([](beast::error_code ec2, int) {
      if (!ec2) std::_Exit(1);
    });
  });
  impl.listener->Start();
  impl.io.Run();
  impl.WaitForStop();
  impl.Shutdown();
  impl.io.Stop();
}

void Server::Impl::WaitForStop() {
  std::unique_lock lock(stop_mu);
  stop_cv.wait(lock, [this] { return stop_requested; });
}

// Runs on the thread that called Run(), never on an I/O thread: Store::Close
// and Workers::Join block.
void Server::Impl::Shutdown() {
  context.shutting_down = true;
  listener->Stop();
  registry.ShutdownAll();  // no new requests; answers in flight still go out
  // Background reads (and restores, refused now) finish first: they read the
  // store, and a long read renders from its snapshotter, which Close removes.
  context.workers.Join();
  store.Close();                                        // commits and answers everything already submitted
  context.gate.FailAll("the server is shutting down");  // only a failed last write can leave reads held
  const auto deadline = std::chrono::steady_clock::now() + options.drain_timeout;
  while (registry.size() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (registry.size() > 0) spdlog::warn("{} connections still open at exit", registry.size());
  spdlog::info("shutdown complete");
}

}  // namespace ctxd::server
