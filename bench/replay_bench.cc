// replay_bench: builds the store for the ctxd-replay dump benchmark
// (docs/replay.md, "Performance"): `--events` context.set events, the first
// `--keys` of them creating keys key-0000000.. and the rest updating random
// ones, a snapshot every `--snapshot-every` events. Events are built by the
// engine (Execute), encoded and appended with the store's index entries
// exactly as store::Store writes them, but without fsync and in large
// batches, so a 2,000,000-event store takes seconds rather than minutes.
//
//   replay_bench --dir /tmp/replay-bench [--events 2000000] [--keys 1000000]
//   time ctxd-replay dump --data /tmp/replay-bench --at 1000000 --format json -o /tmp/x.json
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <random>

#include "engine/engine.h"
#include "engine/event_codec.h"
#include "log/event_log.h"
#include "snapshots/snapshot_codec.h"
#include "store/store.h"

namespace {

using namespace ctxd;

constexpr uint64_t kBatchEvents = 8192;
constexpr int64_t kStartTs = 1'795'000'000'000'000;

struct Options {
  std::string dir;
  uint64_t events = 2'000'000;
  uint64_t keys = 1'000'000;
  uint64_t snapshot_every = 100'000;
};

std::string KeyName(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "key-%07llu", static_cast<unsigned long long>(i));
  return buf;
}

// A small JSON object like the ones scripts keep in the context (canonical).
std::string Value(uint64_t i) {
  return "{\"n\":" + std::to_string(i) + ",\"name\":\"value-" + std::to_string(i) + "\",\"ok\":true}";
}

engine::Command SetCommand(std::string key, uint64_t i) {
  engine::Command command;
  command.actor = "bench";
  command.command_id = "bench-" + std::to_string(i);
  command.body = engine::SetContext{std::move(key), Value(i), std::nullopt};
  return command;
}

Status Append(log::EventLog& log, std::vector<log::LogRecord>& batch) {
  Status status = log.Append(batch, /*sync=*/false);
  batch.clear();
  return status;
}

Status Generate(const Options& options) {
  auto log = log::EventLog::Open(options.dir, log::LogOptions{});
  if (!log.ok()) return log.status();
  if ((*log)->head_seq() != 0) return Status::InvalidArgument(options.dir + " is not empty");
  engine::State state;
  std::mt19937_64 rng(42);
  std::vector<log::LogRecord> batch;
  for (uint64_t i = 0; i < options.events; ++i) {
    std::string key = KeyName(i < options.keys ? i : rng() % options.keys);
    std::string prefix = store::Store::KeyIndexPrefix(key);
    auto outcome =
        engine::Execute(state, SetCommand(std::move(key), i), kStartTs + static_cast<int64_t>(i) * 10);
    if (!outcome.ok()) return outcome.status();
    log::LogRecord record{state.head_seq, {}, {std::move(prefix)}};
    engine::EncodeEvent(*outcome->event, &record.payload);
    batch.push_back(std::move(record));
    if (batch.size() == kBatchEvents || state.head_seq % options.snapshot_every == 0) {
      CTXD_RETURN_IF_ERROR(Append(**log, batch));
    }
    if (state.head_seq % options.snapshot_every == 0) {
      CTXD_RETURN_IF_ERROR((*log)->PutSnapshot(state.head_seq, snapshots::EncodeState(state)));
      std::fprintf(stderr, "seq %llu, snapshot written\n", static_cast<unsigned long long>(state.head_seq));
    }
  }
  if (!batch.empty()) CTXD_RETURN_IF_ERROR(Append(**log, batch));
  return Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Builds a ctxd store for the ctxd-replay dump benchmark."};
  app.add_option("--dir", options.dir, "where to create the store (must be empty or absent)")->required();
  app.add_option("--events", options.events, "context.set events")->capture_default_str();
  app.add_option("--keys", options.keys, "distinct keys, created by the first events")->capture_default_str();
  app.add_option("--snapshot-every", options.snapshot_every, "events between snapshots")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (options.snapshot_every == 0 || options.keys == 0) {
    std::fprintf(stderr, "--keys and --snapshot-every must be positive\n");
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  Status status = Generate(options);
  if (!status.ok()) {
    std::fprintf(stderr, "replay_bench: %s\n", status.ToString().c_str());
    return 1;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "wrote %llu events in %.1f s\n", static_cast<unsigned long long>(options.events),
               seconds);
  return 0;
}
