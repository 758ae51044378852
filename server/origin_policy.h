// What web pages in a browser may do with ctxd: OriginPolicy (`--cors-origin`)
// and HostPolicy (`--allowed-host`).
//
// OriginPolicy: which web pages may use ctxd from a browser.
//
// A browser lets any page it shows send requests to 127.0.0.1: a form POST
// with a text/plain body needs no CORS preflight, and a WebSocket needs no
// permission at all. Without a check, every page a user visits could write
// to the store on their machine. So a request that carries an `Origin`
// header (RFC 6454; browsers add it to cross-origin requests and to every
// WebSocket handshake) is served only when that origin is
//
//   - the server itself: the Origin's host and port are the request's Host
//     (the dashboard at `/`, and clients such as python-websocket that name
//     the server as their origin),
//   - a page served from this machine: a loopback host (localhost,
//     *.localhost, 127.0.0.0/8, [::1]) on any port, such as a dev server
//     on localhost:3000; a remote page cannot claim one, or
//   - listed with `--cors-origin` (repeatable; `*` allows every origin).
//
// Everything else is refused with 403 before routing, as python-socketio
// refuses origins it does not know by default. That includes `null`
// (file:// pages, but also sandboxed frames of any site) unless listed. Requests without `Origin`
// (curl, python-requests, Node clients, same-origin GETs) are not affected.
// A served request with an Origin gets `Access-Control-Allow-Origin` naming
// it, and a preflight (`OPTIONS` with `Access-Control-Request-Method`) gets
// the methods and headers it asked for: see router.cc.
//
// HostPolicy: the host names ctxd answers to, against DNS rebinding. A page
// whose own host name (evil.example) its DNS server later resolves to
// 127.0.0.1 reaches ctxd as its own origin: same-origin requests need no
// Origin check to pass, and GETs carry no Origin at all. What gives it
// away is the Host header, which names the page's host. So while ctxd
// listens on a loopback address (the default), a request whose Host is a
// name is served only when that name is localhost, *.localhost or listed
// with `--allowed-host`; a Host that is an IP address cannot be rebound and
// is served. Listening elsewhere (0.0.0.0, a LAN address), clients name the
// machine as they like, and the check is on only when `--allowed-host`
// lists names. `--allowed-host '*'` turns it off. Refused requests get 403
// before routing, like an origin the OriginPolicy refuses.
//
// Thread safety: both are immutable after Create; safe to share across
// threads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ctxd::server {

class OriginPolicy {
 public:
  // No --cors-origin: the server's own origin and this machine's.
  OriginPolicy() = default;
  // Each of `allowed` is `*`, `null` (sandboxed frames, file:// pages) or
  // `scheme://host[:port]` with scheme http or https; kInvalidArgument names
  // the first one that is not.
  static StatusOr<OriginPolicy> Create(const std::vector<std::string>& allowed);

  // Whether a request with the Origin header `origin` (empty: none) and the
  // Host header `host` may be served.
  bool Allows(std::string_view origin, std::string_view host) const;

 private:
  bool any_ = false;
  std::vector<std::string> allowed_;  // normalized: scheme://host[:port], no default port
};

class HostPolicy {
 public:
  // No check.
  HostPolicy() = default;
  // `allowed`: host names without a port, or `*`; `listen_host`: the host
  // of --listen. kInvalidArgument names the first entry that is not a name.
  static StatusOr<HostPolicy> Create(const std::vector<std::string>& allowed, std::string_view listen_host);

  // Whether a request with the Host header `host` (empty: none, as HTTP/1.0
  // allows) may be served.
  bool Allows(std::string_view host) const;

 private:
  bool check_ = false;
  std::vector<std::string> names_;  // lower case
};

// The header lines, each ending in CRLF, that let a page of `origin` (one
// the policy allows) read an answer.
std::string CorsHeaderLines(std::string_view origin);

}  // namespace ctxd::server
