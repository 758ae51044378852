// Writing a dump of one engine State in one of the old context server's
// four formats (json, pretty, csv, txt), plus the session graphs where the
// format allows. Used by ctxd-replay and by the server's dump endpoints.
// Layouts: docs/replay.md, "Dump formats".
//
// The State is read only; it must not change while a dump is written (the
// caller passes a copy or holds the store's read lock). Thread-safe for
// distinct outputs.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/state.h"
#include "tools/dump/dump_format.h"
#include "tools/dump/history.h"

namespace ctxd::dump {

struct DumpRequest {
  DumpFormat format = DumpFormat::kJson;
  std::string requested_by = "anonymous";  // metadata requested_by (the old `who`)
  std::string store_id;
  int64_t dump_ts_us = 0;             // when the dump was made (dump_timestamp)
  std::optional<int64_t> at_time_us;  // the point in time asked for, when asked by time
  // One session: only its graph (json, pretty) and its nodes as rows/lines
  // (csv, txt). Unset: every session's graph in json and pretty, none in csv and txt.
  std::optional<std::string> session;
  bool include_history = false;       // json and pretty only
  std::vector<HistoryEntry> history;  // written when include_history
};

struct DumpInfo {
  DumpFormat format = DumpFormat::kJson;
  uint64_t seq = 0;  // the state's head seq
  uint64_t key_count = 0;
  uint64_t session_count = 0;  // sessions whose graph was written
  uint64_t node_count = 0;     // nodes written
  uint64_t bytes = 0;
};

// Writes the dump to `out`. kNotFound when `request.session` does not exist
// in `state`; kUnavailable when `out` fails.
StatusOr<DumpInfo> WriteDump(const engine::State& state, const DumpRequest& request, std::ostream& out);

// Writes the dump to `path` atomically (temp file in the same directory,
// fsync, rename): a reader sees the old file or the whole new one, never a
// partial dump. kUnavailable on I/O errors; no temp file is left behind.
StatusOr<DumpInfo> WriteDumpFile(const engine::State& state, const DumpRequest& request,
                                 const std::string& path);

}  // namespace ctxd::dump
