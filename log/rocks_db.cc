#include "log/rocks_db.h"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>

#include <algorithm>
#include <array>
#include <filesystem>

#include "log/wal_file_system.h"

namespace ctxd::log {
namespace {

constexpr size_t kMiB = size_t{1} << 20;
constexpr std::array<const char*, 4> kOurColumnFamilies = {kEventsCf, kIndexCf, kSnapshotsCf, kMetaCf};

// RocksDB 7.8 cannot safely resume after a failed WAL write: an IOError is
// "fatal" and Resume() refuses; after NoSpace, a resume that finds empty
// memtables keeps the failed WAL writer, and the next write aborts inside
// RocksDB. So the DB stays stopped, and EventLog reopens it instead.
class NoAutoRecovery : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status, bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

rocksdb::CompressionType Compression() {
  const std::vector<rocksdb::CompressionType> supported = rocksdb::GetSupportedCompressions();
  bool lz4 = std::find(supported.begin(), supported.end(), rocksdb::kLZ4Compression) != supported.end();
  return lz4 ? rocksdb::kLZ4Compression : rocksdb::kNoCompression;
}

rocksdb::ColumnFamilyOptions CfOptions(size_t write_buffer_size, rocksdb::CompressionType compression,
                                       const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = write_buffer_size;
  cf.compression = compression;
  cf.level_compaction_dynamic_level_bytes = true;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return cf;
}

// An index key is its prefix (a key's, a node's or a session's) and the
// event's be64 seq; see keys.h.
class IndexKeyPrefix : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "ctxd.IndexKeyPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), key.size() - sizeof(uint64_t));
  }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() > sizeof(uint64_t); }
};

// Sized for the write path: events and index take every append, so they get
// big memtables; snapshots take 4 MiB parts; meta holds two keys. Snapshots
// are not compressed: a restart reads the newest one whole, and
// decompressing 100+ MiB costs more than reading it.
rocksdb::ColumnFamilyOptions CfOptionsFor(const std::string& name,
                                          const std::shared_ptr<rocksdb::Cache>& cache) {
  if (name == kSnapshotsCf) return CfOptions(64 * kMiB, rocksdb::kNoCompression, cache);
  if (name == kEventsCf) return CfOptions(64 * kMiB, Compression(), cache);
  if (name == kIndexCf) {
    rocksdb::ColumnFamilyOptions index = CfOptions(64 * kMiB, Compression(), cache);
    // A new index entry goes right after the last one under its prefix:
    // RocksDB keeps a skip-list position per prefix and inserts from there
    // instead of searching from the top.
    index.memtable_insert_with_hint_prefix_extractor = std::make_shared<IndexKeyPrefix>();
    return index;
  }
  return CfOptions(1 * kMiB, Compression(), cache);
}

rocksdb::DBOptions DbOptions(const RocksDb::Params& params) {
  rocksdb::DBOptions db;
  if (params.env != nullptr) {
    db.env = params.env;  // a test's (fault injection), without the WAL preallocation
  } else {
    db.env = params.access == RocksDb::Access::kSecondary ? SecondaryWalEnv()
                                                          : PrimaryWalEnv(params.every_write_synced);
  }
  db.create_if_missing = params.create;
  db.create_missing_column_families = params.create;
  db.paranoid_checks = true;
  // Correctness, not tuning: a write is in the WAL before Write() returns and
  // commit order is WAL order.
  db.manual_wal_flush = false;
  db.unordered_write = false;
  db.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // Flush the column families holding the oldest WAL once WALs pass this, so
  // the WAL (and replay at open) stays bounded.
  db.max_total_wal_size = 256 * kMiB;
  db.max_background_jobs = 4;
  db.bytes_per_sync = 1 * kMiB;
  db.keep_log_file_num = 5;
  db.max_bgerror_resume_count = 0;
  db.listeners.push_back(std::make_shared<NoAutoRecovery>());
  // A secondary must keep every file open: the primary may delete them.
  if (params.access == RocksDb::Access::kSecondary) db.max_open_files = -1;
  return db;
}

StatusOr<std::vector<std::string>> ColumnFamilyNames(const std::string& dir, const RocksDb::Params& params) {
  if (params.create) {
    return std::vector<std::string>{rocksdb::kDefaultColumnFamilyName, kEventsCf, kIndexCf, kSnapshotsCf,
                                    kMetaCf};
  }
  std::vector<std::string> names;
  rocksdb::Status listed = rocksdb::DB::ListColumnFamilies(DbOptions(params), dir, &names);
  if (!listed.ok()) return FromRocks(listed, "listing the column families of " + dir);
  return names;
}

rocksdb::Status OpenDb(const std::string& dir, const RocksDb::Params& params,
                       const std::vector<rocksdb::ColumnFamilyDescriptor>& families,
                       std::vector<rocksdb::ColumnFamilyHandle*>* handles, rocksdb::DB** db) {
  rocksdb::DBOptions options = DbOptions(params);
  switch (params.access) {
    case RocksDb::Access::kReadWrite:
      return rocksdb::DB::Open(options, dir, families, handles, db);
    case RocksDb::Access::kReadOnly:
      return rocksdb::DB::OpenForReadOnly(options, dir, families, handles, db);
    case RocksDb::Access::kSecondary:
      return rocksdb::DB::OpenAsSecondary(options, dir, params.secondary_dir, families, handles, db);
  }
  return rocksdb::Status::InvalidArgument("unknown access mode");
}

}  // namespace

Status FromRocks(const rocksdb::Status& status, const std::string& context) {
  if (status.ok()) return Status::Ok();
  std::string message = context + ": " + status.ToString();
  switch (status.code()) {
    case rocksdb::Status::kNotFound:
      return Status::NotFound(std::move(message));
    case rocksdb::Status::kCorruption:
      return Status::Corruption(std::move(message));
    case rocksdb::Status::kInvalidArgument:
    case rocksdb::Status::kNotSupported:
      return Status::InvalidArgument(std::move(message));
    case rocksdb::Status::kIOError:
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTimedOut:
    case rocksdb::Status::kTryAgain:
    case rocksdb::Status::kAborted:
    case rocksdb::Status::kIncomplete:
    case rocksdb::Status::kShutdownInProgress:
      return Status::Unavailable(std::move(message));
    default:
      return Status::Internal(std::move(message));
  }
}

StatusOr<std::unique_ptr<RocksDb>> RocksDb::Open(const std::string& dir, const Params& params) {
  StatusOr<std::vector<std::string>> names = ColumnFamilyNames(dir, params);
  if (!names.ok()) return names.status();
  auto cache = rocksdb::NewLRUCache(64 * kMiB);
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& name : *names) families.emplace_back(name, CfOptionsFor(name, cache));
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status opened = OpenDb(dir, params, families, &handles, &db);
  if (!opened.ok()) return FromRocks(opened, "opening " + dir);
  return std::unique_ptr<RocksDb>(new RocksDb(db, std::move(handles), params.access));
}

Status RocksDb::CheckColumnFamilies(const std::string& dir, rocksdb::Env* env) {
  Params params;
  params.env = env;
  StatusOr<std::vector<std::string>> names = ColumnFamilyNames(dir, params);
  if (!names.ok()) {
    return Status::InvalidArgument(dir + " is not a ctxd store: " + names.status().message());
  }
  std::string missing;
  for (const char* ours : kOurColumnFamilies) {
    if (std::find(names->begin(), names->end(), ours) != names->end()) continue;
    missing += (missing.empty() ? "" : ", ") + std::string(ours);
  }
  if (missing.empty()) return Status::Ok();
  return Status::InvalidArgument(
      dir + " is not a ctxd store: it is a RocksDB database without the column families " + missing);
}

RocksDb::RocksDb(rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*> handles, Access access)
    : db_(db), handles_(std::move(handles)), access_(access) {
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    const std::string& name = handle->GetName();
    if (name == kEventsCf) events_ = handle;
    if (name == kIndexCf) index_ = handle;
    if (name == kSnapshotsCf) snapshots_ = handle;
    if (name == kMetaCf) meta_ = handle;
  }
}

RocksDb::~RocksDb() {
  // Closing cannot fail in a way a caller could act on: a DB in an error
  // state reports that error again, and its WAL already holds what it holds.
  for (rocksdb::ColumnFamilyHandle* handle : handles_)
    db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  db_->Close().PermitUncheckedError();
  delete db_;
}

Status RocksDb::FlushAll() {
  rocksdb::FlushOptions options;
  options.wait = true;
  return FromRocks(db_->Flush(options, {events_, index_, snapshots_, meta_}), "flushing memtables");
}

}  // namespace ctxd::log
