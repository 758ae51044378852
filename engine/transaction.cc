#include "engine/transaction.h"

#include <cassert>

namespace ctxd::engine {

namespace {

const std::string* ContextKey(const Change& change) {
  if (const auto* put = std::get_if<CtxPut>(&change)) return &put->key;
  if (const auto* del = std::get_if<CtxDel>(&change)) return &del->key;
  return nullptr;
}

// The value a context change found (it has one whenever the key existed).
const std::string& OldValue(const Change& change) {
  if (const auto* put = std::get_if<CtxPut>(&change)) return *put->old;
  return std::get<CtxDel>(change).old;
}

}  // namespace

Status Transaction::Add(Change change) {
  std::optional<ContextEntry> before;
  CTXD_RETURN_IF_ERROR(applier_.Apply(change, &before));
  if (ContextKey(change) != nullptr) context_before_.push_back(std::move(before));
  changes_.push_back(std::move(change));
  return Status::Ok();
}

void Transaction::Rollback() {
  // Steps back through states the graph has been in; a cycle check could
  // only fail here by running out of the command's budget.
  applier_.set_check_cycles(false);
  for (auto it = changes_.rbegin(); it != changes_.rend(); ++it) {
    if (ContextKey(*it) == nullptr) {
      // The inverse of a change that was just applied always fits.
      [[maybe_unused]] Status status = applier_.Apply(Invert(*it));
      assert(status.ok());
      continue;
    }
    const std::string& key = *ContextKey(*it);
    std::optional<ContextEntry>& before = context_before_.back();
    if (before) {
      before->value = OldValue(*it);
      state_.context[key] = std::move(*before);
    } else {
      state_.context.erase(key);
    }
    context_before_.pop_back();
  }
  changes_.clear();
}

}  // namespace ctxd::engine
