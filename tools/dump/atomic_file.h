// AtomicFileWriter: writes a file so that a reader sees either the previous
// file (or none) or the whole new one, never a partial write, even across a
// crash. Data goes to a temp file ".<name>.tmp-XXXXXX" in the target's
// directory; Commit() flushes and fsyncs it, renames it over the target and
// fsyncs the directory. Without Commit() the temp file is removed.
//
// Temp names start with '.', which dump names never do (dump_names.h), so
// a dump listing or download never exposes one.
// Thread safety: a value used by one thread.
#pragma once

#include <fstream>
#include <memory>
#include <string>

#include "common/status.h"

namespace ctxd::dump {

class AtomicFileWriter {
 public:
  // kUnavailable when the temp file cannot be created.
  static StatusOr<std::unique_ptr<AtomicFileWriter>> Create(const std::string& path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  std::ostream& stream() { return stream_; }
  const std::string& temp_path() const { return temp_path_; }
  // Publishes the file at its path; kUnavailable (and no file change) on
  // any write, fsync or rename error. Call at most once.
  Status Commit();

 private:
  AtomicFileWriter(std::string path, std::string temp_path, int fd);
  void Discard();

  const std::string path_;
  const std::string temp_path_;
  int fd_;  // the temp file, kept open for fsync; -1 once closed
  std::ofstream stream_;
  bool committed_ = false;
};

}  // namespace ctxd::dump
