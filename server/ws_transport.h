// WsTransport: the layer under Beast's websocket::stream in a WebSocket
// session. Reads come from a chunk read off the socket; writes go through
// the session's OutputQueue.
//
// Reads: Beast reads at most 1,536 bytes at a time (less for the rest of a
// frame), so a client that pipelines ops would cost one syscall per few of
// them. The transport reads the socket in chunks of up to 32 KiB, once it is
// readable, and serves Beast's reads from the chunk, which it frees once
// empty (an idle connection holds none). A read that finds the chunk empty
// first calls the session's input-drained hook: every message the client had
// sent is handled by then, so the session can commit the ops they carried
// together (WsSession).
//
// Why: websocket::stream writes one message per async_write, so a
// subscriber would cost one syscall per event. Here the session appends
// pre-built event frames (the same bytes for every subscriber, see
// StreamHub) to the OutputQueue itself, many per write, while Beast keeps
// doing the protocol: the handshake, reading and unmasking client frames,
// ping/pong, close. Beast's own writes (the 101 answer, pong, ping, close)
// land in the same queue in order and complete at once. A close frame
// written by Beast seals the queue, so no data frame follows it. Beast must
// be set up with auto_fragment(false) and no permessage-deflate, so that
// each of its messages is one write here and data frames are never cut in
// between.
//
// Thread safety: the connection's strand, like the stream above it.
#pragma once

#include <algorithm>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/role.hpp>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "server/stream_output.h"

namespace ctxd::server {

class WsTransport {
 public:
  using executor_type = Strand;

  WsTransport(StreamSocket socket, OutputLimits limits)
      : socket_(std::move(socket)), output_(socket_, limits) {}
  WsTransport(const WsTransport&) = delete;
  WsTransport& operator=(const WsTransport&) = delete;

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  // The lowest layer: Beast closes it on a timeout.
  StreamSocket& next_layer() noexcept { return socket_; }
  OutputQueue& output() noexcept { return output_; }
  // After the handshake: from now on Beast writes WebSocket frames.
  void BeginFrames() { framing_ = true; }

  // The end of a close: stop sending, read and drop what the client still
  // sends until it closes (at most kDrainLimit bytes; Beast's close timeout
  // bounds the time), then close the socket. Beast's own TCP teardown stops
  // after one read, so a client still sending (say, a message over the size
  // limit) would get a reset instead of the close frame.
  void DrainAndClose(std::function<void(beast::error_code)> done) {
    beast::error_code ec;
    socket_.shutdown(net::socket_base::shutdown_send, ec);
    drain_ = std::make_unique<char[]>(kDrainChunk);
    drained_ = 0;
    DrainSome(std::move(done));
  }

  // Before the first read: bytes the client sent right after its upgrade
  // request, which the HTTP session read with it. They are the first frames.
  void Preload(net::const_buffer bytes) {
    if (bytes.size() == 0) return;
    input_ = std::make_unique<char[]>(std::max(bytes.size(), kReadChunk));
    std::memcpy(input_.get(), bytes.data(), bytes.size());
    input_begin_ = 0;
    input_end_ = bytes.size();
  }

  // Called when a read finds nothing left of what the client had sent and
  // waits for more.
  void OnInputDrained(std::function<void()> hook) { input_drained_ = std::move(hook); }

  template <class MutableBufferSequence, class ReadHandler>
  auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    return net::async_initiate<ReadHandler, void(beast::error_code, size_t)>(
        [this](auto&& done, const MutableBufferSequence& into) {
          if (input_begin_ < input_end_ || net::buffer_size(into) == 0) {
            const size_t n = TakeInput(into);
            return net::post(socket_.get_executor(),
                             beast::bind_front_handler(std::move(done), beast::error_code{}, n));
          }
          if (input_drained_) input_drained_();
          WaitAndRead(into, std::move(done));
        },
        handler, buffers);
  }

  // Beast's writes: copied into the queue, complete at once.
  template <class ConstBufferSequence, class WriteHandler>
  auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    return net::async_initiate<WriteHandler, void(beast::error_code, size_t)>(
        [this](auto&& done, const ConstBufferSequence& data) {
          const size_t size = net::buffer_size(data);
          beast::error_code ec = output_.failed() ? net::error::broken_pipe : beast::error_code{};
          if (!ec) Accept(data, size);
          net::post(socket_.get_executor(), beast::bind_front_handler(std::move(done), ec, ec ? 0 : size));
        },
        handler, buffers);
  }

 private:
  template <class ConstBufferSequence>
  void Accept(const ConstBufferSequence& data, size_t size) {
    std::string bytes(size, '\0');
    net::buffer_copy(net::buffer(bytes), data);
    const int opcode = framing_ && !bytes.empty() ? static_cast<unsigned char>(bytes[0]) & 0x0F : -1;
    // A pong while the output is full is dropped (RFC 6455 5.5.3 lets an
    // endpoint answer only some pings): a client that sends pings and reads
    // nothing would otherwise grow the output without bound, since Beast
    // answers them inside one read and the session never sees them.
    if (opcode == 0xA && !output_.HasRoom()) return;
    // Opcode 0x8: a close frame. Nothing may follow it but control frames.
    if (opcode == 0x8) output_.Seal();
    output_.PushControl(std::move(bytes));
  }

  static constexpr size_t kReadChunk = 32 * 1024;

  // Copies what `into` takes of the chunk; frees the chunk once it is empty.
  template <class MutableBufferSequence>
  size_t TakeInput(const MutableBufferSequence& into) {
    const size_t n =
        net::buffer_copy(into, net::buffer(input_.get() + input_begin_, input_end_ - input_begin_));
    input_begin_ += n;
    if (input_begin_ == input_end_) {
      input_.reset();
      input_begin_ = input_end_ = 0;
    }
    return n;
  }

  // Waits until the socket is readable (a wait queued on an idle socket
  // re-arms it, so data that came before is seen), then reads a chunk
  // without blocking.
  template <class MutableBufferSequence, class Handler>
  void WaitAndRead(const MutableBufferSequence& into, Handler&& done) {
    socket_.async_wait(net::socket_base::wait_read,
                       [this, into, done = std::move(done)](beast::error_code ec) mutable {
                         size_t n = 0;
                         if (!ec) {
                           if (!input_) input_ = std::make_unique<char[]>(kReadChunk);
                           if (!socket_.non_blocking()) socket_.non_blocking(true, ec);
                           if (!ec) input_end_ = socket_.read_some(net::buffer(input_.get(), kReadChunk), ec);
                           if (input_end_ == 0) input_.reset();  // nothing read: waiting holds no chunk
                           if (ec == net::error::would_block) return WaitAndRead(into, std::move(done));
                           if (!ec) n = TakeInput(into);
                         }
                         done(ec, n);
                       });
  }

  static constexpr size_t kDrainChunk = 16 * 1024;
  static constexpr size_t kDrainLimit = 8 * 1024 * 1024;

  void DrainSome(std::function<void(beast::error_code)> done) {
    socket_.async_read_some(net::buffer(drain_.get(), kDrainChunk),
                            [this, done = std::move(done)](beast::error_code ec, size_t n) mutable {
                              drained_ += n;
                              if (!ec && drained_ < kDrainLimit) return DrainSome(std::move(done));
                              drain_.reset();
                              beast::error_code ignored;
                              socket_.close(ignored);
                              done(ec == net::error::eof ? beast::error_code{} : ec);
                            });
  }

  StreamSocket socket_;
  OutputQueue output_;
  bool framing_ = false;  // before: the HTTP handshake answer
  std::function<void()> input_drained_;
  std::unique_ptr<char[]> input_;  // the chunk read last; null when empty
  size_t input_begin_ = 0;         // what Beast has not taken yet: [begin, end)
  size_t input_end_ = 0;
  std::unique_ptr<char[]> drain_;
  size_t drained_ = 0;
};

// Beast's teardown after a close (found by ADL): write what is queued (the
// close frame among it), then drain and close (WsTransport::DrainAndClose).
// Only the asynchronous form: the sessions use no synchronous operation.
template <class TeardownHandler>
void async_teardown(beast::role_type, WsTransport& transport, TeardownHandler&& handler) {
  auto shared = std::make_shared<std::decay_t<TeardownHandler>>(std::forward<TeardownHandler>(handler));
  transport.output().Flush([&transport, shared](beast::error_code) {
    transport.DrainAndClose([&transport, shared](beast::error_code ec) {
      net::post(transport.get_executor(), beast::bind_front_handler(std::move(*shared), ec));
    });
  });
}

}  // namespace ctxd::server
