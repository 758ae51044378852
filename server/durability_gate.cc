#include "server/durability_gate.h"

#include <vector>

#include "server/responses.h"

namespace ctxd::server {

DurabilityGate::DurabilityGate(store::Store& store) : store_(store) {}

void DurabilityGate::Respond(uint64_t head, Responder respond, HttpResponse response) {
  if (head > store_.durable_seq()) {
    std::lock_guard lock(mu_);
    // Checked again under the lock: OnDurable takes it after durable_seq moved.
    if (head > store_.durable_seq()) {
      held_.emplace(head, std::make_pair(std::move(respond), std::move(response)));
      return;
    }
  }
  respond(std::move(response));
}

void DurabilityGate::OnDurable(uint64_t durable) {
  std::vector<std::pair<Responder, HttpResponse>> released;
  {
    std::lock_guard lock(mu_);
    auto end = held_.upper_bound(durable);
    for (auto it = held_.begin(); it != end; ++it) released.push_back(std::move(it->second));
    held_.erase(held_.begin(), end);
  }
  for (auto& [respond, response] : released) respond(std::move(response));
}

void DurabilityGate::FailAll(const std::string& why) {
  std::multimap<uint64_t, std::pair<Responder, HttpResponse>> held;
  {
    std::lock_guard lock(mu_);
    held.swap(held_);
  }
  for (auto& [seq, entry] : held) {
    entry.first(ErrorResponse(503, "UNAVAILABLE", why));
  }
}

}  // namespace ctxd::server
