#include "server/target.h"

// Boost.URL has no compiled library on Debian 12: this is the one translation
// unit that builds its sources.
#include <boost/url/src.hpp>

namespace ctxd::server {
namespace {

bool Decode(std::string_view encoded, bool plus_is_space, std::string* out) {
  auto pct = boost::urls::make_pct_string_view(encoded);
  if (!pct) return false;
  boost::urls::encoding_opts opts;
  opts.space_as_plus = plus_is_space;
  out->clear();
  pct->decode(opts, boost::urls::string_token::assign_to(*out));
  return true;
}

Status BadEscape(std::string_view where, std::string_view part) {
  return Status::InvalidArgument("bad percent-encoding in the " + std::string(where) + ": '" +
                                 std::string(part) + "'");
}

Status SplitPath(std::string_view path, std::vector<std::string>* segments) {
  if (path.empty() || path.front() != '/') {
    return Status::InvalidArgument("the request target must start with '/'");
  }
  if (path == "/") return Status::Ok();
  path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    std::string& decoded = segments->emplace_back();
    if (!Decode(part, false, &decoded)) return BadEscape("path", part);
    if (slash == std::string_view::npos) return Status::Ok();
    path.remove_prefix(slash + 1);
  }
}

Status SplitQuery(std::string_view query, std::vector<std::pair<std::string, std::string>>* params) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    auto& [decoded_name, decoded_value] = params->emplace_back();
    if (!Decode(name, true, &decoded_name) || !Decode(value, true, &decoded_value)) {
      return BadEscape("query", pair);
    }
  }
  return Status::Ok();
}

}  // namespace

std::optional<OriginForm> FromAbsoluteForm(std::string_view target) {
  if (target.starts_with('/')) return std::nullopt;  // the usual case, at no cost
  auto url = boost::urls::parse_absolute_uri(target);
  if (!url || !url->has_authority() || url->has_userinfo() || url->encoded_host().empty())
    return std::nullopt;
  const std::string scheme = url->scheme();
  if (!boost::urls::grammar::ci_is_equal(scheme, "http") &&
      !boost::urls::grammar::ci_is_equal(scheme, "https")) {
    return std::nullopt;
  }
  OriginForm form{url->encoded_path().empty() ? "/" : std::string(url->encoded_path()),
                  std::string(url->encoded_authority())};
  if (url->has_query()) form.target += "?" + std::string(url->encoded_query());
  return form;
}

Status ParseTarget(std::string_view target, ParsedTarget* out) {
  size_t hash = target.find('#');
  if (hash != std::string_view::npos) target = target.substr(0, hash);
  size_t question = target.find('?');
  CTXD_RETURN_IF_ERROR(SplitPath(target.substr(0, question), &out->segments));
  if (question == std::string_view::npos) return Status::Ok();
  return SplitQuery(target.substr(question + 1), &out->query);
}

}  // namespace ctxd::server
