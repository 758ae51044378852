#include "server/dump_service.h"

#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <chrono>
#include <filesystem>
#include <utility>

#include "tools/dump/dump_names.h"
#include "tools/dump/history.h"

namespace ctxd::server {
namespace {

namespace fs = std::filesystem;

int64_t NowMicros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::string AbsoluteDir(const std::string& dir) {
  if (dir.empty()) return dir;
  std::error_code ec;
  fs::path absolute = fs::absolute(dir, ec);
  return (ec ? fs::path(dir) : absolute).lexically_normal().string();
}

// "context_dump_20261122_222141.json" -> "context_dump_20261122_222141_2.json"
std::string WithSuffix(const std::string& name, int n) {
  const fs::path path(name);
  return path.stem().string() + "_" + std::to_string(n) + path.extension().string();
}

std::string MiB(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

// kUnavailable while the file system of `dir` (or of its nearest existing
// parent: the first dump creates it) has too little room left.
Status CheckFreeSpace(const std::string& dir) {
  struct statvfs fs;
  fs::path path(dir);
  while (::statvfs(path.c_str(), &fs) != 0) {
    if (!path.has_relative_path()) return Status::Ok();  // the write will say what is wrong
    path = path.parent_path();
  }
  const uint64_t free_bytes = uint64_t{fs.f_bavail} * fs.f_frsize;
  const uint64_t total_bytes = uint64_t{fs.f_blocks} * fs.f_frsize;
  if (LeavesRoomForTheLog(free_bytes, total_bytes)) return Status::Ok();
  return Status::Unavailable("the dump directory's file system has " + MiB(free_bytes) + " of " +
                             MiB(total_bytes) + " free: ctxd keeps 5 % and at least 64 MiB for the log");
}

}  // namespace

bool LeavesRoomForTheLog(uint64_t free_bytes, uint64_t total_bytes) {
  return free_bytes >= total_bytes / 20 && free_bytes >= (uint64_t{64} << 20);
}

DumpService::DumpService(store::Store& store, const std::string& dir)
    : store_(store), dir_(AbsoluteDir(dir)) {}

StatusOr<DumpRecord> DumpService::Create(const DumpSpec& spec) {
  if (dir_.empty()) return Status::Unavailable("no dump directory is configured");
  CTXD_RETURN_IF_ERROR(CheckFreeSpace(dir_));
  const int64_t now = NowMicros();
  auto name = ReserveName(spec, now);
  if (!name.ok()) return name.status();
  auto record = Write(spec, *name, now);
  Release(*name);
  if (record.ok()) Publish(*record);
  // The client's mistakes are its answer's business; the disk's are the operator's.
  if (record.status().code() == StatusCode::kUnavailable) {
    spdlog::warn("dump {} failed: {}", *name, record.status().message());
  }
  return record;
}

StatusOr<DumpRecord> DumpService::Write(const DumpSpec& spec, const std::string& name, int64_t ts_us) {
  const uint64_t seq = spec.at.value_or(store_.durable_seq());
  auto state = store_.StateAt(seq);  // only durable seqs: past the durable head is kInvalidArgument
  if (!state.ok()) return state.status();
  dump::DumpRequest request;
  request.format = spec.format;
  request.requested_by = spec.who;
  request.store_id = store_.store_id();
  request.dump_ts_us = ts_us;
  request.session = spec.session;
  request.include_history = spec.include_history;
  if (spec.include_history) {
    auto history = dump::CollectHistory(store_.event_log(), seq);
    if (!history.ok()) return history.status();
    request.history = std::move(history).value();
  }
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return Status::Unavailable("cannot create the dump directory " + dir_ + ": " + ec.message());
  const std::string path = (fs::path(dir_) / name).string();
  auto info = dump::WriteDumpFile(*state, request, path);
  if (!info.ok()) return info.status();
  return DumpRecord{name, path, *info, spec.who, ts_us};
}

StatusOr<std::string> DumpService::ReserveName(const DumpSpec& spec, int64_t ts_us) {
  auto name = dump::SanitizeDumpName(spec.name, spec.format, ts_us);
  if (!name.ok()) return name.status();
  std::lock_guard lock(mu_);
  if (spec.name.empty()) {
    // Default names have one-second resolution: keep a second dump in the
    // same second from replacing the first.
    const std::string base = *name;
    std::error_code ec;
    for (int n = 2; names_in_flight_.count(*name) > 0 || fs::exists(fs::path(dir_) / *name, ec); ++n) {
      *name = WithSuffix(base, n);
    }
  }
  names_in_flight_.insert(*name);
  return name;
}

void DumpService::Release(const std::string& name) {
  std::lock_guard lock(mu_);
  names_in_flight_.erase(names_in_flight_.find(name));
}

void DumpService::Publish(const DumpRecord& record) {
  std::vector<Listener> listeners;
  {
    std::lock_guard lock(mu_);
    history_.push_back(record);
    if (history_.size() > kHistoryCap) history_.pop_front();
    listeners = listeners_;
  }
  for (const auto& listener : listeners) listener(record);
}

std::vector<DumpRecord> DumpService::History() const {
  std::lock_guard lock(mu_);
  return {history_.begin(), history_.end()};
}

void DumpService::AddListener(Listener listener) {
  std::lock_guard lock(mu_);
  listeners_.push_back(std::move(listener));
}

}  // namespace ctxd::server
