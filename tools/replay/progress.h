// Progress: tells the user on stderr how far a long run got. On a terminal
// (isatty) a bar redrawn at most ten times a second; otherwise a plain line
// every ten seconds, so short runs and pipelines print nothing.
//
// Thread safety: a value used by one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace ctxd::replay {

class Progress {
 public:
  enum class Mode { kAuto, kBar, kLines, kOff };

  Progress(std::string label, uint64_t total, Mode mode = Mode::kAuto, std::FILE* out = stderr);
  ~Progress() { Finish(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Cheap enough to call for every event.
  void Update(uint64_t done) {
    if (mode_ != Mode::kOff && done >= next_check_) Check(done);
  }
  // Ends the bar's line. Idempotent.
  void Finish();

 private:
  using Clock = std::chrono::steady_clock;
  void Check(uint64_t done);
  void Draw(uint64_t done);

  const std::string label_;
  const uint64_t total_;
  const uint64_t step_;  // updates between clock reads
  Mode mode_;
  std::FILE* out_;
  const Clock::time_point start_;
  Clock::time_point last_shown_;
  uint64_t next_check_ = 0;
  bool drawn_ = false;
};

}  // namespace ctxd::replay
