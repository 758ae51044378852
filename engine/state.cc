#include "engine/state.h"

namespace ctxd::engine {

UndoEntry::UndoEntry(uint64_t seq, std::string command_id, std::vector<Change> changes)
    : seq(seq),
      command_id(std::move(command_id)),
      changes(std::move(changes)),
      bytes(this->command_id.size()) {
  for (const Change& change : this->changes) bytes += ChangeBytes(change);
}

const DedupeEntry* DedupeTable::Find(const std::string& command_id) const {
  auto it = entries_.find(command_id);
  return it == entries_.end() ? nullptr : &it->second;
}

void DedupeTable::Insert(const std::string& command_id, DedupeEntry entry) {
  // A present id keeps its first answer and its place in the eviction order:
  // the first answer is the one a retry must see.
  if (!entries_.try_emplace(command_id, std::move(entry)).second) return;
  order_.push_back(command_id);
  while (order_.size() > capacity_) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
}

}  // namespace ctxd::engine
