#include "log/event_log.h"

#include <fcntl.h>
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/uuid/uuid.hpp>
#include <boost/uuid/uuid_generators.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <utility>

#include "log/keys.h"
#include "log/rocks_db.h"
#include "log/snapshot_parts.h"

namespace ctxd::log {
namespace {

constexpr char kFormatVersionKey[] = "format_version";
constexpr char kStoreIdKey[] = "store_id";
// ReadRange copies events out in chunks and calls the visitor without the DB
// lock held, so a slow visitor (a network stream) never holds up a reopen or
// pins RocksDB's memtables and files.
constexpr size_t kReadChunkEvents = 8192;
constexpr size_t kReadChunkBytes = size_t{4} << 20;

using Access = RocksDb::Access;

Status NotAStore(const std::string& dir, const std::string& why) {
  return Status::InvalidArgument(dir + " is not a ctxd store: " + why);
}

enum class DirState { kAbsentOrEmpty, kRocksDb };

StatusOr<DirState> InspectDir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::file_status status = fs::status(dir, error);
  if (status.type() == fs::file_type::not_found) return DirState::kAbsentOrEmpty;
  if (error) return Status::Unavailable("cannot inspect " + dir + ": " + error.message());
  if (!fs::is_directory(status)) return NotAStore(dir, "it is not a directory");
  bool empty = fs::is_empty(dir, error);
  if (error) return Status::Unavailable("cannot list " + dir + ": " + error.message());
  if (empty) return DirState::kAbsentOrEmpty;
  if (!fs::exists(fs::path(dir) / "CURRENT", error)) {
    return NotAStore(dir, "it is not empty and has no RocksDB CURRENT file");
  }
  return DirState::kRocksDb;
}

std::string NewStoreId() { return boost::uuids::to_string(boost::uuids::random_generator()()); }

// fsync of a directory, so a rename inside it survives a machine crash.
Status SyncDirectory(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Status::Unavailable("cannot open " + path + ": " + std::strerror(errno));
  const int synced = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (synced != 0) return Status::Unavailable("cannot fsync " + path + ": " + std::strerror(error));
  return Status::Ok();
}

StatusOr<uint64_t> LastEventSeq(const RocksDb& db) {
  std::unique_ptr<rocksdb::Iterator> it(db.db()->NewIterator(rocksdb::ReadOptions(), db.events()));
  it->SeekToLast();
  if (!it->Valid()) {
    CTXD_RETURN_IF_ERROR(FromRocks(it->status(), "finding the last event"));
    return uint64_t{0};
  }
  std::optional<uint64_t> seq = DecodeEventKey(it->key().ToStringView());
  if (!seq) return Status::Corruption("the events column family has a key that is not 8 bytes");
  return *seq;
}

// Get that tells "absent" (nullopt) from failure.
StatusOr<std::optional<std::string>> GetOptional(const RocksDb& db, rocksdb::ColumnFamilyHandle* cf,
                                                 const std::string& key, const std::string& what) {
  std::string value;
  rocksdb::Status got = db.db()->Get(rocksdb::ReadOptions(), cf, key, &value);
  if (got.IsNotFound()) return std::optional<std::string>();
  if (!got.ok()) return FromRocks(got, what);
  return std::optional<std::string>(std::move(value));
}

// Seqs are assigned by the single writer; anything but head+1, head+2, ...
// is a bug upstream, and writing it would break the log's density.
Status CheckContinuesHead(const std::vector<LogRecord>& records, uint64_t head) {
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].seq != head + 1 + i) {
      return Status::Internal("append: record " + std::to_string(i) + " has seq " +
                              std::to_string(records[i].seq) + ", expected " + std::to_string(head + 1 + i));
    }
  }
  return Status::Ok();
}

// Each event and its index entries, into one batch: all of it lands or none.
rocksdb::Status AddRecords(const RocksDb& db, const std::vector<LogRecord>& records,
                           rocksdb::WriteBatch* batch) {
  rocksdb::Status s;
  std::string key;  // reused: no allocation per key
  for (const LogRecord& record : records) {
    key.clear();
    AppendBigEndian64(&key, record.seq);
    if (s.ok()) s = batch->Put(db.events(), key, record.payload);
    for (const std::string& prefix : record.index_prefixes) {
      key.assign(prefix);
      AppendBigEndian64(&key, record.seq);
      if (s.ok()) s = batch->Put(db.index(), key, rocksdb::Slice());
    }
  }
  return s;
}

}  // namespace

// The log behind EventLog's interface. Owns the open RocksDb and replaces it
// when a failed write leaves RocksDB stopped; see the member comments for
// what each mutex guards.
struct EventLog::Impl {
 public:
  Impl(std::string dir, LogOptions options) : dir_(std::move(dir)), options_(std::move(options)) {}
  ~Impl();

  Status Open();

  const std::string& store_id() const { return store_id_; }
  uint64_t head_seq() const { return head_seq_.load(std::memory_order_acquire); }

  Status Append(const std::vector<LogRecord>& records, bool sync);
  Status ReadRange(uint64_t from, uint64_t to, uint64_t limit, const EventVisitor& fn) const;
  StatusOr<std::string> ReadEvent(uint64_t seq) const;
  StatusOr<std::vector<uint64_t>> ReadIndex(std::string_view prefix, uint64_t from, uint64_t limit) const;

  Status PutSnapshot(uint64_t seq, std::string_view bytes);
  StatusOr<std::vector<SnapshotInfo>> ListSnapshots() const;
  StatusOr<std::string> ReadSnapshot(uint64_t seq) const;
  Status DeleteSnapshot(uint64_t seq);
  StatusOr<bool> HasSnapshotParts(uint64_t seq) const;

  void AddTailListener(TailListener fn);
  Status CatchUp();
  uint64_t DiskSize() const;

 private:
  // Events first_seq, first_seq + 1, ...: their payloads back to back in
  // `bytes`, payload i ending at ends[i]. Reused from chunk to chunk.
  struct Chunk {
    uint64_t first_seq = 0;
    std::string bytes;
    std::vector<size_t> ends;
  };
  using BatchBuilder = std::function<rocksdb::Status(const RocksDb&, rocksdb::WriteBatch*)>;

  bool secondary() const { return options_.mode == LogOptions::Mode::kSecondary; }
  RocksDb::Params ParamsFor(Access access, bool create) const;
  Status PrepareToCreate() const;
  Status CreateAtomically();
  Status LoadMeta();
  Status WriteNewMeta();
  Status RefuseIfSecondary(const char* what) const;

  // Runs `fn(db)` with the DB held open (shared).
  template <typename R, typename Fn>
  R WithDb(Fn&& fn) const;
  Status ReadChunk(uint64_t from, uint64_t to, uint64_t max_events, Chunk* out) const;

  // Writers hold write_mu_.
  Status WriteLocked(const BatchBuilder& build, bool sync, const std::string& what);
  Status ReopenIfNeededLocked();
  Status DropUnacknowledgedLocked();
  void NotifyTail(uint64_t first, uint64_t last);

  // Constant after Open.
  const std::string dir_;
  const LogOptions options_;
  std::string store_id_;

  // Shared by every use of db_, exclusive to replace it. Lock order:
  // write_mu_ before db_mu_.
  mutable std::shared_mutex db_mu_;
  std::unique_ptr<RocksDb> db_;  // guarded by db_mu_; null only when a reopen failed outright

  // Serializes writes, reopening and catching up.
  std::mutex write_mu_;
  // A write failed: RocksDB is stopped and must be reopened before the next one.
  bool needs_reopen_ = false;                    // guarded by write_mu_
  std::vector<std::string> unacked_index_keys_;  // guarded by write_mu_: index keys of failed appends

  std::atomic<uint64_t> head_seq_{0};

  std::mutex listeners_mu_;
  // Copied on write so Append can call them without holding listeners_mu_.
  std::shared_ptr<const std::vector<TailListener>> listeners_ =
      std::make_shared<std::vector<TailListener>>();  // guarded by listeners_mu_
};

// ---- Opening and closing ------------------------------------------------

EventLog::Impl::~Impl() {
  std::lock_guard write_lock(write_mu_);
  std::unique_lock db_lock(db_mu_);
  // Best effort: a failed flush only means the next open replays the WAL.
  if (db_ && db_->access() == Access::kReadWrite && !needs_reopen_) static_cast<void>(db_->FlushAll());
  db_.reset();
}

RocksDb::Params EventLog::Impl::ParamsFor(Access access, bool create) const {
  RocksDb::Params params;
  params.access = access;
  params.create = create;
  params.secondary_dir = options_.secondary_dir;
  params.env = static_cast<rocksdb::Env*>(options_.env);
  params.every_write_synced = options_.every_write_synced;
  return params;
}

Status EventLog::Impl::Open() {
  StatusOr<DirState> state = InspectDir(dir_);
  if (!state.ok()) return state.status();
  if (*state == DirState::kAbsentOrEmpty) {
    CTXD_RETURN_IF_ERROR(PrepareToCreate());
    CTXD_RETURN_IF_ERROR(CreateAtomically());
  }
  CTXD_RETURN_IF_ERROR(RocksDb::CheckColumnFamilies(dir_, static_cast<rocksdb::Env*>(options_.env)));
  if (secondary()) {
    if (options_.secondary_dir.empty()) {
      return Status::InvalidArgument("secondary mode needs a secondary_dir");
    }
    std::error_code error;
    std::filesystem::create_directories(options_.secondary_dir, error);
    if (error) return Status::Unavailable("cannot create " + options_.secondary_dir + ": " + error.message());
  }
  StatusOr<std::unique_ptr<RocksDb>> db =
      RocksDb::Open(dir_, ParamsFor(secondary() ? Access::kSecondary : Access::kReadWrite, /*create=*/false));
  if (!db.ok()) return db.status();
  db_ = std::move(*db);
  CTXD_RETURN_IF_ERROR(LoadMeta());
  StatusOr<uint64_t> head = LastEventSeq(*db_);
  if (!head.ok()) return head.status();
  head_seq_.store(*head, std::memory_order_release);
  return Status::Ok();
}

Status EventLog::Impl::PrepareToCreate() const {
  if (secondary()) return NotAStore(dir_, "it is empty or absent");
  if (!options_.create_if_missing) {
    return Status::NotFound(dir_ + " holds no ctxd store and create_if_missing is off");
  }
  std::error_code error;
  std::filesystem::create_directories(dir_, error);
  if (error) return Status::Unavailable("cannot create " + dir_ + ": " + error.message());
  return Status::Ok();
}

// RocksDB creates a database and then its column families in separate steps,
// so a crash during a plain create can leave a RocksDB without our column
// families, which no later open would accept. The store is built complete
// (column families and meta) in a sibling directory and renamed into place,
// which is atomic and replaces the empty `dir_`. A crash leaves only the
// sibling, removed by the next attempt.
Status EventLog::Impl::CreateAtomically() {
  const std::filesystem::path target = std::filesystem::path(dir_).lexically_normal();
  const std::filesystem::path final_dir = target.has_filename() ? target : target.parent_path();
  const std::string staging = final_dir.string() + ".creating";
  std::error_code error;
  std::filesystem::remove_all(staging, error);
  {
    StatusOr<std::unique_ptr<RocksDb>> db = RocksDb::Open(staging, ParamsFor(Access::kReadWrite, true));
    if (!db.ok()) return db.status();
    db_ = std::move(*db);
    Status meta = WriteNewMeta();
    if (meta.ok()) meta = db_->FlushAll();
    db_.reset();
    CTXD_RETURN_IF_ERROR(meta);
  }
  std::filesystem::rename(staging, final_dir, error);
  if (error) return Status::Unavailable("cannot move the new store into " + dir_ + ": " + error.message());
  return SyncDirectory(final_dir.parent_path().empty() ? "." : final_dir.parent_path().string());
}

Status EventLog::Impl::LoadMeta() {
  StatusOr<std::optional<std::string>> version =
      GetOptional(*db_, db_->meta(), kFormatVersionKey, "reading meta");
  if (!version.ok()) return version.status();
  StatusOr<std::optional<std::string>> id = GetOptional(*db_, db_->meta(), kStoreIdKey, "reading meta");
  if (!id.ok()) return id.status();
  if (!*version && !*id && !secondary() && options_.create_if_missing) {
    StatusOr<uint64_t> last = LastEventSeq(*db_);
    if (!last.ok()) return last.status();
    // A new store, or one whose creation stopped before meta was written.
    if (*last == 0) return WriteNewMeta();
  }
  if (!*version) return NotAStore(dir_, "its meta column family has no format_version");
  uint32_t number = 0;
  const std::string& text = **version;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end != text.data() + text.size() || number == 0) {
    return Status::Corruption(dir_ + ": format_version '" + text + "' is not a valid version");
  }
  if (number > kStorageFormatVersion) {
    return Status::InvalidArgument(dir_ + " has storage format version " + text + ", newer than version " +
                                   std::to_string(kStorageFormatVersion) +
                                   " which this ctxd reads; open it with a newer ctxd");
  }
  if (!*id || (*id)->empty()) return Status::Corruption(dir_ + ": meta has no store_id");
  store_id_ = **id;
  return Status::Ok();
}

Status EventLog::Impl::WriteNewMeta() {
  std::string id = NewStoreId();
  rocksdb::WriteBatch batch;
  rocksdb::Status put = batch.Put(db_->meta(), kFormatVersionKey, std::to_string(kStorageFormatVersion));
  if (put.ok()) put = batch.Put(db_->meta(), kStoreIdKey, id);
  rocksdb::WriteOptions options;
  options.sync = true;
  if (put.ok()) put = db_->db()->Write(options, &batch);
  CTXD_RETURN_IF_ERROR(FromRocks(put, "writing meta of new store " + dir_));
  store_id_ = std::move(id);
  return Status::Ok();
}

// ---- Appending ----------------------------------------------------------

Status EventLog::Impl::RefuseIfSecondary(const char* what) const {
  if (!secondary()) return Status::Ok();
  return Status::InvalidArgument(std::string(what) + ": " + dir_ + " is open as a read-only secondary");
}

Status EventLog::Impl::Append(const std::vector<LogRecord>& records, bool sync) {
  CTXD_RETURN_IF_ERROR(RefuseIfSecondary("append"));
  if (records.empty()) return Status::Ok();
  const uint64_t first = records.front().seq;
  const uint64_t last = records.back().seq;
  {
    std::lock_guard lock(write_mu_);
    CTXD_RETURN_IF_ERROR(CheckContinuesHead(records, head_seq()));
    Status written = WriteLocked(
        [&](const RocksDb& db, rocksdb::WriteBatch* batch) { return AddRecords(db, records, batch); }, sync,
        "append of seq " + std::to_string(first) + ".." + std::to_string(last));
    if (!written.ok()) {
      // The write reached RocksDB and failed (or could not be tried): should
      // the batch be in the WAL after all, the reopen removes it again.
      if (!needs_reopen_) return written;
      for (const LogRecord& record : records) {
        for (const std::string& prefix : record.index_prefixes) {
          unacked_index_keys_.push_back(IndexKey(prefix, record.seq));
        }
      }
      return written;
    }
    head_seq_.store(last, std::memory_order_release);
  }
  NotifyTail(first, last);
  return Status::Ok();
}

Status EventLog::Impl::WriteLocked(const BatchBuilder& build, bool sync, const std::string& what) {
  CTXD_RETURN_IF_ERROR(ReopenIfNeededLocked());
  rocksdb::Status written;
  {
    std::shared_lock lock(db_mu_);
    if (!db_ || db_->access() != Access::kReadWrite) {
      return Status::Unavailable(what + ": " + dir_ + " is read-only until it can be reopened");
    }
    rocksdb::WriteBatch batch;
    rocksdb::Status built = build(*db_, &batch);
    if (!built.ok()) return Status::Internal(what + ": building the write batch: " + built.ToString());
    rocksdb::WriteOptions options;
    options.sync = sync;
    written = db_->db()->Write(options, &batch);
  }
  if (written.ok()) return Status::Ok();
  needs_reopen_ = true;
  return Status::Unavailable(what + " failed: " + written.ToString());
}

// RocksDB stops writing after a failed WAL write and, in 7.8, cannot resume
// safely (see rocks_db.cc), so the DB is closed and opened again; that also
// starts a fresh WAL. While the disk still fails, a read-only instance keeps
// reads working.
Status EventLog::Impl::ReopenIfNeededLocked() {
  if (!needs_reopen_) return Status::Ok();
  std::unique_lock lock(db_mu_);
  db_.reset();
  StatusOr<std::unique_ptr<RocksDb>> reopened = RocksDb::Open(dir_, ParamsFor(Access::kReadWrite, false));
  if (!reopened.ok()) {
    StatusOr<std::unique_ptr<RocksDb>> read_only = RocksDb::Open(dir_, ParamsFor(Access::kReadOnly, false));
    if (read_only.ok()) db_ = std::move(*read_only);
    return Status::Unavailable("reopening " + dir_ + " after a failed write: " + reopened.status().message());
  }
  db_ = std::move(*reopened);
  CTXD_RETURN_IF_ERROR(DropUnacknowledgedLocked());
  needs_reopen_ = false;
  unacked_index_keys_.clear();
  return Status::Ok();
}

// A write whose fsync failed may still have reached the WAL, and reopening
// replays it. Its caller was told it failed and the head never moved, so
// such events (and their index entries) are deleted again.
Status EventLog::Impl::DropUnacknowledgedLocked() {
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->events()));
  rocksdb::Status s;
  for (it->Seek(EventKey(head_seq() + 1)); s.ok() && it->Valid(); it->Next()) {
    s = batch.Delete(db_->events(), it->key());
  }
  if (s.ok()) s = it->status();
  for (const std::string& key : unacked_index_keys_) {
    if (s.ok()) s = batch.Delete(db_->index(), key);
  }
  if (s.ok() && batch.Count() > 0) {
    rocksdb::WriteOptions options;
    options.sync = true;
    s = db_->db()->Write(options, &batch);
  }
  return s.ok() ? Status::Ok() : Status::Unavailable("removing unacknowledged events: " + s.ToString());
}

void EventLog::Impl::AddTailListener(TailListener fn) {
  std::lock_guard lock(listeners_mu_);
  auto listeners = std::make_shared<std::vector<TailListener>>(*listeners_);
  listeners->push_back(std::move(fn));
  listeners_ = std::move(listeners);
}

void EventLog::Impl::NotifyTail(uint64_t first, uint64_t last) {
  std::shared_ptr<const std::vector<TailListener>> listeners;
  {
    std::lock_guard lock(listeners_mu_);
    listeners = listeners_;
  }
  for (const TailListener& fn : *listeners) fn(first, last);
}

// ---- Reading ------------------------------------------------------------

template <typename R, typename Fn>
R EventLog::Impl::WithDb(Fn&& fn) const {
  std::shared_lock lock(db_mu_);
  if (!db_) {
    return Status::Unavailable(dir_ + " is closed: reopening it after a failed write did not succeed");
  }
  return fn(*db_);
}

Status EventLog::Impl::ReadRange(uint64_t from, uint64_t to, uint64_t limit, const EventVisitor& fn) const {
  to = std::min(to, head_seq());
  uint64_t next = std::max<uint64_t>(from, 1);
  Chunk chunk;
  while (limit > 0 && next <= to) {
    CTXD_RETURN_IF_ERROR(ReadChunk(next, to, std::min<uint64_t>(limit, kReadChunkEvents), &chunk));
    const std::string_view bytes = chunk.bytes;
    size_t begin = 0;
    for (size_t i = 0; i < chunk.ends.size(); ++i) {
      if (!fn(chunk.first_seq + i, bytes.substr(begin, chunk.ends[i] - begin))) return Status::Ok();
      begin = chunk.ends[i];
    }
    limit -= chunk.ends.size();
    next = chunk.first_seq + chunk.ends.size();
  }
  return Status::Ok();
}

// Reads events next..to (at most max_events, about kReadChunkBytes) into
// `out`, replacing what it held; the log is dense, so a missing seq is
// corruption.
Status EventLog::Impl::ReadChunk(uint64_t next, uint64_t to, uint64_t max_events, Chunk* out) const {
  out->first_seq = next;
  out->bytes.clear();
  out->ends.clear();
  return WithDb<Status>([&](const RocksDb& db) {
    const std::string upper = EventKey(to + 1);
    const rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions options;
    options.iterate_upper_bound = &upper_slice;
    // A long scan (replay, a dump) reads each block once: caching its blocks
    // would cost an insert and an eviction each and push out those that
    // short reads keep hot.
    options.fill_cache = max_events < kReadChunkEvents;
    std::unique_ptr<rocksdb::Iterator> it(db.db()->NewIterator(options, db.events()));
    for (it->Seek(EventKey(next));
         it->Valid() && out->ends.size() < max_events && out->bytes.size() < kReadChunkBytes; it->Next()) {
      if (DecodeEventKey(it->key().ToStringView()) != next) break;
      ++next;
      out->bytes.append(it->value().data(), it->value().size());
      out->ends.push_back(out->bytes.size());
    }
    CTXD_RETURN_IF_ERROR(FromRocks(it->status(), "reading events"));
    if (out->ends.empty())
      return Status::Corruption("event " + std::to_string(next) + " is missing from the log");
    return Status::Ok();
  });
}

StatusOr<std::string> EventLog::Impl::ReadEvent(uint64_t seq) const {
  if (seq == 0 || seq > head_seq()) return Status::NotFound("no event with seq " + std::to_string(seq));
  return WithDb<StatusOr<std::string>>([&](const RocksDb& db) -> StatusOr<std::string> {
    StatusOr<std::optional<std::string>> value =
        GetOptional(db, db.events(), EventKey(seq), "reading event " + std::to_string(seq));
    if (!value.ok()) return value.status();
    if (!*value) return Status::Corruption("event " + std::to_string(seq) + " is missing from the log");
    return std::move(**value);
  });
}

StatusOr<std::vector<uint64_t>> EventLog::Impl::ReadIndex(std::string_view prefix, uint64_t from,
                                                          uint64_t limit) const {
  const uint64_t head = head_seq();
  return WithDb<StatusOr<std::vector<uint64_t>>>([&](const RocksDb& db) -> StatusOr<std::vector<uint64_t>> {
    const std::string upper = PrefixSuccessor(prefix);
    const rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions options;
    if (!upper.empty()) options.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db.db()->NewIterator(options, db.index()));
    std::vector<uint64_t> seqs;
    for (it->Seek(IndexKey(prefix, from)); it->Valid() && seqs.size() < limit; it->Next()) {
      std::optional<uint64_t> seq = DecodeIndexKey(prefix, it->key().ToStringView());
      if (!seq) continue;  // an entry of a longer prefix
      if (*seq > head) break;
      seqs.push_back(*seq);
    }
    CTXD_RETURN_IF_ERROR(FromRocks(it->status(), "reading the index"));
    return seqs;
  });
}

// ---- Snapshots ----------------------------------------------------------

// The parts go into an SST file that is ingested, instead of a WriteBatch:
// a snapshot can be hundreds of MiB, and a batch that size would hold the
// write path (WAL and memtable) for its whole length. Ingestion only pauses
// writes for an instant. An older snapshot at the same seq is deleted first,
// so no stale part survives; a crash in between just loses that snapshot.
Status EventLog::Impl::PutSnapshot(uint64_t seq, std::string_view bytes) {
  CTXD_RETURN_IF_ERROR(RefuseIfSecondary("put snapshot"));
  // Only a snapshot already at `seq` (rare: one put again) is deleted first.
  // The deletion lands in the memtable, and ingesting a file whose keys
  // overlap the memtable makes RocksDB flush it while every write of the
  // store waits (0.1-0.2 s under load here).
  auto existing = HasSnapshotParts(seq);
  if (!existing.ok()) return existing.status();
  if (*existing) CTXD_RETURN_IF_ERROR(DeleteSnapshot(seq));
  std::string header;
  const std::vector<std::string_view> parts = SplitSnapshot(bytes, &header);
  const std::string what = "writing the snapshot at seq " + std::to_string(seq);
  const std::string file = dir_ + "/snapshot-" + std::to_string(seq) + ".sst.tmp";
  return WithDb<Status>([&](const RocksDb& db) {
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), db.db()->GetOptions(db.snapshots()));
    rocksdb::Status s = writer.Open(file);
    for (uint32_t part = 0; s.ok() && part < parts.size(); ++part) {
      s = writer.Put(SnapshotKey(seq, part), parts[part]);
    }
    if (s.ok()) s = writer.Finish();
    if (s.ok()) {
      rocksdb::IngestExternalFileOptions ingest;
      ingest.move_files = true;
      s = db.db()->IngestExternalFile(db.snapshots(), {file}, ingest);
    }
    std::remove(file.c_str());  // left over only when something failed
    return FromRocks(s, what);
  });
}

StatusOr<bool> EventLog::Impl::HasSnapshotParts(uint64_t seq) const {
  return WithDb<StatusOr<bool>>([&](const RocksDb& db) -> StatusOr<bool> {
    std::unique_ptr<rocksdb::Iterator> it(db.db()->NewIterator(rocksdb::ReadOptions(), db.snapshots()));
    it->Seek(SnapshotKey(seq, 0));
    CTXD_RETURN_IF_ERROR(FromRocks(it->status(), "looking for the snapshot at seq " + std::to_string(seq)));
    return it->Valid() && it->key().ToStringView() < SnapshotKeyEnd(seq);
  });
}

Status EventLog::Impl::DeleteSnapshot(uint64_t seq) {
  CTXD_RETURN_IF_ERROR(RefuseIfSecondary("delete snapshot"));
  std::lock_guard lock(write_mu_);
  return WriteLocked(
      [&](const RocksDb& db, rocksdb::WriteBatch* batch) {
        return batch->DeleteRange(db.snapshots(), SnapshotKey(seq, 0), SnapshotKeyEnd(seq));
      },
      /*sync=*/false, "deleting the snapshot at seq " + std::to_string(seq));
}

// Lists every seq that has any part, so a snapshot with a damaged header is
// still listed (with 0 bytes) and its reader learns it is corrupt.
StatusOr<std::vector<SnapshotInfo>> EventLog::Impl::ListSnapshots() const {
  return WithDb<StatusOr<std::vector<SnapshotInfo>>>(
      [&](const RocksDb& db) -> StatusOr<std::vector<SnapshotInfo>> {
        std::unique_ptr<rocksdb::Iterator> it(db.db()->NewIterator(rocksdb::ReadOptions(), db.snapshots()));
        std::vector<SnapshotInfo> snapshots;
        for (it->SeekToFirst(); it->Valid();) {
          std::optional<SnapshotKeyParts> key = DecodeSnapshotKey(it->key().ToStringView());
          if (!key) return Status::Corruption("the snapshots column family has a key that is not 12 bytes");
          std::optional<SnapshotHeader> header;
          if (key->part == 0) header = DecodeSnapshotHeader(it->value().ToStringView());
          snapshots.push_back({key->seq, header ? header->total_bytes : 0});
          if (key->seq == UINT64_MAX) break;
          it->Seek(SnapshotKey(key->seq + 1, 0));
        }
        CTXD_RETURN_IF_ERROR(FromRocks(it->status(), "listing snapshots"));
        return snapshots;
      });
}

StatusOr<std::string> EventLog::Impl::ReadSnapshot(uint64_t seq) const {
  return WithDb<StatusOr<std::string>>([&](const RocksDb& db) -> StatusOr<std::string> {
    const std::string upper = SnapshotKeyEnd(seq);
    const rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions options;
    options.iterate_upper_bound = &upper_slice;
    options.fill_cache = false;  // read once, at start-up: 4 MiB blocks would only evict the log's
    std::unique_ptr<rocksdb::Iterator> it(db.db()->NewIterator(options, db.snapshots()));
    it->Seek(SnapshotKey(seq, 0));
    if (!it->Valid()) {
      CTXD_RETURN_IF_ERROR(FromRocks(it->status(), "reading the snapshot at seq " + std::to_string(seq)));
      return Status::NotFound("no snapshot at seq " + std::to_string(seq));
    }
    SnapshotAssembler assembler(seq);
    for (; it->Valid(); it->Next()) {
      std::optional<SnapshotKeyParts> key = DecodeSnapshotKey(it->key().ToStringView());
      if (!key) return Status::Corruption("the snapshots column family has a key that is not 12 bytes");
      CTXD_RETURN_IF_ERROR(assembler.Add(key->part, it->value().ToStringView()));
    }
    CTXD_RETURN_IF_ERROR(FromRocks(it->status(), "reading the snapshot at seq " + std::to_string(seq)));
    return assembler.Finish();
  });
}

// ---- Secondary and size -------------------------------------------------

Status EventLog::Impl::CatchUp() {
  if (!secondary()) return Status::Ok();
  std::lock_guard lock(write_mu_);
  StatusOr<uint64_t> head = WithDb<StatusOr<uint64_t>>([&](const RocksDb& db) -> StatusOr<uint64_t> {
    CTXD_RETURN_IF_ERROR(FromRocks(db.db()->TryCatchUpWithPrimary(), "catching up with the primary"));
    return LastEventSeq(db);
  });
  if (!head.ok()) return head.status();
  head_seq_.store(*head, std::memory_order_release);
  return Status::Ok();
}

// Every file in the directory: SSTs, WALs, MANIFEST and RocksDB's own logs.
uint64_t EventLog::Impl::DiskSize() const {
  uint64_t total = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, error)) {
    std::error_code size_error;  // a file compaction just deleted counts as 0
    uint64_t size = entry.is_regular_file(size_error) ? entry.file_size(size_error) : 0;
    if (!size_error) total += size;
  }
  return total;
}

// ---- EventLog -----------------------------------------------------------

StatusOr<std::unique_ptr<EventLog>> EventLog::Open(const std::string& dir, const LogOptions& options) {
  auto impl = std::make_unique<Impl>(dir, options);
  CTXD_RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<EventLog>(new EventLog(std::move(impl)));
}

EventLog::EventLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EventLog::~EventLog() = default;

const std::string& EventLog::store_id() const { return impl_->store_id(); }
uint64_t EventLog::head_seq() const { return impl_->head_seq(); }
Status EventLog::Append(const std::vector<LogRecord>& records, bool sync) {
  return impl_->Append(records, sync);
}
Status EventLog::ReadRange(uint64_t from, uint64_t to, uint64_t limit, const EventVisitor& fn) const {
  return impl_->ReadRange(from, to, limit, fn);
}
StatusOr<std::string> EventLog::ReadEvent(uint64_t seq) const { return impl_->ReadEvent(seq); }
StatusOr<std::vector<uint64_t>> EventLog::ReadIndex(std::string_view prefix, uint64_t from,
                                                    uint64_t limit) const {
  return impl_->ReadIndex(prefix, from, limit);
}
Status EventLog::PutSnapshot(uint64_t seq, std::string_view bytes) { return impl_->PutSnapshot(seq, bytes); }
StatusOr<std::vector<SnapshotInfo>> EventLog::ListSnapshots() const { return impl_->ListSnapshots(); }
StatusOr<std::string> EventLog::ReadSnapshot(uint64_t seq) const { return impl_->ReadSnapshot(seq); }
Status EventLog::DeleteSnapshot(uint64_t seq) { return impl_->DeleteSnapshot(seq); }
void EventLog::AddTailListener(TailListener fn) { impl_->AddTailListener(std::move(fn)); }
Status EventLog::CatchUp() { return impl_->CatchUp(); }
uint64_t EventLog::DiskSize() const { return impl_->DiskSize(); }

}  // namespace ctxd::log
