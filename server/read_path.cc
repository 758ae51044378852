#include "server/read_path.h"

#include "engine/engine.h"

namespace ctxd::server {

StatusOr<uint64_t> UintQuery(const HttpRequest& request, std::string_view name, uint64_t fallback) {
  const std::string* text = request.Query(name);
  if (text == nullptr) return fallback;
  auto value = ParseUint(*text);
  if (!value) return Status::InvalidArgument("'" + std::string(name) + "' must be a non-negative integer");
  return *value;
}

Status ValidateActor(std::string& actor) {
  if (actor.empty()) actor = "anonymous";
  return engine::ValidateName("actor", actor);
}

}  // namespace ctxd::server
