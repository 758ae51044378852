// The dashboard's files (server/dashboard/*.html, *.js, *.css), embedded in
// the binary at build time by server/dashboard/embed.cmake, so that ctxd
// serves its dashboard without any file on disk.
//
// The data is static and immutable: safe to read from any thread.
#pragma once

#include <span>
#include <string_view>

namespace ctxd::server {

struct DashboardAsset {
  std::string_view name;     // file name, e.g. "app.js"
  const char* content_type;  // static storage
  std::string_view body;
  std::string_view etag;  // quoted strong ETag, derived from the content
};

// Every embedded file, in the order the build listed them.
std::span<const DashboardAsset> DashboardAssets();

}  // namespace ctxd::server
