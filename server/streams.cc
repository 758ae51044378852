#include "server/streams.h"

#include <boost/beast/http/status.hpp>

#include "server/sse_session.h"
#include "server/ws_session.h"

namespace ctxd::server {

std::string RenderHttpError(const HttpResponse& response) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " ";
  const auto reason = http::obsolete_reason(http::int_to_status(static_cast<unsigned>(response.status)));
  out.append(reason.data(), reason.size());
  out.append("\r\nContent-Type: ");
  out.append(response.content_type);
  out.append("\r\nContent-Length: " + std::to_string(response.body.size()));
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
             [this](HttpStream stream, beast::flat_buffer, http::request<http::string_body> request) {
               auto session = std::make_shared<WsSession>(stream.release_socket(), context_);
               session->Run(std::move(request));
             });
  routes.Add("/v1/stream",
             [this](HttpStream stream, beast::flat_buffer, http::request<http::string_body> request) {
               auto session = std::make_shared<SseSession>(stream.release_socket(), context_);
               session->Run(request);
             });
  hub_.Start();
}

}  // namespace ctxd::server
