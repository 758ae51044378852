// Workers: a small thread pool for work that must not run on the I/O
// threads: point-in-time state rebuilds (?at=SEQ, restore) and log scans
// (history, events, changes). Results are handed back through a Responder.
//
// Thread safety: Post is safe from any thread. Join waits for every posted
// task; Post after Join runs nothing.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

namespace ctxd::server {

class Workers {
 public:
  explicit Workers(size_t threads);
  ~Workers();  // Join()
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  void Post(std::function<void()> task);
  void Join();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ctxd::server
