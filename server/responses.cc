#include "server/responses.h"

#include <chrono>

#include "engine/event_json.h"

namespace ctxd::server {

HttpResponse JsonResponse(std::string body, int status) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kConflict:
    case StatusCode::kNothingToUndo:
    case StatusCode::kNothingToRedo:
      return 409;
    case StatusCode::kPreconditionFailed:
      return 412;
    case StatusCode::kPayloadTooLarge:
      return 413;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kCorruption:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message) {
  std::string body = "{\"error\":{\"code\":";
  AppendJsonString(&body, code);
  body.append(",\"message\":");
  AppendJsonString(&body, message);
  body.append("}}");
  return JsonResponse(std::move(body), status);
}

HttpResponse ErrorResponse(const Status& status) {
  const int http = HttpStatusFor(status.code());
  // kCorruption and kInternal share the API's INTERNAL_ERROR code.
  std::string_view code = http == 500 ? "INTERNAL_ERROR" : StatusCodeName(status.code());
  return ErrorResponse(http, code, status.message());
}

HttpResponse BadRequest(std::string_view message) { return ErrorResponse(400, "BAD_REQUEST", message); }
HttpResponse NotFound(std::string_view message) { return ErrorResponse(404, "NOT_FOUND", message); }
HttpResponse MethodNotAllowed(std::string allow) {
  HttpResponse response = ErrorResponse(405, "METHOD_NOT_ALLOWED", "this method is not allowed on this path");
  response.headers.emplace_back("Allow", std::move(allow));
  return response;
}

HttpResponse LegacyError(int status, std::string_view message) {
  std::string body = "{\"error\":";
  AppendJsonString(&body, message);
  body.append(",\"status\":\"error\"}");
  return JsonResponse(std::move(body), status);
}

HttpResponse ErrorForPath(std::string_view path, int status, std::string_view code,
                          std::string_view message) {
  const bool legacy = path == "/ctx" || path.starts_with("/ctx/");
  return legacy ? LegacyError(status, message) : ErrorResponse(status, code, message);
}

void AppendJsonKey(std::string* out, std::string_view name, bool first) {
  if (!first) out->push_back(',');
  AppendJsonString(out, name);
  out->push_back(':');
}

void AppendJsonOrNull(std::string* out, std::string_view json) {
  out->append(json.empty() ? std::string_view("null") : json);
}

std::string NowTimestamp() {
  using namespace std::chrono;
  return engine::FormatTimestamp(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace ctxd::server
