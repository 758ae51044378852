#include "common/crc32c.h"

#include <array>
#include <boost/endian/conversion.hpp>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace ctxd {
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

uint32_t Crc32cPortable(std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  uint32_t crc = 0xffffffff;
  const auto& t = kCrcTables;
  while (n >= 8) {
    uint32_t lo = boost::endian::load_little_u32(p) ^ crc;
    uint32_t hi = boost::endian::load_little_u32(p + 4);
    crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
          t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
  return crc ^ 0xffffffff;
}

#if defined(__x86_64__)
// The SSE 4.2 crc32 instruction computes exactly CRC-32C, 8 bytes at a time.
__attribute__((target("sse4.2"))) uint32_t Crc32cHardware(std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  uint64_t crc = 0xffffffff;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    __builtin_memcpy(&word, p, 8);
    crc = _mm_crc32_u64(crc, word);
  }
  for (; n > 0; ++p, --n) crc = _mm_crc32_u8(static_cast<uint32_t>(crc), *p);
  return static_cast<uint32_t>(crc) ^ 0xffffffff;
}
#endif

}  // namespace

uint32_t Crc32c(std::string_view data) {
#if defined(__x86_64__)
  static const bool hardware = __builtin_cpu_supports("sse4.2");
  if (hardware) return Crc32cHardware(data);
#endif
  return Crc32cPortable(data);
}

}  // namespace ctxd
