#include "log/snapshot_parts.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

#include "common/crc32c.h"
#include "log/keys.h"

namespace ctxd::log {
namespace {

constexpr std::string_view kMagic = "ctxdsnap";
constexpr size_t kHeaderSize = 8 + 4 + 8 + 4;

// Asks for transparent huge pages behind `buffer`'s capacity (where the
// kernel grants them on request): a snapshot of 100+ MiB otherwise costs a
// page fault per 4 KiB as it is filled, which dominated its read time.
void AdviseHugePages(const std::string& buffer) {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uintptr_t>(buffer.data());
  const uintptr_t first = (begin + page - 1) & ~(page - 1);
  const uintptr_t last = (begin + buffer.capacity()) & ~(page - 1);
  // Best effort: without it the buffer just fills more slowly.
  if (last > first) static_cast<void>(madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE));
}

}  // namespace

std::string EncodeSnapshotHeader(const SnapshotHeader& header) {
  std::string value(kMagic);
  AppendBigEndian32(&value, header.part_count);
  AppendBigEndian64(&value, header.total_bytes);
  AppendBigEndian32(&value, header.crc32c);
  return value;
}

std::optional<SnapshotHeader> DecodeSnapshotHeader(std::string_view value) {
  if (value.size() != kHeaderSize || !value.starts_with(kMagic)) return std::nullopt;
  value.remove_prefix(kMagic.size());
  return SnapshotHeader{ReadBigEndian32(value), ReadBigEndian64(value.substr(4)),
                        ReadBigEndian32(value.substr(12))};
}

std::vector<std::string_view> SplitSnapshot(std::string_view bytes, std::string* header) {
  std::vector<std::string_view> parts{std::string_view()};
  for (size_t at = 0; at < bytes.size(); at += kSnapshotPartBytes) {
    parts.push_back(bytes.substr(at, kSnapshotPartBytes));
  }
  *header = EncodeSnapshotHeader({static_cast<uint32_t>(parts.size() - 1), bytes.size(), Crc32c(bytes)});
  parts[0] = *header;
  return parts;
}

Status SnapshotAssembler::Add(uint32_t part, std::string_view value) {
  if (part != next_part_) {
    return Corrupt(next_part_ == 0 ? "header (part 0) is missing"
                                   : "part " + std::to_string(next_part_) + " is missing");
  }
  ++next_part_;
  if (part == 0) {
    header_ = DecodeSnapshotHeader(value);
    if (!header_) return Corrupt("header (part 0) is malformed");
    bytes_.reserve(header_->total_bytes);
    AdviseHugePages(bytes_);
    return Status::Ok();
  }
  if (part > header_->part_count) {
    return Corrupt("has part " + std::to_string(part) + " but its header says " +
                   std::to_string(header_->part_count) + " parts");
  }
  bytes_.append(value);
  return Status::Ok();
}

StatusOr<std::string> SnapshotAssembler::Finish() {
  if (!header_) return Corrupt("header (part 0) is missing");
  if (next_part_ != header_->part_count + 1) {
    return Corrupt("part " + std::to_string(next_part_) + " of " + std::to_string(header_->part_count) +
                   " is missing");
  }
  if (bytes_.size() != header_->total_bytes) {
    return Corrupt("has " + std::to_string(bytes_.size()) + " bytes, its header says " +
                   std::to_string(header_->total_bytes));
  }
  if (Crc32c(bytes_) != header_->crc32c) return Corrupt("CRC-32C does not match its header");
  return std::move(bytes_);
}

Status SnapshotAssembler::Corrupt(const std::string& why) const {
  return Status::Corruption("snapshot at seq " + std::to_string(seq_) + ": " + why);
}

}  // namespace ctxd::log
