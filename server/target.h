// Splitting and percent-decoding a request target ("/v1/context/a%2Fb?at=3").
//
// Path segments are decoded one by one, so an encoded '/' stays inside its
// segment. Query names and values are decoded as forms are ('+' is a space).
// Bytes outside RFC 3986's set are accepted as themselves (clients differ in
// what they escape); a malformed escape ("%zz", a trailing "%4") is an error.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace ctxd::server {

struct ParsedTarget {
  std::vector<std::string> segments;  // "/a/b/" -> {"a", "b", ""}; "/" -> {}
  std::vector<std::pair<std::string, std::string>> query;
};

// kInvalidArgument naming the bad part when the target is not an origin form
// ("/path?query") or holds a bad percent-escape.
Status ParseTarget(std::string_view target, ParsedTarget* out);

// An absolute-form target ("http://host:8080/path?q", which RFC 9112 3.2.2
// says a server must accept) as its origin form ("/path?q") and its
// authority ("host:8080"), which then stands for the Host header; nullopt
// for any other target (and for user info, or a scheme other than http and
// https).
struct OriginForm {
  std::string target;
  std::string authority;
};
std::optional<OriginForm> FromAbsoluteForm(std::string_view target);

}  // namespace ctxd::server
