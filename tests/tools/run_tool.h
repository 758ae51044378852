// Runs the built ctxd-replay binary (CTXD_REPLAY_BINARY) with arguments and
// collects its exit code, stdout and stderr. Test-only.
#pragma once

#include <string>
#include <vector>

namespace ctxd::testutil {

struct ToolResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

ToolResult RunReplay(const std::vector<std::string>& args);

}  // namespace ctxd::testutil
