#include "engine/wire.h"

#include <boost/endian/conversion.hpp>

namespace ctxd::engine {

void ByteWriter::LongVarint(uint64_t v) {
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
  unsigned char bytes[4];
  boost::endian::store_little_u32(bytes, v);
  out_->append(reinterpret_cast<const char*>(bytes), 4);
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

bool ByteReader::LongVarint(uint64_t* v) {
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
  *v = boost::endian::load_little_u32(reinterpret_cast<const unsigned char*>(in_.data()));
  in_.remove_prefix(4);
  return true;
}

bool ByteReader::Fail() {
  // Once failed, every later read fails too: callers may chain reads and
  // check only at the end.
  in_ = {};
  failed_ = true;
  return false;
}

}  // namespace ctxd::engine
