// How a snapshot is split into RocksDB values, and how it is put back
// together with every part checked (docs/storage-format.md, "Snapshots").
//
// A snapshot of N bytes is stored as part 0, a small header (magic, number
// of data parts, total bytes, CRC-32C of all N bytes), then data parts
// 1..count of at most kSnapshotPartBytes each. Keeping values this size
// keeps RocksDB's blocks, memtables and compactions in their comfort zone
// however large the state grows. The header makes a lost or damaged part
// detectable: the reader refuses anything that does not add up.
//
// Thread safety: SnapshotAssembler is a value used by one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ctxd::log {

inline constexpr size_t kSnapshotPartBytes = size_t{4} << 20;

struct SnapshotHeader {
  uint32_t part_count = 0;  // data parts, not counting the header
  uint64_t total_bytes = 0;
  uint32_t crc32c = 0;
};

std::string EncodeSnapshotHeader(const SnapshotHeader& header);
// nullopt when `value` is not a well-formed header.
std::optional<SnapshotHeader> DecodeSnapshotHeader(std::string_view value);

// The values to store for `bytes`: [0] is the header, [i] is data part i.
std::vector<std::string_view> SplitSnapshot(std::string_view bytes, std::string* header);

// Rebuilds snapshot `seq` from its parts, fed in key order.
class SnapshotAssembler {
 public:
  explicit SnapshotAssembler(uint64_t seq) : seq_(seq) {}

  // Part 0 (the header) must come first, then 1, 2, ... without gaps.
  Status Add(uint32_t part, std::string_view value);
  // The snapshot's bytes, once every part has arrived and the CRC matches.
  StatusOr<std::string> Finish();

 private:
  Status Corrupt(const std::string& why) const;

  uint64_t seq_;
  std::optional<SnapshotHeader> header_;
  uint32_t next_part_ = 0;
  std::string bytes_;
};

}  // namespace ctxd::log
