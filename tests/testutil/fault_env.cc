#include "tests/testutil/fault_env.h"

#include <rocksdb/file_system.h>

#include <string>
#include <utility>

namespace ctxd::testutil {
namespace {

using State = FaultInjectionEnv::State;

enum class Op { kWrite, kSync };

// The injected error while a flag covering `op` is set, OK otherwise.
rocksdb::IOStatus Injected(State& state, Op op) {
  bool fail = state.fail_writes.load() || (op == Op::kSync && state.fail_syncs.load());
  if (!fail) return rocksdb::IOStatus::OK();
  state.failed_writes.fetch_add(1);
  if (state.fault.load() == FaultInjectionEnv::Fault::kNoSpace) {
    return rocksdb::IOStatus::NoSpace("injected");
  }
  return rocksdb::IOStatus::IOError("injected");
}

// Blocks a sync while the test holds syncs.
void WaitWhileHeld(State& state) {
  std::unique_lock lock(state.hold_mu);
  if (!state.hold_syncs) return;
  ++state.held_syncs;
  state.hold_cv.notify_all();
  state.hold_cv.wait(lock, [&] { return !state.hold_syncs; });
  --state.held_syncs;
}

class FaultyWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyWritableFile(std::unique_ptr<rocksdb::FSWritableFile> file, std::shared_ptr<State> state)
      : FSWritableFileOwnerWrapper(std::move(file)), state_(std::move(state)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    return Guard(Op::kWrite, [&] { return target()->Append(data, options, dbg); });
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info, rocksdb::IODebugContext* dbg) override {
    return Guard(Op::kWrite, [&] { return target()->Append(data, options, info, dbg); });
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    return Guard(Op::kWrite, [&] { return target()->PositionedAppend(data, offset, options, dbg); });
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    return Guard(Op::kWrite, [&] { return target()->PositionedAppend(data, offset, options, info, dbg); });
  }
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    return Guard(Op::kWrite, [&] { return target()->Flush(options, dbg); });
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    WaitWhileHeld(*state_);
    return Guard(Op::kSync, [&] { return target()->Sync(options, dbg); });
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    WaitWhileHeld(*state_);
    return Guard(Op::kSync, [&] { return target()->Fsync(options, dbg); });
  }
  rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override {
    return Guard(Op::kSync, [&] { return target()->RangeSync(offset, nbytes, options, dbg); });
  }

 private:
  template <typename Call>
  rocksdb::IOStatus Guard(Op op, Call call) {
    rocksdb::IOStatus injected = Injected(*state_, op);
    return injected.ok() ? call() : injected;
  }

  std::shared_ptr<State> state_;
};

class FaultyFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit FaultyFileSystem(std::shared_ptr<State> state)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), state_(std::move(state)) {}

  const char* Name() const override { return "CtxdFaultyFileSystem"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    return Wrap(target()->NewWritableFile(name, options, result, dbg), result);
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override {
    return Wrap(target()->ReopenWritableFile(name, options, result, dbg), result);
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override {
    return Wrap(target()->ReuseWritableFile(name, old_name, options, result, dbg), result);
  }

 private:
  rocksdb::IOStatus Wrap(rocksdb::IOStatus opened, std::unique_ptr<rocksdb::FSWritableFile>* result) {
    if (opened.ok()) *result = std::make_unique<FaultyWritableFile>(std::move(*result), state_);
    return opened;
  }

  std::shared_ptr<State> state_;
};

}  // namespace

FaultInjectionEnv::FaultInjectionEnv()
    : state_(std::make_shared<State>()),
      env_(rocksdb::NewCompositeEnv(std::make_shared<FaultyFileSystem>(state_))) {}

FaultInjectionEnv::~FaultInjectionEnv() = default;

void FaultInjectionEnv::SetHoldSyncs(bool hold) {
  {
    std::lock_guard lock(state_->hold_mu);
    state_->hold_syncs = hold;
  }
  state_->hold_cv.notify_all();
}

bool FaultInjectionEnv::WaitForHeldSync(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->hold_mu);
  return state_->hold_cv.wait_for(lock, timeout, [&] { return state_->held_syncs > 0; });
}

}  // namespace ctxd::testutil
