// The read path shared by the handlers: reading the in-memory state (gated
// on durability), point-in-time reads on the worker pool, and the common
// query parameters.
#pragma once

#include <cstdint>
#include <functional>
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

// Listings of more entries than this are long reads: rendering takes about
// 0.25 µs an entry, so 4,096 entries would hold the store's state lock, and
// with it the writer, for about a millisecond.
inline constexpr size_t kLongListing = 4096;
// Whether more than kLongListing context keys start with `prefix` (counted
// no further).
bool IsLongListing(const engine::State& state, std::string_view prefix);
// The same for the whole context.
bool IsLongContext(const engine::State& state);

// Calls `read(state)` on the state at the head and returns its seq: under
// the store's shared lock, or, when `is_long(state)` says so (checked under
// it), on the snapshotter's follower caught up to the log
// (Snapshotter::ReadCaughtUp), which the writer never waits for. On a
// worker thread only: catching up may replay.
StatusOr<uint64_t> ReadHead(ServerContext& ctx, const std::function<bool(const engine::State&)>& is_long,
                            const std::function<void(const engine::State&)>& read);

// Runs `render(const engine::State&, uint64_t seq) -> HttpResponse` on the
// state the request asks for: ?at=SEQ rebuilds that state on the worker pool
// (heavy: newest snapshot + replay); otherwise the live state is read under
// the store's shared lock, unless `is_long(state)` says the render would hold
// it up for long (it then renders on the worker pool from the snapshotter's
// follower, as ReadHead does); the answer waits until its head is durable.
template <typename Render, typename IsLong = bool (*)(const engine::State&)>
void ReadState(
    ServerContext& ctx, const HttpRequest& request, const Responder& respond, Render render,
    IsLong is_long = [](const engine::State&) { return false; }) {
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
  bool long_read = false;
  HttpResponse response = ctx.store.Read([&](const engine::State& state) {
    head = state.head_seq;
    long_read = is_long(state);
    return long_read ? HttpResponse{} : render(state, head);
  });
  if (!long_read) return ctx.gate.Respond(head, respond, std::move(response));
  ctx.OffloadRead(respond, [&ctx, render = std::move(render)](const Responder& done) {
    HttpResponse rendered;
    auto seq = ctx.store.snapshotter().ReadCaughtUp(
        [&](const engine::State& state) { rendered = render(state, state.head_seq); });
    if (!seq.ok()) return done(ErrorResponse(seq.status()));
    ctx.gate.Respond(*seq, done, std::move(rendered));
  });
}

// Validates an actor (from a body, a query or `who`); an empty one becomes
// "anonymous", the default.
Status ValidateActor(std::string& actor);

}  // namespace ctxd::server
