// The write path shared by the context and graph handlers: filling in the
// command id, submitting to the store, and answering from the completion.
#pragma once

#include <chrono>
#include <string>
#include <utility>

#include "engine/command.h"
#include "server/http_message.h"
#include "server/json_body.h"
#include "server/responses.h"
#include "server/server_context.h"

namespace ctxd::server {

// A random UUID (version 4), lower-case text. Thread-safe.
std::string NewUuid();

// Sets command.command_id from the Idempotency-Key header or the body's
// "command_id" (client-chosen: deduplicated), else a new UUID.
Status SetCommandId(const HttpRequest& request, const Json* body, engine::Command* command);
// The same with the body's "command_id" already read (empty: none).
Status SetCommandId(const HttpRequest& request, std::string_view body_id, engine::Command* command);

// Submits a request's command: SubmitDeferred, then CommitPending once the
// calling I/O thread has handled its other ready requests (at low
// concurrency that thread commits them itself; io_pool.h).
void SubmitFromRequest(store::Store& store, engine::Command command, store::Store::Completion done);

// Submits `command` (SubmitFromRequest). The completion runs on the committing
// thread, so it only renders the small answer (`render(const CommandResult&) -> HttpResponse`)
// and hands it to the Responder, which posts it to the connection.
template <typename Render>
void SubmitCommand(ServerContext& ctx, engine::Command command, const Responder& respond, Render render) {
  const auto submitted = std::chrono::steady_clock::now();
  SubmitFromRequest(ctx.store, std::move(command), [&ctx, respond, render = std::move(render),
                                                     submitted](StatusOr<engine::CommandResult> result) {
    if (!result.ok()) {
      respond(ErrorResponse(result.status()));
      return;
    }
    ctx.metrics.ObserveCommitLatency(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - submitted).count());
    respond(render(*result));
  });
}

}  // namespace ctxd::server
