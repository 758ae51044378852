// http_load: end-to-end load driver for ctxd's HTTP API.
//
// Durable PUT /v1/context/{key} with ~100-byte JSON bodies over N keep-alive
// connections for S seconds; prints throughput, p50 and p99 latency per
// connection count. Start ctxd first (e.g. build/bin/ctxd --data /tmp/d
// --listen 127.0.0.1:8080), then:
//   build/bin/http_load --target 127.0.0.1:8080 --connections 1,16,64,256 --seconds 10
//
// Each connection sends one request, waits for its answer, sends the next
// (no pipelining unless --pipeline > 1), so concurrency = connections x
// pipeline. Responses are parsed minimally (status line, Content-Length):
// the driver shares the CPU with the server and must stay cheap.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "bench/load_util.h"

namespace net = boost::asio;
using net::ip::tcp;

namespace ctxd::bench {
namespace {

struct Options {
  std::string target = "127.0.0.1:8080";
  std::vector<int> connections = {1, 16, 64, 256};
  double seconds = 10;
  int pipeline = 1;
  int threads = 1;
  int value_bytes = 100;
  int keys = 1000;
};

struct ConnectionStats {
  std::vector<double> latencies_us;
  uint64_t errors = 0;
};

// Appends one PUT with a ~`value_bytes` body {"value":"<counter>xxxx"}; the
// counter keeps every set a real change (a same-value set appends nothing).
// Built in place with to_chars: the driver shares the CPU with the server.
void AppendRequest(std::string* out, const std::string& host, int connection, uint64_t counter,
                   const Options& options) {
  // One buffer per number in use at once: `count` is appended last.
  char count_digits[24];
  char digits[24];
  const auto format = [](char(&buffer)[24], uint64_t value) {
    return std::string_view(
        buffer, static_cast<size_t>(std::to_chars(buffer, buffer + sizeof buffer, value).ptr - buffer));
  };
  const auto number = [&](uint64_t value) { return format(digits, value); };
  const std::string_view count = format(count_digits, counter);
  const size_t fixed = std::string_view("{\"value\":\"\"}").size();
  const size_t pad =
      static_cast<size_t>(std::max<int>(0, options.value_bytes - static_cast<int>(fixed + count.size())));
  const size_t body_size = fixed + count.size() + pad;
  out->append("PUT /v1/context/bench-");
  out->append(number(static_cast<uint64_t>(connection)));
  out->push_back('-');
  out->append(number(counter % static_cast<uint64_t>(options.keys)));
  out->append(" HTTP/1.1\r\nHost: ");
  out->append(host);
  out->append("\r\nContent-Type: application/json\r\nContent-Length: ");
  out->append(number(body_size));
  out->append("\r\n\r\n{\"value\":\"");
  out->append(count);
  out->append(pad, 'x');
  out->append("\"}");
}

// Reads one response from `socket` (buffered in `buffer`); returns its status.
net::awaitable<int> ReadResponse(tcp::socket& socket, std::string& buffer) {
  while (true) {
    const size_t header_end = buffer.find("\r\n\r\n");
    if (header_end != std::string::npos) {
      const std::string_view header(buffer.data(), header_end);
      size_t length = 0;
      const size_t cl = header.find("Content-Length: ");
      if (cl != std::string_view::npos) {
        const char* digits = header.data() + cl + 16;
        std::from_chars(digits, header.data() + header.size(), length);
      }
      const size_t total = header_end + 4 + length;
      if (buffer.size() >= total) {
        int status = 0;
        if (header.size() >= 12) std::from_chars(header.data() + 9, header.data() + 12, status);
        buffer.erase(0, total);
        co_return status;
      }
    }
    char chunk[16384];
    const size_t n = co_await socket.async_read_some(net::buffer(chunk), net::use_awaitable);
    buffer.append(chunk, n);
  }
}

net::awaitable<void> RunConnection(tcp::endpoint endpoint, std::string host, int id, const Options& options,
                                   Clock::time_point deadline, ConnectionStats& stats) {
  tcp::socket socket(co_await net::this_coro::executor);
  co_await socket.async_connect(endpoint, net::use_awaitable);
  socket.set_option(tcp::no_delay(true));
  std::string buffer;
  std::vector<Clock::time_point> sent;  // in flight, oldest first
  uint64_t counter = static_cast<uint64_t>(id) << 32;
  std::string batch;
  while (Clock::now() < deadline) {
    batch.clear();
    while (static_cast<int>(sent.size()) < options.pipeline) {
      AppendRequest(&batch, host, id, counter++, options);
      sent.push_back(Clock::now());
    }
    if (!batch.empty()) co_await net::async_write(socket, net::buffer(batch), net::use_awaitable);
    const int status = co_await ReadResponse(socket, buffer);
    const auto now = Clock::now();
    stats.latencies_us.push_back(std::chrono::duration<double, std::micro>(now - sent.front()).count());
    sent.erase(sent.begin());
    if (status != 200) ++stats.errors;
  }
  while (!sent.empty()) {  // drain what is still in flight
    co_await ReadResponse(socket, buffer);
    sent.erase(sent.begin());
  }
}

// User + system CPU of this process so far: the driver's own share of the
// machine it shares with the server.
double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void RunLevel(const tcp::endpoint& endpoint, const std::string& host, int connections,
              const Options& options) {
  net::io_context ioc;
  std::vector<ConnectionStats> stats(static_cast<size_t>(connections));
  std::atomic<int> failed{0};
  const double cpu_start = ProcessCpuSeconds();
  const auto start = Clock::now();
  const auto deadline = After(start, options.seconds);
  for (int c = 0; c < connections; ++c) {
    net::co_spawn(ioc, RunConnection(endpoint, host, c, options, deadline, stats[static_cast<size_t>(c)]),
                  CountFailure(failed, "http_load: connection failed"));
  }
  std::vector<std::thread> threads;
  for (int t = 1; t < options.threads; ++t) threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = ProcessCpuSeconds() - cpu_start;
  std::vector<double> all;
  uint64_t errors = 0;
  for (auto& s : stats) {
    all.insert(all.end(), s.latencies_us.begin(), s.latencies_us.end());
    errors += s.errors;
  }
  const double count = static_cast<double>(all.size());
  std::printf(
      "%5d conn x %d  %9.0f req/s  p50 %7.2f ms  p99 %7.2f ms  (%zu requests, %llu non-200, %d failed "
      "conns; driver CPU %.0f%% of a core, %.1f us/request)\n",
      connections, options.pipeline, count / elapsed, Percentile(all, 50) / 1000, Percentile(all, 99) / 1000,
      all.size(), static_cast<unsigned long long>(errors), failed.load(), 100 * cpu / elapsed,
      count > 0 ? 1e6 * cpu / count : 0.0);
  std::fflush(stdout);
}

}  // namespace

int Main(int argc, char** argv) {
  Options options;
  CLI::App app{"http_load: durable PUT load against a running ctxd"};
  app.add_option("--target", options.target, "HOST:PORT of ctxd")->capture_default_str();
  app.add_option("--connections", options.connections, "connection counts to run, one after another")
      ->delimiter(',');
  app.add_option("--seconds", options.seconds, "duration of each run")->capture_default_str();
  app.add_option("--pipeline", options.pipeline, "requests in flight per connection")->capture_default_str();
  app.add_option("--threads", options.threads, "driver threads")->capture_default_str();
  app.add_option("--value-bytes", options.value_bytes, "request body size")->capture_default_str();
  app.add_option("--keys", options.keys, "distinct keys per connection")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  tcp::endpoint endpoint;
  try {
    endpoint = ParseTarget(options.target);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  for (int connections : options.connections) RunLevel(endpoint, options.target, connections, options);
  return 0;
}

}  // namespace ctxd::bench

int main(int argc, char** argv) { return ctxd::bench::Main(argc, argv); }
