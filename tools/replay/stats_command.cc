// ctxd-replay stats: a JSON object about the store (events, head, keys,
// sessions, snapshots, bytes on disk).
#include <nlohmann/json.hpp>

#include "engine/event_json.h"
#include "tools/replay/commands.h"
#include "tools/replay/rebuild.h"
#include "tools/replay/secondary_log.h"

namespace ctxd::replay {
namespace {

// Events present in the log (fewer than the head when some are missing).
StatusOr<uint64_t> CountEvents(const log::EventLog& log, Progress::Mode mode) {
  const uint64_t head = log.head_seq();
  Progress progress("counting events", head, mode);
  uint64_t count = 0;
  Status read = log.ReadRange(1, head, head, [&](uint64_t seq, std::string_view) {
    ++count;
    progress.Update(seq);
    return true;
  });
  CTXD_RETURN_IF_ERROR(read);
  return count;
}

void AddStateStats(const engine::State& state, nlohmann::ordered_json& stats) {
  uint64_t nodes = 0, edges = 0;
  for (const auto& [id, session] : state.sessions) {
    nodes += session.graph.nodes.size();
    edges += session.graph.edge_count;
  }
  stats["head_timestamp"] = state.head_seq == 0
                                ? nlohmann::ordered_json()
                                : nlohmann::ordered_json(engine::FormatTimestamp(state.head_ts_us));
  stats["keys"] = state.context.size();
  stats["sessions"] = state.sessions.size();
  stats["nodes"] = nodes;
  stats["edges"] = edges;
}

Status AddSnapshotStats(const log::EventLog& log, nlohmann::ordered_json& stats) {
  auto snapshots = log.ListSnapshots();
  if (!snapshots.ok()) return snapshots.status();
  nlohmann::ordered_json seqs = nlohmann::ordered_json::array();
  uint64_t bytes = 0;
  for (const log::SnapshotInfo& info : *snapshots) {
    seqs.push_back(info.seq);
    bytes += info.bytes;
  }
  stats["snapshot_seqs"] = std::move(seqs);
  stats["snapshot_bytes"] = bytes;
  return Status::Ok();
}

}  // namespace

int RunStats(const std::string& data_dir, Progress::Mode progress, std::ostream& out) {
  auto secondary = SecondaryLog::Open(data_dir);
  if (!secondary.ok()) return Fail(secondary.status().ToString());
  const log::EventLog& log = (*secondary)->log();
  nlohmann::ordered_json stats;
  stats["store_id"] = log.store_id();
  stats["head_seq"] = log.head_seq();
  auto count = CountEvents(log, progress);
  if (!count.ok()) return Fail(count.status().ToString());
  stats["event_count"] = *count;
  auto state = RebuildAt(log, log.head_seq(), progress);
  if (!state.ok()) return Fail(state.status().ToString());
  AddStateStats(*state, stats);
  Status snapshots = AddSnapshotStats(log, stats);
  if (!snapshots.ok()) return Fail(snapshots.ToString());
  stats["disk_bytes"] = log.DiskSize();
  out << stats.dump(2) << "\n";
  return kExitOk;
}

}  // namespace ctxd::replay
