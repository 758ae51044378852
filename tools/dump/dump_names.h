// Dump file names and the dump directory: what a client may name a dump and
// ask to download, so that nothing outside the dump directory is ever
// written or served.
//
// A dump name is 1-200 bytes of [A-Za-z0-9._-], does not start with '.'
// (temp files and hidden files do) and contains no "..". Pure functions
// except ListDumpFiles (reads the directory); all thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "tools/dump/dump_format.h"

namespace ctxd::dump {

inline constexpr size_t kMaxDumpNameBytes = 200;

// OK when `name` is a dump name as above. kInvalidArgument otherwise, saying
// "path traversal refused" for "..", '/', '\\', NUL, absolute paths and
// percent-encodings of them (%2e%2e, %2f, %5c, %00, also double-encoded).
Status CheckDumpName(std::string_view name);

// True when `text`, or any percent-decoding of it (repeated), holds "..",
// '/', '\\' or NUL.
bool LooksLikeTraversal(std::string_view text);

// The name of a new dump from what the client asked for. Traversal attempts
// are refused (kInvalidArgument), never rewritten; other bytes outside the
// allowed set and a leading '.' become '_'; the format's extension is
// appended when the name has none. An empty request gets DefaultDumpName.
StatusOr<std::string> SanitizeDumpName(std::string_view requested, DumpFormat format, int64_t ts_us);

// "context_dump_20261122_222141.json" (UTC), as the old server named dumps.
std::string DefaultDumpName(DumpFormat format, int64_t ts_us);

// `dir`/`name` after CheckDumpName.
StatusOr<std::string> DumpPath(const std::string& dir, std::string_view name);

struct DumpFileInfo {
  std::string name;
  std::string path;
  uint64_t size = 0;
  int64_t created_us = 0;  // status change time (what Python's getctime reports on Linux)
  int64_t modified_us = 0;
};

// Regular files in `dir` whose names pass CheckDumpName, newest first.
// An absent directory is an empty list.
StatusOr<std::vector<DumpFileInfo>> ListDumpFiles(const std::string& dir);

}  // namespace ctxd::dump
