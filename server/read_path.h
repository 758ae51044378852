// The read path shared by the handlers: reading the in-memory state (gated
// on durability), point-in-time reads on the worker pool, and the common
// query parameters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "engine/state.h"
#include "server/http_message.h"
#include "server/json_body.h"
#include "server/responses.h"
#include "server/server_context.h"

namespace ctxd::server {

// An unsigned query parameter: `fallback` when absent, error when malformed.
StatusOr<uint64_t> UintQuery(const HttpRequest& request, std::string_view name, uint64_t fallback);

// Runs `render(const engine::State&, uint64_t seq) -> HttpResponse` on the
// state the request asks for: ?at=SEQ rebuilds that state on the worker pool
// (heavy: newest snapshot + replay); otherwise the live state is read under
// the store's shared lock and the answer waits until its head is durable.
template <typename Render>
void ReadState(ServerContext& ctx, const HttpRequest& request, const Responder& respond, Render render) {
  if (const std::string* at_text = request.Query("at")) {
    auto at = ParseUint(*at_text);
    if (!at) {
      respond(BadRequest("'at' must be a sequence number"));
      return;
    }
    ctx.OffloadRead(respond, [&ctx, seq = *at, render = std::move(render)](const Responder& done) {
      auto state = ctx.store.StateAt(seq);
      done(state.ok() ? render(*state, seq) : ErrorResponse(state.status()));
    });
    return;
  }
  uint64_t head = 0;
  HttpResponse response = ctx.store.Read([&](const engine::State& state) {
    head = state.head_seq;
    return render(state, head);
  });
  ctx.gate.Respond(head, respond, std::move(response));
}

// Validates an actor (from a body, a query or `who`); an empty one becomes
// "anonymous", the default.
Status ValidateActor(std::string& actor);

}  // namespace ctxd::server
