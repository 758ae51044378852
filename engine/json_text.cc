#include "engine/json_text.h"

#include "engine/utf8.h"

namespace ctxd::engine {

namespace {

// U+FFFD in UTF-8: what stands for a byte that is not UTF-8.
constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";

bool NeedsEscape(char c) { return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20; }

void AppendEscape(std::string* out, char c) {
  switch (c) {
    case '"':
      out->append("\\\"");
      return;
    case '\\':
      out->append("\\\\");
      return;
    case '\b':
      out->append("\\b");
      return;
    case '\f':
      out->append("\\f");
      return;
    case '\n':
      out->append("\\n");
      return;
    case '\r':
      out->append("\\r");
      return;
    case '\t':
      out->append("\\t");
      return;
    default:
      break;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  auto u = static_cast<unsigned char>(c);
  const char escape[] = {'\\', 'u', '0', '0', kHex[u >> 4], kHex[u & 0xf]};
  out->append(escape, sizeof(escape));
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view text) {
  out->push_back('"');
  size_t run_start = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (static_cast<unsigned char>(text[i]) >= 0x80) {
      const size_t length = Utf8SequenceLength(text, i);
      if (length != 0) {
        i += length;
        continue;
      }
      out->append(text.data() + run_start, i - run_start);
      out->append(kReplacementCharacter);
      run_start = ++i;
      continue;
    }
    if (NeedsEscape(text[i])) {
      out->append(text.data() + run_start, i - run_start);
      AppendEscape(out, text[i]);
      run_start = i + 1;
    }
    ++i;
  }
  out->append(text.data() + run_start, text.size() - run_start);
  out->push_back('"');
}

std::string JsonString(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  AppendJsonString(&out, text);
  return out;
}

}  // namespace ctxd::engine
