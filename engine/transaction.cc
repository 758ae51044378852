#include "engine/transaction.h"

#include <cassert>

namespace ctxd::engine {

namespace {

const std::string* ContextKey(const Change& change) {
  if (const auto* put = std::get_if<CtxPut>(&change)) return &put->key;
  if (const auto* del = std::get_if<CtxDel>(&change)) return &del->key;
  return nullptr;
}

}  // namespace

Status Transaction::Add(Change change) {
  const std::string* key = ContextKey(change);
  std::optional<ContextEntry> before;
  if (key != nullptr) {
    auto it = state_.context.find(*key);
    if (it != state_.context.end()) before = it->second;
  }
  CTXD_RETURN_IF_ERROR(applier_.Apply(change));
  if (key != nullptr) context_before_.emplace_back(*key, std::move(before));
  changes_.push_back(std::move(change));
  return Status::Ok();
}

void Transaction::Rollback() {
  for (auto it = changes_.rbegin(); it != changes_.rend(); ++it) {
    if (ContextKey(*it) == nullptr) {
      // The inverse of a change that was just applied always fits.
      [[maybe_unused]] Status status = applier_.Apply(Invert(*it));
      assert(status.ok());
      continue;
    }
    auto& [key, before] = context_before_.back();
    if (before) {
      state_.context[key] = std::move(*before);
    } else {
      state_.context.erase(key);
    }
    context_before_.pop_back();
  }
  changes_.clear();
}

}  // namespace ctxd::engine
