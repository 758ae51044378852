// Listener: accepts TCP connections and starts an HttpSession for each, on
// its own strand. Beyond ConnectionLimits::max_connections a connection is
// answered 503 and closed. Accept errors (e.g. out of file descriptors) are
// retried after a short pause instead of spinning.
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

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& ioc, HttpSessionShared& shared);

  Status Bind(const net::ip::tcp::endpoint& endpoint);
  net::ip::tcp::endpoint local_endpoint() const;
  void Start();
  void Stop();

 private:
  void DoAccept();
  using Socket = net::basic_stream_socket<net::ip::tcp, Strand>;
  void OnAccept(beast::error_code ec, Socket socket);
  void RefuseBusy(Socket socket);

  net::io_context& ioc_;
  HttpSessionShared& shared_;
  net::strand<net::io_context::executor_type> strand_;
  net::ip::tcp::acceptor acceptor_;
  net::steady_timer retry_timer_;
};

}  // namespace ctxd::server
