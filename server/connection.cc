#include "server/connection.h"

namespace ctxd::server {

void StreamRoutes::Add(std::string path, StreamHandoff handoff, bool prefix) {
  entries_.push_back({std::move(path), prefix, std::move(handoff)});
}

const StreamHandoff* StreamRoutes::Find(std::string_view path) const {
  for (const auto& entry : entries_) {
    if (entry.prefix ? path.substr(0, entry.path.size()) == entry.path : path == entry.path)
      return &entry.handoff;
  }
  return nullptr;
}

uint64_t ConnectionRegistry::Add(std::weak_ptr<Closable> connection) {
  std::lock_guard lock(mu_);
  const uint64_t id = next_id_++;
  connections_.emplace(id, std::move(connection));
  return id;
}

void ConnectionRegistry::Remove(uint64_t id) {
  std::lock_guard lock(mu_);
  connections_.erase(id);
}

void ConnectionRegistry::ShutdownAll() {
  std::vector<std::shared_ptr<Closable>> live;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, weak] : connections_) {
      if (auto connection = weak.lock()) live.push_back(std::move(connection));
    }
  }
  for (auto& connection : live) connection->Shutdown();
}

size_t ConnectionRegistry::size() const {
  std::lock_guard lock(mu_);
  return connections_.size();
}

}  // namespace ctxd::server
