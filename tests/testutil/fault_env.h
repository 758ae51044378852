// FaultInjectionEnv: a rocksdb::Env whose writable files fail on demand.
//
// Wraps the default FileSystem. While SetFailWrites(true) is in effect every
// Append / PositionedAppend / Flush / Sync / Fsync / RangeSync on a writable
// file (WAL, MANIFEST, SST, ...) returns an error, the way a dying disk
// does; nothing reaches the file. SetFailSyncs(true) fails only Sync / Fsync
// / RangeSync: the bytes reach the file (the page cache) but are never
// reported durable, the case where a write the caller saw fail can still
// show up after a restart. Files opened before a flag was set are covered,
// so an already-open WAL fails too. Reads are never affected.
// SetHoldSyncs(true) makes every Sync / Fsync wait until SetHoldSyncs(false);
// the fault flags are checked when it resumes, so a test can hold a write in
// its fsync, arrange what it wants around it, then decide its outcome.
//
// Ownership: the env owns its FileSystem; it must outlive every DB that runs
// on it. Thread safety: the setters may be called from any thread while
// RocksDB uses the env.
#pragma once

#include <rocksdb/env.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

namespace ctxd::testutil {

class FaultInjectionEnv {
 public:
  enum class Fault { kIOError, kNoSpace };

  FaultInjectionEnv();
  ~FaultInjectionEnv();
  FaultInjectionEnv(const FaultInjectionEnv&) = delete;
  FaultInjectionEnv& operator=(const FaultInjectionEnv&) = delete;

  // The env to hand to RocksDB (LogOptions::env).
  rocksdb::Env* env() const { return env_.get(); }

  void SetFailWrites(bool fail) { state_->fail_writes.store(fail); }
  void SetFailSyncs(bool fail) { state_->fail_syncs.store(fail); }
  // Which error failing writes report; kIOError by default.
  void SetFault(Fault fault) { state_->fault.store(fault); }
  // How many writes have been refused since construction.
  uint64_t failed_writes() const { return state_->failed_writes.load(); }
  void SetHoldSyncs(bool hold);
  // Waits (at most `timeout`) until a sync is held; false on timeout.
  bool WaitForHeldSync(std::chrono::milliseconds timeout);

  // Shared by the env's files; outlives them if a DB keeps one open.
  struct State {
    std::atomic<bool> fail_writes{false};
    std::atomic<bool> fail_syncs{false};
    std::atomic<Fault> fault{Fault::kIOError};
    std::atomic<uint64_t> failed_writes{0};
    std::mutex hold_mu;
    std::condition_variable hold_cv;
    bool hold_syncs = false;  // guarded by hold_mu
    int held_syncs = 0;       // guarded by hold_mu: syncs waiting now
  };

 private:
  std::shared_ptr<State> state_;
  std::unique_ptr<rocksdb::Env> env_;
};

}  // namespace ctxd::testutil
