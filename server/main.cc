// ctxd: the server. Command line as in API.md "Command line".
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/access_tokens.h"
#include "server/server.h"
#include "server/tls_relay.h"
#include "store/store.h"

namespace {

struct Flags {
  std::string data = "./ctxd-data";
  std::string listen;
  std::string durability = "sync";
  uint64_t snapshot_every = 100000;
  int snapshot_interval = 0;
  std::string dump_dir;
  std::string auth_file;
  std::vector<std::string> cors_origins;
  std::vector<std::string> allowed_hosts;
  std::string tls_cert;
  std::string tls_key;
  std::string log_level;
  size_t max_body = 2 * 1024 * 1024;
  size_t max_value = ctxd::engine::EngineLimits{}.max_value_bytes;
  size_t max_connections = 10000;
  size_t io_threads = 2;
  int idle_timeout = 60;
  int request_timeout = 30;
  double stream_stall_timeout = 10;
  int sse_heartbeat = 15;
};

// The default listen address: 127.0.0.1:8080, or the old server's
// CONTEXT_SERVER_HOST / CONTEXT_SERVER_PORT.
std::string DefaultListen() {
  const char* host = std::getenv("CONTEXT_SERVER_HOST");
  const char* port = std::getenv("CONTEXT_SERVER_PORT");
  return std::string(host && *host ? host : "127.0.0.1") + ":" + (port && *port ? port : "8080");
}

// "HOST:PORT" or "[V6]:PORT".
bool SplitListen(const std::string& listen, std::string* host, uint16_t* port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) return false;
  *host = listen.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  if (host->empty()) *host = "0.0.0.0";
  try {
    size_t used = 0;
    const unsigned long value = std::stoul(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || value > 65535) return false;
    *port = static_cast<uint16_t>(value);
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

// Whether the paths name one directory (through symlinks, `.`, `..` and a
// trailing `/`), whether or not it exists yet.
bool SameDirectory(const std::string& a, const std::string& b) {
  auto resolved = [](const std::string& path) {
    std::error_code ec;
    std::filesystem::path canonical = std::filesystem::weakly_canonical(std::filesystem::absolute(path), ec);
    canonical = canonical.lexically_normal();
    if (!canonical.has_filename() && canonical != canonical.root_path()) canonical = canonical.parent_path();
    return canonical;
  };
  return resolved(a) == resolved(b);
}

void SetUpLogging(const Flags& flags) {
  auto logger = spdlog::stderr_color_mt("ctxd");
  spdlog::set_default_logger(logger);
  std::string level = flags.log_level;
  if (level.empty()) {
    const char* debug = std::getenv("DEBUG");
    level = debug && std::string(debug) == "1" ? "debug" : "info";
  }
  spdlog::set_level(spdlog::level::from_str(level));
}

void PrintBanner(const ctxd::server::Server& server, bool tls) {
  const std::string host =
      server.host().find(':') != std::string::npos ? "[" + server.host() + "]" : server.host();
  const std::string base = host + ":" + std::to_string(server.port());
  const std::string http = (tls ? "https://" : "http://") + base;
  const std::string ws = (tls ? "wss://" : "ws://") + base;
  std::cout << "ctxd listening on " << http << "\n"
            << "  REST       " << http << "/v1/context\n"
            << "  old API    " << http << "/ctx\n"
            << "  stream     " << http << "/v1/stream\n"
            << "  websocket  " << ws << "/v1/ws\n"
            << "  metrics    " << http << "/metrics" << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"ctxd: a persistent, event-sourced context store"};
  app.add_option("--data", flags.data, "data directory")->capture_default_str();
  app.add_option("--listen", flags.listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
  app.add_option("--durability", flags.durability,
                 "sync: fsync before every acknowledgement; async: no fsync")
      ->check(CLI::IsMember({"sync", "async"}))
      ->capture_default_str();
  app.add_option("--snapshot-every", flags.snapshot_every, "snapshot every N events")->capture_default_str();
  app.add_option("--snapshot-interval", flags.snapshot_interval,
                 "also snapshot every S seconds when there are new events (0: by count only)")
      ->check(CLI::Range(0, 86400 * 7))
      ->capture_default_str();
  app.add_option("--dump-dir", flags.dump_dir, "directory for dumps");
  app.add_option("--auth-file", flags.auth_file,
                 "access tokens, one 'TOKEN read|write [LABEL]' a line; requests then need "
                 "'Authorization: Bearer TOKEN'");
  app.add_option("--cors-origin", flags.cors_origins,
                 "a web page origin (scheme://host[:port], null or *) that may use ctxd besides its own "
                 "and this machine's (loopback); repeatable. Browser requests from other origins are refused");
  app.add_option("--allowed-host", flags.allowed_hosts,
                 "a host name (no port) that requests may name in their Host header besides localhost and IP "
                 "addresses, or * for any; repeatable. Checked while ctxd listens on loopback or when given "
                 "(against DNS rebinding)");
  auto* cert = app.add_option("--tls-cert", flags.tls_cert,
                              "TLS certificate chain (PEM, leaf first): serve HTTPS and WSS only");
  auto* key = app.add_option("--tls-key", flags.tls_key, "TLS private key (PEM) of --tls-cert");
  cert->needs(key);
  key->needs(cert);
  app.add_option("--log-level", flags.log_level, "trace, debug, info, warn, error, critical or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_option("--max-body-bytes", flags.max_body, "largest request body accepted")
      ->check(CLI::Range(size_t{1}, size_t{1} << 32))
      ->capture_default_str();
  app.add_option("--max-value-bytes", flags.max_value,
                 "largest context or property value accepted, as JSON text (413 beyond)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 30))
      ->capture_default_str();
  app.add_option("--max-connections", flags.max_connections, "connections served at once")
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}))
      ->capture_default_str();
  app.add_option("--io-threads", flags.io_threads, "threads serving connections")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--idle-timeout", flags.idle_timeout,
                 "seconds a keep-alive connection may wait for a request")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_option("--request-timeout", flags.request_timeout,
                 "seconds to read one request or write one answer")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_option("--stream-stall-timeout", flags.stream_stall_timeout,
                 "seconds a stream subscriber's socket may take nothing before it is closed")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  app.add_option("--sse-heartbeat", flags.sse_heartbeat, "seconds between SSE heartbeat comments")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  std::unique_ptr<ctxd::server::TlsTerminator> tls;
  if (!flags.tls_cert.empty() || !flags.tls_key.empty()) {
    auto created = ctxd::server::TlsTerminator::Create(flags.tls_cert, flags.tls_key);
    if (!created.ok()) {
      std::cerr << "ctxd: " << created.status().message() << "\n";
      return 2;
    }
    tls = std::move(*created);
  }
  std::optional<ctxd::server::AccessTokens> access_tokens;
  if (!flags.auth_file.empty()) {
    auto loaded = ctxd::server::AccessTokens::Load(flags.auth_file);
    if (!loaded.ok()) {
      std::cerr << "ctxd: --auth-file: " << loaded.status().message() << "\n";
      return 2;
    }
    access_tokens = std::move(*loaded);
  }
  ctxd::server::ServerOptions options;
  auto origins = ctxd::server::OriginPolicy::Create(flags.cors_origins);
  if (!origins.ok()) {
    std::cerr << "ctxd: --cors-origin: " << origins.status().message() << "\n";
    return 2;
  }
  options.origins = std::move(*origins);
  if (!SplitListen(flags.listen.empty() ? DefaultListen() : flags.listen, &options.host, &options.port)) {
    std::cerr << "ctxd: --listen must be HOST:PORT (got '" << flags.listen << "')\n";
    return 2;
  }
  auto listen_host = ctxd::server::ResolveListenHost(options.host);
  if (!listen_host.ok()) {
    std::cerr << "ctxd: --listen: " << listen_host.status().message() << "\n";
    return 2;
  }
  options.host = std::move(*listen_host);
  auto hosts = ctxd::server::HostPolicy::Create(flags.allowed_hosts, options.host);
  if (!hosts.ok()) {
    std::cerr << "ctxd: --allowed-host: " << hosts.status().message() << "\n";
    return 2;
  }
  options.hosts = std::move(*hosts);
  SetUpLogging(flags);
  options.body_limit = flags.max_body;
  options.max_connections = flags.max_connections;
  options.io_threads = flags.io_threads;
  options.idle_timeout = std::chrono::seconds(flags.idle_timeout);
  options.request_timeout = std::chrono::seconds(flags.request_timeout);
  options.stream_stall_timeout =
      std::chrono::milliseconds(static_cast<int64_t>(flags.stream_stall_timeout * 1000));
  options.sse_heartbeat = std::chrono::seconds(flags.sse_heartbeat);
  if (access_tokens) options.access_tokens = &*access_tokens;
  options.tls = tls.get();
  options.dump_dir = flags.dump_dir.empty() ? flags.data + "/dumps" : flags.dump_dir;
  if (SameDirectory(options.dump_dir, flags.data)) {
    std::cerr
        << "ctxd: --dump-dir must not be the data directory: a dump could replace a file of the store\n";
    return 2;
  }

  ctxd::store::StoreOptions store_options;
  store_options.dir = flags.data;
  store_options.sync = flags.durability == "sync";
  store_options.snapshots.every_events = flags.snapshot_every;
  store_options.snapshots.every = std::chrono::seconds(flags.snapshot_interval);
  store_options.limits.max_value_bytes = flags.max_value;
  auto store = ctxd::store::Store::Open(store_options);
  if (!store.ok()) {
    spdlog::critical("cannot open the store in {}: {}", flags.data, store.status().ToString());
    return 1;
  }
  if (!store_options.sync) spdlog::warn("--durability=async: writes are acknowledged before fsync");
  spdlog::debug("data in {}, {} I/O threads, body limit {} bytes, at most {} connections", flags.data,
                options.io_threads, options.body_limit, options.max_connections);
  {
    ctxd::server::Server server(**store, options);
    if (auto listening = server.Listen(); !listening.ok()) {
      spdlog::critical("{}", listening.ToString());
      (*store)->Close();
      return 1;
    }
    PrintBanner(server, tls != nullptr);
    server.Run();
  }
  (*store)->Close();
  return 0;
}
