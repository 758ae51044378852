// RawDb: a ctxd data directory opened with RocksDB directly, bypassing the
// log, so tests can damage it the way a disk or a bug would. Writes are
// flushed to SST files on destruction. Test-only.
#pragma once

#include <rocksdb/db.h>

#include <map>
#include <string>
#include <string_view>

namespace ctxd::testutil {

class RawDb {
 public:
  explicit RawDb(const std::string& dir);
  ~RawDb();
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // `cf` is a column family name: "events", "index", "snapshots", "meta".
  std::string Get(const std::string& cf, std::string_view key);
  void Put(const std::string& cf, std::string_view key, std::string_view value);
  void Delete(const std::string& cf, std::string_view key);

 private:
  rocksdb::DB* db_ = nullptr;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> families_;
};

}  // namespace ctxd::testutil
