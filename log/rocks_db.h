// RocksDb: one open RocksDB instance with the log's column families, and the
// options the log runs it with (docs/storage-format.md, "RocksDB options").
//
// EventLog owns one RocksDb at a time and may replace it (reopen after a
// failed write). RocksDb owns the DB and its column family handles and
// closes them on destruction; it does not flush (EventLog decides that).
// Thread safety: the RocksDB calls made through db() are thread-safe; the
// object itself must not be destroyed while another thread uses it.
#pragma once

#include <rocksdb/db.h>

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace ctxd::log {

inline constexpr const char* kEventsCf = "events";
inline constexpr const char* kIndexCf = "index";
inline constexpr const char* kSnapshotsCf = "snapshots";
inline constexpr const char* kMetaCf = "meta";

// A rocksdb::Status as a ctxd::Status; `context` says what was being done.
// I/O trouble (IOError, NoSpace, Busy, ...) becomes kUnavailable.
Status FromRocks(const rocksdb::Status& status, const std::string& context);

class RocksDb {
 public:
  enum class Access { kReadWrite, kReadOnly, kSecondary };

  struct Params {
    Access access = Access::kReadWrite;
    bool create = false;             // kReadWrite: create the DB and our column families
    std::string secondary_dir;       // kSecondary only
    rocksdb::Env* env = nullptr;     // nullptr: the WAL Envs of wal_file_system.h
    bool every_write_synced = true;  // kReadWrite: see PrimaryWalEnv
  };

  static StatusOr<std::unique_ptr<RocksDb>> Open(const std::string& dir, const Params& params);
  // OK when the RocksDB in `dir` has all four of our column families; a
  // "not a ctxd store" error naming the missing ones otherwise.
  static Status CheckColumnFamilies(const std::string& dir, rocksdb::Env* env);

  ~RocksDb();
  RocksDb(const RocksDb&) = delete;
  RocksDb& operator=(const RocksDb&) = delete;

  rocksdb::DB* db() const { return db_; }
  Access access() const { return access_; }
  rocksdb::ColumnFamilyHandle* events() const { return events_; }
  rocksdb::ColumnFamilyHandle* index() const { return index_; }
  rocksdb::ColumnFamilyHandle* snapshots() const { return snapshots_; }
  rocksdb::ColumnFamilyHandle* meta() const { return meta_; }

  // Writes every memtable to SST files so the next open replays no WAL.
  Status FlushAll();

 private:
  RocksDb(rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*> handles, Access access);

  rocksdb::DB* db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // every open column family
  Access access_;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
  rocksdb::ColumnFamilyHandle* index_ = nullptr;
  rocksdb::ColumnFamilyHandle* snapshots_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
};

}  // namespace ctxd::log
