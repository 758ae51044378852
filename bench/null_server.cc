// null_server: the machine's HTTP ceiling for bench/compare.
//
// A Boost.Beast HTTP/1.1 server that does no work: every request, whatever
// its method, path or body, is answered 200 with a 2-byte body, keep-alive.
// Two I/O threads, like ctxd's default, so a load tool measured against it
// shows what the HTTP stack, the loopback and the load tool itself cost on
// this machine.
//
//   null_server --listen 127.0.0.1:18081 [--threads 2]
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace http = boost::beast::http;
using net::ip::tcp;

namespace {

// One keep-alive connection: read a request, answer it, until the peer closes.
net::awaitable<void> Serve(tcp::socket socket) {
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response{http::status::ok, 11};
  response.set(http::field::content_type, "application/json");
  response.body() = "{}";
  response.prepare_payload();
  boost::system::error_code ec;
  while (true) {
    http::request<http::string_body> request;
    co_await http::async_read(socket, buffer, request, net::redirect_error(net::use_awaitable, ec));
    if (ec) break;
    response.keep_alive(request.keep_alive());
    co_await http::async_write(socket, response, net::redirect_error(net::use_awaitable, ec));
    if (ec || !request.keep_alive()) break;
  }
  socket.shutdown(tcp::socket::shutdown_send, ec);
}

net::awaitable<void> Accept(tcp::acceptor& acceptor) {
  while (true) {
    tcp::socket socket = co_await acceptor.async_accept(net::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    const auto executor = socket.get_executor();
    net::co_spawn(executor, Serve(std::move(socket)), net::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"null_server: answers every HTTP request 200 and does nothing else"};
  std::string listen = "127.0.0.1:18081";
  int threads = 2;
  app.add_option("--listen", listen, "HOST:PORT");
  app.add_option("--threads", threads, "I/O threads")->check(CLI::Range(1, 64));
  CLI11_PARSE(app, argc, argv);

  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "--listen must be HOST:PORT\n");
    return 2;
  }
  boost::system::error_code ec;
  const auto address = net::ip::make_address(listen.substr(0, colon), ec);
  if (ec) {
    std::fprintf(stderr, "bad address in --listen: %s\n", listen.c_str());
    return 2;
  }
  net::io_context ioc(threads);
  const tcp::endpoint endpoint{address, static_cast<uint16_t>(std::stoi(listen.substr(colon + 1)))};
  tcp::acceptor acceptor(ioc);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "cannot listen on %s: %s\n", listen.c_str(), ec.message().c_str());
    return 1;
  }
  net::co_spawn(ioc, Accept(acceptor), net::detached);
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&ioc](const boost::system::error_code&, int) { ioc.stop(); });

  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t) workers.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& worker : workers) worker.join();
  return 0;
}
