// UTF-8 well-formedness (RFC 3629): what the engine requires of every key
// and name, and what JSON output must be.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

namespace ctxd::engine {

// Length of the UTF-8 sequence starting at text[i], or 0 when it is not a
// well-formed one (overlong forms, surrogates and code points above
// U+10FFFF are rejected).
size_t Utf8SequenceLength(std::string_view text, size_t i);

bool IsValidUtf8(std::string_view text);

}  // namespace ctxd::engine
