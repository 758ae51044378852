// SecondaryLog: the event log of a ctxd data directory opened as a RocksDB
// secondary, so that ctxd-replay works while ctxd runs on (and keeps
// writing to) the same directory. It sees the primary's writes up to the
// moment of Open (CatchUp() sees more).
//
// The secondary's own files live in a private temp directory that is
// removed on destruction. Thread safety: as log::EventLog.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "log/event_log.h"

namespace ctxd::replay {

class SecondaryLog {
 public:
  static StatusOr<std::unique_ptr<SecondaryLog>> Open(const std::string& data_dir);
  ~SecondaryLog();
  SecondaryLog(const SecondaryLog&) = delete;
  SecondaryLog& operator=(const SecondaryLog&) = delete;

  log::EventLog& log() { return *log_; }

 private:
  SecondaryLog(std::string temp_dir, std::unique_ptr<log::EventLog> log)
      : temp_dir_(std::move(temp_dir)), log_(std::move(log)) {}

  const std::string temp_dir_;
  std::unique_ptr<log::EventLog> log_;  // closed before temp_dir_ is removed
};

}  // namespace ctxd::replay
