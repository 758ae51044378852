#include "tools/replay/progress.h"

#include <unistd.h>

#include <algorithm>

namespace ctxd::replay {
namespace {

constexpr auto kBarInterval = std::chrono::milliseconds(100);
constexpr auto kLineInterval = std::chrono::seconds(10);
constexpr int kBarWidth = 40;

Progress::Mode Resolve(Progress::Mode mode, std::FILE* out) {
  if (mode != Progress::Mode::kAuto) return mode;
  return ::isatty(::fileno(out)) ? Progress::Mode::kBar : Progress::Mode::kLines;
}

}  // namespace

Progress::Progress(std::string label, uint64_t total, Mode mode, std::FILE* out)
    : label_(std::move(label)),
      total_(total),
      step_(std::max<uint64_t>(1, total / 2000)),
      mode_(Resolve(mode, out)),
      out_(out),
      start_(Clock::now()),
      last_shown_(start_) {}

void Progress::Check(uint64_t done) {
  next_check_ = done + step_;
  const auto now = Clock::now();
  const auto interval = mode_ == Mode::kBar ? kBarInterval : kLineInterval;
  if (now - last_shown_ < interval) return;
  last_shown_ = now;
  Draw(done);
}

void Progress::Draw(uint64_t done) {
  const double fraction = total_ == 0 ? 1.0 : std::min(1.0, static_cast<double>(done) / total_);
  const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
  if (mode_ == Mode::kBar) {
    const int filled = static_cast<int>(fraction * kBarWidth);
    std::string bar(filled, '=');
    if (filled < kBarWidth) bar += '>' + std::string(kBarWidth - filled - 1, ' ');
    std::fprintf(out_, "\r%s [%s] %3d%% %llu/%llu %.1fs", label_.c_str(), bar.c_str(),
                 static_cast<int>(fraction * 100), static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total_), seconds);
  } else {
    std::fprintf(out_, "%s: %llu/%llu (%d%%) after %.0fs\n", label_.c_str(),
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_),
                 static_cast<int>(fraction * 100), seconds);
  }
  std::fflush(out_);
  drawn_ = true;
}

void Progress::Finish() {
  if (mode_ == Mode::kBar && drawn_) {
    Draw(total_);
    std::fputc('\n', out_);
    std::fflush(out_);
  }
  mode_ = Mode::kOff;
}

}  // namespace ctxd::replay
