// Input validation shared by the engine and the server.
#include <cstdint>
#include <cstring>
#include <string>

#include "engine/engine.h"

namespace ctxd::engine {

namespace {

constexpr size_t kMaxNameBytes = 1024;

// Length of the UTF-8 sequence starting at text[i], or 0 when it is not a
// well-formed one (overlong forms, surrogates and code points above
// U+10FFFF are rejected, as RFC 3629 requires).
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[i + k]); };
  auto continuation = [&](size_t k) { return i + k < text.size() && (byte(k) & 0xc0) == 0x80; };
  unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return continuation(1) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    if (!continuation(1) || !continuation(2)) return 0;
    if (lead == 0xe0 && byte(1) < 0xa0) return 0;  // overlong
    if (lead == 0xed && byte(1) > 0x9f) return 0;  // surrogate
    return 3;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (lead == 0xf0 && byte(1) < 0x90) return 0;  // overlong
    if (lead == 0xf4 && byte(1) > 0x8f) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

bool HasControlCharacter(std::string_view text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

// Bytes from text[i] on that are ASCII, counted eight at a time: almost all
// of a request body is, and checking a word at once costs what checking one
// byte does.
size_t AsciiWordsAt(std::string_view text, size_t i) {
  constexpr uint64_t kHighBits = 0x8080808080808080ULL;
  const size_t start = i;
  while (i + sizeof(uint64_t) <= text.size()) {
    uint64_t word;
    std::memcpy(&word, text.data() + i, sizeof word);
    if ((word & kHighBits) != 0) break;
    i += sizeof word;
  }
  return i - start;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    i += AsciiWordsAt(text, i);
    if (i == text.size()) break;
    size_t length = Utf8SequenceLength(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

Status ValidateName(std::string_view what, std::string_view name) {
  std::string subject(what);
  if (name.empty() || name.size() > kMaxNameBytes) {
    return Status::InvalidArgument(subject + " must be 1-1024 bytes, got " + std::to_string(name.size()));
  }
  if (!IsValidUtf8(name)) return Status::InvalidArgument(subject + " is not valid UTF-8");
  if (HasControlCharacter(name)) return Status::InvalidArgument(subject + " contains a control character");
  return Status::Ok();
}

Status ValidateKey(std::string_view key) { return ValidateName("key", key); }

}  // namespace ctxd::engine
