// Key encodings of the log's column families (docs/storage-format.md).
//
// Sequence numbers are big-endian so that RocksDB's bytewise order is seq
// order: an iterator walks events, index entries and snapshot parts in the
// order the log needs them. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ctxd::log {

void AppendBigEndian64(std::string* out, uint64_t value);
void AppendBigEndian32(std::string* out, uint32_t value);
// Reads a big-endian integer from the first 8 / 4 bytes of `in` (which must be that long).
uint64_t ReadBigEndian64(std::string_view in);
uint32_t ReadBigEndian32(std::string_view in);

// events CF: be64(seq).
std::string EventKey(uint64_t seq);
// The seq of an events key; nullopt when `key` is not 8 bytes.
std::optional<uint64_t> DecodeEventKey(std::string_view key);

// index CF: prefix + be64(seq).
std::string IndexKey(std::string_view prefix, uint64_t seq);
// The seq of an index key under `prefix`; nullopt when the key belongs to
// another prefix (one that merely starts with `prefix`).
std::optional<uint64_t> DecodeIndexKey(std::string_view prefix, std::string_view key);
// The smallest key greater than every key starting with `prefix`; empty when
// there is none (`prefix` is empty or all 0xff).
std::string PrefixSuccessor(std::string_view prefix);

// snapshots CF: be64(seq) + be32(part).
inline constexpr size_t kSnapshotKeySize = 12;
std::string SnapshotKey(uint64_t seq, uint32_t part);
// A key past every part of snapshot `seq` and before any part of seq + 1.
std::string SnapshotKeyEnd(uint64_t seq);
struct SnapshotKeyParts {
  uint64_t seq = 0;
  uint32_t part = 0;
};
// nullopt when `key` is not kSnapshotKeySize bytes.
std::optional<SnapshotKeyParts> DecodeSnapshotKey(std::string_view key);

}  // namespace ctxd::log
