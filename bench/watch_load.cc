// watch_load: history and live-fanout driver for bench/compare, the same
// client and the same measurement for ctxd and etcd.
//
//   watch_load --system ctxd|etcd --target HOST:PORT --mode fill --count 1000
//       writes `count` versions of the history key, one at a time.
//   watch_load --system ctxd|etcd --target HOST:PORT --mode history --connections 1 --seconds 5
//       reads the history key's whole history (every version) again and again:
//       ctxd: GET /v1/context/hist/history?limit=N (one request);
//       etcd (--via watch): a watch from the key's create revision, read until
//       every version arrived (one request, etcd's own way to replay a key);
//       etcd (--via range): one range at each of the key's revisions.
//       One op = one whole history, checked for its version count.
//   watch_load --system ctxd|etcd --target HOST:PORT --mode fanout --subscribers 1000 --rate 100 --seconds 5
//       N watchers of the fanout key (ctxd: WebSocket /v1/ws?key=fan; etcd:
//       the gateway's streaming POST /v3/watch), then one writer puts the key
//       `rate` times a second over HTTP, one put in flight. Latency runs from
//       the moment the writer got the put's acknowledgement to the moment a
//       watcher's read returned the event (0 when the event came first).
//
// Prints one JSON line: ops/s (histories/s; delivered events/s), p50, p99, errors.
// etcd keys and values travel base64-encoded: the values written are strings of
// base64 letters and digits (136 characters, a 102-byte value once decoded),
// so they are valid base64 without an encoder.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/load_util.h"

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using net::ip::tcp;

namespace ctxd::bench {
namespace {

constexpr std::string_view kHistoryKey = "hist";
constexpr std::string_view kHistoryKeyBase64 = "aGlzdA==";
constexpr std::string_view kFanoutKey = "fan";
constexpr std::string_view kFanoutKeyBase64 = "ZmFu";

struct Options {
  std::string system = "ctxd";
  std::string target = "127.0.0.1:8080";
  std::string mode = "fanout";
  std::string via = "watch";
  int count = 1000;
  int connections = 1;
  int subscribers = 100;
  double rate = 100;
  double seconds = 5;
  double drain_seconds = 10;
  int threads = 2;
};

bool IsEtcd(const Options& options) { return options.system == "etcd"; }

// The unsigned number after `key` in `text` at or after `from` (quotes around
// it skipped, as etcd's JSON has them); `end` is set past the number, npos when
// the number is not complete in `text`.
uint64_t NumberAfter(std::string_view text, std::string_view key, size_t from, size_t* end) {
  *end = std::string_view::npos;
  const size_t at = text.find(key, from);
  if (at == std::string_view::npos) return 0;
  size_t i = at + key.size();
  if (i < text.size() && text[i] == '"') ++i;
  uint64_t value = 0;
  const size_t digits = i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') value = value * 10 + (text[i++] - '0');
  if (i == digits || i == text.size()) return 0;
  *end = i;
  return value;
}

uint64_t NumberAfter(std::string_view text, std::string_view key) {
  size_t end = 0;
  return NumberAfter(text, key, 0, &end);
}

net::awaitable<tcp::socket> Connect(tcp::endpoint endpoint) {
  tcp::socket socket(co_await net::this_coro::executor);
  co_await socket.async_connect(endpoint, net::use_awaitable);
  socket.set_option(tcp::no_delay(true));
  co_return socket;
}

// A keep-alive HTTP/1.1 client connection, one request at a time.
class HttpClient {
 public:
  HttpClient(tcp::socket socket, std::string host) : socket_(std::move(socket)), host_(std::move(host)) {}

  // The answer's status and body.
  net::awaitable<std::pair<int, std::string>> Request(http::verb verb, std::string target, std::string body) {
    http::request<http::string_body> request{verb, target, 11};
    request.set(http::field::host, host_);
    if (!body.empty()) request.set(http::field::content_type, "application/json");
    request.body() = std::move(body);
    request.prepare_payload();
    co_await http::async_write(socket_, request, net::use_awaitable);
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    co_await http::async_read(socket_, buffer_, parser, net::use_awaitable);
    co_return std::pair<int, std::string>{parser.get().result_int(), std::move(parser.get().body())};
  }

 private:
  tcp::socket socket_;
  std::string host_;
  beast::flat_buffer buffer_;
};

// A value of 136 base64 letters and digits, unique per (run, n).
std::string Value(uint64_t n) {
  static const std::string nonce =
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000000);
  std::string value = nonce + "x" + std::to_string(n);
  value.resize(136, 'x');
  return value;
}

// One put of `key`; returns the acknowledged revision (etcd) or seq (ctxd), 0 on failure.
net::awaitable<uint64_t> Put(HttpClient& client, const Options& options, std::string_view key,
                             std::string_view key_base64, uint64_t n) {
  if (IsEtcd(options)) {
    const std::string body = "{\"key\":\"" + std::string(key_base64) + "\",\"value\":\"" + Value(n) + "\"}";
    auto [status, answer] = co_await client.Request(http::verb::post, "/v3/kv/put", body);
    co_return status == 200 ? NumberAfter(answer, "\"revision\":") : 0;
  }
  const std::string body = "{\"value\":\"" + Value(n) + "\"}";
  auto [status, answer] = co_await client.Request(http::verb::put, "/v1/context/" + std::string(key), body);
  co_return status == 200 ? NumberAfter(answer, "\"seq\":") : 0;
}

// Runs `task` on its own io_context to completion; false if it threw.
bool RunToCompletion(net::awaitable<void> task) {
  net::io_context ioc;
  int failed = 0;
  net::co_spawn(ioc, std::move(task), CountFailure(failed, "watch_load"));
  ioc.run();
  return failed == 0;
}

void PrintResult(const Options& options, double ops, const Histogram& latency, uint64_t errors,
                 const std::string& extra) {
  std::printf(
      "{\"system\":\"%s\",\"mode\":\"%s\",\"ops\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"errors\":%llu%s}\n",
      options.system.c_str(), options.mode.c_str(), ops, latency.Percentile(0.5) / 1000,
      latency.Percentile(0.99) / 1000, static_cast<unsigned long long>(errors), extra.c_str());
}

// ---- fill ------------------------------------------------------------------

int RunFill(const Options& options) {
  const auto task = [&options]() -> net::awaitable<void> {
    HttpClient client(co_await Connect(ParseTarget(options.target)), options.target);
    for (int i = 0; i < options.count; ++i) {
      if (co_await Put(client, options, kHistoryKey, kHistoryKeyBase64, static_cast<uint64_t>(i)) == 0)
        throw std::runtime_error("fill: a put failed");
    }
  };
  return RunToCompletion(task()) ? 0 : 1;
}

// ---- history ---------------------------------------------------------------

// The etcd history key's first and last revision (its versions were written
// back to back, so every revision in between is one of its versions).
net::awaitable<std::pair<uint64_t, uint64_t>> EtcdRevisions(HttpClient& client) {
  auto [status, answer] = co_await client.Request(http::verb::post, "/v3/kv/range",
                                                  "{\"key\":\"" + std::string(kHistoryKeyBase64) + "\"}");
  const auto json = nlohmann::json::parse(answer, nullptr, false);
  if (status != 200 || json.is_discarded() || !json.contains("kvs"))
    throw std::runtime_error("no history key");
  const auto& kv = json["kvs"][0];
  const uint64_t first = std::stoull(kv.value("create_revision", "0"));
  const uint64_t last = std::stoull(kv.value("mod_revision", "0"));
  const uint64_t versions = std::stoull(kv.value("version", "0"));
  if (last + 1 - first != versions) throw std::runtime_error("the history key's versions are not contiguous");
  co_return std::pair<uint64_t, uint64_t>{first, last};
}

// Calls `on_event` with the mod_revision of every complete event in the
// streamed watch text `pending`, then drops what it consumed, keeping an
// incomplete last one for the next read. Returns the number of events.
template <typename OnEvent>
size_t ForEachRevision(std::string& pending, const OnEvent& on_event) {
  constexpr std::string_view kKey = "\"mod_revision\":";
  size_t events = 0;
  size_t at = 0;
  size_t end = 0;
  while (true) {
    const uint64_t revision = NumberAfter(pending, kKey, at, &end);
    if (end == std::string_view::npos) break;
    on_event(revision);
    ++events;
    at = end;
  }
  // Keep an incomplete event, or a tail that may be the start of the key.
  size_t keep = pending.find(kKey, at);
  if (keep == std::string::npos) keep = std::max(at, pending.size() - std::min(pending.size(), kKey.size()));
  pending.erase(0, keep);
  return events;
}

// One etcd history read by watch: the number of versions received.
net::awaitable<int> EtcdWatchHistory(tcp::endpoint endpoint, const Options& options, uint64_t first,
                                     int versions) {
  tcp::socket socket = co_await Connect(endpoint);
  http::request<http::string_body> request{http::verb::post, "/v3/watch", 11};
  request.set(http::field::host, options.target);
  request.body() = "{\"create_request\":{\"key\":\"" + std::string(kHistoryKeyBase64) +
                   "\",\"start_revision\":\"" + std::to_string(first) + "\"}}";
  request.prepare_payload();
  co_await http::async_write(socket, request, net::use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  co_await http::async_read_header(socket, buffer, parser, net::use_awaitable);
  std::string pending;
  std::vector<char> chunk(256 * 1024);
  int received = 0;
  while (received < versions && !parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    boost::system::error_code ec;
    co_await http::async_read_some(socket, buffer, parser, net::redirect_error(net::use_awaitable, ec));
    if (ec && ec != http::error::need_buffer) break;
    pending.append(chunk.data(), chunk.size() - parser.get().body().size);
    received += static_cast<int>(ForEachRevision(pending, [](uint64_t) {}));
  }
  co_return received;
}

// One etcd history read by ranges: the number of versions received.
net::awaitable<int> EtcdRangeHistory(HttpClient& client, uint64_t first, uint64_t last) {
  int received = 0;
  for (uint64_t revision = first; revision <= last; ++revision) {
    auto [status, answer] =
        co_await client.Request(http::verb::post, "/v3/kv/range",
                                "{\"key\":\"" + std::string(kHistoryKeyBase64) + "\",\"revision\":\"" +
                                    std::to_string(revision) + "\"}");
    if (status == 200 && NumberAfter(answer, "\"mod_revision\":") == revision) ++received;
  }
  co_return received;
}

// One ctxd history read: the number of entries received.
net::awaitable<int> CtxdHistory(HttpClient& client, int versions) {
  auto [status, answer] = co_await client.Request(
      http::verb::get,
      "/v1/context/" + std::string(kHistoryKey) + "/history?limit=" + std::to_string(versions), "");
  if (status != 200) co_return 0;
  int received = 0;
  size_t at = 0;
  while ((at = answer.find("\"seq\":", at)) != std::string::npos) {
    ++received;
    at += 6;
  }
  co_return received;
}

struct ReaderStats {
  Histogram latency;
  uint64_t ops = 0;
  uint64_t errors = 0;
};

net::awaitable<void> RunReader(const Options& options, Clock::time_point deadline, ReaderStats& stats) {
  const auto endpoint = ParseTarget(options.target);
  HttpClient client(co_await Connect(endpoint), options.target);
  std::pair<uint64_t, uint64_t> revisions{0, 0};
  if (IsEtcd(options)) revisions = co_await EtcdRevisions(client);
  while (Clock::now() < deadline) {
    const int64_t start = SteadyNowUs();
    int received = 0;
    if (!IsEtcd(options)) {
      received = co_await CtxdHistory(client, options.count);
    } else if (options.via == "range") {
      received = co_await EtcdRangeHistory(client, revisions.first, revisions.second);
    } else {
      received = co_await EtcdWatchHistory(endpoint, options, revisions.first, options.count);
    }
    stats.latency.Add(static_cast<double>(SteadyNowUs() - start));
    ++stats.ops;
    if (received != options.count) ++stats.errors;
  }
}

int RunHistory(const Options& options) {
  net::io_context ioc;
  std::vector<ReaderStats> stats(static_cast<size_t>(options.connections));
  const auto start = Clock::now();
  const auto deadline = After(start, options.seconds);
  int failed = 0;
  for (auto& s : stats) {
    net::co_spawn(ioc, RunReader(options, deadline, s), CountFailure(failed, "watch_load: reader failed"));
  }
  ioc.run();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  Histogram latency;
  uint64_t ops = 0;
  uint64_t errors = static_cast<uint64_t>(failed);
  for (const auto& s : stats) {
    latency.Merge(s.latency);
    ops += s.ops;
    errors += s.errors;
  }
  PrintResult(options, static_cast<double>(ops) / elapsed, latency, errors,
              ",\"versions\":" + std::to_string(options.count));
  return errors == 0 ? 0 : 1;
}

// ---- fanout ----------------------------------------------------------------

// What the writer and the watchers share: the acknowledgement time of each put.
struct FanoutShared {
  explicit FanoutShared(size_t events) : acked_at_us(events) {}
  std::atomic<uint64_t> base{0};  // the warm-up put's seq/revision; events after it are measured
  std::vector<std::atomic<int64_t>> acked_at_us;
  std::atomic<int> ready{0};
  std::atomic<int> failed{0};
};

// One watcher's counts; latencies go to its thread's histogram.
struct WatcherStats {
  Histogram* latency = nullptr;
  uint64_t received = 0;
  uint64_t before_ack = 0;
  std::atomic<uint64_t> last{0};
};

// Records the event `seq` read at `now_us`.
void Record(uint64_t seq, int64_t now_us, FanoutShared& shared, WatcherStats& stats) {
  const uint64_t base = shared.base.load(std::memory_order_acquire);
  if (base == 0 || seq <= base || seq - base > shared.acked_at_us.size()) return;
  const int64_t acked = shared.acked_at_us[seq - base - 1].load(std::memory_order_acquire);
  if (acked == 0) ++stats.before_ack;
  stats.latency->Add(acked == 0 ? 0.0 : static_cast<double>(now_us - acked));
  ++stats.received;
  stats.last.store(std::max(stats.last.load(std::memory_order_relaxed), seq), std::memory_order_relaxed);
}

net::awaitable<void> CtxdWatcher(const Options& options, FanoutShared& shared, WatcherStats& stats,
                                 const std::atomic<bool>& stop) {
  websocket::stream<tcp::socket> ws(co_await Connect(ParseTarget(options.target)));
  co_await ws.async_handshake(options.target, "/v1/ws?key=" + std::string(kFanoutKey), net::use_awaitable);
  beast::flat_buffer buffer;
  co_await ws.async_read(buffer, net::use_awaitable);  // hello
  ++shared.ready;
  constexpr std::string_view kEventPrefix = "{\"op\":\"event\",\"event\":{\"seq\":";
  while (!stop.load(std::memory_order_relaxed)) {
    buffer.clear();
    co_await ws.async_read(buffer, net::use_awaitable);
    const int64_t now = SteadyNowUs();
    const std::string_view message(static_cast<const char*>(buffer.data().data()), buffer.size());
    if (message.starts_with(kEventPrefix)) Record(NumberAfter(message, "\"seq\":"), now, shared, stats);
  }
}

net::awaitable<void> EtcdWatcher(const Options& options, FanoutShared& shared, WatcherStats& stats,
                                 const std::atomic<bool>& stop) {
  tcp::socket socket = co_await Connect(ParseTarget(options.target));
  http::request<http::string_body> request{http::verb::post, "/v3/watch", 11};
  request.set(http::field::host, options.target);
  request.body() = "{\"create_request\":{\"key\":\"" + std::string(kFanoutKeyBase64) + "\"}}";
  request.prepare_payload();
  co_await http::async_write(socket, request, net::use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  co_await http::async_read_header(socket, buffer, parser, net::use_awaitable);
  std::string pending;
  std::vector<char> chunk(64 * 1024);
  bool created = false;
  while (!stop.load(std::memory_order_relaxed) && !parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    boost::system::error_code ec;
    co_await http::async_read_some(socket, buffer, parser, net::redirect_error(net::use_awaitable, ec));
    if (ec && ec != http::error::need_buffer) break;
    const int64_t now = SteadyNowUs();
    pending.append(chunk.data(), chunk.size() - parser.get().body().size);
    if (!created && pending.find("\"created\":true") != std::string::npos) {
      created = true;
      ++shared.ready;
    }
    ForEachRevision(pending, [&](uint64_t revision) { Record(revision, now, shared, stats); });
  }
}

// Puts the fanout key `events` times at `rate`, one in flight, recording each acknowledgement.
net::awaitable<void> Writer(const Options& options, FanoutShared& shared, uint64_t* acked) {
  HttpClient client(co_await Connect(ParseTarget(options.target)), options.target);
  const uint64_t base = co_await Put(client, options, kFanoutKey, kFanoutKeyBase64, 0);
  if (base == 0) throw std::runtime_error("the warm-up put failed");
  shared.base.store(base, std::memory_order_release);
  net::steady_timer pace(co_await net::this_coro::executor);
  const auto start = Clock::now();
  for (size_t i = 0; i < shared.acked_at_us.size(); ++i) {
    pace.expires_at(After(start, static_cast<double>(i) / options.rate));
    co_await pace.async_wait(net::use_awaitable);
    const uint64_t seq = co_await Put(client, options, kFanoutKey, kFanoutKeyBase64, i + 1);
    const int64_t now = SteadyNowUs();
    if (seq != base + i + 1) throw std::runtime_error("a put was not the next revision (another writer?)");
    shared.acked_at_us[i].store(now, std::memory_order_release);
    ++*acked;
  }
}

int RunFanout(const Options& options) {
  RaiseFileLimit();
  const auto events = static_cast<size_t>(options.rate * options.seconds);
  FanoutShared shared(events);
  std::vector<WatcherStats> stats(static_cast<size_t>(options.subscribers));
  std::atomic<bool> stop{false};
  Runners runners(options.threads);
  std::vector<Histogram> latencies(runners.size());
  for (size_t i = 0; i < stats.size(); ++i) {
    stats[i].latency = &latencies[i % runners.size()];
    auto watcher = IsEtcd(options) ? EtcdWatcher(options, shared, stats[i], stop)
                                   : CtxdWatcher(options, shared, stats[i], stop);
    net::co_spawn(runners.at(i), std::move(watcher), [&shared](std::exception_ptr e) {
      if (e) ++shared.failed;
    });
  }
  runners.Start();
  if (!WaitFor([&] { return shared.ready.load() + shared.failed.load() >= options.subscribers; }, 60) ||
      shared.failed.load() > 0) {
    std::fprintf(stderr, "watch_load: %d of %d watchers ready\n", shared.ready.load(), options.subscribers);
    return 1;
  }
  uint64_t acked = 0;
  const auto start = Clock::now();
  const bool wrote = RunToCompletion(Writer(options, shared, &acked));
  const uint64_t last = shared.base.load() + acked;
  WaitFor(
      [&] {
        return std::all_of(stats.begin(), stats.end(),
                           [last](const WatcherStats& s) { return s.last.load() >= last; });
      },
      options.drain_seconds);
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  stop = true;
  runners.Join();
  Histogram latency;
  uint64_t delivered = 0;
  uint64_t before_ack = 0;
  for (const auto& h : latencies) latency.Merge(h);
  for (const auto& s : stats) {
    delivered += s.received;
    before_ack += s.before_ack;
  }
  const uint64_t expected = acked * stats.size();
  const uint64_t missing = expected - std::min(expected, delivered);
  PrintResult(options, static_cast<double>(delivered) / elapsed, latency, (wrote ? 0 : 1) + missing,
              ",\"watchers\":" + std::to_string(options.subscribers) +
                  ",\"events\":" + std::to_string(acked) + ",\"delivered\":" + std::to_string(delivered) +
                  ",\"before_ack\":" + std::to_string(before_ack));
  return wrote && missing == 0 ? 0 : 1;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"watch_load: history and fanout against ctxd or etcd (see the file's header)"};
  Options options;
  app.add_option("--system", options.system)->check(CLI::IsMember({"ctxd", "etcd"}));
  app.add_option("--target", options.target, "HOST:PORT");
  app.add_option("--mode", options.mode)->check(CLI::IsMember({"fill", "history", "fanout"}));
  app.add_option("--via", options.via, "etcd history: watch or range")
      ->check(CLI::IsMember({"watch", "range"}));
  app.add_option("--count", options.count, "versions of the history key")->check(CLI::Range(1, 100000));
  app.add_option("--connections", options.connections, "history readers")->check(CLI::Range(1, 1024));
  app.add_option("--subscribers", options.subscribers, "fanout watchers")->check(CLI::Range(1, 100000));
  app.add_option("--rate", options.rate, "fanout puts per second")->check(CLI::Range(1.0, 100000.0));
  app.add_option("--seconds", options.seconds)->check(CLI::Range(0.1, 3600.0));
  app.add_option("--drain", options.drain_seconds, "fanout: seconds to wait for the last deliveries");
  app.add_option("--threads", options.threads, "fanout: watcher threads")->check(CLI::Range(1, 64));
  CLI11_PARSE(app, argc, argv);
  try {
    if (options.mode == "fill") return RunFill(options);
    if (options.mode == "history") return RunHistory(options);
    return RunFanout(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "watch_load: %s\n", e.what());
    return 1;
  }
}

}  // namespace ctxd::bench

int main(int argc, char** argv) { return ctxd::bench::Main(argc, argv); }
