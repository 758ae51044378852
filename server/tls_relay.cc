#include "server/tls_relay.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace ctxd::server {

struct TlsTerminator::Context {
  net::ssl::context ssl{net::ssl::context::tls_server};
  std::atomic<size_t> handshakes{0};  // relays between Start and OnHandshake
};

namespace {

using Socket = TlsTerminator::Socket;
using PairEnd = net::basic_stream_socket<net::local::stream_protocol, Strand>;
using Clock = std::chrono::steady_clock;

constexpr size_t kBufferBytes = 16 * 1024;

// Checked before OpenSSL reads the file: its message for a missing file
// names neither the file nor the cause.
Status CheckReadable(const std::string& flag, const std::string& path) {
  std::ifstream file(path);
  if (!file) return Status::InvalidArgument(flag + " " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

Status LoadCertificateAndKey(net::ssl::context& ssl, const std::string& cert_file,
                             const std::string& key_file) {
  CTXD_RETURN_IF_ERROR(CheckReadable("--tls-cert", cert_file));
  CTXD_RETURN_IF_ERROR(CheckReadable("--tls-key", key_file));
  beast::error_code ec;
  ssl.use_certificate_chain_file(cert_file, ec);
  if (ec) {
    return Status::InvalidArgument("--tls-cert " + cert_file + ": not a PEM certificate chain (" +
                                   ec.message() + ")");
  }
  // OpenSSL checks that the key belongs to the certificate loaded before.
  ssl.use_private_key_file(key_file, net::ssl::context::pem, ec);
  if (ec && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
    return Status::InvalidArgument("--tls-key " + key_file + " does not match the certificate in " +
                                   cert_file);
  }
  if (ec) {
    return Status::InvalidArgument("--tls-key " + key_file + ": not a PEM private key (" + ec.message() +
                                   ")");
  }
  return Status::Ok();
}

// The plaintext socketpair: `session` for the session code, typed as TCP
// (reads, writes and shutdown behave the same on an AF_UNIX stream socket;
// TCP options fail, and the sessions set them with error_code overloads),
// `relay` for the relay.
Status ConnectSocketPair(Socket& session, PairEnd& relay) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
    return Status::Unavailable(std::string("socketpair: ") + std::strerror(errno));
  }
  beast::error_code ec;
  relay.assign(net::local::stream_protocol(), fds[1], ec);
  if (ec) {
    ::close(fds[0]);
    ::close(fds[1]);
    return Status::Unavailable("socketpair: " + ec.message());
  }
  session.assign(net::ip::tcp::v4(), fds[0], ec);
  if (ec) {
    ::close(fds[0]);
    return Status::Unavailable("socketpair: " + ec.message());
  }
  return Status::Ok();
}

// One TLS client: handshake, then the two pumps. Owned by its pending
// operations; everything runs on the client socket's strand. Every path
// ends in Close(), which closes the client and the relay's end of the
// socketpair (the session closes its own end when it sees them go).
class Relay : public std::enable_shared_from_this<Relay> {
 public:
  Relay(Socket client, net::ssl::context& ssl, std::atomic<size_t>& handshakes, net::io_context& ioc,
        Clock::duration timeout, TlsTerminator::Serve serve)
      : tls_(std::move(client), ssl),
        handshakes_(handshakes),
        relay_end_(tls_.get_executor()),
        watchdog_(tls_.get_executor()),
        ioc_(ioc),
        timeout_(timeout),
        serve_(std::move(serve)) {}

  void Start() {
    net::dispatch(tls_.get_executor(), [self = shared_from_this()] {
      // As HttpSession does on a plain connection: its own setting lands on
      // the socketpair, where it does nothing.
      beast::error_code ignored;
      self->tls_.next_layer().set_option(net::ip::tcp::no_delay(true), ignored);
      self->AwaitClient();
      self->ArmWatchdog(self->deadline_);
      self->tls_.async_handshake(net::ssl::stream_base::server,
                                 [self](beast::error_code ec) { self->OnHandshake(ec); });
    });
  }

 private:
  void OnHandshake(beast::error_code ec) {
    handshakes_.fetch_sub(1);
    awaiting_client_ = false;
    if (closed_) return;
    if (ec) {
      spdlog::debug("TLS handshake failed: {}", ec.message());
      return Close();
    }
    Socket session(ioc_.get_executor());
    if (auto connected = ConnectSocketPair(session, relay_end_); !connected.ok()) {
      spdlog::warn("TLS connection dropped: {}", connected.message());
      return Close();
    }
    serve_(std::move(session));
    PumpFromClient();
    PumpToClient();
  }

  // Client → session.
  void PumpFromClient() {
    tls_.async_read_some(
        net::buffer(from_client_),
        [self = shared_from_this()](beast::error_code ec, size_t n) { self->OnClientRead(ec, n); });
  }

  void OnClientRead(beast::error_code ec, size_t n) {
    if (closed_) return;
    if (ec == net::error::eof || ec == net::ssl::error::stream_truncated) {
      // The client is done sending (close_notify, or a bare FIN): the
      // session reads its end of input; answers still flow back.
      beast::error_code ignored;
      relay_end_.shutdown(net::socket_base::shutdown_send, ignored);
      return;
    }
    if (ec) return Close();
    net::async_write(relay_end_, net::buffer(from_client_.data(), n),
                     [self = shared_from_this()](beast::error_code write_ec, size_t) {
                       if (write_ec) return self->Close();
                       self->PumpFromClient();
                     });
  }

  // Session → client.
  void PumpToClient() {
    relay_end_.async_read_some(
        net::buffer(to_client_),
        [self = shared_from_this()](beast::error_code ec, size_t n) { self->OnSessionRead(ec, n); });
  }

  void OnSessionRead(beast::error_code ec, size_t n) {
    if (closed_) return;
    if (ec == net::error::eof) return SendCloseNotify();
    if (ec) return Close();
    AwaitClient();
    net::async_write(tls_, net::buffer(to_client_.data(), n),
                     [self = shared_from_this()](beast::error_code write_ec, size_t) {
                       self->awaiting_client_ = false;
                       if (write_ec) return self->Close();
                       self->PumpToClient();
                     });
  }

  // The session closed: close_notify, and the client's answer to it (or its
  // FIN) within the timeout.
  void SendCloseNotify() {
    AwaitClient();
    tls_.async_shutdown([self = shared_from_this()](beast::error_code) { self->Close(); });
  }

  // The handshake, a write to the client or the close_notify is under way
  // and must finish within the timeout.
  void AwaitClient() {
    awaiting_client_ = true;
    deadline_ = Clock::now() + timeout_;
  }

  // One timer for the connection's life, moved only when it fires (no
  // cancel and re-arm per write).
  void ArmWatchdog(Clock::time_point at) {
    watchdog_.expires_at(at);
    watchdog_.async_wait([self = shared_from_this()](beast::error_code ec) { self->OnWatchdog(ec); });
  }

  void OnWatchdog(beast::error_code ec) {
    if (ec || closed_) return;
    const auto now = Clock::now();
    if (awaiting_client_ && now >= deadline_) {
      spdlog::debug("TLS client timed out");
      return Close();
    }
    ArmWatchdog(awaiting_client_ ? deadline_ : now + timeout_);
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    watchdog_.cancel();
    tls_.next_layer().close(ignored);
    relay_end_.close(ignored);
  }

  net::ssl::stream<Socket> tls_;
  std::atomic<size_t>& handshakes_;
  PairEnd relay_end_;
  net::steady_timer watchdog_;
  net::io_context& ioc_;
  const Clock::duration timeout_;
  TlsTerminator::Serve serve_;
  bool awaiting_client_ = false;
  Clock::time_point deadline_;
  bool closed_ = false;
  std::array<char, kBufferBytes> from_client_;
  std::array<char, kBufferBytes> to_client_;
};

}  // namespace

size_t TlsTerminator::handshakes() const { return context_->handshakes.load(); }

TlsTerminator::TlsTerminator(std::unique_ptr<Context> context) : context_(std::move(context)) {}
TlsTerminator::~TlsTerminator() = default;

StatusOr<std::unique_ptr<TlsTerminator>> TlsTerminator::Create(const std::string& cert_file,
                                                               const std::string& key_file) {
  auto context = std::make_unique<Context>();
  if (SSL_CTX_set_min_proto_version(context->ssl.native_handle(), TLS1_2_VERSION) != 1) {
    return Status::Internal("TLS: cannot require TLS 1.2");
  }
  context->ssl.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_compression |
                           SSL_OP_NO_RENEGOTIATION);
  CTXD_RETURN_IF_ERROR(LoadCertificateAndKey(context->ssl, cert_file, key_file));
  return std::unique_ptr<TlsTerminator>(new TlsTerminator(std::move(context)));
}

void TlsTerminator::Start(Socket client, net::io_context& ioc, std::chrono::steady_clock::duration timeout,
                          Serve serve) const {
  context_->handshakes.fetch_add(1);
  std::make_shared<Relay>(std::move(client), context_->ssl, context_->handshakes, ioc, timeout,
                          std::move(serve))
      ->Start();
}

}  // namespace ctxd::server
