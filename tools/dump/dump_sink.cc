#include "tools/dump/dump_sink.h"

namespace ctxd::dump {

void DumpSink::Flush() {
  out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  written_ += buffer_.size();
  buffer_.clear();
}

Status DumpSink::Finish() {
  Flush();
  out_.flush();
  if (!out_) return Status::Unavailable("writing the dump failed");
  return Status::Ok();
}

}  // namespace ctxd::dump
