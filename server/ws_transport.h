// WsTransport: the layer under Beast's websocket::stream in a WebSocket
// session. Reads go straight to the socket; writes go through the session's
// OutputQueue.
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

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/role.hpp>
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

  template <class MutableBufferSequence, class ReadHandler>
  auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    return socket_.async_read_some(buffers, std::forward<ReadHandler>(handler));
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
    // Opcode 0x8: a close frame. Nothing may follow it but control frames.
    if (framing_ && !bytes.empty() && (static_cast<unsigned char>(bytes[0]) & 0x0F) == 0x8) output_.Seal();
    output_.PushControl(std::move(bytes));
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
