#include "server/write_path.h"

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

#include "engine/engine.h"
#include "server/io_pool.h"

namespace ctxd::server {

std::string NewUuid() {
  // One generator per thread: random_generator_mt19937 is not thread-safe,
  // and seeding it once keeps the syscall off the hot path.
  thread_local boost::uuids::random_generator_mt19937 generator;
  return boost::uuids::to_string(generator());
}

void SubmitFromRequest(store::Store& store, engine::Command command, store::Store::Completion done) {
  store.SubmitDeferred(std::move(command), std::move(done));
  CommitPendingAfterReadyHandlers(store);
}

Status SetCommandId(const HttpRequest& request, const Json* body, engine::Command* command) {
  std::string body_id;
  if (body != nullptr && !request.Header("Idempotency-Key")) {
    CTXD_RETURN_IF_ERROR(OptionalString(*body, "command_id", &body_id));
  }
  return SetCommandId(request, body_id, command);
}

Status SetCommandId(const HttpRequest& request, std::string_view body_id, engine::Command* command) {
  std::string id(request.Header("Idempotency-Key").value_or(body_id));
  if (id.empty()) {
    command->command_id = NewUuid();
    command->client_command_id = false;
    return Status::Ok();
  }
  if (id.size() > 256) return Status::InvalidArgument("the command id is longer than 256 bytes");
  CTXD_RETURN_IF_ERROR(engine::ValidateName("command_id", id));
  command->command_id = std::move(id);
  command->client_command_id = true;
  return Status::Ok();
}

}  // namespace ctxd::server
