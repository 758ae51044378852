// The ctxd-replay subcommands, each a function from parsed options to an
// exit code (0 ok, 1 failure, 2 usage). main.cc does the parsing (CLI11);
// these do the work and report errors on stderr as "ctxd-replay: ...".
// Output goes to `out` (stdout in the tool).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "tools/replay/progress.h"

namespace ctxd::replay {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

struct DumpOptions {
  std::string data_dir;
  std::optional<uint64_t> at;          // seq; default: the head
  std::optional<std::string> at_time;  // RFC 3339; exclusive with `at`
  std::optional<std::string> session;
  bool include_history = false;
  std::string format = "json";
  std::string output;  // file; empty: `out`
  std::string who = "ctxd-replay";
  Progress::Mode progress = Progress::Mode::kAuto;
};
int RunDump(const DumpOptions& options, std::ostream& out);

struct EventsOptions {
  std::string data_dir;
  uint64_t from = 1;
  std::optional<uint64_t> to;  // default: the head
  Progress::Mode progress = Progress::Mode::kAuto;
};
int RunEvents(const EventsOptions& options, std::ostream& out);

int RunVerify(const std::string& data_dir, Progress::Mode progress, std::ostream& out);
int RunStats(const std::string& data_dir, Progress::Mode progress, std::ostream& out);

// "ctxd-replay: <message>" on stderr; returns `code`.
int Fail(const std::string& message, int code = kExitFailure);

}  // namespace ctxd::replay
