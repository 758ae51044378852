#include "server/http_message.h"

#include <strings.h>

namespace ctxd::server {

std::optional<std::string_view> HttpRequest::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n.size() == name.size() && strncasecmp(n.data(), name.data(), name.size()) == 0) return v;
  }
  return std::nullopt;
}

const std::string* HttpRequest::Query(std::string_view name) const {
  const std::string* found = nullptr;
  for (const auto& [n, v] : query) {
    if (n == name) found = &v;
  }
  return found;
}

}  // namespace ctxd::server
