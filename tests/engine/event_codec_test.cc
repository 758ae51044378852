#include "engine/event_codec.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <string>

#include "common/crc32c.h"

namespace ctxd::engine {
namespace {

// An event that uses every change kind, both forms of optional fields and
// multi-byte varints.
Event EveryChangeKind() {
  Event e;
  e.seq = 300;
  e.ts_us = 1'700'000'000'123'456;
  e.type = EventType::kGraphBatch;
  e.actor = "alice";
  e.session = "s-1";
  e.command_id = "cmd-42";
  e.client_command_id = true;
  e.request_digest = 0xfedcba9876543210ULL;  // a ten-byte varint
  e.label = "v1";
  e.result = R"({"results":[null]})";
  e.changes = {
      CtxPut{"key", "{\"a\":1}", std::nullopt},
      CtxPut{"key", "2", "{\"a\":1}"},
      CtxDel{"gone", "\"x\""},
      NodeAdd{"n1", "task", "Build ✓", {{"color", "\"red\""}, {"size", "3"}}},
      NodeRemove{"n0", "bug", "", {}},
      EdgeAdd{"n1", "n2"},
      EdgeRemove{"n2", "n3"},
      PropPut{"n1", "color", "\"blue\"", "\"red\""},
      PropPut{"n1", "fresh", "null", std::nullopt},
      PropDel{"n1", "size", "3"},
  };
  return e;
}

Event SmallEvent() {
  Event e;
  e.seq = 1;
  e.ts_us = 1;
  e.actor = "a";
  e.command_id = "c";
  e.changes = {CtxPut{"k", "1", std::nullopt}};
  return e;
}

std::string Encode(const Event& e) {
  std::string out;
  EncodeEvent(e, &out);
  return out;
}

// Replaces the trailing CRC so that structural checks, not the checksum,
// must catch a malformed body.
std::string Reseal(std::string body) {
  ByteWriter w(&body);
  w.Fixed32(Crc32c(body));
  return body;
}

std::string Unseal(const std::string& bytes) { return bytes.substr(0, bytes.size() - 4); }

TEST(WireTest, VarintsRoundTripAtBoundaries) {
  const uint64_t values[] = {
      0, 1, 127, 128, 16383, 16384, uint64_t{1} << 63, std::numeric_limits<uint64_t>::max()};
  std::string buf;
  ByteWriter w(&buf);
  for (uint64_t v : values) w.Varint(v);
  ByteReader r(buf);
  for (uint64_t v : values) {
    uint64_t got;
    ASSERT_TRUE(r.Varint(&got));
    EXPECT_EQ(got, v);
  }
  EXPECT_TRUE(r.empty());
}

TEST(WireTest, SignedVarintsUseZigzag) {
  const int64_t values[] = {
      0, -1, 1, -64, 63, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()};
  std::string buf;
  ByteWriter w(&buf);
  w.SignedVarint(-1);
  EXPECT_EQ(buf, std::string("\x01", 1));
  buf.clear();
  for (int64_t v : values) w.SignedVarint(v);
  ByteReader r(buf);
  for (int64_t v : values) {
    int64_t got;
    ASSERT_TRUE(r.SignedVarint(&got));
    EXPECT_EQ(got, v);
  }
}

TEST(WireTest, Fixed32IsLittleEndian) {
  std::string buf;
  ByteWriter(&buf).Fixed32(0x04030201);
  EXPECT_EQ(buf, "\x01\x02\x03\x04");
  uint32_t v;
  ByteReader r(buf);
  ASSERT_TRUE(r.Fixed32(&v));
  EXPECT_EQ(v, 0x04030201u);
}

TEST(WireTest, StringsAreLengthPrefixed) {
  std::string buf;
  ByteWriter(&buf).Str("hey");
  EXPECT_EQ(buf, "\x03hey");
  ByteReader r(buf);
  std::string s;
  ASSERT_TRUE(r.Str(&s));
  EXPECT_EQ(s, "hey");
}

TEST(WireTest, TruncatedReadsFailAndStayFailed) {
  ByteReader r(
      std::string_view("\x05"
                       "ab\x01",
                       4));
  std::string s;
  EXPECT_FALSE(r.Str(&s));
  EXPECT_TRUE(r.failed());
  uint8_t b;
  EXPECT_FALSE(r.U8(&b));
  ByteReader short_fixed("\x01\x02");
  uint32_t v;
  EXPECT_FALSE(short_fixed.Fixed32(&v));
}

TEST(WireTest, OverlongVarintFails) {
  std::string eleven(10, '\xff');
  eleven.push_back('\x01');
  uint64_t v;
  ByteReader r(eleven);
  EXPECT_FALSE(r.Varint(&v));
  ByteReader unterminated(std::string_view("\x80\x80", 2));
  EXPECT_FALSE(unterminated.Varint(&v));
  std::string too_big(9, '\xff');
  too_big.push_back('\x02');  // bit 64 set
  ByteReader overflow(too_big);
  EXPECT_FALSE(overflow.Varint(&v));
}

TEST(WireTest, PaddedVarintFails) {
  uint64_t v;
  ByteReader padded(std::string_view("\x80\x00", 2));
  EXPECT_FALSE(padded.Varint(&v));
  ByteReader zero(std::string_view("\x00", 1));
  EXPECT_TRUE(zero.Varint(&v));
  EXPECT_EQ(v, 0u);
}

TEST(EventCodecTest, UnsortedPropsAreCorruption) {
  std::string buf;
  ByteWriter w(&buf);
  w.U8(3);  // node.add
  w.Str("n");
  w.Str("t");
  w.Str("x");
  w.Varint(2);
  w.Str("b");
  w.Str("1");
  w.Str("a");
  w.Str("2");
  ByteReader r(buf);
  Change change;
  EXPECT_FALSE(DecodeChange(r, &change));
}

TEST(WireTest, Crc32cMatchesKnownVectors) {
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c("123456789"), 0xe3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62a8ab43u);
}

TEST(WireTest, Crc32cIsIndependentOfChunking) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 7));
  // Compare the slicing path with the byte-at-a-time tail on every length.
  for (size_t n = 0; n < 40; ++n) {
    std::string_view prefix(data.data(), n);
    std::string copy(prefix);
    EXPECT_EQ(Crc32c(prefix), Crc32c(copy));
  }
  EXPECT_NE(Crc32c(data), Crc32c(data.substr(1)));
}

TEST(EventCodecTest, RoundTripsEveryChangeKind) {
  Event e = EveryChangeKind();
  auto decoded = DecodeEvent(Encode(e));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, e);
}

TEST(EventCodecTest, RoundTripsEveryEventType) {
  for (int t = 1; t <= 14; ++t) {
    Event e = SmallEvent();
    e.type = static_cast<EventType>(t);
    e.undoes = t == 12 ? 7 : 0;
    e.redoes = t == 13 ? 7 : 0;
    auto decoded = DecodeEvent(Encode(e));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, e);
  }
}

TEST(EventCodecTest, RoundTripsNegativeTimestampAndEmptyChanges) {
  Event e = SmallEvent();
  e.ts_us = -5;
  e.changes.clear();
  auto decoded = DecodeEvent(Encode(e));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, e);
}

TEST(EventCodecTest, LayoutStartsWithVersionAndEndsWithCrc) {
  std::string bytes = Encode(SmallEvent());
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), kEventFormatVersion);
  ByteReader r(std::string_view(bytes).substr(bytes.size() - 4));
  uint32_t crc;
  ASSERT_TRUE(r.Fixed32(&crc));
  EXPECT_EQ(crc, Crc32c(Unseal(bytes)));
}

TEST(EventCodecTest, ChangeKindNumbersAreStable) {
  const Change changes[] = {CtxPut{},  CtxDel{},     NodeAdd{}, NodeRemove{},
                            EdgeAdd{}, EdgeRemove{}, PropPut{}, PropDel{}};
  for (size_t i = 0; i < std::size(changes); ++i) {
    std::string buf;
    ByteWriter w(&buf);
    EncodeChange(changes[i], w);
    EXPECT_EQ(static_cast<uint8_t>(buf[0]), i + 1);
    ByteReader r(buf);
    Change decoded;
    ASSERT_TRUE(DecodeChange(r, &decoded));
    EXPECT_EQ(decoded, changes[i]);
    EXPECT_TRUE(r.empty());
  }
}

TEST(EventCodecTest, EncodeAppendsToExistingBuffer) {
  std::string out = "prefix";
  EncodeEvent(SmallEvent(), &out);
  auto decoded = DecodeEvent(std::string_view(out).substr(6));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, SmallEvent());
}

TEST(EventCodecTest, AnyFlippedBitIsCorruption) {
  std::string bytes = Encode(EveryChangeKind());
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = bytes;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
      EXPECT_EQ(DecodeEvent(damaged).status().code(), StatusCode::kCorruption) << "byte " << i;
    }
  }
}

TEST(EventCodecTest, TruncationIsCorruption) {
  std::string bytes = Encode(EveryChangeKind());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(DecodeEvent(bytes.substr(0, n)).status().code(), StatusCode::kCorruption) << n;
  }
}

TEST(EventCodecTest, TruncatedBodyWithValidCrcIsCorruption) {
  std::string body = Unseal(Encode(EveryChangeKind()));
  for (size_t n = 1; n < body.size(); ++n) {
    EXPECT_EQ(DecodeEvent(Reseal(body.substr(0, n))).status().code(), StatusCode::kCorruption) << n;
  }
}

TEST(EventCodecTest, TrailingBytesAreCorruption) {
  std::string bytes = Encode(SmallEvent());
  EXPECT_EQ(DecodeEvent(bytes + "x").status().code(), StatusCode::kCorruption);
  auto resealed = DecodeEvent(Reseal(Unseal(bytes) + "x"));
  EXPECT_EQ(resealed.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(resealed.status().message(), "trailing bytes after event");
}

TEST(EventCodecTest, UnknownVersionIsCorruption) {
  std::string body = Unseal(Encode(SmallEvent()));
  for (uint8_t version : {uint8_t{0}, uint8_t{kEventFormatVersion + 1}, uint8_t{255}}) {
    body[0] = static_cast<char>(version);
    auto decoded = DecodeEvent(Reseal(body));
    EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
    EXPECT_EQ(decoded.status().message(), "unsupported event format version " + std::to_string(version));
  }
}

// An event as version 1 wrote it: no request digest after the command id.
std::string EncodeVersion1(const Event& e) {
  std::string out;
  ByteWriter w(&out);
  w.U8(1);
  w.Varint(e.seq);
  w.SignedVarint(e.ts_us);
  w.U8(static_cast<uint8_t>(e.type));
  w.U8(e.client_command_id ? 1 : 0);
  w.Str(e.actor);
  w.Str(e.session);
  w.Str(e.command_id);
  w.Varint(e.undoes);
  w.Varint(e.redoes);
  w.Str(e.label);
  w.Str(e.result);
  w.Varint(e.changes.size());
  for (const auto& change : e.changes) EncodeChange(change, w);
  return Reseal(out);
}

TEST(EventCodecTest, Version1EventsDecodeWithoutADigest) {
  Event e = EveryChangeKind();
  e.request_digest = 0;
  auto decoded = DecodeEvent(EncodeVersion1(e));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, e);
  Event reused = EveryChangeKind();  // a digest left in the Event is cleared
  ASSERT_TRUE(DecodeEventInto(EncodeVersion1(e), &reused).ok());
  EXPECT_EQ(reused.request_digest, 0u);
  // Version 2 is version 1 with the digest's varint after the command id.
  std::string v2 = Unseal(Encode(e));
  std::string v1 = Unseal(EncodeVersion1(e));
  EXPECT_EQ(v2.size(), v1.size() + 1);
}

TEST(EventCodecTest, UnknownChangeKindIsCorruption) {
  std::string body = Unseal(Encode(SmallEvent()));
  // The last change is CtxPut "k" "1" without old: kind, 2 + 2 string bytes, presence byte.
  size_t kind_at = body.size() - 6;
  ASSERT_EQ(body[kind_at], 1);
  for (char kind : {'\0', '\x09', '\xff'}) {
    body[kind_at] = kind;
    EXPECT_EQ(DecodeEvent(Reseal(body)).status().code(), StatusCode::kCorruption);
  }
}

TEST(EventCodecTest, UnknownEventTypeOrFlagIsCorruption) {
  std::string body = Unseal(Encode(SmallEvent()));
  // version, seq 1, ts zigzag 2, then type at 3 and flags at 4.
  std::string bad_type = body;
  bad_type[3] = 15;
  EXPECT_EQ(DecodeEvent(Reseal(bad_type)).status().code(), StatusCode::kCorruption);
  bad_type[3] = 0;
  EXPECT_EQ(DecodeEvent(Reseal(bad_type)).status().code(), StatusCode::kCorruption);
  std::string bad_flags = body;
  bad_flags[4] = 2;
  EXPECT_EQ(DecodeEvent(Reseal(bad_flags)).status().code(), StatusCode::kCorruption);
}

TEST(EventCodecTest, HugeChangeCountIsCorruptionNotAllocation) {
  Event e = SmallEvent();
  e.changes.clear();
  std::string body = Unseal(Encode(e));
  body.back() = '\xff';  // the change count, now an unterminated huge varint
  body += std::string("\xff\xff\xff\xff\xff\xff\xff\x0f", 8);
  EXPECT_EQ(DecodeEvent(Reseal(body)).status().code(), StatusCode::kCorruption);
}

TEST(EventCodecTest, MutatedBodiesWithValidCrcDecodeOrFailCleanly) {
  std::string body = Unseal(Encode(EveryChangeKind()));
  std::mt19937 rng(42);
  for (int i = 0; i < 20000; ++i) {
    std::string mutated = body;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) mutated[1 + rng() % (mutated.size() - 1)] = static_cast<char>(rng());
    auto decoded = DecodeEvent(Reseal(mutated));
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
      continue;
    }
    // Whatever decodes must encode back to the same bytes.
    EXPECT_EQ(Encode(*decoded), Reseal(mutated));
  }
}

}  // namespace
}  // namespace ctxd::engine
