// TlsTerminator: TLS on ctxd's one port, terminated in the process by a
// relay, so that every protocol served there (REST, /v1/ws, /v1/stream,
// Socket.IO, the dashboard) runs over TLS without the session code knowing.
//
// Why a relay: the sessions (HttpSession, WsSession, SseSession, the
// Socket.IO sessions, OutputQueue's writev) are built on a plain
// basic_stream_socket and stay so. For each TLS client the relay does the
// server handshake, then makes a socketpair: one end becomes the session's
// socket, handed to the same code as a plain connection; the other end is
// pumped both ways with the TLS stream (one read in flight per direction,
// 16 KiB buffers, so a slow client fills the socketpair and the session's
// own stall and write timeouts apply). An end of input on either side is
// passed on (shutdown of the socketpair's sending side; close_notify to the
// client), any error closes both sides. The handshake, each write to the
// client and the close_notify are bounded by the timeout given to Start.
//
// Only tls_relay.cc includes the OpenSSL and Boost.Asio SSL headers.
//
// Thread safety: Create and the destructor on one thread; Start from any
// thread. Each relay runs on the strand of the client socket it is given.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "server/connection.h"

namespace ctxd::server {

class TlsTerminator {
 public:
  using Socket = net::basic_stream_socket<net::ip::tcp, Strand>;
  // Takes the plaintext side of a connection: the same thing the listener
  // does with an accepted socket.
  using Serve = std::function<void(Socket socket)>;

  // Loads the certificate chain (PEM, leaf first) and the private key (PEM)
  // once. kInvalidArgument naming the file when either cannot be read or
  // parsed, or when the key does not belong to the certificate.
  static StatusOr<std::unique_ptr<TlsTerminator>> Create(const std::string& cert_file,
                                                         const std::string& key_file);
  ~TlsTerminator();
  TlsTerminator(const TlsTerminator&) = delete;
  TlsTerminator& operator=(const TlsTerminator&) = delete;

  // Serves `client` (just accepted, on its own strand) over TLS: after the
  // handshake, `serve` gets the session's end of the socketpair on a new
  // strand of `ioc`. A failed or late (`timeout`) handshake closes `client`.
  void Start(Socket client, net::io_context& ioc, std::chrono::steady_clock::duration timeout,
             Serve serve) const;
  // Connections in their handshake: not served yet, but open (the
  // listener counts them against --max-connections).
  size_t handshakes() const;

 private:
  struct Context;
  explicit TlsTerminator(std::unique_ptr<Context> context);

  std::unique_ptr<Context> context_;  // the SSL_CTX; constant after Create
};

}  // namespace ctxd::server
