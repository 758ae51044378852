#include "log/event_log.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <rocksdb/db.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include "log/keys.h"
#include "log/snapshot_parts.h"
#include "log/wal_file_system.h"
#include "tests/testutil/fault_env.h"
#include "tests/testutil/temp_dir.h"

namespace ctxd::log {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Event = std::pair<uint64_t, std::string>;

std::string Payload(uint64_t seq) { return "event-" + std::to_string(seq); }

LogRecord Record(uint64_t seq, std::string payload, std::vector<std::string> prefixes = {}) {
  return LogRecord{seq, std::move(payload), std::move(prefixes)};
}

// Records first..first+count-1 with payload "event-N".
std::vector<LogRecord> Records(uint64_t first, uint64_t count) {
  std::vector<LogRecord> records;
  for (uint64_t seq = first; seq < first + count; ++seq) records.push_back(Record(seq, Payload(seq)));
  return records;
}

std::vector<Event> Expected(uint64_t first, uint64_t last) {
  std::vector<Event> events;
  for (uint64_t seq = first; seq <= last; ++seq) events.emplace_back(seq, Payload(seq));
  return events;
}

// A snapshot-sized blob whose bytes depend on their position, so a swapped or
// missing part changes the content.
std::string Blob(size_t size) {
  std::string blob(size, '\0');
  for (size_t i = 0; i < size; ++i) blob[i] = static_cast<char>((i * 131 + i / 4099) & 0xff);
  return blob;
}

// The store's RocksDB opened directly, to damage or forge what the log wrote.
class RawDb {
 public:
  explicit RawDb(const std::string& dir) {
    std::vector<std::string> names;
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& name : names) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    EXPECT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir, families, &handles, &db_).ok());
    for (rocksdb::ColumnFamilyHandle* handle : handles) handles_[handle->GetName()] = handle;
  }
  ~RawDb() {
    for (auto& [name, handle] : handles_) EXPECT_TRUE(db_->DestroyColumnFamilyHandle(handle).ok());
    delete db_;
  }

  void Put(const std::string& cf, const std::string& key, const std::string& value) {
    ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), handles_.at(cf), key, value).ok());
  }
  void Delete(const std::string& cf, const std::string& key) {
    ASSERT_TRUE(db_->Delete(rocksdb::WriteOptions(), handles_.at(cf), key).ok());
  }

 private:
  rocksdb::DB* db_ = nullptr;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> handles_;
};

class EventLogTest : public ::testing::Test {
 protected:
  std::string StoreDir() const { return dir_.Sub("store"); }

  std::unique_ptr<EventLog> OpenLog(LogOptions options = {}) {
    auto log = EventLog::Open(StoreDir(), options);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(log).value() : nullptr;
  }

  static std::vector<Event> ReadAll(const EventLog& log, uint64_t from, uint64_t to, uint64_t limit) {
    std::vector<Event> events;
    Status read = log.ReadRange(from, to, limit, [&](uint64_t seq, std::string_view payload) {
      events.emplace_back(seq, std::string(payload));
      return true;
    });
    EXPECT_TRUE(read.ok()) << read.ToString();
    return events;
  }

  testutil::TempDir dir_;
};

// ---- Creating and opening ------------------------------------------------

TEST_F(EventLogTest, CreatesAStoreInAnAbsentDirectoryWithARandomStoreId) {
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->head_seq(), 0u);
  const std::string& id = log->store_id();
  ASSERT_EQ(id.size(), 36u) << id;
  EXPECT_EQ(id[14], '4') << "UUID version 4: " << id;
}

TEST_F(EventLogTest, RefusesASecondPrimaryOnTheSameDirectory) {
  auto log = OpenLog();
  auto second = EventLog::Open(StoreDir(), {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable) << second.status().ToString();
}

TEST_F(EventLogTest, ReopenKeepsStoreIdAndHead) {
  std::string id;
  {
    auto log = OpenLog();
    id = log->store_id();
    ASSERT_TRUE(log->Append(Records(1, 5), /*sync=*/true).ok());
  }
  auto log = OpenLog();
  EXPECT_EQ(log->store_id(), id);
  EXPECT_EQ(log->head_seq(), 5u);
  EXPECT_EQ(ReadAll(*log, 1, 5, 10), Expected(1, 5));
}

TEST_F(EventLogTest, EachNewStoreGetsItsOwnId) {
  testutil::TempDir other;
  auto a = OpenLog();
  auto b = EventLog::Open(other.path(), {});
  ASSERT_TRUE(b.ok());
  EXPECT_NE(a->store_id(), (*b)->store_id());
}

TEST_F(EventLogTest, CreatesAStoreInAnEmptyDirectory) {
  auto log = EventLog::Open(dir_.path(), {});
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ((*log)->head_seq(), 0u);
}

TEST_F(EventLogTest, CreationLeftHalfDoneByACrashIsRedoneCleanly) {
  // What a crash during creation leaves: the staging sibling, never a
  // half-made store in the directory itself.
  const std::string staging = StoreDir() + ".creating";
  std::filesystem::create_directories(staging);
  std::ofstream(staging + "/CURRENT") << "MANIFEST-000001\n";
  auto log = EventLog::Open(StoreDir(), {});
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_FALSE((*log)->store_id().empty());
  EXPECT_FALSE(std::filesystem::exists(staging));
}

TEST_F(EventLogTest, DoesNotCreateWhenCreateIfMissingIsOff) {
  LogOptions options;
  options.create_if_missing = false;
  auto log = EventLog::Open(StoreDir(), options);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kNotFound);
}

TEST_F(EventLogTest, RefusesANewerFormatVersionWithAClearMessage) {
  OpenLog().reset();
  RawDb(StoreDir()).Put("meta", "format_version", std::to_string(kStorageFormatVersion + 1));
  auto log = EventLog::Open(StoreDir(), {});
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(log.status().message(), HasSubstr(StoreDir()));
  EXPECT_THAT(log.status().message(), HasSubstr("newer"));
}

TEST_F(EventLogTest, RefusesAMalformedFormatVersionAsCorruption) {
  OpenLog().reset();
  RawDb(StoreDir()).Put("meta", "format_version", "one");
  auto log = EventLog::Open(StoreDir(), {});
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kCorruption);
}

TEST_F(EventLogTest, RefusesADirectoryWithOtherFiles) {
  std::ofstream(dir_.Sub("notes.txt")) << "not a database";
  auto log = EventLog::Open(dir_.path(), {});
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(log.status().message(), HasSubstr(dir_.path() + " is not a ctxd store: "));
  EXPECT_TRUE(std::filesystem::exists(dir_.Sub("notes.txt")));
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("CURRENT")))
      << "nothing may be created next to foreign files";
}

TEST_F(EventLogTest, RefusesAFileInsteadOfADirectory) {
  std::ofstream(dir_.Sub("file")) << "x";
  auto log = EventLog::Open(dir_.Sub("file"), {});
  ASSERT_FALSE(log.ok());
  EXPECT_THAT(log.status().message(), HasSubstr("is not a ctxd store: it is not a directory"));
}

TEST_F(EventLogTest, RefusesAPlainRocksDbWithoutOurColumnFamilies) {
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, StoreDir(), &db).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "key", "value").ok());
    delete db;
  }
  auto log = EventLog::Open(StoreDir(), {});
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(log.status().message(), HasSubstr(StoreDir() + " is not a ctxd store: "));
  EXPECT_THAT(log.status().message(), HasSubstr("events, index, snapshots, meta"));
}

TEST_F(EventLogTest, RefusesOurColumnFamiliesWithEventsButNoMeta) {
  {
    auto log = OpenLog();
    ASSERT_TRUE(log->Append(Records(1, 1), true).ok());
  }
  {
    RawDb raw(StoreDir());
    raw.Delete("meta", "format_version");
    raw.Delete("meta", "store_id");
  }
  auto log = EventLog::Open(StoreDir(), {});
  ASSERT_FALSE(log.ok());
  EXPECT_THAT(log.status().message(),
              HasSubstr("is not a ctxd store: its meta column family has no format_version"));
}

TEST_F(EventLogTest, FinishesACreationThatStoppedBeforeMetaWasWritten) {
  OpenLog().reset();
  {
    RawDb raw(StoreDir());
    raw.Delete("meta", "format_version");
    raw.Delete("meta", "store_id");
  }
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->store_id().size(), 36u);
}

// ---- Appending and reading -----------------------------------------------

TEST_F(EventLogTest, ReadRangeReturnsEventsInOrderWithinBounds) {
  auto log = OpenLog();
  ASSERT_TRUE(log->Append(Records(1, 3), true).ok());
  ASSERT_TRUE(log->Append(Records(4, 7), false).ok());
  EXPECT_EQ(log->head_seq(), 10u);
  EXPECT_EQ(ReadAll(*log, 1, 10, 100), Expected(1, 10));
  EXPECT_EQ(ReadAll(*log, 0, 2, 100), Expected(1, 2));
  EXPECT_EQ(ReadAll(*log, 4, 6, 100), Expected(4, 6));
  EXPECT_THAT(ReadAll(*log, 7, 6, 100), IsEmpty());
}

TEST_F(EventLogTest, ReadRangeStopsAtLimit) {
  auto log = OpenLog();
  ASSERT_TRUE(log->Append(Records(1, 10), true).ok());
  EXPECT_EQ(ReadAll(*log, 3, 10, 4), Expected(3, 6));
  EXPECT_THAT(ReadAll(*log, 1, 10, 0), IsEmpty());
}

TEST_F(EventLogTest, ReadRangeStopsWhenTheVisitorSaysSo) {
  auto log = OpenLog();
  ASSERT_TRUE(log->Append(Records(1, 10), true).ok());
  std::vector<uint64_t> seen;
  ASSERT_TRUE(log->ReadRange(1, 10, 100,
                             [&](uint64_t seq, std::string_view) {
                               seen.push_back(seq);
                               return seq < 3;
                             })
                  .ok());
  EXPECT_THAT(seen, ElementsAre(1, 2, 3));
}

TEST_F(EventLogTest, ReadRangeEndsAtTheHead) {
  auto log = OpenLog();
  ASSERT_TRUE(log->Append(Records(1, 3), true).ok());
  EXPECT_EQ(ReadAll(*log, 2, UINT64_MAX, UINT64_MAX), Expected(2, 3));
}

// ReadRange copies events out in chunks of at most 1024 events or about
// 4 MiB; a read must come out whole across chunk boundaries of both kinds.
TEST_F(EventLogTest, ReadRangeCrossesChunkBoundaries) {
  auto log = OpenLog();
  std::vector<LogRecord> records;
  for (uint64_t seq = 1; seq <= 2500; ++seq) {
    records.push_back(Record(seq, std::string(seq <= 2000 ? 10 : 8000, static_cast<char>('a' + seq % 26))));
  }
  ASSERT_TRUE(log->Append(records, false).ok());
  uint64_t expected = 1;
  ASSERT_TRUE(log->ReadRange(1, 2500, 2500,
                             [&](uint64_t seq, std::string_view payload) {
                               EXPECT_EQ(seq, expected++);
                               EXPECT_EQ(payload, records[seq - 1].payload);
                               return true;
                             })
                  .ok());
  EXPECT_EQ(expected, 2501u);
}

TEST_F(EventLogTest, ReadRangeReportsAHoleAsCorruption) {
  {
    auto log = OpenLog();
    ASSERT_TRUE(log->Append(Records(1, 5), true).ok());
  }
  RawDb(StoreDir()).Delete("events", EventKey(3));
  auto log = OpenLog();
  Status read = log->ReadRange(1, 5, 10, [](uint64_t, std::string_view) { return true; });
  EXPECT_EQ(read.code(), StatusCode::kCorruption);
  EXPECT_THAT(read.message(), HasSubstr("event 3 is missing"));
}

TEST_F(EventLogTest, ReadEventFindsAppendedEventsOnly) {
  auto log = OpenLog();
  ASSERT_TRUE(log->Append(Records(1, 2), true).ok());
  auto event = log->ReadEvent(2);
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(*event, Payload(2));
  EXPECT_EQ(log->ReadEvent(0).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(log->ReadEvent(3).status().code(), StatusCode::kNotFound);
}

TEST_F(EventLogTest, AppendRefusesRecordsThatDoNotContinueTheHead) {
  auto log = OpenLog();
  ASSERT_TRUE(log->Append(Records(1, 2), true).ok());
  const std::vector<std::vector<LogRecord>> bad = {
      Records(4, 1),                     // gap after the head
      Records(2, 2),                     // reuses seq 2
      {Record(3, "a"), Record(5, "b")},  // gap inside the batch
      {Record(3, "a"), Record(3, "b")},  // duplicate inside the batch
  };
  for (const auto& records : bad) {
    Status appended = log->Append(records, true);
    EXPECT_EQ(appended.code(), StatusCode::kInternal) << records.front().seq;
  }
  EXPECT_EQ(log->head_seq(), 2u);
  EXPECT_EQ(log->ReadEvent(3).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(log->Append(Records(3, 1), true).ok());
}

TEST_F(EventLogTest, EmptyAppendChangesNothing) {
  auto log = OpenLog();
  int calls = 0;
  log->AddTailListener([&](uint64_t, uint64_t) { ++calls; });
  EXPECT_TRUE(log->Append({}, true).ok());
  EXPECT_EQ(log->head_seq(), 0u);
  EXPECT_EQ(calls, 0);
}

TEST_F(EventLogTest, TailListenersGetEachAppendedRange) {
  auto log = OpenLog();
  std::vector<std::pair<uint64_t, uint64_t>> first, second;
  log->AddTailListener([&](uint64_t a, uint64_t b) { first.emplace_back(a, b); });
  ASSERT_TRUE(log->Append(Records(1, 3), true).ok());
  log->AddTailListener([&](uint64_t a, uint64_t b) {
    EXPECT_EQ(log->head_seq(), b) << "the head moves before listeners run";
    second.emplace_back(a, b);
  });
  ASSERT_TRUE(log->Append(Records(4, 1), true).ok());
  EXPECT_EQ(log->Append(Records(9, 1), true).code(), StatusCode::kInternal);
  using Range = std::pair<uint64_t, uint64_t>;
  EXPECT_THAT(first, ElementsAre(Range(1, 3), Range(4, 4)));
  EXPECT_THAT(second, ElementsAre(Range(4, 4)));
}

TEST_F(EventLogTest, ReadersRunConcurrentlyWithAppends) {
  auto log = OpenLog();
  std::atomic<bool> done = false;
  std::thread reader([&] {
    while (!done.load()) {
      const uint64_t head = log->head_seq();
      std::vector<Event> events = ReadAll(*log, 1, head, UINT64_MAX);
      ASSERT_GE(events.size(), head);
      for (size_t i = 0; i < events.size(); ++i) ASSERT_EQ(events[i], Event(i + 1, Payload(i + 1)));
    }
  });
  for (uint64_t seq = 1; seq <= 2000; seq += 10) ASSERT_TRUE(log->Append(Records(seq, 10), false).ok());
  done = true;
  reader.join();
}

// ---- Index ---------------------------------------------------------------

TEST_F(EventLogTest, ReadIndexReturnsSeqsUnderAPrefixFromASeq) {
  auto log = OpenLog();
  ASSERT_TRUE(log->Append({Record(1, "a", {"ctx/a"}), Record(2, "b", {"ctx/b"}),
                           Record(3, "ab", {"ctx/a", "ctx/b"}), Record(4, "none")},
                          true)
                  .ok());
  ASSERT_TRUE(log->Append({Record(5, "a", {"ctx/a"})}, true).ok());
  EXPECT_THAT(*log->ReadIndex("ctx/a", 0, 100), ElementsAre(1, 3, 5));
  EXPECT_THAT(*log->ReadIndex("ctx/a", 3, 100), ElementsAre(3, 5));
  EXPECT_THAT(*log->ReadIndex("ctx/a", 4, 100), ElementsAre(5));
  EXPECT_THAT(*log->ReadIndex("ctx/b", 0, 100), ElementsAre(2, 3));
  EXPECT_THAT(*log->ReadIndex("ctx/c", 0, 100), IsEmpty());
}

TEST_F(EventLogTest, ReadIndexStopsAtLimit) {
  auto log = OpenLog();
  std::vector<LogRecord> records;
  for (uint64_t seq = 1; seq <= 20; ++seq) records.push_back(Record(seq, "x", {"k"}));
  ASSERT_TRUE(log->Append(records, true).ok());
  EXPECT_THAT(*log->ReadIndex("k", 5, 3), ElementsAre(5, 6, 7));
}

TEST_F(EventLogTest, ReadIndexIgnoresEntriesOfLongerPrefixes) {
  auto log = OpenLog();
  const std::string ff("a\xff", 2);
  ASSERT_TRUE(
      log->Append({Record(1, "", {"a"}), Record(2, "", {"ab"}), Record(3, "", {std::string("a\0", 2)}),
                   Record(4, "", {ff}), Record(5, "", {"a"}), Record(6, "", {ff + "\xff"})},
                  true)
          .ok());
  EXPECT_THAT(*log->ReadIndex("a", 0, 100), ElementsAre(1, 5));
  EXPECT_THAT(*log->ReadIndex(ff, 0, 100), ElementsAre(4));
  EXPECT_THAT(*log->ReadIndex("", 0, 100), IsEmpty());
}

// Many prefixes written interleaved, some the start of others, in batches
// of varied size: each prefix reads back exactly its seqs in order, from the
// memtable and again after the WAL is replayed into a fresh one.
TEST_F(EventLogTest, ReadIndexKeepsEachPrefixInOrderWhenManyAreInterleaved) {
  const std::vector<std::string> prefixes = {"a",     "ab",  "abc", "b", std::string("a\0", 2),
                                             "a\xff", "k/x", "k/y"};
  std::map<std::string, std::vector<uint64_t>> expected;
  std::mt19937 random(7);
  auto log = OpenLog();
  uint64_t seq = 0;
  while (seq < 3000) {
    std::vector<LogRecord> batch;
    for (size_t n = 1 + random() % 40; n > 0; --n) {
      ++seq;
      std::vector<std::string> chosen = {prefixes[random() % prefixes.size()]};
      const std::string& second = prefixes[random() % prefixes.size()];
      if (second != chosen[0]) chosen.push_back(second);
      for (const std::string& prefix : chosen) expected[prefix].push_back(seq);
      batch.push_back(Record(seq, "x", chosen));
    }
    ASSERT_TRUE(log->Append(batch, false).ok());
  }
  auto check = [&](const EventLog& opened) {
    for (const std::string& prefix : prefixes)
      EXPECT_EQ(*opened.ReadIndex(prefix, 0, 10000), expected[prefix]) << prefix;
  };
  check(*log);
  log.reset();
  check(*OpenLog());
}

// ---- Snapshots -----------------------------------------------------------

TEST_F(EventLogTest, SnapshotsArePutListedReadAndDeleted) {
  auto log = OpenLog();
  ASSERT_TRUE(log->PutSnapshot(20, "state at 20").ok());
  ASSERT_TRUE(log->PutSnapshot(10, "state at 10!").ok());
  auto list = log->ListSnapshots();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].seq, 10u);
  EXPECT_EQ((*list)[0].bytes, 12u);
  EXPECT_EQ((*list)[1].seq, 20u);
  EXPECT_EQ((*list)[1].bytes, 11u);
  EXPECT_EQ(*log->ReadSnapshot(10), "state at 10!");
  ASSERT_TRUE(log->DeleteSnapshot(10).ok());
  EXPECT_EQ(log->ReadSnapshot(10).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(log->ListSnapshots()->size(), 1u);
  EXPECT_EQ(*log->ReadSnapshot(20), "state at 20");
}

TEST_F(EventLogTest, SnapshotLargerThanOnePartRoundTripsAcrossReopen) {
  const std::string blob = Blob(2 * kSnapshotPartBytes + 3);
  {
    auto log = OpenLog();
    ASSERT_TRUE(log->PutSnapshot(7, blob).ok());
    auto read = log->ReadSnapshot(7);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_TRUE(*read == blob);
  }
  auto log = OpenLog();
  auto read = log->ReadSnapshot(7);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE(*read == blob);
  EXPECT_EQ(log->ListSnapshots()->at(0).bytes, blob.size());
}

TEST_F(EventLogTest, EmptySnapshotRoundTrips) {
  auto log = OpenLog();
  ASSERT_TRUE(log->PutSnapshot(1, "").ok());
  auto read = log->ReadSnapshot(1);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "");
}

TEST_F(EventLogTest, ReplacingASnapshotLeavesNoOldPartsBehind) {
  auto log = OpenLog();
  ASSERT_TRUE(log->PutSnapshot(5, Blob(kSnapshotPartBytes + 1)).ok());
  ASSERT_TRUE(log->PutSnapshot(5, "small").ok());
  EXPECT_EQ(*log->ReadSnapshot(5), "small");
  EXPECT_EQ(log->ListSnapshots()->at(0).bytes, 5u);
}

// Ingesting a file whose keys overlap the column family's memtable makes
// RocksDB flush that memtable first, with every write of the store held
// until it is done (up to 0.2 s under load). A new snapshot's keys overlap
// nothing: putting one flushes no memtable, even with an older snapshot's
// deletion in it. RocksDB's info log (complete once the log is closed)
// names the reason of every flush.
TEST_F(EventLogTest, PuttingANewSnapshotFlushesNoMemtable) {
  {
    auto log = OpenLog();
    ASSERT_TRUE(log->PutSnapshot(10, "state at 10").ok());
    ASSERT_TRUE(log->PutSnapshot(20, "state at 20").ok());
    ASSERT_TRUE(log->DeleteSnapshot(10).ok());
    ASSERT_TRUE(log->PutSnapshot(30, "state at 30").ok());
    EXPECT_EQ(*log->ReadSnapshot(30), "state at 30");
    EXPECT_EQ(log->ReadSnapshot(10).status().code(), StatusCode::kNotFound);
  }
  std::ifstream info_log(StoreDir() + "/LOG");
  const std::string text{std::istreambuf_iterator<char>(info_log), {}};
  ASSERT_NE(text.find("ingest_finished"), std::string::npos) << "no ingestion in " << StoreDir() << "/LOG";
  EXPECT_EQ(text.find("\"flush_reason\": \"External File Ingestion\""), std::string::npos)
      << "an ingestion flushed a memtable";
}

TEST_F(EventLogTest, DeletingASnapshotRemovesAllItsParts) {
  auto log = OpenLog();
  ASSERT_TRUE(log->PutSnapshot(5, Blob(kSnapshotPartBytes + 1)).ok());
  ASSERT_TRUE(log->PutSnapshot(6, "next").ok());
  ASSERT_TRUE(log->DeleteSnapshot(5).ok());
  auto list = log->ListSnapshots();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->at(0).seq, 6u);
}

TEST_F(EventLogTest, ReadSnapshotDetectsAMissingPart) {
  ASSERT_TRUE(OpenLog()->PutSnapshot(3, Blob(kSnapshotPartBytes + 1)).ok());
  RawDb(StoreDir()).Delete("snapshots", SnapshotKey(3, 1));
  auto read = OpenLog()->ReadSnapshot(3);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(read.status().message(), HasSubstr("part 1 is missing"));
}

TEST_F(EventLogTest, ReadSnapshotDetectsAMissingLastPart) {
  ASSERT_TRUE(OpenLog()->PutSnapshot(3, Blob(kSnapshotPartBytes + 1)).ok());
  RawDb(StoreDir()).Delete("snapshots", SnapshotKey(3, 2));
  EXPECT_EQ(OpenLog()->ReadSnapshot(3).status().code(), StatusCode::kCorruption);
}

TEST_F(EventLogTest, ReadSnapshotDetectsADamagedPart) {
  const std::string blob = Blob(kSnapshotPartBytes + 1);
  ASSERT_TRUE(OpenLog()->PutSnapshot(3, blob).ok());
  std::string damaged = blob.substr(0, kSnapshotPartBytes);
  damaged[100] ^= 1;
  RawDb(StoreDir()).Put("snapshots", SnapshotKey(3, 1), damaged);
  auto read = OpenLog()->ReadSnapshot(3);
  EXPECT_EQ(read.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(read.status().message(), HasSubstr("CRC-32C does not match"));
}

TEST_F(EventLogTest, SnapshotWithoutHeaderIsListedAndReadAsCorrupt) {
  ASSERT_TRUE(OpenLog()->PutSnapshot(3, "some state").ok());
  RawDb(StoreDir()).Delete("snapshots", SnapshotKey(3, 0));
  auto log = OpenLog();
  auto list = log->ListSnapshots();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->at(0).bytes, 0u);
  EXPECT_THAT(log->ReadSnapshot(3).status().message(), HasSubstr("header (part 0) is missing"));
}

// ---- Secondary -----------------------------------------------------------

class SecondaryTest : public EventLogTest {
 protected:
  std::unique_ptr<EventLog> OpenSecondary() {
    LogOptions options;
    options.mode = LogOptions::Mode::kSecondary;
    options.secondary_dir = dir_.Sub("secondary");
    return OpenLog(options);
  }
};

TEST_F(SecondaryTest, SeesThePrimarysAppendsAfterCatchUp) {
  auto primary = OpenLog();
  ASSERT_TRUE(primary->Append(Records(1, 3), true).ok());
  auto secondary = OpenSecondary();
  ASSERT_NE(secondary, nullptr);
  EXPECT_EQ(secondary->store_id(), primary->store_id());
  EXPECT_EQ(secondary->head_seq(), 3u);

  ASSERT_TRUE(primary->Append(Records(4, 2), true).ok());
  EXPECT_EQ(secondary->head_seq(), 3u);
  EXPECT_EQ(secondary->ReadEvent(4).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(secondary->CatchUp().ok());
  EXPECT_EQ(secondary->head_seq(), 5u);
  EXPECT_EQ(ReadAll(*secondary, 1, 5, 10), Expected(1, 5));
}

TEST_F(SecondaryTest, FollowsThePrimaryAcrossFlushesAndRestarts) {
  auto primary = OpenLog();
  ASSERT_TRUE(primary->Append(Records(1, 3), true).ok());
  auto secondary = OpenSecondary();
  primary.reset();  // flushes memtables to SST files
  primary = OpenLog();
  ASSERT_TRUE(primary->Append(Records(4, 3), true).ok());
  ASSERT_TRUE(primary->PutSnapshot(6, "state").ok());
  ASSERT_TRUE(secondary->CatchUp().ok());
  EXPECT_EQ(ReadAll(*secondary, 1, 6, 10), Expected(1, 6));
  EXPECT_EQ(*secondary->ReadSnapshot(6), "state");
}

TEST_F(SecondaryTest, RefusesWrites) {
  auto primary = OpenLog();
  auto secondary = OpenSecondary();
  EXPECT_EQ(secondary->Append(Records(1, 1), true).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(secondary->PutSnapshot(1, "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(secondary->DeleteSnapshot(1).code(), StatusCode::kInvalidArgument);
}

TEST_F(SecondaryTest, RefusesAnAbsentStore) {
  LogOptions options;
  options.mode = LogOptions::Mode::kSecondary;
  options.secondary_dir = dir_.Sub("secondary");
  auto log = EventLog::Open(StoreDir(), options);
  ASSERT_FALSE(log.ok());
  EXPECT_THAT(log.status().message(), HasSubstr("is not a ctxd store"));
  EXPECT_FALSE(std::filesystem::exists(StoreDir()));
}

TEST_F(EventLogTest, CatchUpOnAPrimaryDoesNothing) {
  auto log = OpenLog();
  EXPECT_TRUE(log->CatchUp().ok());
}

TEST_F(EventLogTest, DiskSizeGrowsWithTheLog) {
  auto log = OpenLog();
  const uint64_t empty = log->DiskSize();
  EXPECT_GT(empty, 0u);
  std::vector<LogRecord> records;
  for (uint64_t seq = 1; seq <= 100; ++seq) records.push_back(Record(seq, Blob(10000 + seq)));
  ASSERT_TRUE(log->Append(records, true).ok());
  EXPECT_GT(log->DiskSize(), empty + 500000);
}

TEST_F(SecondaryTest, OpenedWhileThePrimaryWritesSeesAPrefixOfTheLog) {
  auto primary = OpenLog();
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (uint64_t seq = 1; !stop && seq <= 200000; seq += 10) {
      ASSERT_TRUE(primary->Append(Records(seq, 10), true).ok());
    }
  });
  for (int round = 0; round < 20; ++round) {
    auto secondary = OpenSecondary();
    ASSERT_NE(secondary, nullptr);
    ASSERT_TRUE(secondary->CatchUp().ok());
    const uint64_t head = secondary->head_seq();
    EXPECT_EQ(ReadAll(*secondary, 1, head, head + 10), Expected(1, head)) << "round " << round;
    secondary.reset();
    std::filesystem::remove_all(dir_.Sub("secondary"));
  }
  stop = true;
  writer.join();
}

// ---- The WAL -------------------------------------------------------------

// The WAL files of the store, by name.
std::vector<std::filesystem::path> WalFiles(const std::string& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".log") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string FileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int64_t IntactEnd(const std::string& bytes, uint64_t from = 0, uint64_t until = UINT64_MAX) {
  return IntactWalEnd(
      [&](uint64_t at, size_t size, char* out) -> int64_t {
        if (at >= bytes.size()) return 0;
        const size_t n = std::min<size_t>(size, bytes.size() - at);
        std::memcpy(out, bytes.data() + at, n);
        return static_cast<int64_t>(n);
      },
      from, until);
}

// The WAL's two ways of writing (wal_file_system.h): direct when every
// write is synced (GetParam() true), write + fdatasync otherwise.
class WalTest : public EventLogTest, public ::testing::WithParamInterface<bool> {
 protected:
  std::unique_ptr<EventLog> OpenWalLog() { return OpenLog(Options()); }
  LogOptions Options() const {
    LogOptions options;
    options.every_write_synced = GetParam();
    return options;
  }
};

INSTANTIATE_TEST_SUITE_P(WalModes, WalTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Direct" : "WriteAndSync";
                         });

TEST_P(WalTest, TheWalIsPreallocatedWithItsSizeAndTrimmedOnClose) {
  auto log = OpenWalLog();
  ASSERT_TRUE(log->Append(Records(1, 1), true).ok());
  const auto wals = WalFiles(StoreDir());
  ASSERT_FALSE(wals.empty());
  EXPECT_GE(std::filesystem::file_size(wals.back()), uint64_t{1} << 20);  // a sync need not change the size
  log.reset();
  for (const auto& wal : WalFiles(StoreDir())) {
    const std::string bytes = FileBytes(wal);
    EXPECT_LT(bytes.size(), uint64_t{1} << 20);
    EXPECT_EQ(IntactEnd(bytes), static_cast<int64_t>(bytes.size())) << wal << ": no zeros after the records";
  }
}

// Whether any extent of the file is allocated but unwritten (as fallocate
// leaves it); nullopt where the file system cannot tell (no FIEMAP).
std::optional<bool> HasUnwrittenExtents(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  constexpr unsigned kMaxExtents = 256;
  std::vector<char> buffer(sizeof(fiemap) + kMaxExtents * sizeof(fiemap_extent), 0);
  auto* map = reinterpret_cast<fiemap*>(buffer.data());
  map->fm_length = FIEMAP_MAX_OFFSET;
  map->fm_flags = FIEMAP_FLAG_SYNC;
  map->fm_extent_count = kMaxExtents;
  const int mapped = ::ioctl(fd, FS_IOC_FIEMAP, map);
  ::close(fd);
  if (mapped != 0) return std::nullopt;
  for (unsigned i = 0; i < map->fm_mapped_extents; ++i) {
    if (map->fm_extents[i].fe_flags & FIEMAP_EXTENT_UNWRITTEN) return true;
  }
  return false;
}

TEST_P(WalTest, TheWalsPreallocatedSpaceIsWrittenZerosSoASyncHasNoExtentToConvert) {
  auto log = OpenWalLog();
  ASSERT_TRUE(log->Append(Records(1, 1), true).ok());
  const auto wal = WalFiles(StoreDir()).back();
  const std::optional<bool> unwritten = HasUnwrittenExtents(wal);
  if (!unwritten) GTEST_SKIP() << "the file system does not report extents (FIEMAP)";
  EXPECT_FALSE(*unwritten);
  struct stat st {};
  ASSERT_EQ(::stat(wal.c_str(), &st), 0);
  EXPECT_GE(static_cast<uint64_t>(st.st_blocks) * 512, uint64_t{1} << 20);  // allocated, not sparse
}

// A file size limit (RLIMIT_FSIZE) stands in for a full disk under the
// zero-filled WAL: filling the next MiB fails part way, then the appends
// themselves. They fail cleanly, and once the limit is lifted the log takes
// appends again with every earlier record intact. In a child process, since
// the limit is the process's.
TEST_P(WalTest, AWalThatCannotGrowFailsAppendsCleanlyAndTakesThemOnceItCan) {
  // Re-executes the test binary for the child: a fork of a process whose
  // earlier tests left RocksDB threads running could inherit a held lock.
  ::testing::GTEST_FLAG(death_test_style) = "threadsafe";
  const std::string payload(16 * 1024, 'x');
  auto child = [&] {
    ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead
    auto log = OpenWalLog();
    rlimit unlimited{};
    ::getrlimit(RLIMIT_FSIZE, &unlimited);
    const rlimit limited{(5 << 20) / 2, unlimited.rlim_max};  // 2.5 MiB: inside the third MiB
    if (!log || ::setrlimit(RLIMIT_FSIZE, &limited) != 0) std::_Exit(2);
    uint64_t seq = 1;
    while (seq < 1000 && log->Append({Record(seq, payload)}, true).ok()) ++seq;
    if (seq == 1000 || seq < 100 || log->head_seq() != seq - 1) std::_Exit(3);
    ::setrlimit(RLIMIT_FSIZE, &unlimited);
    if (!log->Append({Record(seq, payload)}, true).ok()) std::_Exit(4);
    const auto events = ReadAll(*log, 1, seq, 2000);
    const bool intact =
        events.size() == seq &&
        std::all_of(events.begin(), events.end(), [&](const Event& e) { return e.second == payload; });
    std::_Exit(intact ? 0 : 5);
  };
  EXPECT_EXIT(child(), ::testing::ExitedWithCode(0), "");
}

// Records of every size against the WAL's pages (4 KiB), blocks (32 KiB) and
// preallocation steps (1 MiB); several land in one page, so the direct WAL
// writes its last page again. An image of the files after each append, as a
// crash leaves them, recovers every record appended before it.
TEST_P(WalTest, ACrashImageWithAPreallocatedWalRecoversEverySyncedRecord) {
  auto log = OpenWalLog();
  const std::vector<size_t> sizes = {10, 10, 3000, 4096, 40000, 1, 100, (3 << 20) / 2, 5, 70000};
  std::vector<std::pair<std::string, uint64_t>> images;  // directory, head
  uint64_t seq = 1;
  for (size_t size : sizes) {
    ASSERT_TRUE(log->Append({Record(seq, Blob(size)), Record(seq + 1, Payload(seq + 1))}, true).ok());
    seq += 2;
    images.emplace_back(dir_.Sub("image" + std::to_string(images.size())), seq - 1);
    std::filesystem::copy(StoreDir(), images.back().first, std::filesystem::copy_options::recursive);
  }
  log.reset();
  for (const auto& [image, head] : images) {
    auto recovered = EventLog::Open(image, Options());
    ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
    EXPECT_EQ((*recovered)->head_seq(), head) << image;
    const std::vector<Event> events = ReadAll(**recovered, 1, head, head);
    ASSERT_EQ(events.size(), head) << image;
    for (uint64_t i = 0; i < head; i += 2) {
      EXPECT_EQ(events[i].second, Blob(sizes[i / 2])) << image << " seq " << i + 1;
      EXPECT_EQ(events[i + 1].second, Payload(i + 2)) << image;
    }
  }
}

// The open flags of this process's file descriptor for the store's WAL.
std::optional<int> WalOpenFlags(const std::string& store) {
  for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code error;
    const std::filesystem::path target = std::filesystem::read_symlink(fd.path(), error);
    if (error || target.parent_path() != store || target.extension() != ".log") continue;
    std::ifstream info("/proc/self/fdinfo/" + fd.path().filename().string());
    for (std::string field; info >> field;) {
      if (field != "flags:") continue;
      std::string octal;
      info >> octal;
      return std::stoi(octal, nullptr, 8);
    }
  }
  return std::nullopt;
}

TEST_P(WalTest, WhenEveryWriteIsSyncedTheWalIsWrittenDirectlyAndDurably) {
  const std::string probe = dir_.Sub("probe");
  const int probed = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_DIRECT, 0600);
  if (probed < 0) GTEST_SKIP() << "the file system has no O_DIRECT: " << std::strerror(errno);
  ::close(probed);
  auto log = OpenWalLog();
  ASSERT_TRUE(log->Append(Records(1, 1), true).ok());
  const std::optional<int> flags = WalOpenFlags(std::filesystem::canonical(StoreDir()));
  ASSERT_TRUE(flags.has_value());
  EXPECT_EQ((*flags & O_DIRECT) != 0, GetParam());
  EXPECT_EQ((*flags & O_DSYNC) == O_DSYNC, GetParam());
}

// Where the file system has no O_DIRECT (tmpfs), the WAL of a store whose
// every write is synced is written and fdatasynced instead.
TEST_F(EventLogTest, WithoutODirectTheWalFallsBackToWriteAndSync) {
  std::string shm = "/dev/shm/ctxd-test-XXXXXX";
  if (::mkdtemp(shm.data()) == nullptr) GTEST_SKIP() << "no /dev/shm";
  const std::string probe = shm + "/probe";
  const int probed = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_DIRECT, 0600);
  if (probed >= 0) ::close(probed);
  if (probed >= 0 || errno != EINVAL) {
    std::filesystem::remove_all(shm);
    GTEST_SKIP() << "/dev/shm is not a file system without O_DIRECT";
  }
  const std::string store = shm + "/store";
  {
    auto log = EventLog::Open(store, {});
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_TRUE((*log)->Append(Records(1, 3), true).ok());
    const std::optional<int> flags = WalOpenFlags(store);
    ASSERT_TRUE(flags.has_value());
    EXPECT_EQ(*flags & O_DIRECT, 0);
  }
  auto reopened = EventLog::Open(store, {});
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(ReadAll(**reopened, 1, 3, 10), Expected(1, 3));
  reopened->reset();
  std::filesystem::remove_all(shm);
}

TEST_F(EventLogTest, IntactWalEndStopsAtZerosAndAtDamagedOrCutRecords) {
  auto log = OpenLog();
  ASSERT_TRUE(log->Append(Records(1, 10), true).ok());
  const std::string first = FileBytes(WalFiles(StoreDir()).back());
  const int64_t after_first = IntactEnd(first);
  ASSERT_GT(after_first, 0);
  EXPECT_EQ(first.find_first_not_of('\0', static_cast<size_t>(after_first)),
            std::string::npos);  // zeros after

  ASSERT_TRUE(log->Append(Records(11, 10), true).ok());
  const std::string second = FileBytes(WalFiles(StoreDir()).back());
  const int64_t after_second = IntactEnd(second);
  ASSERT_GT(after_second, after_first);
  EXPECT_EQ(IntactEnd(second, static_cast<uint64_t>(after_first)), after_second);  // resumes at a boundary
  EXPECT_LE(IntactEnd(second, 0, 1), after_first);                                 // stops at `until`

  std::string damaged = second;
  damaged[static_cast<size_t>(after_second) - 1] ^= 0x5a;  // the last record's last byte
  const int64_t at_damage = IntactEnd(damaged);
  EXPECT_GE(at_damage, after_first);
  EXPECT_LT(at_damage, after_second);
  const std::string cut = second.substr(0, static_cast<size_t>(after_second) - 1);  // a write cut short
  EXPECT_EQ(IntactEnd(cut), at_damage);
}

// ---- Faults --------------------------------------------------------------

class FaultTest : public EventLogTest {
 protected:
  std::unique_ptr<EventLog> OpenFaulty() {
    LogOptions options;
    options.env = fault_.env();
    return OpenLog(options);
  }

  testutil::FaultInjectionEnv fault_;
};

TEST_F(FaultTest, FailedWalWriteIsUnavailableAndLeavesTheLogReadable) {
  auto log = OpenFaulty();
  ASSERT_TRUE(log->Append(Records(1, 2), true).ok());
  fault_.SetFailWrites(true);

  Status failed = log->Append(Records(3, 1), true);
  EXPECT_EQ(failed.code(), StatusCode::kUnavailable);
  EXPECT_THAT(failed.message(), HasSubstr("injected"));
  EXPECT_GT(fault_.failed_writes(), 0u);
  EXPECT_EQ(log->head_seq(), 2u);
  EXPECT_EQ(ReadAll(*log, 1, 10, 10), Expected(1, 2));
  EXPECT_EQ(log->ReadEvent(3).status().code(), StatusCode::kNotFound);

  // The disk is still broken: retries fail too, reads keep working.
  EXPECT_EQ(log->Append(Records(3, 1), true).code(), StatusCode::kUnavailable);
  EXPECT_EQ(log->PutSnapshot(2, "state").code(), StatusCode::kUnavailable);
  EXPECT_EQ(ReadAll(*log, 1, 10, 10), Expected(1, 2));
  EXPECT_EQ(log->head_seq(), 2u);

  fault_.SetFailWrites(false);
  ASSERT_TRUE(log->Append(Records(3, 2), true).ok());
  ASSERT_TRUE(log->PutSnapshot(4, "state").ok());
  EXPECT_EQ(ReadAll(*log, 1, 10, 10), Expected(1, 4));
  log.reset();

  log = OpenLog();
  EXPECT_EQ(log->head_seq(), 4u);
  EXPECT_EQ(ReadAll(*log, 1, 10, 10), Expected(1, 4));
  EXPECT_EQ(*log->ReadSnapshot(4), "state");
}

TEST_F(FaultTest, FailedSyncIsNotResurrectedWhenTheWalIsReplayed) {
  auto log = OpenFaulty();
  ASSERT_TRUE(log->Append(Records(1, 2), true).ok());
  fault_.SetFailSyncs(true);
  EXPECT_EQ(log->Append({Record(3, "lost", {"k/lost"})}, true).code(), StatusCode::kUnavailable);
  fault_.SetFailSyncs(false);

  ASSERT_TRUE(log->Append({Record(3, "kept", {"k/kept"})}, true).ok());
  EXPECT_EQ(*log->ReadEvent(3), "kept");
  EXPECT_THAT(*log->ReadIndex("k/lost", 0, 10), IsEmpty());
  log.reset();

  log = OpenLog();
  EXPECT_EQ(log->head_seq(), 3u);
  EXPECT_EQ(*log->ReadEvent(3), "kept");
  EXPECT_THAT(*log->ReadIndex("k/lost", 0, 10), IsEmpty());
  EXPECT_THAT(*log->ReadIndex("k/kept", 0, 10), ElementsAre(3));
}

TEST_F(FaultTest, NoSpaceIsRecoveredFromLikeAnyWriteError) {
  fault_.SetFault(testutil::FaultInjectionEnv::Fault::kNoSpace);
  auto log = OpenFaulty();
  ASSERT_TRUE(log->Append(Records(1, 1), true).ok());
  fault_.SetFailWrites(true);
  Status failed = log->Append(Records(2, 1), true);
  EXPECT_EQ(failed.code(), StatusCode::kUnavailable);
  EXPECT_THAT(failed.message(), HasSubstr("No space"));
  fault_.SetFailWrites(false);
  ASSERT_TRUE(log->Append(Records(2, 2), true).ok());
  EXPECT_EQ(ReadAll(*log, 1, 10, 10), Expected(1, 3));
}

TEST_F(FaultTest, ClosingWhileTheDiskFailsKeepsWhatWasAcknowledged) {
  auto log = OpenFaulty();
  ASSERT_TRUE(log->Append(Records(1, 2), true).ok());
  fault_.SetFailWrites(true);
  EXPECT_EQ(log->Append(Records(3, 1), true).code(), StatusCode::kUnavailable);
  log.reset();
  fault_.SetFailWrites(false);
  log = OpenLog();
  EXPECT_EQ(log->head_seq(), 2u);
  EXPECT_EQ(ReadAll(*log, 1, 10, 10), Expected(1, 2));
}

}  // namespace
}  // namespace ctxd::log
