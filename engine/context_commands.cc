// context.set, context.delete and context.batch.
#include <set>

#include "engine/engine.h"
#include "engine/executor.h"

namespace ctxd::engine {

namespace {

std::string Quote(const std::string& s) { return "'" + s + "'"; }

const ContextEntry* FindEntry(const State& state, const std::string& key) {
  auto it = state.context.find(key);
  return it == state.context.end() ? nullptr : &it->second;
}

// If-Match: 0 = the key must not exist, N = its version must be N.
Status CheckIfMatch(const std::optional<uint64_t>& if_match, const std::string& key,
                    const ContextEntry* entry) {
  if (!if_match) return Status::Ok();
  uint64_t actual = entry == nullptr ? 0 : entry->version;
  if (*if_match == actual) return Status::Ok();
  std::string expected = *if_match == 0 ? "no version (absent)" : "version " + std::to_string(*if_match);
  std::string found = entry == nullptr ? "it does not exist" : "it is at version " + std::to_string(actual);
  return Status::PreconditionFailed("key " + Quote(key) + ": expected " + expected + ", but " + found);
}

// The change that sets `key` to `value`, or nothing when it already holds it.
std::optional<Change> PutChange(const ContextEntry* entry, const std::string& key, const std::string& value) {
  if (entry == nullptr) return CtxPut{key, value, std::nullopt};
  if (entry->value == value) return std::nullopt;
  return CtxPut{key, value, entry->value.str()};
}

Status CheckBatchKeys(const BatchContext& c, size_t max_value_bytes) {
  if (c.sets.empty() && c.deletes.empty()) return Status::InvalidArgument("batch sets and deletes nothing");
  std::set<std::string_view> seen;
  auto check = [&seen](const std::string& key) {
    CTXD_RETURN_IF_ERROR(ValidateKey(key));
    if (!seen.insert(key).second) {
      return Status::InvalidArgument("key " + Quote(key) + " appears more than once in the batch");
    }
    return Status::Ok();
  };
  for (const auto& [key, value] : c.sets) {
    CTXD_RETURN_IF_ERROR(check(key));
    CTXD_RETURN_IF_ERROR(ValidateValue("value of key " + Quote(key), value, max_value_bytes));
  }
  for (const auto& key : c.deletes) CTXD_RETURN_IF_ERROR(check(key));
  return Status::Ok();
}

}  // namespace

Status ValidateValue(std::string_view what, const std::string& value, size_t max_bytes) {
  if (value.empty()) return Status::InvalidArgument(std::string(what) + " must be a JSON value");
  if (value.size() > max_bytes) {
    return Status::PayloadTooLarge(std::string(what) + " is " + std::to_string(value.size()) +
                                   " bytes of JSON, more than the limit of " + std::to_string(max_bytes));
  }
  return Status::Ok();
}

Status Executor::operator()(const SetContext& c) {
  draft_.type = EventType::kContextSet;
  CTXD_RETURN_IF_ERROR(ValidateKey(c.key));
  CTXD_RETURN_IF_ERROR(ValidateValue("value", c.value, state_.max_value_bytes));
  const ContextEntry* entry = FindEntry(state_, c.key);
  CTXD_RETURN_IF_ERROR(CheckIfMatch(c.if_match, c.key, entry));
  auto change = PutChange(entry, c.key, c.value);
  if (!change) {
    draft_.version = entry->version;
    return Status::Ok();
  }
  return tx_.Add(std::move(*change));
}

Status Executor::operator()(const DeleteContext& c) {
  draft_.type = EventType::kContextDelete;
  CTXD_RETURN_IF_ERROR(ValidateKey(c.key));
  const ContextEntry* entry = FindEntry(state_, c.key);
  if (entry == nullptr) return Status::NotFound("key " + Quote(c.key) + " does not exist");
  CTXD_RETURN_IF_ERROR(CheckIfMatch(c.if_match, c.key, entry));
  return tx_.Add(CtxDel{c.key, entry->value.str()});
}

Status Executor::operator()(const BatchContext& c) {
  draft_.type = EventType::kContextBatch;
  CTXD_RETURN_IF_ERROR(CheckBatchKeys(c, state_.max_value_bytes));
  // Deletes are checked first so that a refused batch costs no rollback.
  for (const auto& key : c.deletes) {
    if (FindEntry(state_, key) == nullptr) return Status::NotFound("key " + Quote(key) + " does not exist");
  }
  for (const auto& [key, value] : c.sets) {
    auto change = PutChange(FindEntry(state_, key), key, value);
    if (change) CTXD_RETURN_IF_ERROR(tx_.Add(std::move(*change)));
  }
  for (const auto& key : c.deletes) {
    CTXD_RETURN_IF_ERROR(tx_.Add(CtxDel{key, FindEntry(state_, key)->value.str()}));
  }
  return Status::Ok();
}

}  // namespace ctxd::engine
