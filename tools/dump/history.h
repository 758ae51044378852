// Key history for dumps with include_history: every context change up to a
// seq, in the old context server's history shape
// {timestamp, key, before, after, who} (plus the event's seq).
//
// Pure functions over events; CollectHistory reads the log (thread-safe as
// the EventLog's read methods are).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/event.h"
#include "log/event_log.h"

namespace ctxd::dump {

struct HistoryEntry {
  uint64_t seq = 0;
  int64_t ts_us = 0;
  std::string key;
  std::optional<std::string> before;  // canonical JSON; nullopt: the key did not exist
  std::optional<std::string> after;   // canonical JSON; nullopt: the key was deleted
  std::string who;
  friend bool operator==(const HistoryEntry&, const HistoryEntry&) = default;
};

// Appends one entry per ctx.put / ctx.del change of `event`, in order.
void AppendHistory(const engine::Event& event, std::vector<HistoryEntry>* out);

// Every context change of events 1..to, ascending. `progress(seq)` (when
// set) is called now and then with the seq reached. kCorruption names the
// seq of an event that does not decode.
StatusOr<std::vector<HistoryEntry>> CollectHistory(const log::EventLog& log, uint64_t to,
                                                   const std::function<void(uint64_t)>& progress = {});

}  // namespace ctxd::dump
