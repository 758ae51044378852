#include "tools/dump/dump_sink.h"

#include <cerrno>
#include <cstring>

namespace ctxd::dump {

void DumpSink::Flush() {
  errno = 0;
  out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  if (!out_ && error_ == 0) error_ = errno;
  written_ += buffer_.size();
  buffer_.clear();
}

Status DumpSink::Finish() {
  Flush();
  errno = 0;
  out_.flush();
  if (!out_ && error_ == 0) error_ = errno;
  if (!out_) {
    return Status::Unavailable(std::string("writing the dump failed") +
                               (error_ != 0 ? std::string(": ") + std::strerror(error_) : std::string()));
  }
  return Status::Ok();
}

}  // namespace ctxd::dump
