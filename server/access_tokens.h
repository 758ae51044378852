// Access tokens: `--auth-file` (API.md "Command line").
//
// The file holds one token per line, with the access it grants and an
// optional label for the log:
//
//   # token                            access  label
//   9f2c1e0b7a6d4c3e8b5a1f0e2d3c4b5a   write   orchestrator
//   4b3a2c1d0e9f8a7b6c5d4e3f2a1b0c9d   read    dashboard
//
// `read` may use every GET/HEAD route and open streams; `write` may also
// change the store. Blank lines and lines starting with `#` are ignored.
//
// A request names its token in `Authorization: Bearer <token>` or, for
// clients that cannot set headers (browser EventSource and WebSocket), in
// the query parameter `access_token` (RFC 6750 §2). /healthz and /readyz
// stay open for probes; everything else answers 401 without a known token
// and 403 when a read token tries to write.
//
// Thread safety: immutable after Load/Parse; safe to share across threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "server/http_message.h"

namespace ctxd::server {

enum class Access { kRead, kWrite };

class AccessTokens {
 public:
  static StatusOr<AccessTokens> Load(const std::string& path);
  // `source` names the text in error messages.
  static StatusOr<AccessTokens> Parse(std::string_view text, std::string_view source);

  // The access `token` grants; nullopt for an unknown token.
  std::optional<Access> Find(std::string_view token) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string token;
    Access access;
  };
  std::vector<Entry> entries_;
};

// The token a request carries: the Bearer credential of `authorization`,
// else the `access_token` query parameter of `target`; empty when neither.
std::string RequestToken(std::optional<std::string_view> authorization, std::string_view target);

// Whether a request with this Authorization header and target may write:
// always when `tokens` is null (no --auth-file), else when its token grants
// write access. For the writes a stream carries (WebSocket ops, Socket.IO
// events), decided once when the stream opens.
bool MayWrite(const AccessTokens* tokens, std::optional<std::string_view> authorization,
              std::string_view target);

// Whether `token` may make a request to `path`; `write_method` is true for
// methods that may change the state. POSTs under /socket.io/ only carry a
// stream's packets (long-polling), so they count as reads here; the writes
// inside are checked where they are decoded. Returns the 401/403 answer, or
// nullopt when allowed.
std::optional<HttpResponse> Authorize(const AccessTokens& tokens, std::string_view path, bool write_method,
                                      std::string_view token);

}  // namespace ctxd::server
