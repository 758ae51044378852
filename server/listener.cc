#include "server/listener.h"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/write.hpp>

#include "server/tls_relay.h"

namespace ctxd::server {
namespace {

// TLS handshakes beyond --max-connections, to answer 503 over TLS.
constexpr size_t kRefusalHandshakes = 16;

const std::string& BusyResponse() {
  static const std::string response = [] {
    const std::string body =
        R"({"error":{"code":"UNAVAILABLE","message":"too many connections; retry later"}})";
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  }();
  return response;
}

}  // namespace

Listener::Listener(net::io_context& ioc, HttpSessionShared& shared, const TlsTerminator* tls)
    : shared_(shared),
      tls_(tls),
      strand_(net::make_strand(ioc)),
      acceptor_(strand_),
      retry_timer_(strand_) {}

Status Listener::Bind(const net::ip::tcp::endpoint& endpoint) {
  beast::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable("cannot listen on " + endpoint.address().to_string() + ":" +
                               std::to_string(endpoint.port()) + ": " + ec.message());
  }
  return Status::Ok();
}

net::ip::tcp::endpoint Listener::local_endpoint() const {
  beast::error_code ec;
  return acceptor_.local_endpoint(ec);
}

void Listener::Start() {
  net::dispatch(strand_, [self = shared_from_this()] { self->DoAccept(); });
}

void Listener::Stop() {
  net::dispatch(strand_, [self = shared_from_this()] {
    beast::error_code ec;
    self->acceptor_.close(ec);
    self->retry_timer_.cancel();
  });
}

void Listener::DoAccept() {
  acceptor_.async_accept(shared_.io.Next().get_executor(),
                         [self = shared_from_this()](beast::error_code ec, Socket socket) {
                           self->OnAccept(ec, std::move(socket));
                         });
}

void Listener::OnAccept(beast::error_code ec, Socket socket) {
  if (!acceptor_.is_open()) return;
  if (ec) {
    spdlog::warn("accept failed: {}; retrying", ec.message());
    retry_timer_.expires_after(std::chrono::milliseconds(50));
    retry_timer_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
      if (!wait_ec) self->DoAccept();
    });
    return;
  }
  if (tls_ != nullptr) {
    // Handshakes count as connections: 300 stalled ones had been held past
    // the limit, with a file descriptor each. A 503 can only go out after
    // a handshake, so kRefusalHandshakes more may run to carry it (Serve);
    // past those a connection is closed at once.
    const size_t open = static_cast<size_t>(shared_.metrics.connections()) + tls_->handshakes();
    if (open >= shared_.limits.max_connections + kRefusalHandshakes) {
      beast::error_code ignored;
      socket.close(ignored);
      return DoAccept();
    }
    // The relay may outlive the listener; `shared` outlives the io_context.
    net::io_context& ioc = socket.get_executor().context();
    tls_->Start(std::move(socket), ioc, shared_.limits.request_timeout,
                [&shared = shared_](Socket plaintext) { Serve(std::move(plaintext), shared); });
  } else {
    Serve(std::move(socket), shared_);
  }
  DoAccept();
}

void Listener::Serve(Socket socket, HttpSessionShared& shared) {
  if (static_cast<size_t>(shared.metrics.connections()) >= shared.limits.max_connections) {
    RefuseBusy(std::move(socket));
  } else {
    std::make_shared<HttpSession>(std::move(socket), shared)->Run();
  }
}

void Listener::RefuseBusy(Socket socket) {
  auto busy = std::make_shared<Socket>(std::move(socket));
  net::async_write(*busy, net::buffer(BusyResponse()), [busy](beast::error_code, size_t) {
    beast::error_code ec;
    busy->shutdown(net::ip::tcp::socket::shutdown_both, ec);
    busy->close(ec);
  });
}

}  // namespace ctxd::server
