// Core benchmarks: durable group-commit append, engine apply, replay,
// snapshot write/load and memory per key. Results: docs/benchmarks.md.
//
//   build/bin/store_bench --benchmark_counters_tabular=true
//
// Data goes to $CTXD_BENCH_DIR (default /tmp): the durable figures are
// those of that file system's fsync.
#include <benchmark/benchmark.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <chrono>
#include <filesystem>
#include <thread>

#include "bench/bench_util.h"
#include "engine/engine.h"
#include "engine/event_codec.h"
#include "snapshots/recovery.h"
#include "snapshots/snapshot_codec.h"
#include "store/store.h"

namespace ctxd::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::string BenchDir(const std::string& name) {
  const char* base = std::getenv("CTXD_BENCH_DIR");
  std::string dir = std::string(base ? base : "/tmp") + "/ctxd-bench-" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

// A 100-byte JSON string that differs for every n: a set to the value a key
// already has appends nothing, so a benchmark must never repeat one.
std::string ValueFor(uint64_t n) {
  std::string value = JsonValueOfSize(100);
  const std::string digits = std::to_string(n);
  value.replace(1, digits.size(), digits);
  return value;
}

// Set n: key n % keys to ValueFor(n).
engine::Command SetCommand(uint64_t n, uint64_t keys = 100000) {
  engine::Command command;
  command.actor = "bench";
  command.command_id = std::to_string(n);
  command.body = engine::SetContext{"key-" + std::to_string(n % keys), ValueFor(n), std::nullopt};
  return command;
}

// `count` concurrent submitters, each keeping one durable set (100-byte
// value) in flight: its completion submits its next set, as a server
// connection does. Completions run on the store's writer thread, so the
// latency samples need no lock.
class AsyncSubmitters {
 public:
  AsyncSubmitters(store::Store& store, int count, Clock::duration length)
      : store_(store), deadline_(Clock::now() + length),
        latencies_(count), running_(count) {}

  // Runs until the deadline; returns every latency sample in microseconds.
  std::vector<double> Run() {
    for (int i = 0; i < static_cast<int>(latencies_.size()); ++i) Send(i);
    std::unique_lock lock(mu_);
    done_.wait(lock, [&] { return running_ == 0; });
    std::vector<double> all;
    for (auto& l : latencies_) all.insert(all.end(), l.begin(), l.end());
    return all;
  }

 private:
  void Send(int submitter) {
    const auto sent = Clock::now();
    store_.Submit(SetCommand(next_++), [this, submitter, sent](StatusOr<engine::CommandResult> r) {
      if (!r.ok()) std::abort();
      const auto now = Clock::now();
      latencies_[submitter].push_back(std::chrono::duration<double, std::micro>(now - sent).count());
      if (now < deadline_) return Send(submitter);
      std::lock_guard lock(mu_);
      if (--running_ == 0) done_.notify_one();
    });
  }

  store::Store& store_;
  const Clock::time_point deadline_;
  std::atomic<uint64_t> next_{0};
  std::vector<std::vector<double>> latencies_;
  std::mutex mu_;
  std::condition_variable done_;
  int running_;  // guarded by mu_
};

// Durable group-commit append: acknowledged sets/s, latency percentiles and
// how many events each fsync covered.
void BM_DurableAppend(benchmark::State& state) {
  const std::string dir = BenchDir("append");
  store::StoreOptions options;
  options.dir = dir;
  options.snapshots.every_events = 0;
  auto store = std::move(store::Store::Open(options)).value();
  std::atomic<uint64_t> batches{0}, events{0};
  store->AddCommitStatsListener([&](const store::CommitStats& stats) {
    batches++;
    events += stats.events;
  });
  for (auto _ : state) {
    const auto start = Clock::now();
    auto latencies = AsyncSubmitters(*store, static_cast<int>(state.range(0)), std::chrono::seconds(3)).Run();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    state.counters["sets/s"] = static_cast<double>(latencies.size()) / seconds;
    state.counters["p50_us"] = Percentile(latencies, 50);
    state.counters["p99_us"] = Percentile(latencies, 99);
    state.counters["events/fsync"] = static_cast<double>(events) / static_cast<double>(std::max<uint64_t>(1, batches));
  }
  store.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_DurableAppend)->Arg(1)->Arg(16)->Arg(64)->Arg(256)->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);

// Raw fsync rate of the same file system, for comparison: append 100 bytes + fdatasync.
void BM_RawAppendFdatasync(benchmark::State& state) {
  const std::string dir = BenchDir("raw");
  std::filesystem::create_directories(dir);
  FILE* f = std::fopen((dir + "/raw.log").c_str(), "w");
  const std::string record(100, 'r');
  for (auto _ : state) {
    std::fwrite(record.data(), 1, record.size(), f);
    std::fflush(f);
    ::fdatasync(::fileno(f));
  }
  std::fclose(f);
  state.counters["syncs/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_RawAppendFdatasync)->MinTime(2.0)->UseRealTime();

// Engine: execute + apply one context set (no I/O).
void BM_EngineApply(benchmark::State& state) {
  engine::State engine_state;
  uint64_t n = 0;
  for (auto _ : state) {
    auto outcome = engine::Execute(engine_state, SetCommand(n), 1);
    benchmark::DoNotOptimize(outcome);
    ++n;
  }
  state.counters["ops/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EngineApply);

// A log of `events` context sets over `keys` distinct keys, written without fsync.
std::unique_ptr<log::EventLog> BuildLog(const std::string& dir, uint64_t events, uint64_t keys) {
  auto log = std::move(log::EventLog::Open(dir, {})).value();
  engine::State state;
  std::vector<log::LogRecord> batch;
  for (uint64_t n = 0; n < events; ++n) {
    auto outcome = engine::Execute(state, SetCommand(n, keys), static_cast<int64_t>(n));
    log::LogRecord record{outcome->event->seq, {}, {}};
    engine::EncodeEvent(*outcome->event, &record.payload);
    batch.push_back(std::move(record));
    if (batch.size() == 1000) {
      if (!log->Append(batch, false).ok()) std::abort();
      batch.clear();
    }
  }
  if (!batch.empty() && !log->Append(batch, false).ok()) std::abort();
  return log;
}

// Replay of 1M events from the log into an empty state.
void BM_Replay(benchmark::State& state) {
  const uint64_t events = static_cast<uint64_t>(state.range(0));
  const std::string dir = BenchDir("replay");
  auto log = BuildLog(dir, events, 100000);
  for (auto _ : state) {
    engine::State replayed;
    if (!snapshots::ReplayInto(*log, replayed, events).ok()) std::abort();
    benchmark::DoNotOptimize(replayed);
  }
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events * state.iterations()), benchmark::Counter::kIsRate);
  log.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Replay)->Arg(1'000'000)->Iterations(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// A state with `keys` distinct keys of 100-byte values.
engine::State StateWithDistinctKeys(uint64_t keys) {
  engine::State state;
  for (uint64_t n = 0; n < keys; ++n) (void)engine::Execute(state, SetCommand(n, keys), static_cast<int64_t>(n));
  return state;
}

// Memory held by the state per 1M keys of 100-byte values (RSS delta).
void BM_MemoryPerMillionKeys(benchmark::State& state) {
  for (auto _ : state) {
    const uint64_t before = ResidentBytes();
    engine::State big = StateWithDistinctKeys(1'000'000);
    benchmark::DoNotOptimize(big);
    state.counters["MiB/1M keys"] = static_cast<double>(ResidentBytes() - before) / (1 << 20);
  }
}
BENCHMARK(BM_MemoryPerMillionKeys)->Iterations(1)->Unit(benchmark::kMillisecond);

// Snapshot write (encode + store) and load (read + decode) of 1M keys.
void BM_SnapshotWrite(benchmark::State& state) {
  const std::string dir = BenchDir("snapwrite");
  auto log = std::move(log::EventLog::Open(dir, {})).value();
  const engine::State big = StateWithDistinctKeys(1'000'000);
  uint64_t bytes = 0;
  for (auto _ : state) {
    const std::string encoded = snapshots::EncodeState(big);
    bytes = encoded.size();
    if (!log->PutSnapshot(big.head_seq, encoded).ok()) std::abort();
  }
  state.counters["MiB"] = static_cast<double>(bytes) / (1 << 20);
  log.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SnapshotWrite)->Iterations(3)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_SnapshotLoad(benchmark::State& state) {
  const std::string dir = BenchDir("snapload");
  auto log = std::move(log::EventLog::Open(dir, {})).value();
  {
    engine::State big = StateWithDistinctKeys(1'000'000);
    if (!log->PutSnapshot(big.head_seq, snapshots::EncodeState(big)).ok()) std::abort();
  }
  for (auto _ : state) {
    auto decoded = snapshots::DecodeState(log->ReadSnapshot(1'000'000).value());
    if (!decoded.ok()) std::abort();
    benchmark::DoNotOptimize(decoded);
  }
  log.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SnapshotLoad)->Iterations(3)->UseRealTime()->Unit(benchmark::kMillisecond);

// Restart (Store::Open) of a 1M-event store with a snapshot near its head.
void BM_RestartWithSnapshot(benchmark::State& state) {
  const std::string dir = BenchDir("restart");
  {
    auto log = BuildLog(dir, 1'000'000, 1'000'000);
    auto rebuilt = snapshots::RebuildState(*log, {}, 990'000);
    if (!log->PutSnapshot(990'000, snapshots::EncodeState(*rebuilt)).ok()) std::abort();
  }
  for (auto _ : state) {
    store::StoreOptions options;
    options.dir = dir;
    options.snapshots.every_events = 0;
    auto store = store::Store::Open(options);
    if (!store.ok()) std::abort();
    state.PauseTiming();
    store->reset();
    state.ResumeTiming();
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_RestartWithSnapshot)->Iterations(3)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ctxd::bench

BENCHMARK_MAIN();
