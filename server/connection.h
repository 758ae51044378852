// Connection plumbing shared by the HTTP sessions and, later, the stream
// sessions (WebSocket, SSE, Socket.IO) that take over an HTTP connection.
//
// This is the only server header that includes Beast; include it only from
// the connection code (http_session.cc, listener.cc, server.cc and the
// stream sessions).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ctxd::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

// A client connection: a TCP stream with timeouts on the connection's strand.
// The strand is implicit: every io_context of the IoPool is run by exactly
// one thread, so its executor already runs a connection's handlers one at a
// time, and an explicit net::strand over it would only add its cost (a
// shared implementation's lock, reference counts and a queue per handler:
// about 6 % of the server's CPU per request). The concrete executor type (not
// any_io_executor) saves a type-erased call per operation.
using Strand = net::io_context::executor_type;
using HttpStream = beast::basic_stream<net::ip::tcp, Strand>;

struct ConnectionLimits {
  size_t body_limit = 2 * 1024 * 1024;  // a 1 MiB value plus JSON overhead
  size_t header_limit = 8 * 1024;
  std::chrono::seconds idle_timeout{60};     // waiting for the next request
  std::chrono::seconds request_timeout{30};  // reading one request, writing one answer
  size_t max_connections = 10000;
  size_t max_pipeline = 16;  // requests read ahead of their answers, per connection
};

// The message read into `buffer`, as text.
inline std::string_view BufferText(const beast::flat_buffer& buffer) {
  const auto data = buffer.cdata();
  return std::string_view(static_cast<const char*>(data.data()), data.size());
}

// Empties `buffer` once its message is handled; a buffer that a large
// message grew past 64 KiB is given back rather than kept per connection.
inline void RecycleReadBuffer(beast::flat_buffer& buffer) {
  buffer.consume(buffer.size());
  if (buffer.capacity() > 64 * 1024) buffer = beast::flat_buffer();
}

// A route that takes over the connection (WebSocket upgrade, SSE). It is
// called on the connection's strand once every earlier pipelined response
// has been written, with the stream, the bytes already read past the
// request, and the request itself. The HTTP session is done with the socket.
using StreamHandoff = std::function<void(HttpStream stream, beast::flat_buffer buffer,
                                         http::request<http::string_body> request)>;

// Paths (without the query) served by a StreamHandoff.
// Thread safety: Add before the server runs; Find from any thread after.
class StreamRoutes {
 public:
  void Add(std::string path, StreamHandoff handoff, bool prefix = false);
  const StreamHandoff* Find(std::string_view path) const;

 private:
  struct Entry {
    std::string path;
    bool prefix;
    StreamHandoff handoff;
  };
  std::vector<Entry> entries_;
};

// Something that holds a client connection and can be asked to wind it down.
class Closable {
 public:
  virtual ~Closable() = default;
  // Finish what is in flight, then close (streams: close "going away").
  // Called from any thread; implementations post to their own strand.
  virtual void Shutdown() = 0;
};

// The open connections, so that shutdown can reach each of them.
// Thread safety: all methods are safe from any thread.
class ConnectionRegistry {
 public:
  uint64_t Add(std::weak_ptr<Closable> connection);
  void Remove(uint64_t id);
  // Asks every registered connection to shut down.
  void ShutdownAll();
  size_t size() const;

 private:
  mutable std::mutex mu_;
  uint64_t next_id_ = 1;                                               // guarded by mu_
  std::unordered_map<uint64_t, std::weak_ptr<Closable>> connections_;  // guarded by mu_
};

}  // namespace ctxd::server
