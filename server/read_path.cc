#include "server/read_path.h"

#include "engine/engine.h"
#include "snapshots/snapshotter.h"

namespace ctxd::server {

StatusOr<uint64_t> UintQuery(const HttpRequest& request, std::string_view name, uint64_t fallback) {
  const std::string* text = request.Query(name);
  if (text == nullptr) return fallback;
  auto value = ParseUint(*text);
  if (!value) return Status::InvalidArgument("'" + std::string(name) + "' must be a non-negative integer");
  return *value;
}

bool IsLongListing(const engine::State& state, std::string_view prefix) {
  size_t count = 0;
  for (auto it = state.context.lower_bound(std::string(prefix)); it != state.context.end(); ++it) {
    if (!std::string_view(it->first).starts_with(prefix) || ++count > kLongListing) break;
  }
  return count > kLongListing;
}

StatusOr<uint64_t> ReadHead(ServerContext& ctx, bool long_read,
                            const std::function<void(const engine::State&)>& read) {
  if (long_read) return ctx.store.snapshotter().ReadCaughtUp(read);
  return ctx.store.Read([&](const engine::State& state) {
    read(state);
    return state.head_seq;
  });
}

Status ValidateActor(std::string& actor) {
  if (actor.empty()) actor = "anonymous";
  return engine::ValidateName("actor", actor);
}

}  // namespace ctxd::server
