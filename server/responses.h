// Building responses: JSON bodies, the API error forms (native and legacy)
// and the mapping from Status codes to HTTP status codes (API.md "Errors").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "engine/json_text.h"
#include "server/http_message.h"

namespace ctxd::server {

// 200 (or `status`) with a JSON body.
HttpResponse JsonResponse(std::string body, int status = 200);

// {"error": {"code": CODE, "message": MESSAGE}}
HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message);
// The native error for a Status: kNotFound -> 404 NOT_FOUND, ...
HttpResponse ErrorResponse(const Status& status);
HttpResponse BadRequest(std::string_view message);
HttpResponse NotFound(std::string_view message);
// `allow`: the methods the path takes, for the Allow header ("GET, PUT").
HttpResponse MethodNotAllowed(std::string allow);

// The old context server's errors: {"error": "...", "status": "error"}.
HttpResponse LegacyError(int status, std::string_view message);
// The error in the form of the route at `path`: LegacyError on the old /ctx
// routes, ErrorResponse elsewhere.
HttpResponse ErrorForPath(std::string_view path, int status, std::string_view code, std::string_view message);

int HttpStatusFor(StatusCode code);

using engine::AppendJsonString;
// `"name":` with a leading comma unless `first`.
void AppendJsonKey(std::string* out, std::string_view name, bool first = false);
// A JSON value or null: canonical JSON text is embedded as it is.
void AppendJsonOrNull(std::string* out, std::string_view json);

// The current time, RFC 3339 UTC with microseconds.
std::string NowTimestamp();

}  // namespace ctxd::server
