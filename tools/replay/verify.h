// Verifying a store: seq continuity from 1 to the head, every event decodes
// (which checks its CRC), the whole log replays, and the replayed state at
// every stored snapshot's seq encodes to exactly the snapshot's bytes.
//
// Problems are collected, not fatal: after an event that cannot be replayed
// the replay resumes from the next snapshot (itself unverified then), so one
// run reports every damaged region. Thread safety: reads the log only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "log/event_log.h"

namespace ctxd::replay {

struct VerifyProblem {
  uint64_t seq = 0;  // where it is
  std::string what;  // what is wrong there
};

struct VerifyReport {
  uint64_t head_seq = 0;
  uint64_t events_read = 0;
  uint64_t events_replayed = 0;
  std::vector<uint64_t> snapshots_matched;    // replay == snapshot, byte for byte
  std::vector<uint64_t> snapshots_unchecked;  // no verified replay reached them
  std::vector<VerifyProblem> problems;
  bool ok() const { return problems.empty(); }
};

// `progress(seq)` (when set) is called with each seq read. A log that
// cannot be read is one more problem in the report.
VerifyReport VerifyLog(const log::EventLog& log, const std::function<void(uint64_t)>& progress = {});

// The report for people: a summary line, then one line per problem
// ("seq 1234: cannot decode: ...").
std::string FormatVerifyReport(const VerifyReport& report);

}  // namespace ctxd::replay
