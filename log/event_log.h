// EventLog: the durable, ordered log of encoded events on RocksDB.
//
// It knows bytes and sequence numbers, not context or graphs. Column
// families (docs/storage-format.md):
//   events    big-endian u64 seq -> encoded event
//   index     caller-chosen prefix + big-endian u64 seq -> "" (history lookups)
//   snapshots big-endian u64 seq + big-endian u32 part -> snapshot bytes
//   meta      "format_version", "store_id"
// This is the only module that includes RocksDB headers.
//
// Thread safety: Append is called by one writer at a time (the Store's
// writer thread); every read method is safe from any thread concurrently
// with Append. Tail listeners run on the appending thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ctxd::log {

inline constexpr uint32_t kStorageFormatVersion = 1;

struct LogOptions {
  enum class Mode { kReadWrite, kSecondary };
  Mode mode = Mode::kReadWrite;
  // kSecondary: where RocksDB keeps the secondary's own info log files.
  std::string secondary_dir;
  // Create the store when `dir` is empty or absent (kReadWrite only).
  bool create_if_missing = true;
  // Every Append will be synced (--durability=sync): the WAL is then written
  // so that each write is durable as it is made (wal_file_system.h), which
  // is cheaper than a write and an fdatasync; unsynced appends pay for it.
  bool every_write_synced = true;
  // Test hook: a rocksdb::Env* to run on (fault injection). nullptr = default.
  void* env = nullptr;
};

// One event to append: its seq, its encoded bytes, and the index prefixes
// (each gets a `prefix + be64(seq)` entry in the index CF).
struct LogRecord {
  uint64_t seq = 0;
  std::string payload;
  std::vector<std::string> index_prefixes;
};

struct SnapshotInfo {
  uint64_t seq = 0;
  uint64_t bytes = 0;
};

class EventLog {
 public:
  // Opens (or creates) the store in `dir`. Fails with a clear message when
  // `dir` is not a ctxd store or has a newer format.
  static StatusOr<std::unique_ptr<EventLog>> Open(const std::string& dir, const LogOptions& options);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  const std::string& store_id() const;
  // Seq of the last durable event; 0 when empty.
  uint64_t head_seq() const;

  // Writes `records` (dense seqs continuing head_seq) in ONE WriteBatch,
  // synced when `sync`. On OK head_seq advances and tail listeners run; on
  // failure nothing is visible and kUnavailable describes the error. After a
  // failure the next Append tries afresh (resuming RocksDB if needed).
  Status Append(const std::vector<LogRecord>& records, bool sync);

  // Calls `fn(seq, payload)` for events with from <= seq <= to, ascending,
  // at most `limit` of them; stops early when fn returns false.
  using EventVisitor = std::function<bool(uint64_t seq, std::string_view payload)>;
  Status ReadRange(uint64_t from, uint64_t to, uint64_t limit, const EventVisitor& fn) const;
  StatusOr<std::string> ReadEvent(uint64_t seq) const;

  // Seqs of index entries under `prefix` with seq >= from, ascending, at most `limit`.
  StatusOr<std::vector<uint64_t>> ReadIndex(std::string_view prefix, uint64_t from, uint64_t limit) const;

  // Snapshots. Written with one WriteBatch (all parts or none), not synced:
  // a snapshot lost in a crash is simply not used.
  Status PutSnapshot(uint64_t seq, std::string_view bytes);
  // Ascending by seq.
  StatusOr<std::vector<SnapshotInfo>> ListSnapshots() const;
  StatusOr<std::string> ReadSnapshot(uint64_t seq) const;
  Status DeleteSnapshot(uint64_t seq);

  // Runs `fn(first_seq, last_seq)` after every successful Append.
  using TailListener = std::function<void(uint64_t first_seq, uint64_t last_seq)>;
  void AddTailListener(TailListener fn);

  // kSecondary: catch up with the primary's writes.
  Status CatchUp();
  // Approximate bytes on disk.
  uint64_t DiskSize() const;

 private:
  struct Impl;
  explicit EventLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ctxd::log
