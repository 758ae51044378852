// GET /healthz, /readyz, /metrics.
#include "server/responses.h"
#include "server/routes.h"

namespace ctxd::server {

void Healthz(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  (void)ctx;
  (void)request;
  respond(JsonResponse("{\"status\":\"ok\"}"));
}

// Recovery finishes before the server listens, so a served /readyz is ready
// until shutdown starts.
void Readyz(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  (void)request;
  if (ctx.shutting_down.load()) return respond(ErrorResponse(503, "UNAVAILABLE", "shutting down"));
  respond(JsonResponse("{\"status\":\"ready\",\"head\":" + std::to_string(ctx.store.durable_seq()) + "}"));
}

void MetricsText(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  (void)request;
  const uint64_t head = ctx.store.Read([](const engine::State& state) { return state.head_seq; });
  HttpResponse response;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.body =
      ctx.metrics.Render(head, ctx.store.durable_seq(), ctx.store.snapshotter().last_snapshot_seq());
  respond(std::move(response));
}

}  // namespace ctxd::server
