#include "tests/tools/raw_db.h"

#include <gtest/gtest.h>

#include <vector>

namespace ctxd::testutil {

RawDb::RawDb(const std::string& dir) {
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names);
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  s = rocksdb::DB::Open(rocksdb::DBOptions(), dir, descriptors, &handles, &db_);
  EXPECT_TRUE(s.ok()) << s.ToString();
  for (size_t i = 0; i < handles.size(); ++i) families_[names[i]] = handles[i];
}

RawDb::~RawDb() {
  if (db_ == nullptr) return;
  for (auto& [name, handle] : families_) {
    EXPECT_TRUE(db_->Flush(rocksdb::FlushOptions(), handle).ok());
    EXPECT_TRUE(db_->DestroyColumnFamilyHandle(handle).ok());
  }
  delete db_;
}

std::string RawDb::Get(const std::string& cf, std::string_view key) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), families_.at(cf), rocksdb::Slice(key), &value);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return value;
}

void RawDb::Put(const std::string& cf, std::string_view key, std::string_view value) {
  rocksdb::Status s =
      db_->Put(rocksdb::WriteOptions(), families_.at(cf), rocksdb::Slice(key), rocksdb::Slice(value));
  EXPECT_TRUE(s.ok()) << s.ToString();
}

void RawDb::Delete(const std::string& cf, std::string_view key) {
  rocksdb::Status s = db_->Delete(rocksdb::WriteOptions(), families_.at(cf), rocksdb::Slice(key));
  EXPECT_TRUE(s.ok()) << s.ToString();
}

}  // namespace ctxd::testutil
