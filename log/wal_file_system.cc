#include "log/wal_file_system.h"

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/endian/conversion.hpp>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/crc32c.h"

namespace ctxd::log {
namespace {

constexpr size_t kBlockSize = 32768;  // RocksDB log::kBlockSize
constexpr size_t kHeaderSize = 7;     // RocksDB log::kHeaderSize (non-recyclable)
constexpr uint32_t kMaskDelta = 0xa282ead8;

// RocksDB's crc32c::Mask: stored CRCs are rotated and offset.
uint32_t MaskCrc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }

bool IsWal(const std::string& name) {  // <number>.log; RocksDB's info log is LOG
  return name.size() > 4 && name.compare(name.size() - 4, 4, ".log") == 0;
}

// Why the primary preallocates: the WAL is fsynced once per group commit, so
// the cost of an fdatasync is the cost of a commit. RocksDB preallocates WAL
// space with fallocate's KEEP_SIZE, so every append still grows the file's
// size, and on ext4 an fdatasync after a size change must also write the
// inode (a journal commit; on this machine's journal-less ext4, a
// synchronous write of the inode's block): ~30 % more per sync here than
// one that only flushes data. Space fallocate reserves is no better even
// when it sets the size: ext4 marks it unwritten, and the first write into
// each block converts it, again a metadata change the sync must write
// (5 KiB commits: ~0.4 ms a sync against ~0.3 ms). So these WAL files are extended 1 MiB at a time with
// written, synced zeros, and a commit's fdatasync has only data to flush.
// RocksDB's own recovery skips zeros past the last record as preallocated
// space (its log format reserves record type 0 for that), and a clean close
// truncates the file.
class ZeroFilledPreallocation : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  static constexpr uint64_t kStep = uint64_t{1} << 20;
  // `fd`: the same file opened for writing, owned.
  ZeroFilledPreallocation(std::unique_ptr<rocksdb::FSWritableFile> file, int fd)
      : FSWritableFileOwnerWrapper(std::move(file)), fd_(fd) {}
  ~ZeroFilledPreallocation() override { ::close(fd_); }

  // Replaces RocksDB's fallocate. Cannot fail: on an error the file simply
  // grows with its appends from then on.
  void PrepareWrite(size_t offset, size_t len, const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    if (!preallocating_ || offset + len <= filled_) return;
    const uint64_t end = (offset + len + kStep - 1) / kStep * kStep;
    preallocating_ = WriteZeros(filled_, end) && ::fdatasync(fd_) == 0;
    filled_ = end;  // on a failure: perhaps partly, so Close still trims
  }

  rocksdb::IOStatus Close(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    const uint64_t size = GetFileSize(options, dbg);
    rocksdb::IOStatus closed = FSWritableFileOwnerWrapper::Close(options, dbg);
    if (closed.ok() && filled_ > size && ::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return rocksdb::IOStatus::IOError("cannot trim the preallocated WAL: " + std::string(std::strerror(errno)));
    }
    return closed;
  }

 private:
  bool WriteZeros(uint64_t from, uint64_t to) const {
    static const std::vector<char> zeros(64 * 1024, 0);
    while (from < to) {
      const ssize_t n = ::pwrite(fd_, zeros.data(), std::min<uint64_t>(zeros.size(), to - from),
                                 static_cast<off_t>(from));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      from += static_cast<uint64_t>(n);
    }
    return true;
  }

  const int fd_;
  uint64_t filled_ = 0;  // the file's bytes up to here are written (zeros past the records)
  bool preallocating_ = true;
};

// Why a store whose every write is synced writes its WAL with O_DIRECT |
// O_DSYNC: a commit is then one write that returns once the data is on the
// device, with no page cache to copy into and no writeback to start and
// wait for, as write + fdatasync needs. On this machine's virtio disk that
// is 80-85 us a commit instead of 90-100, and 4-7 us less CPU. Each flush
// RocksDB asks for is made durable at once (RocksDB flushes every record
// and syncs right after); a sync then has nothing left to do. Direct writes
// must cover whole pages, so the last partly filled page is kept in memory
// and written again, with the same bytes before its new records, by the
// next flush: a torn write of that page can only tear the new records. As
// with ZeroFilledPreallocation, the file is extended ahead with written
// zeros, so no write changes its size or allocates blocks.
class DirectWal : public rocksdb::FSWritableFile {
 public:
  static constexpr uint64_t kPage = 4096;
  static constexpr uint64_t kStep = ZeroFilledPreallocation::kStep;
  // Creates `name` and writes a page of zeros at its start. Leaves `out`
  // null where the file system refuses direct I/O (EINVAL: tmpfs has no
  // O_DIRECT; a device would need writes aligned to more than a page).
  static rocksdb::IOStatus Open(const std::string& name, std::unique_ptr<DirectWal>* out) {
    const int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_DIRECT | O_DSYNC, 0644);
    if (fd < 0) return errno == EINVAL ? rocksdb::IOStatus::OK() : Failed("cannot open " + name);
    auto wal = std::make_unique<DirectWal>(fd);
    std::memset(wal->tail_.get(), 0, kPage);
    if (!wal->WriteAll(wal->tail_.get(), kPage, 0)) {
      return errno == EINVAL ? rocksdb::IOStatus::OK() : Failed("cannot write " + name);
    }
    *out = std::move(wal);
    return rocksdb::IOStatus::OK();
  }
  // `fd`: the file opened with O_DIRECT | O_DSYNC, owned.
  explicit DirectWal(int fd) : fd_(fd) { Reserve(kPage); }
  ~DirectWal() override {
    if (fd_ >= 0) ::close(fd_);
  }

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions&,
                           rocksdb::IODebugContext*) override {
    Reserve(size_ - page_start_ + data.size());
    std::memcpy(tail_.get() + (size_ - page_start_), data.data(), data.size());
    size_ += data.size();
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo&, rocksdb::IODebugContext* dbg) override {
    return Append(data, options, dbg);
  }
  rocksdb::IOStatus Flush(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override { return WriteOut(); }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override { return WriteOut(); }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override { return WriteOut(); }
  uint64_t GetFileSize(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override { return size_; }

  rocksdb::IOStatus Close(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    rocksdb::IOStatus written = WriteOut();
    // Always: the file holds at least Open's page of zeros, and more once filled.
    if (written.ok() && ::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
      written = Failed("cannot trim the preallocated WAL");
    }
    ::close(fd_);
    fd_ = -1;
    return written;
  }

 private:
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  using AlignedBuffer = std::unique_ptr<char, Free>;

  static AlignedBuffer Allocate(size_t bytes) {
    return AlignedBuffer(static_cast<char*>(std::aligned_alloc(kPage, bytes)));
  }
  static uint64_t RoundUp(uint64_t n, uint64_t to) { return (n + to - 1) / to * to; }
  static rocksdb::IOStatus Failed(const std::string& what) {
    return rocksdb::IOStatus::IOError(what + ": " + std::strerror(errno));
  }

  // Room for `bytes` from page_start_ on, padded to a whole page.
  void Reserve(size_t bytes) {
    const size_t needed = RoundUp(bytes, kPage);
    if (needed <= capacity_) return;
    const size_t capacity = std::max(needed, 2 * capacity_);
    AlignedBuffer grown = Allocate(capacity);
    if (tail_) std::memcpy(grown.get(), tail_.get(), size_ - page_start_);
    tail_ = std::move(grown);
    capacity_ = capacity;
  }

  // Writes the pages from page_start_ to the end of the last record, zeros
  // after it; keeps the last partial page for the next write.
  rocksdb::IOStatus WriteOut() {
    if (size_ == written_) return rocksdb::IOStatus::OK();
    const uint64_t end = RoundUp(size_, kPage);
    if (end > filled_ && !FillZeros(RoundUp(end, kStep))) return Failed("cannot preallocate the WAL");
    std::memset(tail_.get() + (size_ - page_start_), 0, end - size_);
    if (!WriteAll(tail_.get(), end - page_start_, page_start_)) return Failed("cannot write the WAL");
    written_ = size_;
    const uint64_t last_page = size_ / kPage * kPage;
    std::memmove(tail_.get(), tail_.get() + (last_page - page_start_), size_ - last_page);
    page_start_ = last_page;
    return rocksdb::IOStatus::OK();
  }

  bool FillZeros(uint64_t to) {
    static const AlignedBuffer zeros = [] {
      AlignedBuffer buffer = Allocate(kStep);
      std::memset(buffer.get(), 0, kStep);
      return buffer;
    }();
    for (; filled_ < to; filled_ += kStep) {
      if (!WriteAll(zeros.get(), kStep, filled_)) return false;
    }
    return true;
  }

  bool WriteAll(const char* data, uint64_t size, uint64_t offset) const {
    ssize_t n;
    do {
      n = ::pwrite(fd_, data, size, static_cast<off_t>(offset));
    } while (n < 0 && errno == EINTR);
    if (n >= 0 && static_cast<uint64_t>(n) != size) errno = EIO;
    return n >= 0 && static_cast<uint64_t>(n) == size;
  }

  int fd_;
  AlignedBuffer tail_;       // the file's bytes from page_start_ to size_
  size_t capacity_ = 0;      // of tail_
  uint64_t page_start_ = 0;  // a page boundary: the first byte not yet written for good
  uint64_t size_ = 0;        // the records appended
  uint64_t written_ = 0;     // the records on the device
  uint64_t filled_ = 0;      // the file is written up to here (zeros past written_)
};

// Why the secondary reads only intact records: its WAL reader would skip the
// zeros of a live WAL to the end of their block and read on, so records the
// primary writes there later would be missed, and one written across a block
// boundary during the pass could be seen without those before it. A reader
// may also see a record while the primary's write() is still copying it.
// Ending the file at its last intact record gives the secondary what a
// file without preallocation gave: a prefix of the log, continued on the
// next catch-up.
class IntactRecords : public rocksdb::FSSequentialFile {
 public:
  explicit IntactRecords(std::unique_ptr<rocksdb::FSRandomAccessFile> file) : file_(std::move(file)) {}

  rocksdb::IOStatus Read(size_t n, const rocksdb::IOOptions& options, rocksdb::Slice* result, char* scratch,
                         rocksdb::IODebugContext* dbg) override {
    if (offset_ + n > intact_end_) {
      rocksdb::IOStatus failed;
      const int64_t end = IntactWalEnd(
          [&](uint64_t at, size_t size, char* out) -> int64_t {
            rocksdb::Slice got;
            failed = file_->Read(at, size, options, &got, out, dbg);
            if (!failed.ok()) return -1;
            if (got.data() != out) std::memcpy(out, got.data(), got.size());
            return static_cast<int64_t>(got.size());
          },
          intact_end_, offset_ + n);
      if (end < 0) return failed;
      intact_end_ = static_cast<uint64_t>(end);
    }
    if (offset_ >= intact_end_) {  // the end, for now
      *result = rocksdb::Slice(scratch, 0);
      return rocksdb::IOStatus::OK();
    }
    const size_t size = std::min<uint64_t>(n, intact_end_ - offset_);
    rocksdb::IOStatus read = file_->Read(offset_, size, options, result, scratch, dbg);
    if (read.ok()) offset_ += result->size();
    return read;
  }

  rocksdb::IOStatus Skip(uint64_t n) override {
    offset_ += n;
    return rocksdb::IOStatus::OK();
  }

 private:
  std::unique_ptr<rocksdb::FSRandomAccessFile> file_;
  uint64_t offset_ = 0;      // the next byte Read returns
  uint64_t intact_end_ = 0;  // a record boundary: everything before it is intact
};

enum class WalMode { kBuffered, kDirect, kSecondary };

class WalFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit WalFileSystem(WalMode mode) : FileSystemWrapper(rocksdb::FileSystem::Default()), mode_(mode) {}
  const char* Name() const override { return "CtxdWal"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* dbg) override {
    if (mode_ == WalMode::kSecondary || !IsWal(name)) {
      return target()->NewWritableFile(name, options, file, dbg);
    }
    if (mode_ == WalMode::kDirect) {
      std::unique_ptr<DirectWal> direct;
      rocksdb::IOStatus opened = DirectWal::Open(name, &direct);
      if (!opened.ok() || direct) {
        *file = std::move(direct);
        return opened;
      }
      // No direct I/O on this file system: write + fdatasync.
    }
    rocksdb::IOStatus opened = target()->NewWritableFile(name, options, file, dbg);
    if (!opened.ok()) return opened;
    const int fd = ::open(name.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return rocksdb::IOStatus::IOError("cannot open " + name + ": " + std::strerror(errno));
    *file = std::make_unique<ZeroFilledPreallocation>(std::move(*file), fd);
    return opened;
  }

  rocksdb::IOStatus NewSequentialFile(const std::string& name, const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSSequentialFile>* file,
                                      rocksdb::IODebugContext* dbg) override {
    if (mode_ != WalMode::kSecondary || !IsWal(name)) {
      return target()->NewSequentialFile(name, options, file, dbg);
    }
    std::unique_ptr<rocksdb::FSRandomAccessFile> random;
    rocksdb::IOStatus opened = target()->NewRandomAccessFile(name, options, &random, dbg);
    if (opened.ok()) *file = std::make_unique<IntactRecords>(std::move(random));
    return opened;
  }

 private:
  const WalMode mode_;
};

rocksdb::Env* NewWalEnv(WalMode mode) {
  return rocksdb::NewCompositeEnv(std::make_shared<WalFileSystem>(mode)).release();
}

}  // namespace

// Never destroyed, like rocksdb::Env::Default(): a DB closed during the
// process's exit may still use it.
rocksdb::Env* PrimaryWalEnv(bool every_write_synced) {
  static rocksdb::Env* const buffered = NewWalEnv(WalMode::kBuffered);
  static rocksdb::Env* const direct = NewWalEnv(WalMode::kDirect);
  return every_write_synced ? direct : buffered;
}

rocksdb::Env* SecondaryWalEnv() {
  static rocksdb::Env* const env = NewWalEnv(WalMode::kSecondary);
  return env;
}

int64_t IntactWalEnd(const ReadAt& read, uint64_t from, uint64_t until) {
  std::string block(kBlockSize, '\0');
  uint64_t end = from;  // of the last intact record
  uint64_t pos = from;
  while (true) {
    const uint64_t block_start = pos - pos % kBlockSize;
    const int64_t got = read(block_start, kBlockSize, block.data());
    if (got < 0) return -1;
    const size_t available = static_cast<size_t>(got);
    size_t in = pos - block_start;
    while (true) {
      if (kBlockSize - in < kHeaderSize) {  // the trailer: the next record is in the next block
        if (available < kBlockSize) return static_cast<int64_t>(end);
        break;
      }
      if (available < in + kHeaderSize) return static_cast<int64_t>(end);
      const char* header = block.data() + in;
      const size_t length =
          boost::endian::load_little_u16(reinterpret_cast<const unsigned char*>(header + 4));
      const bool cut_short = in + kHeaderSize + length > available;
      if (cut_short || header[6] == 0 ||
          MaskCrc(Crc32c(std::string_view(header + 6, 1 + length))) !=
              boost::endian::load_little_u32(reinterpret_cast<const unsigned char*>(header))) {
        return static_cast<int64_t>(end);
      }
      in += kHeaderSize + length;
      end = block_start + in;
      if (end >= until) return static_cast<int64_t>(end);
    }
    pos = block_start + kBlockSize;
  }
}

}  // namespace ctxd::log
