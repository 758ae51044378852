#include "engine/wire.h"

#include <array>

namespace ctxd::engine {

void ByteWriter::Varint(uint64_t v) {
  while (v >= 0x80) {
    out_->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_->push_back(static_cast<char>(v));
}

void ByteWriter::SignedVarint(int64_t v) {
  // Zigzag keeps small negative numbers small.
  Varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void ByteWriter::Fixed32(uint32_t v) {
  char bytes[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                   static_cast<char>(v >> 24)};
  out_->append(bytes, 4);
}

void ByteWriter::Str(std::string_view s) {
  Varint(s.size());
  out_->append(s.data(), s.size());
}

bool ByteReader::U8(uint8_t* v) {
  if (in_.empty()) return Fail();
  *v = static_cast<uint8_t>(in_[0]);
  in_.remove_prefix(1);
  return true;
}

bool ByteReader::Varint(uint64_t* v) {
  uint64_t result = 0;
  for (size_t i = 0; i < in_.size() && i < 10; ++i) {
    uint64_t byte = static_cast<uint8_t>(in_[i]);
    // The tenth byte may only carry the top bit of a u64.
    if (i == 9 && byte > 1) return Fail();
    result |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      // A zero final byte after the first is a padded (non-minimal) form;
      // refusing it keeps every value's encoding unique.
      if (byte == 0 && i > 0) return Fail();
      in_.remove_prefix(i + 1);
      *v = result;
      return true;
    }
  }
  return Fail();
}

bool ByteReader::SignedVarint(int64_t* v) {
  uint64_t u;
  if (!Varint(&u)) return false;
  *v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}

bool ByteReader::Fixed32(uint32_t* v) {
  if (in_.size() < 4) return Fail();
  const auto* p = reinterpret_cast<const unsigned char*>(in_.data());
  *v = uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
  in_.remove_prefix(4);
  return true;
}

bool ByteReader::Str(std::string* s) {
  uint64_t size;
  if (!Varint(&size)) return false;
  if (size > in_.size()) return Fail();
  s->assign(in_.data(), size);
  in_.remove_prefix(size);
  return true;
}

bool ByteReader::Fail() {
  // Once failed, every later read fails too: callers may chain reads and
  // check only at the end.
  in_ = {};
  failed_ = true;
  return false;
}

namespace {

constexpr uint32_t kCastagnoliReversed = 0x82f63b78;

// Slicing-by-8 tables: table[0] is the classic byte-at-a-time table and
// table[k][b] is the CRC of byte b followed by k zero bytes.
using CrcTables = std::array<std::array<uint32_t, 256>, 8>;

constexpr CrcTables MakeCrcTables() {
  CrcTables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t crc = b;
    for (int i = 0; i < 8; ++i) crc = (crc >> 1) ^ ((crc & 1) ? kCastagnoliReversed : 0);
    t[0][b] = crc;
  }
  for (uint32_t b = 0; b < 256; ++b) {
    for (size_t k = 1; k < 8; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
  }
  return t;
}

constexpr CrcTables kCrcTables = MakeCrcTables();

uint32_t LoadLe32(const unsigned char* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

}  // namespace

uint32_t Crc32c(std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  uint32_t crc = 0xffffffff;
  const auto& t = kCrcTables;
  while (n >= 8) {
    uint32_t lo = LoadLe32(p) ^ crc;
    uint32_t hi = LoadLe32(p + 4);
    crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
          t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
  return crc ^ 0xffffffff;
}

}  // namespace ctxd::engine
