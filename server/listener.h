// Listener: accepts TCP connections and starts an HttpSession for each, on
// its own strand of the next I/O context of the pool. Beyond ConnectionLimits::max_connections a connection is
// answered 503 and closed. Accept errors (e.g. out of file descriptors) are
// retried after a short pause instead of spinning. With a TlsTerminator the
// connection is handed to it first, and the session (or the 503) gets the
// plaintext side once the handshake is done.
//
// Thread safety: Start and Stop may be called from any thread; the accept
// loop runs on the listener's strand.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <memory>

#include "common/status.h"
#include "server/http_session.h"

namespace ctxd::server {

class TlsTerminator;

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // `tls`: null for plain HTTP; not owned, outlives the listener's io_context.
  Listener(net::io_context& ioc, HttpSessionShared& shared, const TlsTerminator* tls);

  Status Bind(const net::ip::tcp::endpoint& endpoint);
  net::ip::tcp::endpoint local_endpoint() const;
  void Start();
  void Stop();

 private:
  void DoAccept();
  using Socket = net::basic_stream_socket<net::ip::tcp, Strand>;
  void OnAccept(beast::error_code ec, Socket socket);
  static void Serve(Socket socket, HttpSessionShared& shared);
  static void RefuseBusy(Socket socket);

  HttpSessionShared& shared_;
  const TlsTerminator* tls_;
  net::strand<net::io_context::executor_type> strand_;
  net::ip::tcp::acceptor acceptor_;
  net::steady_timer retry_timer_;
};

}  // namespace ctxd::server
