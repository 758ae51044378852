#include "tools/replay/state_diff.h"

#include <map>
#include <optional>

#include "snapshots/snapshot_codec.h"

namespace ctxd::replay {
namespace {

constexpr size_t kShownBytes = 80;

std::string Shorten(std::string_view text) {
  if (text.size() <= kShownBytes) return std::string(text);
  return std::string(text.substr(0, kShownBytes)) + "...";
}

// The first key whose entries differ (present in one map only counts).
template <typename Map>
std::optional<std::string> FirstDifferentKey(const Map& a, const Map& b) {
  auto ia = a.begin(), ib = b.begin();
  while (ia != a.end() || ib != b.end()) {
    if (ib == b.end() || (ia != a.end() && ia->first < ib->first)) return ia->first;
    if (ia == a.end() || ib->first < ia->first) return ib->first;
    if (!(ia->second == ib->second)) return ia->first;
    ++ia;
    ++ib;
  }
  return std::nullopt;
}

std::string DescribeEntry(const engine::State& state, const std::string& key) {
  auto it = state.context.find(key);
  if (it == state.context.end()) return "no such key";
  return Shorten(it->second.value) + " (version " + std::to_string(it->second.version) + ", actor '" +
         it->second.actor + "')";
}

std::string DescribeSession(const engine::Session* a, const engine::Session* b) {
  if (a == nullptr) return "exists only in the snapshot";
  if (b == nullptr) return "exists only in the replay";
  if (!(a->graph == b->graph)) return "graphs differ";
  if (a->undo != b->undo) return "undo stacks differ";
  if (a->redo != b->redo) return "redo stacks differ";
  if (a->saves != b->saves) return "save points differ";
  return "last_seq " + std::to_string(a->last_seq) + " vs " + std::to_string(b->last_seq);
}

std::string DescribeStates(const engine::State& replay, const engine::State& snapshot) {
  if (replay.head_seq != snapshot.head_seq) {
    return "it holds seq " + std::to_string(snapshot.head_seq);
  }
  if (auto key = FirstDifferentKey(replay.context, snapshot.context)) {
    return "context key '" + *key + "': replay has " + DescribeEntry(replay, *key) + ", snapshot has " +
           DescribeEntry(snapshot, *key);
  }
  if (auto id = FirstDifferentKey(replay.sessions, snapshot.sessions)) {
    auto find = [&](const engine::State& s) {
      auto it = s.sessions.find(*id);
      return it == s.sessions.end() ? nullptr : &it->second;
    };
    return "session '" + *id + "': " + DescribeSession(find(replay), find(snapshot));
  }
  if (!(replay.dedupe == snapshot.dedupe)) return "the dedupe tables differ";
  if (replay.head_ts_us != snapshot.head_ts_us) return "the head timestamps differ";
  if (replay.max_undo_depth != snapshot.max_undo_depth) return "the undo depth limits differ";
  if (replay.max_undo_bytes != snapshot.max_undo_bytes) return "the undo byte limits differ";
  return "the encodings differ";
}

}  // namespace

engine::EngineLimits LimitsOfSnapshots(const log::EventLog& log, const std::vector<uint64_t>& snapshot_seqs) {
  for (uint64_t seq : snapshot_seqs) {
    auto bytes = log.ReadSnapshot(seq);
    if (!bytes.ok()) continue;
    auto state = snapshots::DecodeState(*bytes);
    if (!state.ok()) continue;
    return engine::EngineLimits{.max_undo_depth = state->max_undo_depth,
                                .max_undo_bytes = state->max_undo_bytes,
                                .dedupe_capacity = state->dedupe.capacity()};
  }
  return engine::EngineLimits{};
}

bool SnapshotMatches(const engine::State& replayed, std::string_view snapshot_bytes) {
  if (!snapshot_bytes.empty() &&
      static_cast<uint8_t>(snapshot_bytes[0]) < snapshots::kSnapshotFormatVersion) {
    auto snapshot = snapshots::DecodeState(snapshot_bytes);
    if (!snapshot.ok()) return false;
    snapshot->max_value_bytes = replayed.max_value_bytes;  // a limit of the run, not in snapshots
    return *snapshot == replayed;
  }
  return snapshots::EncodeState(replayed) == snapshot_bytes;
}

std::string DescribeSnapshotDifference(const engine::State& replayed, std::string_view snapshot_bytes) {
  auto snapshot = snapshots::DecodeState(snapshot_bytes);
  if (!snapshot.ok()) return "the snapshot does not decode: " + snapshot.status().message();
  return DescribeStates(replayed, *snapshot);
}

}  // namespace ctxd::replay
