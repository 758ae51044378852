#include "log/wal_file_system.h"

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <algorithm>
#include <boost/endian/conversion.hpp>
#include <cstring>
#include <memory>
#include <string>

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
// size, and on ext4 an fdatasync after a size change also commits the
// journal: ~30 % more per sync here than one that only flushes data. These
// WAL files are preallocated in 1 MiB steps that do set the size, so a sync
// changes the size once per step. Past the last record lie zeros, which
// RocksDB's own recovery skips as preallocated space (its log format
// reserves record type 0 for that), and a clean close truncates the file.
class SizedPreallocation : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  static constexpr size_t kStep = size_t{1} << 20;
  explicit SizedPreallocation(std::unique_ptr<rocksdb::FSWritableFile> file)
      : FSWritableFileOwnerWrapper(std::move(file)) {
    FSWritableFileOwnerWrapper::SetPreallocationBlockSize(kStep);
  }
  void SetPreallocationBlockSize(size_t) override {}  // keeps kStep
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

class WalFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit WalFileSystem(bool secondary)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), secondary_(secondary) {}
  const char* Name() const override { return "CtxdWal"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* dbg) override {
    if (secondary_ || !IsWal(name)) return target()->NewWritableFile(name, options, file, dbg);
    rocksdb::FileOptions sized = options;
    sized.fallocate_with_keep_size = false;
    rocksdb::IOStatus opened = target()->NewWritableFile(name, sized, file, dbg);
    if (opened.ok()) *file = std::make_unique<SizedPreallocation>(std::move(*file));
    return opened;
  }

  rocksdb::IOStatus NewSequentialFile(const std::string& name, const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSSequentialFile>* file,
                                      rocksdb::IODebugContext* dbg) override {
    if (!secondary_ || !IsWal(name)) return target()->NewSequentialFile(name, options, file, dbg);
    std::unique_ptr<rocksdb::FSRandomAccessFile> random;
    rocksdb::IOStatus opened = target()->NewRandomAccessFile(name, options, &random, dbg);
    if (opened.ok()) *file = std::make_unique<IntactRecords>(std::move(random));
    return opened;
  }

 private:
  const bool secondary_;
};

}  // namespace

// Never destroyed, like rocksdb::Env::Default(): a DB closed during the
// process's exit may still use it.
rocksdb::Env* PrimaryWalEnv() {
  static rocksdb::Env* const env = rocksdb::NewCompositeEnv(std::make_shared<WalFileSystem>(false)).release();
  return env;
}

rocksdb::Env* SecondaryWalEnv() {
  static rocksdb::Env* const env = rocksdb::NewCompositeEnv(std::make_shared<WalFileSystem>(true)).release();
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
