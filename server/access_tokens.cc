#include "server/access_tokens.h"

#include <strings.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "server/responses.h"
#include "server/target.h"

namespace ctxd::server {
namespace {

constexpr std::string_view kBlanks = " \t\r";

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> words;
  while (true) {
    const size_t begin = line.find_first_not_of(kBlanks);
    if (begin == std::string_view::npos) return words;
    line.remove_prefix(begin);
    const size_t end = std::min(line.find_first_of(kBlanks), line.size());
    words.push_back(line.substr(0, end));
    line.remove_prefix(end);
  }
}

// Compares without an early exit, so that the time taken does not tell an
// attacker how many leading bytes of a guess were right.
bool SameToken(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::optional<Access> ParseAccess(std::string_view word) {
  if (word == "read") return Access::kRead;
  if (word == "write") return Access::kWrite;
  return std::nullopt;
}

bool OpenPath(std::string_view path) { return path == "/healthz" || path == "/readyz"; }

}  // namespace

StatusOr<AccessTokens> AccessTokens::Load(const std::string& path) {
  std::error_code ec;
  const bool directory = std::filesystem::is_directory(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (!in || directory) {
    return Status::InvalidArgument("cannot read the auth file " + path +
                                   (directory ? ": it is a directory" : ""));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

StatusOr<AccessTokens> AccessTokens::Parse(std::string_view text, std::string_view source) {
  AccessTokens tokens;
  size_t line_number = 0;
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    ++line_number;
    const auto words = Words(line);
    if (words.empty() || words[0].front() == '#') continue;
    const std::string where = std::string(source) + ":" + std::to_string(line_number);
    const auto access = words.size() >= 2 ? ParseAccess(words[1]) : std::nullopt;
    if (words.size() > 3 || !access) {
      return Status::InvalidArgument(where + ": expected 'TOKEN read|write [LABEL]'");
    }
    if (tokens.Find(words[0])) return Status::InvalidArgument(where + ": the token is listed twice");
    tokens.entries_.push_back({std::string(words[0]), *access});
  }
  if (tokens.entries_.empty()) return Status::InvalidArgument(std::string(source) + " lists no token");
  return tokens;
}

std::optional<Access> AccessTokens::Find(std::string_view token) const {
  std::optional<Access> found;
  for (const Entry& entry : entries_) {
    if (SameToken(entry.token, token)) found = entry.access;
  }
  return found;
}

std::string RequestToken(std::optional<std::string_view> authorization, std::string_view target) {
  if (authorization) {
    const auto words = Words(*authorization);
    if (words.size() == 2 && words[0].size() == 6 && strncasecmp(words[0].data(), "Bearer", 6) == 0) {
      return std::string(words[1]);
    }
    return {};
  }
  ParsedTarget parsed;
  if (!ParseTarget(target, &parsed).ok()) return {};
  for (const auto& [name, value] : parsed.query) {
    if (name == "access_token") return value;
  }
  return {};
}

bool MayWrite(const AccessTokens* tokens, std::optional<std::string_view> authorization,
              std::string_view target) {
  return tokens == nullptr || tokens->Find(RequestToken(authorization, target)) == Access::kWrite;
}

std::optional<HttpResponse> Authorize(const AccessTokens& tokens, std::string_view path, bool write_method,
                                      std::string_view token) {
  if (OpenPath(path)) return std::nullopt;
  const auto access = token.empty() ? std::nullopt : tokens.Find(token);
  if (!access) {
    HttpResponse refusal =
        ErrorForPath(path, 401, "UNAUTHORIZED",
                     token.empty() ? "this server needs an access token: send 'Authorization: Bearer <token>'"
                                   : "the access token is not known to this server");
    refusal.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"ctxd\"");
    return refusal;
  }
  const bool transport = path.starts_with("/socket.io/");
  if (write_method && !transport && *access == Access::kRead) {
    return ErrorForPath(path, 403, "FORBIDDEN", "this access token may read but not write");
  }
  return std::nullopt;
}

}  // namespace ctxd::server
