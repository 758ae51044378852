#include "server/router.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <exception>
#include <string_view>

#include "server/responses.h"
#include "server/routes.h"
#include "server/target.h"

namespace ctxd::server {
namespace {

struct Route {
  Method method;
  // Literal segments; "*" matches any one segment (a path parameter).
  std::array<std::string_view, 5> pattern;
  size_t length;
  Handler handler;
  RouteClass route_class;
};

constexpr Route kRoutes[] = {
    {Method::kGet, {"v1", "context"}, 2, GetContextList, RouteClass::kContextRead},
    {Method::kPost, {"v1", "context"}, 2, PostContextBatch, RouteClass::kContextWrite},
    {Method::kGet, {"v1", "context", "*"}, 3, GetContextKey, RouteClass::kContextRead},
    {Method::kPut, {"v1", "context", "*"}, 3, PutContextKey, RouteClass::kContextWrite},
    {Method::kDelete, {"v1", "context", "*"}, 3, DeleteContextKey, RouteClass::kContextWrite},
    {Method::kGet, {"v1", "context", "*", "history"}, 4, GetKeyHistory, RouteClass::kContextRead},
    {Method::kGet, {"v1", "changes"}, 2, GetChanges, RouteClass::kContextRead},
    {Method::kGet, {"v1", "sessions"}, 2, ListSessions, RouteClass::kGraphRead},
    {Method::kGet, {"v1", "sessions", "*", "graph"}, 4, GetGraph, RouteClass::kGraphRead},
    {Method::kGet, {"v1", "sessions", "*", "nodes", "*"}, 5, GetNode, RouteClass::kGraphRead},
    {Method::kPost, {"v1", "sessions", "*", "commands"}, 4, PostCommand, RouteClass::kGraphWrite},
    {Method::kPost, {"v1", "sessions", "*", "undo"}, 4, PostUndo, RouteClass::kGraphWrite},
    {Method::kPost, {"v1", "sessions", "*", "redo"}, 4, PostRedo, RouteClass::kGraphWrite},
    {Method::kPost, {"v1", "sessions", "*", "saves"}, 4, PostSave, RouteClass::kGraphWrite},
    {Method::kGet, {"v1", "sessions", "*", "saves"}, 4, ListSaves, RouteClass::kGraphRead},
    {Method::kPost, {"v1", "sessions", "*", "restore"}, 4, PostRestore, RouteClass::kGraphWrite},
    {Method::kPost, {"api", "v1", "commands", "execute"}, 4, LegacyExecuteCommand, RouteClass::kGraphWrite},
    {Method::kGet, {"v1", "events"}, 2, ListEvents, RouteClass::kEvents},
    {Method::kGet, {"v1", "events", "*"}, 3, GetEvent, RouteClass::kEvents},
    {Method::kGet, {"ctx"}, 1, LegacyGetContext, RouteClass::kLegacy},
    {Method::kPost, {"ctx"}, 1, LegacySetContext, RouteClass::kLegacy},
    {Method::kGet, {"ctx", "all"}, 2, LegacyAllContext, RouteClass::kLegacy},
    {Method::kGet, {"ctx", "history"}, 2, LegacyHistory, RouteClass::kLegacy},
    {Method::kPost, {"v1", "dumps"}, 2, PostDump, RouteClass::kDumps},
    {Method::kGet, {"v1", "dumps"}, 2, ListDumps, RouteClass::kDumps},
    {Method::kGet, {"v1", "dumps", "*"}, 3, GetDump, RouteClass::kDumps},
    {Method::kPost, {"ctx", "dump"}, 2, LegacyPostDump, RouteClass::kDumps},
    {Method::kGet, {"ctx", "dump", "list"}, 3, LegacyListDumps, RouteClass::kDumps},
    {Method::kGet, {"ctx", "dump", "*"}, 3, LegacyGetDump, RouteClass::kDumps},
    {Method::kGet, {"healthz"}, 1, Healthz, RouteClass::kOps},
    {Method::kGet, {"readyz"}, 1, Readyz, RouteClass::kOps},
    {Method::kGet, {"metrics"}, 1, MetricsText, RouteClass::kOps},
    {Method::kGet, {"socket.io", ""}, 2, SocketIoPolling, RouteClass::kOther},
    {Method::kPost, {"socket.io", ""}, 2, SocketIoPolling, RouteClass::kOther},
    {Method::kGet, {}, 0, Dashboard, RouteClass::kOps},
    {Method::kGet, {"dashboard", "*"}, 2, Dashboard, RouteClass::kOps},
};

// HEAD is GET without the body (RFC 9110 9.3.2; the session drops the body
// and keeps its Content-Length), except on the Socket.IO polling transport,
// where a GET takes the packets waiting for the client.
bool Serves(const Route& route, Method method) {
  if (route.method == method) return true;
  return method == Method::kHead && route.method == Method::kGet && route.handler != SocketIoPolling;
}

bool PathMatches(const Route& route, const std::vector<std::string>& segments) {
  if (segments.size() != route.length) return false;
  for (size_t i = 0; i < route.length; ++i) {
    if (route.pattern[i] != "*" && route.pattern[i] != segments[i]) return false;
  }
  return true;
}

const char* MethodName(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kDelete:
      return "DELETE";
    case Method::kPatch:
      return "PATCH";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kOther:
      break;
  }
  return "";
}

// The Allow header of a 405: the methods of the routes on this path, each
// once (a literal and a "*" route may both match).
std::string AllowedMethods(const std::vector<std::string>& segments) {
  std::vector<Method> methods;
  const auto add = [&methods](Method method) {
    if (std::find(methods.begin(), methods.end(), method) == methods.end()) methods.push_back(method);
  };
  for (const Route& route : kRoutes) {
    if (!PathMatches(route, segments)) continue;
    add(route.method);
    if (Serves(route, Method::kHead)) add(Method::kHead);
  }
  std::string allow;
  for (Method method : methods) allow += (allow.empty() ? "" : ", ") + std::string(MethodName(method));
  return allow;
}

// An OPTIONS request (RFC 9110 9.3.7): 204 with the path's methods, and
// for a CORS preflight (the request passed the OriginPolicy, so its origin
// may use ctxd) the methods and headers it asked for. `allow`: the methods
// of the path's routes.
HttpResponse OptionsAnswer(const HttpRequest& request, std::string allow) {
  HttpResponse response;
  response.status = 204;
  allow += ", OPTIONS";
  if (request.Header("Access-Control-Request-Method")) {
    response.headers.emplace_back("Access-Control-Allow-Methods", allow);
    if (auto asked = request.Header("Access-Control-Request-Headers")) {
      response.headers.emplace_back("Access-Control-Allow-Headers", std::string(*asked));
    }
    response.headers.emplace_back("Access-Control-Max-Age", "600");
  }
  response.headers.emplace_back("Allow", std::move(allow));
  return response;
}

// The old /ctx routes answer in their own error form.
bool IsLegacyPath(const std::vector<std::string>& segments) {
  return !segments.empty() && segments[0] == "ctx";
}

}  // namespace

RouteClass Router::Handle(HttpRequest request, const Responder& respond) {
  if (request.method == Method::kOptions && request.target == "*") {  // the server as a whole
    respond(OptionsAnswer(request, "GET, HEAD, POST, PUT, DELETE"));
    return RouteClass::kOther;
  }
  ParsedTarget target;
  if (Status parsed = ParseTarget(request.target, &target); !parsed.ok()) {
    // The path is decoded before the query: a bad query of /ctx still has its path.
    respond(IsLegacyPath(target.segments) ? LegacyError(400, parsed.message())
                                          : BadRequest(parsed.message()));
    return RouteClass::kOther;
  }
  request.segments = std::move(target.segments);
  request.query = std::move(target.query);
  const Route* path_match = nullptr;
  for (const Route& route : kRoutes) {
    if (!PathMatches(route, request.segments)) continue;
    path_match = &route;
    if (!Serves(route, request.method)) continue;
    try {
      route.handler(ctx_, request, respond);
    } catch (const std::exception& e) {
      spdlog::error("handler for {} threw: {}", request.target, e.what());
      respond(ErrorResponse(500, "INTERNAL_ERROR", "internal error"));
    }
    return route.route_class;
  }
  const bool legacy = IsLegacyPath(request.segments);
  if (path_match != nullptr && request.method == Method::kOptions) {
    respond(OptionsAnswer(request, AllowedMethods(request.segments)));
    return path_match->route_class;
  }
  if (path_match != nullptr) {
    const std::string allow = AllowedMethods(request.segments) + ", OPTIONS";
    HttpResponse refusal = legacy ? LegacyError(405, "method not allowed") : MethodNotAllowed(allow);
    if (legacy) refusal.headers.emplace_back("Allow", allow);
    respond(std::move(refusal));
    return path_match->route_class;
  }
  respond(legacy ? LegacyError(404, "not found") : NotFound("no such endpoint"));
  return RouteClass::kOther;
}

}  // namespace ctxd::server
