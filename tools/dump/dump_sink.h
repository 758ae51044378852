// DumpSink: buffered output for the dump writers. Formats append to
// buffer(); the sink hands it to the stream in large chunks, so a dump of
// millions of keys costs a few big writes. Internal to tools/dump.
//
// Thread safety: a value used by one thread.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "common/status.h"

namespace ctxd::dump {

class DumpSink {
 public:
  explicit DumpSink(std::ostream& out) : out_(out) { buffer_.reserve(kChunkBytes + kChunkBytes / 4); }

  std::string& buffer() { return buffer_; }
  void Append(std::string_view text) { buffer_.append(text); }
  // Writes the buffer out once it holds a chunk; call between records.
  void MaybeFlush() {
    if (buffer_.size() >= kChunkBytes) Flush();
  }
  // Writes what is left and flushes the stream.
  Status Finish();
  uint64_t bytes() const { return written_ + buffer_.size(); }

 private:
  static constexpr size_t kChunkBytes = size_t{1} << 20;
  void Flush();

  std::ostream& out_;
  std::string buffer_;
  uint64_t written_ = 0;
  int error_ = 0;  // errno when the stream first failed (ENOSPC, EIO, ...)
};

}  // namespace ctxd::dump
