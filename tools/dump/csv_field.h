// One RFC 4180 field: quoted (quotes doubled) when it holds a comma, a
// quote, CR or LF; as it is otherwise. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace ctxd::dump {

void AppendCsvField(std::string* out, std::string_view field);

}  // namespace ctxd::dump
