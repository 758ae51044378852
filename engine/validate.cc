// Input validation shared by the engine and the server.
#include <string>

#include "engine/engine.h"
#include "engine/utf8.h"

namespace ctxd::engine {

namespace {

constexpr size_t kMaxNameBytes = 1024;

// C0, DEL and C1 (U+0080-U+009F, "\xC2\x80"-"\xC2\x9F" in UTF-8): Unicode's
// control characters (category Cc). `text` is valid UTF-8.
bool HasControlCharacter(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto u = static_cast<unsigned char>(text[i]);
    if (u < 0x20 || u == 0x7f) return true;
    if (u == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) <= 0x9f) return true;
  }
  return false;
}

}  // namespace

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
