#include "tools/dump/dump_names.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

namespace ctxd::dump {
namespace {

constexpr int kMaxDecodeRounds = 4;

bool IsNameByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One round of percent-decoding; malformed escapes stay as they are.
std::string PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

bool HasTraversal(std::string_view text) {
  return text.find("..") != std::string_view::npos ||
         text.find_first_of(std::string_view("/\\\0", 3)) != std::string_view::npos;
}

Status Traversal(std::string_view name) {
  std::string shown;
  for (unsigned char c : name) shown += c < 0x20 ? '?' : static_cast<char>(c);
  return Status::InvalidArgument("path traversal refused: '" + shown + "' is not a dump name");
}

int64_t Micros(const struct timespec& ts) { return int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000; }

}  // namespace

bool LooksLikeTraversal(std::string_view text) {
  std::string current(text);
  for (int round = 0; round <= kMaxDecodeRounds; ++round) {
    if (HasTraversal(current)) return true;
    std::string decoded = PercentDecode(current);
    if (decoded == current) return false;
    current = std::move(decoded);
  }
  return true;  // still decoding after several rounds: nobody names a file like that
}

Status CheckDumpName(std::string_view name) {
  if (LooksLikeTraversal(name)) return Traversal(name);
  if (name.empty()) return Status::InvalidArgument("empty dump name");
  if (name.size() > kMaxDumpNameBytes) return Status::InvalidArgument("dump name longer than 200 bytes");
  if (name.front() == '.') return Status::InvalidArgument("dump names do not start with '.'");
  if (!std::all_of(name.begin(), name.end(), IsNameByte)) {
    return Status::InvalidArgument("dump names use only letters, digits, '.', '_' and '-'");
  }
  return Status::Ok();
}

StatusOr<std::string> SanitizeDumpName(std::string_view requested, DumpFormat format, int64_t ts_us) {
  if (requested.empty()) return DefaultDumpName(format, ts_us);
  if (LooksLikeTraversal(requested)) return Traversal(requested);
  std::string name;
  for (char c : requested) name.push_back(IsNameByte(c) ? c : '_');
  if (name.front() == '.') name.front() = '_';
  if (std::filesystem::path(name).extension().empty()) name += "." + std::string(DumpExtension(format));
  CTXD_RETURN_IF_ERROR(CheckDumpName(name));
  return name;
}

std::string DefaultDumpName(DumpFormat format, int64_t ts_us) {
  using namespace std::chrono;
  auto tp = sys_time<microseconds>(microseconds(ts_us));
  auto day = floor<days>(tp);
  year_month_day ymd(day);
  hh_mm_ss hms(floor<seconds>(tp - day));
  char buf[64];
  std::snprintf(buf, sizeof buf, "context_dump_%04d%02u%02u_%02ld%02ld%02ld.", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long>(hms.seconds().count()));
  return buf + std::string(DumpExtension(format));
}

StatusOr<std::string> DumpPath(const std::string& dir, std::string_view name) {
  CTXD_RETURN_IF_ERROR(CheckDumpName(name));
  return (std::filesystem::path(dir) / std::string(name)).string();
}

StatusOr<std::vector<DumpFileInfo>> ListDumpFiles(const std::string& dir) {
  std::vector<DumpFileInfo> files;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec), end;
  if (ec == std::errc::no_such_file_or_directory) return files;
  if (ec) return Status::Unavailable("cannot list " + dir + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    struct stat st;
    if (!CheckDumpName(name).ok() || ::stat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    files.push_back({name, it->path().string(), static_cast<uint64_t>(st.st_size), Micros(st.st_ctim),
                     Micros(st.st_mtim)});
  }
  if (ec) return Status::Unavailable("cannot list " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end(), [](const DumpFileInfo& a, const DumpFileInfo& b) {
    return a.modified_us != b.modified_us ? a.modified_us > b.modified_us : a.name < b.name;
  });
  return files;
}

}  // namespace ctxd::dump
