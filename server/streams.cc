#include "server/streams.h"

#include <algorithm>
#include <boost/beast/http/status.hpp>
#include <cctype>

#include "server/sse_session.h"
#include "server/ws_session.h"

namespace ctxd::server {

Status CheckWebSocketKey(const http::request<http::string_body>& request) {
  const auto key = request.find(http::field::sec_websocket_key);
  const bool one = request.count(http::field::sec_websocket_key) == 1;
  auto base64 = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/'; };
  const bool valid = one && key->value().size() == 24 && key->value().ends_with("==") &&
                     std::all_of(key->value().begin(), key->value().end() - 2, base64);
  if (valid) return Status::Ok();
  return Status::InvalidArgument("Sec-WebSocket-Key must be one header with the base64 of 16 bytes");
}

std::string RenderHttpError(const HttpResponse& response) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " ";
  const auto reason = http::obsolete_reason(http::int_to_status(static_cast<unsigned>(response.status)));
  out.append(reason.data(), reason.size());
  out.append("\r\nContent-Type: ");
  out.append(response.content_type);
  out.append("\r\nContent-Length: " + std::to_string(response.body.size()));
  for (const auto& [name, value] : response.headers) out.append("\r\n" + name + ": " + value);
  out.append("\r\nConnection: close\r\n\r\n");
  out.append(response.body);
  return out;
}

Streams::Streams(ServerContext& context, ConnectionRegistry& registry, net::io_context& ioc,
                 StreamOptions options)
    : options_(std::move(options)),
      hub_(context.store, context.workers, context.metrics, ioc, options_.hub),
      context_{context, hub_, registry, options_} {
  context.store.AddCommitListener(
      [this](const store::Store::CommittedEvents& events) { hub_.OnCommit(events); });
}

Streams::~Streams() = default;

void Streams::Register(StreamRoutes& routes) {
  routes.Add("/v1/ws",
             [this](HttpStream stream, beast::flat_buffer early, http::request<http::string_body> request) {
               auto session = std::make_shared<WsSession>(stream.release_socket(), context_);
               session->Run(std::move(request), early);
             });
  routes.Add("/v1/stream",
             [this](HttpStream stream, beast::flat_buffer, http::request<http::string_body> request) {
               auto session = std::make_shared<SseSession>(stream.release_socket(), context_);
               session->Run(request);
             });
  hub_.Start();
}

}  // namespace ctxd::server
