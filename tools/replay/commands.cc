#include "tools/replay/commands.h"

#include <iostream>

namespace ctxd::replay {

int Fail(const std::string& message, int code) {
  std::cerr << "ctxd-replay: " << message << "\n";
  return code;
}

}  // namespace ctxd::replay
