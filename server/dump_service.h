// DumpService: the server's dumps — writing a point-in-time dump of the
// store into the dump directory (--dump-dir) with the ctxd_dump library
// (the same code as `ctxd-replay dump`), the dumps made by this process,
// and the listeners told about each new dump (the Socket.IO
// `context_dumped` broadcast plugs in there).
//
// A dump reads only durable data: the state at `at`, or at the durable head
// when no seq is asked for, is rebuilt with Store::StateAt (newest snapshot
// + replay), so the writer thread is never held up and a dump never reveals
// an event that could still be lost. Files are written through a temp file,
// fsync and rename: a reader sees no file or the whole dump.
//
// Owned by the ServerContext. Thread safety: every method is safe from any
// thread. Create blocks (rebuild, fsync): call it on the worker pool, never
// on an I/O thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/store.h"
#include "tools/dump/dump_format.h"
#include "tools/dump/dump_writer.h"

namespace ctxd::server {

// What a client asked for.
struct DumpSpec {
  dump::DumpFormat format = dump::DumpFormat::kJson;
  std::string name;            // as requested; empty: context_dump_YYYYMMDD_HHMMSS.<ext>
  std::optional<uint64_t> at;  // unset: the durable head
  std::optional<std::string> session;
  bool include_history = false;
  std::string who = "anonymous";
};

// Dumps share the disk with the log: a dump is written only while its file
// system has at least 5 % of its size and 64 MiB free.
bool LeavesRoomForTheLog(uint64_t free_bytes, uint64_t total_bytes);

// One dump written by this process.
struct DumpRecord {
  std::string name;
  std::string path;  // absolute
  dump::DumpInfo info;
  std::string who;
  int64_t ts_us = 0;  // the dump's dump_timestamp
};

class DumpService {
 public:
  // Called on the worker thread that wrote the dump, after the file is in
  // place; must be quick and must not throw.
  using Listener = std::function<void(const DumpRecord& record)>;

  // `dir` empty: dumps are refused (kUnavailable).
  DumpService(store::Store& store, const std::string& dir);
  DumpService(const DumpService&) = delete;
  DumpService& operator=(const DumpService&) = delete;

  // The absolute dump directory ("" when none).
  const std::string& dir() const { return dir_; }

  // One dump at a time: false while an admitted one is queued or being
  // written (the route then answers 503), so clients can neither queue
  // dumps on the worker pool, which reads share, nor write them faster than
  // one after the other. Finish() ends the admitted dump.
  bool Admit() { return !busy_.exchange(true); }
  void Finish() { busy_.store(false); }

  // Writes the dump. kInvalidArgument for a bad name (traversal attempts
  // included) or a seq past the durable head, kNotFound for an unknown
  // session, kUnavailable for I/O errors and while the dump directory's
  // file system has less free than LeavesRoomForTheLog asks. A default name that is taken gets
  // a "_N" suffix; a name the client chose replaces an existing dump.
  StatusOr<DumpRecord> Create(const DumpSpec& spec);

  // The newest kHistoryCap dumps of this process, oldest first.
  std::vector<DumpRecord> History() const;
  static constexpr size_t kHistoryCap = 100;

  void AddListener(Listener listener);

 private:
  // The name for `spec`, reserved in names_in_flight_ until Release.
  StatusOr<std::string> ReserveName(const DumpSpec& spec, int64_t ts_us);
  void Release(const std::string& name);
  StatusOr<DumpRecord> Write(const DumpSpec& spec, const std::string& name, int64_t ts_us);
  void Publish(const DumpRecord& record);

  // Constant after construction.
  store::Store& store_;
  const std::string dir_;

  std::atomic<bool> busy_{false};

  mutable std::mutex mu_;
  std::multiset<std::string> names_in_flight_;  // guarded by mu_
  std::deque<DumpRecord> history_;              // guarded by mu_
  std::vector<Listener> listeners_;             // guarded by mu_
};

}  // namespace ctxd::server
