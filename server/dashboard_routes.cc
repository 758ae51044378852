// GET and HEAD of / and /dashboard/{file}: the dashboard, a page of plain
// HTML, CSS and JavaScript (server/dashboard/) embedded in the binary, that
// talks to the server through the public API only.
#include <string>
#include <string_view>
#include <utility>

#include "server/dashboard/assets.h"
#include "server/responses.h"
#include "server/routes.h"

namespace ctxd::server {
namespace {

constexpr std::string_view kIndex = "index.html";

// The page loads nothing but its own files and talks only to this server, so
// even a value that slipped into the DOM as markup could not run a script.
constexpr char kContentSecurityPolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const DashboardAsset* FindAsset(std::string_view name) {
  for (const DashboardAsset& asset : DashboardAssets()) {
    if (asset.name == name) return &asset;
  }
  return nullptr;
}

std::string_view Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

// If-None-Match is "*" or a comma-separated list of entity tags; a weak one
// (W/"...") matches too (RFC 9110 13.1.2 uses the weak comparison).
bool IfNoneMatchLists(const HttpRequest& request, std::string_view etag) {
  const auto header = request.Header("If-None-Match");
  if (!header) return false;
  std::string_view rest = *header;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view tag = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

}  // namespace

void Dashboard(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  (void)ctx;
  const std::string_view name = request.segments.empty() ? kIndex : std::string_view(request.segments.back());
  const DashboardAsset* asset = FindAsset(name);
  if (asset == nullptr) return respond(NotFound("the dashboard has no such file"));
  HttpResponse response;
  response.content_type = asset->content_type;
  response.headers = {{"ETag", std::string(asset->etag)},
                      {"Cache-Control", "no-cache"},
                      {"X-Content-Type-Options", "nosniff"},
                      {"Content-Security-Policy", kContentSecurityPolicy}};
  if (IfNoneMatchLists(request, asset->etag)) {
    response.status = 304;
  } else {
    response.body = asset->body;
  }
  respond(std::move(response));
}

}  // namespace ctxd::server
