// crash_writer DIR WRITER_ID: opens a durable Store on DIR and writes
// "w<WRITER_ID>-<n>" = n from many concurrent submitters, printing
// "ack <key> <seq>" to stdout (unbuffered) after each completion fires.
// The crash test SIGKILLs it at a random moment; every printed ack must
// survive.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: crash_writer DIR WRITER_ID\n");
    return 2;
  }
  ctxd::store::StoreOptions options;
  options.dir = argv[1];
  options.snapshots.every_events = 2000;  // snapshots get interrupted too
  auto store = ctxd::store::Store::Open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "open failed: %s\n", store.status().ToString().c_str());
    return 1;
  }
  const std::string writer = argv[2];
  constexpr int kSubmitters = 16;
  std::vector<std::thread> threads;
  for (int t = 0; t < kSubmitters; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0;; ++n) {
        const std::string key = "w" + writer + "-" + std::to_string(t) + "-" + std::to_string(n);
        ctxd::engine::Command command;
        command.actor = "crash";
        command.body = ctxd::engine::SetContext{key, std::to_string(n), std::nullopt};
        auto result = (*store)->Execute(std::move(command));
        if (!result.ok()) return;
        // One write(2) per line: lines from different threads never interleave.
        const std::string line = "ack " + key + " " + std::to_string(result->seq) + "\n";
        if (::write(STDOUT_FILENO, line.data(), line.size()) < 0) return;
      }
    });
  }
  for (auto& t : threads) t.join();
  return 0;
}
