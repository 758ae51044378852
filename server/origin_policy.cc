#include "server/origin_policy.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <optional>

namespace ctxd::server {
namespace {

std::string Lower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower;
}

std::string_view DefaultPort(std::string_view scheme) { return scheme == "https" ? "443" : "80"; }

// `host`, in lower case, names this machine whatever the DNS says
// (RFC 6761 reserves localhost and *.localhost).
bool IsLoopbackName(std::string_view host) { return host == "localhost" || host.ends_with(".localhost"); }

struct Origin {
  std::string scheme;     // http or https
  std::string host;       // lower case; an IPv6 literal keeps its brackets
  std::string port;       // empty when the scheme's default
  bool loopback = false;  // localhost, *.localhost, 127.0.0.0/8 or [::1]

  std::string Normalized() const { return scheme + "://" + host + (port.empty() ? "" : ":" + port); }
  std::string_view EffectivePort() const {
    return !port.empty() ? std::string_view(port) : DefaultPort(scheme);
  }
};

// "scheme://host[:port]" as a browser sends it; nullopt for anything else
// (a path, a query, user info, another scheme).
std::optional<Origin> ParseOrigin(std::string_view text) {
  auto url = boost::urls::parse_absolute_uri(text);
  if (!url || !url->has_authority() || url->has_userinfo() || !url->encoded_path().empty() ||
      url->has_query() || url->encoded_host().empty()) {
    return std::nullopt;
  }
  Origin origin{Lower(url->scheme()), Lower(url->encoded_host()), std::string(url->port())};
  if (origin.scheme != "http" && origin.scheme != "https") return std::nullopt;
  switch (url->host_type()) {
    case boost::urls::host_type::ipv4:
      origin.loopback = url->host_ipv4_address().is_loopback();
      break;
    case boost::urls::host_type::ipv6:
      origin.loopback = url->host_ipv6_address().is_loopback();
      break;
    default:
      origin.loopback = IsLoopbackName(origin.host);
  }
  if (origin.port == DefaultPort(origin.scheme)) origin.port.clear();
  return origin;
}

// The server's own origin: the Host header names the same host and port.
// A Host without a port named the default port of whatever scheme the
// client used, so then the host alone decides.
bool IsSameOrigin(const Origin& origin, std::string_view host_header) {
  auto authority = boost::urls::parse_authority(host_header);
  if (!authority || authority->has_userinfo()) return false;
  if (Lower(authority->encoded_host()) != origin.host) return false;
  return !authority->has_port() || authority->port() == origin.EffectivePort();
}

}  // namespace

StatusOr<OriginPolicy> OriginPolicy::Create(const std::vector<std::string>& allowed) {
  OriginPolicy policy;
  for (const std::string& entry : allowed) {
    if (entry == "*") {
      policy.any_ = true;
    } else if (entry == "null") {
      policy.allowed_.push_back(entry);
    } else if (auto origin = ParseOrigin(entry)) {
      policy.allowed_.push_back(origin->Normalized());
    } else {
      return Status::InvalidArgument(
          "'" + entry +
          "' is not an origin: give scheme://host[:port] (http or https, no path), "
          "null or *");
    }
  }
  return policy;
}

bool OriginPolicy::Allows(std::string_view origin_header, std::string_view host) const {
  if (origin_header.empty() || any_) return true;
  if (origin_header == "null") return std::find(allowed_.begin(), allowed_.end(), "null") != allowed_.end();
  const std::optional<Origin> origin = ParseOrigin(origin_header);
  if (!origin) return false;
  if (origin->loopback || IsSameOrigin(*origin, host)) return true;
  return std::find(allowed_.begin(), allowed_.end(), origin->Normalized()) != allowed_.end();
}

StatusOr<HostPolicy> HostPolicy::Create(const std::vector<std::string>& allowed,
                                        std::string_view listen_host) {
  HostPolicy policy;
  bool any = false;
  for (const std::string& entry : allowed) {
    if (entry == "*") {
      any = true;
      continue;
    }
    auto authority = boost::urls::parse_authority(entry);
    if (!authority || authority->has_port() || authority->has_userinfo() ||
        authority->encoded_host().empty()) {
      return Status::InvalidArgument("'" + entry + "' is not a host name: give a name without a port, or *");
    }
    policy.names_.push_back(Lower(authority->encoded_host()));
  }
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(listen_host, ec);
  const bool loopback_listener = ec ? IsLoopbackName(Lower(listen_host)) : address.is_loopback();
  policy.check_ = !any && (loopback_listener || !policy.names_.empty());
  return policy;
}

bool HostPolicy::Allows(std::string_view host_header) const {
  if (!check_ || host_header.empty()) return true;
  auto authority = boost::urls::parse_authority(host_header);
  if (!authority || authority->has_userinfo()) return false;
  // No DNS answer leads a browser to an IP address: only a name can be rebound.
  if (authority->host_type() != boost::urls::host_type::name) return true;
  const std::string name = Lower(authority->encoded_host());
  return IsLoopbackName(name) || std::find(names_.begin(), names_.end(), name) != names_.end();
}

std::string CorsHeaderLines(std::string_view origin) {
  return "Access-Control-Allow-Origin: " + std::string(origin) + "\r\nVary: Origin\r\n";
}

}  // namespace ctxd::server
