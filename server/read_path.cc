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

bool IsLongContext(const engine::State& state) { return state.context.size() > kLongListing; }

StatusOr<uint64_t> ReadHead(ServerContext& ctx, const std::function<bool(const engine::State&)>& is_long,
                            const std::function<void(const engine::State&)>& read) {
  bool long_read = false;
  const uint64_t head = ctx.store.Read([&](const engine::State& state) {
    long_read = is_long(state);
    if (!long_read) read(state);
    return state.head_seq;
  });
  if (long_read) return ctx.store.snapshotter().ReadCaughtUp(read);
  return head;
}

Status ValidateActor(std::string& actor) {
  if (actor.empty()) actor = "anonymous";
  return engine::ValidateName("actor", actor);
}

}  // namespace ctxd::server
