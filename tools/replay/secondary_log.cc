#include "tools/replay/secondary_log.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ctxd::replay {
namespace {

StatusOr<std::string> MakeTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = (base && *base ? std::string(base) : std::string("/tmp")) + "/ctxd-replay-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Status::Unavailable("cannot create a temp directory " + pattern + ": " + std::strerror(errno));
  }
  return pattern;
}

void RemoveTree(const std::string& dir) {
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace

StatusOr<std::unique_ptr<SecondaryLog>> SecondaryLog::Open(const std::string& data_dir) {
  auto temp = MakeTempDir();
  if (!temp.ok()) return temp.status();
  log::LogOptions options;
  options.mode = log::LogOptions::Mode::kSecondary;
  options.secondary_dir = *temp;
  options.create_if_missing = false;
  auto log = log::EventLog::Open(data_dir, options);
  if (!log.ok()) {
    RemoveTree(*temp);
    return log.status();
  }
  Status caught_up = (*log)->CatchUp();
  if (!caught_up.ok()) {
    log->reset();
    RemoveTree(*temp);
    return caught_up;
  }
  return std::unique_ptr<SecondaryLog>(new SecondaryLog(*temp, std::move(log).value()));
}

SecondaryLog::~SecondaryLog() {
  log_.reset();
  RemoveTree(temp_dir_);
}

}  // namespace ctxd::replay
