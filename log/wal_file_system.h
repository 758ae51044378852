// The Envs the log opens RocksDB with, for faster commits: see
// wal_file_system.cc.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace rocksdb {
class Env;
}

namespace ctxd::log {

// For the primary: WAL files preallocated with their size (zeros past the
// last record), so that a sync has no size change to commit. When
// `every_write_synced`, the WAL is written with O_DIRECT | O_DSYNC and every
// flush is durable (where the file system has O_DIRECT).
rocksdb::Env* PrimaryWalEnv(bool every_write_synced);
// For a secondary (ctxd-replay beside a running ctxd): WAL files read only
// up to their last intact record, as if they were not preallocated.
rocksdb::Env* SecondaryWalEnv();

// Reads up to `size` bytes of the file at `offset` into `out`; returns how
// many it read (fewer at the end of the file), or -1 on an error.
using ReadAt = std::function<int64_t(uint64_t offset, size_t size, char* out)>;

// Where the intact records of a RocksDB WAL file end, reading on from `from`
// (a record boundary): the offset of the first record that is zeros
// (preallocated space), cut short, or fails its checksum, or the first
// record boundary at or past `until`; -1 on a read error. RocksDB's log format: 32 KiB blocks; a record is a
// 7-byte header (masked CRC-32C of type and payload, payload length, type) and its payload; fewer than 7
// bytes left in a block are a trailer of zeros.
int64_t IntactWalEnd(const ReadAt& read, uint64_t from, uint64_t until);

}  // namespace ctxd::log
