// The log's on-disk encodings: keys (log/keys.h) and snapshot parts
// (log/snapshot_parts.h), as documented in docs/storage-format.md.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/crc32c.h"
#include "log/keys.h"
#include "log/snapshot_parts.h"

namespace ctxd::log {
namespace {

using ::testing::HasSubstr;

TEST(KeysTest, EventKeysAreBigEndianSoBytewiseOrderIsSeqOrder) {
  EXPECT_EQ(EventKey(0x0102030405060708), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_LT(EventKey(255), EventKey(256));
  EXPECT_LT(EventKey(1), EventKey(UINT64_MAX));
  EXPECT_EQ(DecodeEventKey(EventKey(123456789)), 123456789u);
}

TEST(KeysTest, EventKeyOfTheWrongLengthDoesNotDecode) {
  EXPECT_EQ(DecodeEventKey("1234567"), std::nullopt);
  EXPECT_EQ(DecodeEventKey("123456789"), std::nullopt);
}

TEST(KeysTest, IndexKeyDecodesOnlyUnderItsOwnPrefix) {
  EXPECT_EQ(IndexKey("k/a", 5), "k/a" + EventKey(5));
  EXPECT_EQ(DecodeIndexKey("k/a", IndexKey("k/a", 5)), 5u);
  EXPECT_EQ(DecodeIndexKey("k/a", IndexKey("k/ab", 5)), std::nullopt);
  EXPECT_EQ(DecodeIndexKey("k/ab", IndexKey("k/a", 5)), std::nullopt);
}

TEST(KeysTest, PrefixSuccessorIsTheFirstKeyPastThePrefix) {
  EXPECT_EQ(PrefixSuccessor("a"), "b");
  EXPECT_EQ(PrefixSuccessor(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixSuccessor(std::string("\xff\xff", 2)), "");
  EXPECT_EQ(PrefixSuccessor(""), "");
  EXPECT_LT(IndexKey("a", UINT64_MAX), PrefixSuccessor("a"));
}

TEST(KeysTest, SnapshotKeyEndSeparatesOneSnapshotFromTheNext) {
  EXPECT_EQ(SnapshotKey(7, 2), EventKey(7) + std::string("\0\0\0\x02", 4));
  EXPECT_LT(SnapshotKey(7, UINT32_MAX), SnapshotKeyEnd(7));
  EXPECT_LT(SnapshotKeyEnd(7), SnapshotKey(8, 0));
  auto parts = DecodeSnapshotKey(SnapshotKey(7, 2));
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->seq, 7u);
  EXPECT_EQ(parts->part, 2u);
  EXPECT_EQ(DecodeSnapshotKey(EventKey(7)), std::nullopt);
}

TEST(SnapshotPartsTest, Crc32cMatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(SnapshotPartsTest, HeaderRoundTripsAndRejectsForeignValues) {
  std::string encoded = EncodeSnapshotHeader({3, 12345678901, 0xdeadbeef});
  auto header = DecodeSnapshotHeader(encoded);
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(header->part_count, 3u);
  EXPECT_EQ(header->total_bytes, 12345678901u);
  EXPECT_EQ(header->crc32c, 0xdeadbeefu);
  EXPECT_EQ(DecodeSnapshotHeader(encoded.substr(1)), std::nullopt);
  encoded[0] = 'X';
  EXPECT_EQ(DecodeSnapshotHeader(encoded), std::nullopt);
}

TEST(SnapshotPartsTest, SplitsIntoAHeaderAndPartsOfAtMostFourMiB) {
  std::string header;
  EXPECT_EQ(SplitSnapshot("", &header).size(), 1u);
  const std::string exact(kSnapshotPartBytes, 'x');
  EXPECT_EQ(SplitSnapshot(exact, &header).size(), 2u);
  const std::string over(kSnapshotPartBytes + 1, 'x');
  auto parts = SplitSnapshot(over, &header);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[1].size(), kSnapshotPartBytes);
  EXPECT_EQ(parts[2].size(), 1u);
  EXPECT_EQ(DecodeSnapshotHeader(parts[0])->part_count, 2u);
}

class AssemblerTest : public ::testing::Test {
 protected:
  // "abcdefghij" split by hand into parts of 4, 4 and 2 bytes.
  const std::string bytes_ = "abcdefghij";
  const std::string header_ = EncodeSnapshotHeader({3, 10, Crc32c(bytes_)});
};

TEST_F(AssemblerTest, RebuildsTheSnapshotFromItsParts) {
  SnapshotAssembler assembler(9);
  ASSERT_TRUE(assembler.Add(0, header_).ok());
  ASSERT_TRUE(assembler.Add(1, "abcd").ok());
  ASSERT_TRUE(assembler.Add(2, "efgh").ok());
  ASSERT_TRUE(assembler.Add(3, "ij").ok());
  auto rebuilt = assembler.Finish();
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_EQ(*rebuilt, bytes_);
}

TEST_F(AssemblerTest, MissingHeaderIsCorruption) {
  SnapshotAssembler assembler(9);
  Status added = assembler.Add(1, "abcd");
  EXPECT_EQ(added.code(), StatusCode::kCorruption);
  EXPECT_THAT(added.message(), HasSubstr("snapshot at seq 9: header (part 0) is missing"));
}

TEST_F(AssemblerTest, MissingMiddlePartIsCorruption) {
  SnapshotAssembler assembler(9);
  ASSERT_TRUE(assembler.Add(0, header_).ok());
  ASSERT_TRUE(assembler.Add(1, "abcd").ok());
  EXPECT_THAT(assembler.Add(3, "ij").message(), HasSubstr("part 2 is missing"));
}

TEST_F(AssemblerTest, MissingLastPartIsCorruption) {
  SnapshotAssembler assembler(9);
  ASSERT_TRUE(assembler.Add(0, header_).ok());
  ASSERT_TRUE(assembler.Add(1, "abcd").ok());
  ASSERT_TRUE(assembler.Add(2, "efgh").ok());
  EXPECT_THAT(assembler.Finish().status().message(), HasSubstr("part 3 of 3 is missing"));
}

TEST_F(AssemblerTest, ExtraPartIsCorruption) {
  SnapshotAssembler assembler(9);
  ASSERT_TRUE(assembler.Add(0, EncodeSnapshotHeader({1, 4, Crc32c("abcd")})).ok());
  ASSERT_TRUE(assembler.Add(1, "abcd").ok());
  EXPECT_EQ(assembler.Add(2, "efgh").code(), StatusCode::kCorruption);
}

TEST_F(AssemblerTest, ChangedBytesFailTheChecksum) {
  SnapshotAssembler assembler(9);
  ASSERT_TRUE(assembler.Add(0, header_).ok());
  ASSERT_TRUE(assembler.Add(1, "abcd").ok());
  ASSERT_TRUE(assembler.Add(2, "efgX").ok());
  ASSERT_TRUE(assembler.Add(3, "ij").ok());
  EXPECT_THAT(assembler.Finish().status().message(), HasSubstr("CRC-32C"));
}

TEST_F(AssemblerTest, TruncatedPartFailsTheSizeCheck) {
  SnapshotAssembler assembler(9);
  ASSERT_TRUE(assembler.Add(0, header_).ok());
  ASSERT_TRUE(assembler.Add(1, "abcd").ok());
  ASSERT_TRUE(assembler.Add(2, "efgh").ok());
  ASSERT_TRUE(assembler.Add(3, "i").ok());
  EXPECT_THAT(assembler.Finish().status().message(), HasSubstr("has 9 bytes, its header says 10"));
}

}  // namespace
}  // namespace ctxd::log
