#include "log/keys.h"

namespace ctxd::log {

void AppendBigEndian64(std::string* out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(value >> shift));
}

void AppendBigEndian32(std::string* out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(value >> shift));
}

uint64_t ReadBigEndian64(std::string_view in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<unsigned char>(in[i]);
  return value;
}

uint32_t ReadBigEndian32(std::string_view in) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value = (value << 8) | static_cast<unsigned char>(in[i]);
  return value;
}

std::string EventKey(uint64_t seq) {
  std::string key;
  AppendBigEndian64(&key, seq);
  return key;
}

std::optional<uint64_t> DecodeEventKey(std::string_view key) {
  if (key.size() != 8) return std::nullopt;
  return ReadBigEndian64(key);
}

std::string IndexKey(std::string_view prefix, uint64_t seq) {
  std::string key(prefix);
  AppendBigEndian64(&key, seq);
  return key;
}

std::optional<uint64_t> DecodeIndexKey(std::string_view prefix, std::string_view key) {
  // Exactly prefix + 8 bytes: a longer key starting with `prefix` is an
  // entry of a longer prefix (say "ab" when scanning "a").
  if (key.size() != prefix.size() + 8 || !key.starts_with(prefix)) return std::nullopt;
  return ReadBigEndian64(key.substr(prefix.size()));
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string successor(prefix);
  while (!successor.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(successor.back());
    if (last != 0xff) {
      ++last;
      return successor;
    }
    successor.pop_back();
  }
  return successor;
}

std::string SnapshotKey(uint64_t seq, uint32_t part) {
  std::string key;
  AppendBigEndian64(&key, seq);
  AppendBigEndian32(&key, part);
  return key;
}

std::string SnapshotKeyEnd(uint64_t seq) {
  std::string key = SnapshotKey(seq, UINT32_MAX);
  key.push_back('\xff');
  return key;
}

std::optional<SnapshotKeyParts> DecodeSnapshotKey(std::string_view key) {
  if (key.size() != kSnapshotKeySize) return std::nullopt;
  return SnapshotKeyParts{ReadBigEndian64(key), ReadBigEndian32(key.substr(8))};
}

}  // namespace ctxd::log
