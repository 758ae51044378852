// Names a thread (at most 15 characters), so that top -H, perf and
// /proc/<pid>/task/*/comm tell ctxd's threads apart. Named by the thread
// that started it, so the name is there as soon as the thread is.
#pragma once

#include <thread>

namespace ctxd {

void NameThread(std::thread& thread, const char* name);

}  // namespace ctxd
