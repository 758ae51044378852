// ws_load: load driver for ctxd's WebSocket stream (GET /v1/ws) and its
// Socket.IO server (/socket.io/, Engine.IO WebSocket transport).
//
// Start ctxd first (e.g. build/bin/ctxd --data /tmp/d --listen 127.0.0.1:8080), then one of:
//
//   ws_load --mode sets --seconds 5 --window 4096
//       durable {"op":"set"} ops pipelined over one WebSocket (--connections
//       for more), `window` in flight each: acknowledged sets/s, p50, p99.
//       Each answered set is replaced at once; with --lockstep the setter
//       sends a whole window only once the previous one is answered, as
//       redis-benchmark -P does.
//       The setter subscribes with a filter that matches nothing
//       (type=session.save) unless --with-events.
//   ws_load --mode fanout --subscribers 1000 --rate 2000 --seconds 10 [--check]
//       N live subscribers; one setter writes `rate` events/s (or --events N
//       in all); each subscriber checks it gets every event in order (no
//       gap, no duplicate) and measures commit -> delivery latency from the
//       event's ts. Prints delivered events/s and latency percentiles;
//       --check exits 1 unless every subscriber got every event.
//   ws_load --mode idle --subscribers 1000 --server-pid PID
//       RSS of the server before and after N idle subscribers connect.
//
// --protocol socketio makes the subscribers (fanout, idle) Socket.IO clients
// of namespace `/` instead: Engine.IO 4 over WebSocket, CONNECT `40`, then
// each set arrives as 42["context_updated",{..,"timestamp","seq"}] and the
// subscriber answers the server's pings. The setter stays on /v1/ws.
//
// The client is raw asio with a minimal WebSocket client (handshake, masked
// text frames with a zero key, unmasked server frames): it shares the two
// cores with the server and must stay cheap.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/load_util.h"

namespace net = boost::asio;
using net::ip::tcp;

namespace ctxd::bench {
namespace {

struct Options {
  std::string target = "127.0.0.1:8080";
  std::string mode = "sets";
  double seconds = 5;
  int connections = 1;
  int window = 4096;
  bool lockstep = false;
  int value_bytes = 100;
  bool with_events = false;
  int subscribers = 1000;
  double rate = 2000;
  int64_t events = 0;  // fanout: total events instead of seconds x rate
  double drain_seconds = 30;
  bool check = false;
  bool timeline = false;
  double warmup_seconds = 2;
  int threads = 1;
  int server_pid = 0;
  double hold_seconds = 2;
  std::string protocol = "ws";
};

// A client text frame, masked with a zero key (the payload stays as it is).
void AppendClientFrame(std::string* out, std::string_view payload) {
  out->push_back(static_cast<char>(0x81));
  const size_t n = payload.size();
  if (n < 126) {
    out->push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xFFFF) {
    out->push_back(static_cast<char>(0x80 | 126));
    out->push_back(static_cast<char>(n >> 8));
    out->push_back(static_cast<char>(n & 0xFF));
  } else {
    out->push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>((n >> shift) & 0xFF));
  }
  out->append(4, '\0');
  out->append(payload);
}

// A minimal WebSocket client connection.
class WsClient {
 public:
  explicit WsClient(tcp::socket socket) : socket_(std::move(socket)), data_(new char[kCapacity]) {
    std::memset(data_.get(), 0, 2 * kReadSize);  // fault the pages in before the measurement
  }

  net::awaitable<void> Handshake(const std::string& host, const std::string& path) {
    const std::string request =
        "GET " + path + " HTTP/1.1\r\nHost: " + host +
        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    co_await net::async_write(socket_, net::buffer(request), net::use_awaitable);
    while (true) {
      const std::string_view text = pending();
      const size_t end = text.find("\r\n\r\n");
      if (end != std::string_view::npos) {
        if (text.substr(0, 12) != "HTTP/1.1 101")
          throw std::runtime_error("upgrade refused: " + std::string(text));
        begin_ += end + 4;
        co_return;
      }
      co_await Fill();
    }
  }

  // The next message: opcode and payload (valid until the next call).
  net::awaitable<std::pair<int, std::string_view>> Next() {
    while (true) {
      const size_t size = end_ - begin_;
      if (size >= 2) {
        const auto* p = reinterpret_cast<const unsigned char*>(data_.get() + begin_);
        size_t length = p[1] & 0x7F;
        size_t header = 2;
        if (length == 126) {
          header = 4;
          length = size >= 4 ? (size_t{p[2]} << 8) | p[3] : 0;
        } else if (length == 127) {
          header = 10;
          length = 0;
          if (size >= 10) {
            for (int i = 0; i < 8; ++i) length = (length << 8) | p[2 + i];
          }
        }
        if (header + length > kCapacity) throw std::runtime_error("message larger than the client buffer");
        if (size >= header && size >= header + length) {
          begin_ += header + length;
          co_return std::pair<int, std::string_view>{
              p[0] & 0x0F, std::string_view(reinterpret_cast<const char*>(p) + header, length)};
        }
      }
      co_await Fill();
    }
  }

  net::awaitable<void> Send(const std::string& frames) {
    co_await net::async_write(socket_, net::buffer(frames), net::use_awaitable);
  }

  tcp::socket& socket() { return socket_; }

 private:
  static constexpr size_t kCapacity = 4 * 1024 * 1024;  // the largest message it can take
  static constexpr size_t kReadSize = 64 * 1024;

  std::string_view pending() const { return {data_.get() + begin_, end_ - begin_}; }

  // Reads more after what is buffered; moves the unread rest to the front first.
  net::awaitable<void> Fill() {
    if (begin_ > 0) {
      std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    // Reads of at most kReadSize keep the used part of the buffer small and resident.
    const size_t room = std::min(kReadSize, kCapacity - end_);
    end_ += co_await socket_.async_read_some(net::buffer(data_.get() + end_, room), net::use_awaitable);
    read_at_us_ = WallNowUs();
  }

 public:
  int64_t read_at_us() const { return read_at_us_; }

 private:
  int64_t read_at_us_ = 0;

  tcp::socket socket_;
  std::unique_ptr<char[]> data_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

uint64_t NumberAfter(std::string_view text, std::string_view key) {
  const size_t at = text.find(key);
  if (at == std::string_view::npos) return 0;
  uint64_t value = 0;
  for (size_t i = at + key.size(); i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    value = value * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  return value;
}

// "2026-11-22T22:21:41.123456Z" -> microseconds since the epoch (UTC).
int64_t ParseTs(std::string_view ts) {
  if (ts.size() < 27) return 0;
  auto num = [&](size_t pos, size_t len) {
    int64_t v = 0;
    for (size_t i = pos; i < pos + len; ++i) v = v * 10 + (ts[i] - '0');
    return v;
  };
  // Days from the civil date (H. Hinnant's algorithm).
  int64_t y = num(0, 4);
  const int64_t m = num(5, 2);
  const int64_t d = num(8, 2);
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = era * 146097 + doe - 719468;
  const int64_t seconds = days * 86400 + num(11, 2) * 3600 + num(14, 2) * 60 + num(17, 2);
  return seconds * 1000000 + num(20, 6);
}

net::awaitable<std::unique_ptr<WsClient>> Connect(tcp::endpoint endpoint, std::string host,
                                                  std::string path) {
  tcp::socket socket(co_await net::this_coro::executor);
  co_await socket.async_connect(endpoint, net::use_awaitable);
  socket.set_option(tcp::no_delay(true));
  auto client = std::make_unique<WsClient>(std::move(socket));
  co_await client->Handshake(host, path);
  auto [opcode, hello] = co_await client->Next();
  if (opcode != 1 || hello.find("\"op\":\"hello\"") == std::string_view::npos) {
    throw std::runtime_error("expected hello, got " + std::string(hello));
  }
  co_return client;
}

// A Socket.IO client of namespace `/` over the Engine.IO WebSocket transport:
// open packet, CONNECT, and its answer (the events that follow it, such as
// context_snapshot, are left to the caller).
net::awaitable<std::unique_ptr<WsClient>> ConnectSocketIo(tcp::endpoint endpoint, std::string host) {
  tcp::socket socket(co_await net::this_coro::executor);
  co_await socket.async_connect(endpoint, net::use_awaitable);
  socket.set_option(tcp::no_delay(true));
  auto client = std::make_unique<WsClient>(std::move(socket));
  co_await client->Handshake(host, "/socket.io/?EIO=4&transport=websocket");
  auto [opcode, open] = co_await client->Next();
  if (opcode != 1 || !open.starts_with("0{"))
    throw std::runtime_error("expected open, got " + std::string(open));
  std::string connect;
  AppendClientFrame(&connect, "40");
  co_await client->Send(connect);
  while (true) {
    auto [type, message] = co_await client->Next();
    if (type == 8) throw std::runtime_error("closed before the Socket.IO CONNECT was answered");
    if (message.starts_with("44")) throw std::runtime_error("CONNECT refused: " + std::string(message));
    if (message.starts_with("40")) co_return client;
  }
}

net::awaitable<std::unique_ptr<WsClient>> ConnectSubscriber(tcp::endpoint endpoint, std::string host,
                                                            const Options& options) {
  if (options.protocol == "socketio") co_return co_await ConnectSocketIo(endpoint, host);
  co_return co_await Connect(endpoint, host, "/v1/ws");
}

// Every run writes new values: a set to the current value appends nothing.
const std::string& RunNonce() {
  static const std::string nonce =
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  return nonce;
}

// Appends one framed set op; cheap, since the driver shares the CPU with the server.
void AppendSetOp(std::string* frames, std::string* op, uint64_t id, int connection, int value_bytes) {
  char number[24];
  auto digits = [&number](uint64_t v) {
    return std::string_view(
        number, static_cast<size_t>(std::to_chars(number, number + sizeof number, v).ptr - number));
  };
  op->assign("{\"op\":\"set\",\"id\":");
  op->append(digits(id));
  op->append(",\"key\":\"load-");
  op->append(digits(static_cast<uint64_t>(connection)));
  op->push_back('-');
  op->append(digits(id % 1000));
  op->append("\",\"value\":\"");
  const size_t value_start = op->size();
  op->append(RunNonce());
  op->push_back('-');
  op->append(digits(id));
  const size_t value_size = op->size() - value_start;
  if (static_cast<size_t>(value_bytes) > value_size)
    op->append(static_cast<size_t>(value_bytes) - value_size, 'x');
  op->append("\"}");
  AppendClientFrame(frames, *op);
}

// ---- sets ------------------------------------------------------------------

struct SetterStats {
  Histogram latency;
  uint64_t acked = 0;
  uint64_t errors = 0;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
};

// Keeps `window` sets in flight (sent as each is answered, or with --lockstep
// a window at a time, as redis-benchmark -P does) until `deadline` (or until
// `total` were sent, when > 0), paced to `rate` per second when > 0.
net::awaitable<void> RunSetter(tcp::endpoint endpoint, std::string host, int id, const Options& options,
                               Clock::time_point deadline, int64_t total, double rate, SetterStats& stats) {
  const std::string path = options.with_events ? "/v1/ws" : "/v1/ws?type=session.save";
  auto client = co_await Connect(endpoint, host, path);
  std::vector<Clock::time_point> sent_at;
  uint64_t sent = 0;
  uint64_t answered = 0;
  const auto start = Clock::now();
  auto may_send = [&] {
    if (total > 0 && static_cast<int64_t>(sent) >= total) return false;
    if (total <= 0 && Clock::now() >= deadline) return false;
    if (rate > 0) {
      const double due = std::chrono::duration<double>(Clock::now() - start).count() * rate;
      if (static_cast<double>(sent) >= due) return false;
    }
    return sent - answered < static_cast<uint64_t>(options.window);
  };
  std::string frames;
  std::string op;
  net::steady_timer pace(co_await net::this_coro::executor);
  while (true) {
    frames.clear();
    // --lockstep: a new window only once the last one is answered in full.
    const bool may_start = !options.lockstep || answered == sent;
    while (may_start && may_send()) {
      AppendSetOp(&frames, &op, sent, id, options.value_bytes);
      sent_at.push_back(Clock::now());
      ++sent;
    }
    if (!frames.empty()) co_await client->Send(frames);
    if (answered == sent) {
      const bool done = total > 0 ? static_cast<int64_t>(sent) >= total : Clock::now() >= deadline;
      if (done) break;
      pace.expires_after(std::chrono::microseconds(500));  // paced: wait for the next slot
      co_await pace.async_wait(net::use_awaitable);
      continue;
    }
    auto [opcode, message] = co_await client->Next();
    if (opcode == 8) throw std::runtime_error("the server closed the connection");
    if (opcode != 1 || message.starts_with("{\"op\":\"event\"")) continue;  // --with-events
    const uint64_t ack_id = NumberAfter(message, "\"id\":");
    if (message.find("\"op\":\"ack\"") != std::string_view::npos) {
      const uint64_t seq = NumberAfter(message, "\"seq\":");
      if (stats.first_seq == 0) stats.first_seq = seq;
      stats.last_seq = std::max(stats.last_seq, seq);
      ++stats.acked;
    } else {
      ++stats.errors;
    }
    if (ack_id < sent_at.size()) {
      stats.latency.Add(std::chrono::duration<double, std::micro>(Clock::now() - sent_at[ack_id]).count());
    }
    ++answered;
  }
}

int RunSets(const Options& options) {
  const auto endpoint = ParseTarget(options.target);
  net::io_context ioc;
  std::vector<SetterStats> stats(static_cast<size_t>(options.connections));
  std::atomic<int> failed{0};
  const auto start = Clock::now();
  const auto deadline = After(start, options.seconds);
  for (int c = 0; c < options.connections; ++c) {
    net::co_spawn(
        ioc, RunSetter(endpoint, options.target, c, options, deadline, 0, 0, stats[static_cast<size_t>(c)]),
        CountFailure(failed, "setter failed"));
  }
  ioc.run();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  Histogram all;
  uint64_t acked = 0;
  uint64_t errors = 0;
  for (auto& s : stats) {
    all.Merge(s.latency);
    acked += s.acked;
    errors += s.errors;
  }
  std::printf(
      "sets: %d conn x %d in flight  %9.0f acked sets/s  p50 %7.2f ms  p99 %7.2f ms  (%llu acked, %llu "
      "errors, %d failed conns, %.1f s)\n",
      options.connections, options.window, static_cast<double>(acked) / elapsed, all.Percentile(0.5) / 1000,
      all.Percentile(0.99) / 1000, static_cast<unsigned long long>(acked),
      static_cast<unsigned long long>(errors), failed.load(), elapsed);
  return failed.load() == 0 && errors == 0 ? 0 : 1;
}

// ---- fanout ----------------------------------------------------------------

struct SubscriberState {
  uint64_t first = 0;             // first event seq received
  std::atomic<uint64_t> last{0};  // last event seq received (read by the main thread)
  uint64_t received = 0;
  uint64_t gaps = 0;
  uint64_t duplicates = 0;
  std::atomic<bool> closed{false};
};

struct Shared {
  std::atomic<uint64_t> target_seq{0};  // set when the setter is done: the last acked seq
  std::atomic<int> connected{0};
  std::atomic<int> failed{0};
  std::atomic<int> finished{0};
  std::atomic<int64_t> steady_from_us{INT64_MAX};  // commit time after the warm-up
};

// Latency of every event, and of those committed after the warm-up.
struct Latencies {
  Histogram all;
  Histogram steady;
};

// An event's seq and commit time (µs since the epoch, 0 when absent).
struct Stamp {
  uint64_t seq = 0;
  int64_t ts_us = 0;
};

// {"op":"event","event":{"seq":N,"ts":"...": the event JSON's fixed field order.
Stamp ParseWsEvent(std::string_view message) {
  constexpr std::string_view kEventPrefix = "{\"op\":\"event\",\"event\":{\"seq\":";
  if (!message.starts_with(kEventPrefix)) return {};
  Stamp stamp;
  size_t at = kEventPrefix.size();
  while (at < message.size() && message[at] >= '0' && message[at] <= '9')
    stamp.seq = stamp.seq * 10 + static_cast<uint64_t>(message[at++] - '0');
  if (message.substr(at, 7) == ",\"ts\":\"") stamp.ts_us = ParseTs(message.substr(at + 7, 27));
  return stamp;
}

// 42["context_updated",{"key",..,"timestamp":"...","seq":N}]: the values
// the setter writes hold no quotes, so the last fields are found by name.
Stamp ParseSioEvent(std::string_view message) {
  constexpr std::string_view kEventPrefix = "42[\"context_updated\",{";
  constexpr std::string_view kTimestamp = "\"timestamp\":\"";
  if (!message.starts_with(kEventPrefix)) return {};
  const size_t ts_at = message.rfind(kTimestamp);
  Stamp stamp{NumberAfter(message.substr(ts_at == std::string_view::npos ? 0 : ts_at), "\"seq\":"), 0};
  if (ts_at != std::string_view::npos) stamp.ts_us = ParseTs(message.substr(ts_at + kTimestamp.size(), 27));
  return stamp;
}

net::awaitable<void> RunSubscriber(std::unique_ptr<WsClient> client, SubscriberState& state,
                                   Latencies& latency, Shared& shared, bool socketio) {
  std::string pong;
  AppendClientFrame(&pong, "3");
  while (true) {
    const uint64_t target = shared.target_seq.load(std::memory_order_acquire);
    if (target != 0 && state.last >= target) break;
    auto [opcode, message] = co_await client->Next();
    if (opcode == 8) {
      state.closed = true;
      break;
    }
    if (opcode != 1) continue;
    if (socketio && message == "2") {  // the Engine.IO heartbeat
      co_await client->Send(pong);
      continue;
    }
    const Stamp stamp = socketio ? ParseSioEvent(message) : ParseWsEvent(message);
    const uint64_t seq = stamp.seq;
    if (seq == 0) continue;
    if (stamp.ts_us != 0) {
      const int64_t ts = stamp.ts_us;
      // The time the bytes were read: every message of one read shares it.
      const double micros = static_cast<double>(client->read_at_us() - ts);
      latency.all.Add(micros);
      latency.all.AddToTimeline(ts, micros);
      if (ts >= shared.steady_from_us.load(std::memory_order_relaxed)) latency.steady.Add(micros);
    }
    const uint64_t last = state.last.load(std::memory_order_relaxed);
    if (last != 0 && seq <= last) {
      ++state.duplicates;
    } else if (last != 0 && seq != last + 1) {
      ++state.gaps;
    }
    if (state.first == 0) state.first = seq;
    ++state.received;
    state.last.store(std::max(last, seq), std::memory_order_relaxed);
  }
  ++shared.finished;
  boost::system::error_code ec;
  client->socket().close(ec);
}

uint64_t ServerRssKiB(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

net::awaitable<void> SubscriberMain(tcp::endpoint endpoint, std::string host, const Options& options,
                                    SubscriberState& state, Latencies& latency, Shared& shared) {
  std::unique_ptr<WsClient> client;
  try {
    client = co_await ConnectSubscriber(endpoint, host, options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "subscriber failed to connect: %s\n", e.what());
    state.closed = true;
    ++shared.failed;
    ++shared.finished;
    co_return;
  }
  ++shared.connected;
  try {
    co_await RunSubscriber(std::move(client), state, latency, shared, options.protocol == "socketio");
  } catch (const std::exception&) {
    state.closed = true;
    ++shared.finished;
  }
}

// Starts `count` subscribers and waits until each got its hello.
bool WaitConnected(const Shared& shared, int count, double seconds) {
  WaitFor([&] { return shared.connected.load() + shared.failed.load() >= count; }, seconds);
  return shared.connected.load() == count;
}

int RunFanout(const Options& options) {
  RaiseFileLimit();
  const auto endpoint = ParseTarget(options.target);
  Runners runners(options.threads);
  std::vector<SubscriberState> states(static_cast<size_t>(options.subscribers));
  std::vector<Latencies> latencies(runners.size());
  Shared shared;
  for (size_t i = 0; i < states.size(); ++i) {
    net::co_spawn(
        runners.at(i),
        SubscriberMain(endpoint, options.target, options, states[i], latencies[i % runners.size()], shared),
        net::detached);
  }
  runners.Start();
  if (!WaitConnected(shared, options.subscribers, 60)) {
    std::fprintf(stderr, "only %d of %d subscribers connected\n", shared.connected.load(),
                 options.subscribers);
    return 1;
  }
  std::fprintf(stderr, "%d subscribers connected\n", options.subscribers);

  SetterStats setter;
  const int64_t total =
      options.events > 0 ? options.events : static_cast<int64_t>(options.seconds * options.rate);
  net::io_context setter_ioc;
  const auto start = Clock::now();
  shared.steady_from_us.store(WallNowUs() + static_cast<int64_t>(options.warmup_seconds * 1e6));
  bool setter_failed = false;
  net::co_spawn(
      setter_ioc,
      RunSetter(endpoint, options.target, 0, options, Clock::time_point::max(), total, options.rate, setter),
      [&setter_failed](std::exception_ptr e) { setter_failed = static_cast<bool>(e); });
  setter_ioc.run();
  const double write_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  shared.target_seq.store(setter.last_seq, std::memory_order_release);
  // A subscriber stops once it has the last acked event; those that never
  // get it are stopped at the drain deadline.
  const auto drain_deadline = After(Clock::now(), options.drain_seconds);
  auto all_done = [&] {
    for (const auto& s : states) {
      if (!s.closed.load() && s.last.load(std::memory_order_relaxed) < setter.last_seq) return false;
    }
    return true;
  };
  while (!all_done() && Clock::now() < drain_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  runners.Join();
  Histogram all;
  Histogram steady;
  for (auto& h : latencies) {
    all.Merge(h.all);
    steady.Merge(h.steady);
  }
  uint64_t delivered = 0, gaps = 0, duplicates = 0, incomplete = 0, closed = 0;
  for (const auto& s : states) {
    delivered += s.received;
    gaps += s.gaps;
    duplicates += s.duplicates;
    if (s.closed) ++closed;
    if (s.last < setter.last_seq || s.first > setter.first_seq || s.gaps > 0 || s.duplicates > 0)
      ++incomplete;
  }
  std::printf(
      "fanout (%s): %zu subscribers, %llu events written in %.2f s (%.0f/s, %llu errors)\n"
      "  delivered %llu events in %.2f s = %.0f events/s; latency commit->delivery p50 %.2f ms, p99 %.2f ms, "
      "max %.2f ms\n"
      "  after the first %.1f s: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n"
      "  gaps %llu, duplicates %llu, closed by server %llu, subscribers missing events %llu\n",
      options.protocol.c_str(), states.size(), static_cast<unsigned long long>(setter.acked), write_seconds,
      static_cast<double>(setter.acked) / write_seconds, static_cast<unsigned long long>(setter.errors),
      static_cast<unsigned long long>(delivered), elapsed, static_cast<double>(delivered) / elapsed,
      all.Percentile(0.5) / 1000, all.Percentile(0.99) / 1000, all.max() / 1000, options.warmup_seconds,
      steady.Percentile(0.5) / 1000, steady.Percentile(0.99) / 1000, steady.max() / 1000,
      static_cast<unsigned long long>(gaps), static_cast<unsigned long long>(duplicates),
      static_cast<unsigned long long>(closed), static_cast<unsigned long long>(incomplete));
  if (options.timeline) {
    for (size_t i = 0; i < all.timeline().size(); ++i) {
      const auto& second = all.timeline()[i];
      std::printf("  second %2zu: %8llu events, %8llu over 50 ms, max %7.1f ms\n", i,
                  static_cast<unsigned long long>(second.count),
                  static_cast<unsigned long long>(second.over_50ms), second.max / 1000);
    }
  }
  if (!options.check) return 0;
  return !setter_failed && setter.errors == 0 && incomplete == 0 &&
                 static_cast<int64_t>(setter.acked) == total
             ? 0
             : 1;
}

// ---- idle ------------------------------------------------------------------

int RunIdle(const Options& options) {
  RaiseFileLimit();
  if (options.server_pid == 0) {
    std::fprintf(stderr, "--mode idle needs --server-pid\n");
    return 2;
  }
  const uint64_t before = ServerRssKiB(options.server_pid);
  const auto endpoint = ParseTarget(options.target);
  Runners runners(1);
  std::vector<std::unique_ptr<WsClient>> clients(static_cast<size_t>(options.subscribers));
  Shared shared;
  for (auto& slot : clients) {
    net::co_spawn(runners.at(0), ConnectSubscriber(endpoint, options.target, options),
                  [&slot, &shared](std::exception_ptr e, std::unique_ptr<WsClient> client) {
                    if (e) {
                      ++shared.failed;
                      return;
                    }
                    slot = std::move(client);
                    ++shared.connected;
                  });
  }
  runners.Start();
  if (!WaitConnected(shared, options.subscribers, 60)) {
    std::fprintf(stderr, "only %d of %d subscribers connected\n", shared.connected.load(),
                 options.subscribers);
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(options.hold_seconds));
  const uint64_t after = ServerRssKiB(options.server_pid);
  std::printf("idle (%s): %d subscribers: server RSS %llu KiB -> %llu KiB, %.1f KiB per subscriber\n",
              options.protocol.c_str(), options.subscribers, static_cast<unsigned long long>(before),
              static_cast<unsigned long long>(after),
              (static_cast<double>(after) - static_cast<double>(before)) / options.subscribers);
  runners.Join();
  return 0;
}

}  // namespace

int Main(int argc, char** argv) {
  Options options;
  CLI::App app{"ws_load: WebSocket load against a running ctxd"};
  app.add_option("--target", options.target, "HOST:PORT of ctxd")->capture_default_str();
  app.add_option("--mode", options.mode, "sets, fanout or idle")
      ->check(CLI::IsMember({"sets", "fanout", "idle"}))
      ->capture_default_str();
  app.add_option("--seconds", options.seconds, "duration (sets; fanout: with --rate)")->capture_default_str();
  app.add_option("--connections", options.connections, "sets: setter connections")->capture_default_str();
  app.add_option("--window", options.window, "ops in flight per setter")->capture_default_str();
  app.add_option("--value-bytes", options.value_bytes, "bytes of each set's value")->capture_default_str();
  app.add_flag("--lockstep", options.lockstep,
               "sets: send a window only once the last is answered in full (as redis-benchmark -P does)");
  app.add_flag("--with-events", options.with_events, "sets: the setter also receives every event");
  app.add_option("--subscribers", options.subscribers, "fanout, idle: subscriber connections")
      ->capture_default_str();
  app.add_option("--rate", options.rate, "fanout: events written per second")->capture_default_str();
  app.add_option("--events", options.events, "fanout: events to write in all (instead of seconds x rate)");
  app.add_option("--drain-seconds", options.drain_seconds,
                 "fanout: wait for the last event at most this long")
      ->capture_default_str();
  app.add_flag("--check", options.check, "fanout: exit 1 unless every subscriber got every event in order");
  app.add_option("--warmup", options.warmup_seconds,
                 "fanout: seconds of events left out of the steady-state latency")
      ->capture_default_str();
  app.add_flag("--timeline", options.timeline, "fanout: latency per second of the run");
  app.add_option("--threads", options.threads, "fanout: subscriber threads")->capture_default_str();
  app.add_option("--server-pid", options.server_pid, "idle: the ctxd process");
  app.add_option("--protocol", options.protocol,
                 "fanout, idle: subscribers on ws (/v1/ws) or socketio (/socket.io/)")
      ->check(CLI::IsMember({"ws", "socketio"}))
      ->capture_default_str();
  app.add_option("--hold", options.hold_seconds, "idle: seconds to wait before measuring")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    if (options.mode == "sets") return RunSets(options);
    if (options.mode == "fanout") return RunFanout(options);
    return RunIdle(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ws_load: %s\n", e.what());
    return 1;
  }
}

}  // namespace ctxd::bench

int main(int argc, char** argv) { return ctxd::bench::Main(argc, argv); }
