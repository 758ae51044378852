#include "tools/dump/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace ctxd::dump {
namespace {

Status Errno(const std::string& what, const std::string& path) {
  return Status::Unavailable(what + " " + path + ": " + std::strerror(errno));
}

// The directory holding `path` ("." for a bare name).
std::string DirectoryOf(const std::string& path) {
  std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("cannot fsync directory", dir);
  return Status::Ok();
}

}  // namespace

StatusOr<std::unique_ptr<AtomicFileWriter>> AtomicFileWriter::Create(const std::string& path) {
  std::filesystem::path target(path);
  if (target.filename().empty()) return Status::InvalidArgument("not a file path: " + path);
  std::string temp = (target.parent_path() / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  int fd = ::mkstemp(temp.data());
  if (fd < 0) return Errno("cannot create a temp file for", path);
  ::fchmod(fd, 0644);
  auto writer = std::unique_ptr<AtomicFileWriter>(new AtomicFileWriter(path, temp, fd));
  if (!writer->stream_.is_open()) return Errno("cannot open", temp);
  return writer;
}

AtomicFileWriter::AtomicFileWriter(std::string path, std::string temp_path, int fd)
    : path_(std::move(path)), temp_path_(std::move(temp_path)), fd_(fd) {
  stream_.open(temp_path_, std::ios::binary | std::ios::trunc);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!committed_) Discard();
}

void AtomicFileWriter::Discard() {
  if (stream_.is_open()) stream_.close();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(temp_path_.c_str());
}

Status AtomicFileWriter::Commit() {
  stream_.flush();
  stream_.close();
  if (stream_.fail()) {
    Discard();
    return Status::Unavailable("cannot write " + temp_path_);
  }
  if (::fsync(fd_) != 0) {
    Status error = Errno("cannot fsync", temp_path_);
    Discard();
    return error;
  }
  ::close(fd_);
  fd_ = -1;
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    Status error = Errno("cannot rename the temp file to", path_);
    Discard();
    return error;
  }
  committed_ = true;
  return SyncDirectory(DirectoryOf(path_));
}

}  // namespace ctxd::dump
