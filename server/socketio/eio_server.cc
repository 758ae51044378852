#include "server/socketio/eio_server.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "server/access_tokens.h"
#include "server/responses.h"
#include "server/stream_context.h"
#include "server/target.h"
#include "server/write_path.h"

namespace ctxd::server::socketio {
namespace {

HttpResponse EngineIoError(std::string_view message) {
  return BadRequest(std::string("Engine.IO: ") + std::string(message));
}

// The query of an Engine.IO request: EIO=4 and the transport it names.
Status CheckQuery(const std::string* eio, const std::string* transport, std::string_view expected) {
  if (eio == nullptr || *eio != "4")
    return Status::InvalidArgument("unsupported protocol version (EIO=4 only)");
  if (transport == nullptr || *transport != expected) return Status::InvalidArgument("bad transport");
  return Status::Ok();
}

// The socket, moved onto `strand`: a session's WebSocket runs on the
// session's strand, whichever connection it came from.
std::optional<StreamSocket> Rebind(StreamSocket socket, const Strand& strand) {
  beast::error_code ec;
  const auto protocol = socket.local_endpoint(ec).protocol();
  if (ec) return std::nullopt;
  const auto fd = socket.release(ec);
  if (ec) return std::nullopt;
  StreamSocket rebound(strand);
  rebound.assign(protocol, fd, ec);
  if (ec) return std::nullopt;
  return rebound;
}

}  // namespace

void RejectUpgrade(StreamSocket socket, const HttpResponse& response) {
  auto held =
      std::make_shared<std::pair<StreamSocket, std::string>>(std::move(socket), RenderHttpError(response));
  net::async_write(held->first, net::buffer(held->second), [held](beast::error_code, size_t) {
    beast::error_code ec;
    held->first.shutdown(net::socket_base::shutdown_send, ec);
    held->first.close(ec);
  });
}

EioServer::EioServer(ServerContext& context, SioHub& hub, ConnectionRegistry& registry, net::io_context& ioc,
                     SessionLimits limits)
    : context_(context), hub_(hub), registry_(registry), ioc_(ioc), limits_(std::move(limits)) {}

std::shared_ptr<EioSession> EioServer::Create() {
  auto session = std::make_shared<EioSession>(*this, NewUuid(), ioc_.get_executor());
  std::lock_guard lock(mu_);
  sessions_.emplace(session->eio_sid(), session);
  context_.metrics.SetSocketIoSessions(static_cast<int64_t>(sessions_.size()));
  ++context_.stream_clients;
  return session;
}

std::shared_ptr<EioSession> EioServer::Find(const std::string& sid) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(sid);
  return it == sessions_.end() ? nullptr : it->second;
}

void EioServer::Remove(const std::string& sid) {
  std::shared_ptr<EioSession> removed;  // released outside the lock
  std::lock_guard lock(mu_);
  auto it = sessions_.find(sid);
  if (it == sessions_.end()) return;
  removed = std::move(it->second);
  sessions_.erase(it);
  context_.metrics.SetSocketIoSessions(static_cast<int64_t>(sessions_.size()));
  --context_.stream_clients;
}

void EioServer::HandlePolling(HttpRequest& request, const Responder& respond) {
  if (Status s = CheckQuery(request.Query("EIO"), request.Query("transport"), "polling"); !s.ok()) {
    return respond(EngineIoError(s.message()));
  }
  const std::string* sid = request.Query("sid");
  if (sid == nullptr) {
    if (request.method != Method::kGet) return respond(EngineIoError("a POST needs a sid"));
    if (context_.shutting_down)
      return respond(ErrorResponse(503, "UNAVAILABLE", "the server is shutting down"));
    auto session = Create();
    const bool read_only = !MayWrite(context_.access_tokens, request.Header("Authorization"), request.target);
    return net::post(session->strand(), [session, respond, read_only] {
      session->set_read_only(read_only);
      session->OpenPolling(respond);
    });
  }
  auto session = Find(*sid);
  if (!session) return respond(EngineIoError("unknown sid"));
  if (request.method == Method::kGet) {
    return net::post(session->strand(), [session, respond] { session->OnPollGet(respond); });
  }
  net::post(session->strand(),
            [session, respond, body = std::move(request.body)] { session->OnPollPost(body, respond); });
}

void EioServer::HandleWebSocket(HttpStream stream, beast::flat_buffer early,
                                http::request<http::string_body> request) {
  StreamSocket socket = stream.release_socket();
  ParsedTarget target;
  HttpRequest view;
  if (Status s = ParseTarget(request.target(), &target); !s.ok()) {
    return RejectUpgrade(std::move(socket), BadRequest(s.message()));
  }
  view.query = std::move(target.query);
  if (Status s = CheckWebSocketKey(request); !s.ok())
    return RejectUpgrade(std::move(socket), BadRequest(s.message()));
  if (Status s = CheckQuery(view.Query("EIO"), view.Query("transport"), "websocket"); !s.ok()) {
    return RejectUpgrade(std::move(socket), EngineIoError(s.message()));
  }
  const std::string* sid = view.Query("sid");
  std::shared_ptr<EioSession> session = sid != nullptr ? Find(*sid) : nullptr;
  if (sid != nullptr && !session) return RejectUpgrade(std::move(socket), EngineIoError("unknown sid"));
  bool read_only = false;
  if (!session) {
    session = Create();
    const auto authorization = request.find(http::field::authorization);
    read_only =
        !MayWrite(context_.access_tokens,
                  authorization == request.end() ? std::nullopt
                                                 : std::optional<std::string_view>(authorization->value()),
                  request.target());
  }
  auto rebound = Rebind(std::move(socket), session->strand());
  if (!rebound) {
    if (sid == nullptr) net::post(session->strand(), [session] { session->Close("socket lost"); });
    return;
  }
  net::post(session->strand(), [session, socket = std::move(*rebound), early = std::move(early),
                                request = std::move(request), upgrade = sid != nullptr, read_only]() mutable {
    if (!upgrade) session->set_read_only(read_only);
    session->OnWebSocket(std::move(socket), early, std::move(request), upgrade);
  });
}

}  // namespace ctxd::server::socketio
