// ctxd-replay dump: the state at a seq or a time, written in one of the four
// dump formats to a file (atomically) or to stdout.
#include <chrono>
#include <iostream>

#include "engine/event_json.h"
#include "snapshots/recovery.h"
#include "tools/dump/dump_writer.h"
#include "tools/replay/commands.h"
#include "tools/replay/rebuild.h"
#include "tools/replay/secondary_log.h"

namespace ctxd::replay {
namespace {

int64_t NowMicros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

// The seq the dump is taken at: --at, the last event at or before
// --at-time, or the head.
StatusOr<uint64_t> TargetSeq(const log::EventLog& log, const DumpOptions& options,
                             std::optional<int64_t> at_time_us) {
  if (at_time_us) return snapshots::SeqAtTime(log, *at_time_us);
  const uint64_t head = log.head_seq();
  if (!options.at) return head;
  if (*options.at > head) {
    return Status::InvalidArgument("--at " + std::to_string(*options.at) + " is past the head of the log (" +
                                   std::to_string(head) + ")");
  }
  return *options.at;
}

StatusOr<dump::DumpInfo> Write(const engine::State& state, const dump::DumpRequest& request,
                               const DumpOptions& options, std::ostream& out) {
  if (options.output.empty()) return dump::WriteDump(state, request, out);
  return dump::WriteDumpFile(state, request, options.output);
}

Status AddHistory(const log::EventLog& log, uint64_t seq, Progress::Mode mode, dump::DumpRequest& request) {
  Progress progress("reading history", seq, mode);
  auto history = dump::CollectHistory(log, seq, [&](uint64_t at) { progress.Update(at); });
  if (!history.ok()) return history.status();
  request.history = std::move(history).value();
  return Status::Ok();
}

void Report(const dump::DumpInfo& info, const DumpOptions& options) {
  if (options.output.empty()) return;
  std::cerr << "ctxd-replay: wrote " << options.output << ": " << dump::DumpFormatName(info.format)
            << ", seq " << info.seq << ", " << info.key_count << " keys, " << info.node_count << " nodes, "
            << info.bytes << " bytes\n";
}

}  // namespace

int RunDump(const DumpOptions& options, std::ostream& out) {
  auto format = dump::ParseDumpFormat(options.format);
  if (!format) return Fail("unknown format '" + options.format + "' (json, pretty, csv, txt)", kExitUsage);
  std::optional<int64_t> at_time_us;
  if (options.at_time) {
    int64_t ts;
    if (!engine::ParseTimestamp(*options.at_time, &ts)) {
      return Fail("--at-time '" + *options.at_time + "' is not an RFC 3339 time", kExitUsage);
    }
    at_time_us = ts;
  }
  auto secondary = SecondaryLog::Open(options.data_dir);
  if (!secondary.ok()) return Fail(secondary.status().ToString());
  const log::EventLog& log = (*secondary)->log();
  auto seq = TargetSeq(log, options, at_time_us);
  if (!seq.ok()) return Fail(seq.status().ToString());
  auto state = RebuildAt(log, *seq, options.progress);
  if (!state.ok()) return Fail(state.status().ToString());

  dump::DumpRequest request{*format,    options.who,     log.store_id(),          NowMicros(),
                            at_time_us, options.session, options.include_history, {}};
  if (options.include_history) {
    Status added = AddHistory(log, *seq, options.progress, request);
    if (!added.ok()) return Fail(added.ToString());
  }
  auto info = Write(*state, request, options, out);
  if (!info.ok()) return Fail(info.status().ToString());
  Report(*info, options);
  return kExitOk;
}

}  // namespace ctxd::replay
