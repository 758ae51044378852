#include "store/store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <chrono>
#include <future>

#include "common/thread_name.h"
#include "engine/engine.h"
#include "engine/event_codec.h"
#include "snapshots/recovery.h"

namespace ctxd::store {
namespace {

int64_t NowMicros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

// The index prefixes an event is filed under: each key and node it touches,
// and its session; sorted, without duplicates.
std::vector<std::string> IndexPrefixes(const engine::Event& event) {
  std::vector<std::string> prefixes;
  prefixes.reserve(event.changes.size() + 1);
  for (const auto& change : event.changes) {
    std::visit(
        [&](const auto& c) {
          using T = std::decay_t<decltype(c)>;
          if constexpr (std::is_same_v<T, engine::CtxPut> || std::is_same_v<T, engine::CtxDel>) {
            prefixes.push_back(Store::KeyIndexPrefix(c.key));
          } else if constexpr (std::is_same_v<T, engine::EdgeAdd> || std::is_same_v<T, engine::EdgeRemove>) {
            prefixes.push_back(Store::NodeIndexPrefix(event.session, c.parent));
            prefixes.push_back(Store::NodeIndexPrefix(event.session, c.child));
          } else {
            prefixes.push_back(Store::NodeIndexPrefix(event.session, c.node));
          }
        },
        change);
  }
  if (!event.session.empty()) prefixes.push_back(Store::SessionIndexPrefix(event.session));
  if (prefixes.size() > 1) {
    std::sort(prefixes.begin(), prefixes.end());
    prefixes.erase(std::unique(prefixes.begin(), prefixes.end()), prefixes.end());
  }
  return prefixes;
}

}  // namespace

// One group commit: the drained submissions, their answers and the events to write.
struct Store::Batch {
  std::vector<Submission> submissions;
  std::vector<StatusOr<engine::CommandResult>> results;
  std::shared_ptr<std::vector<engine::Event>> events = std::make_shared<std::vector<engine::Event>>();
  std::vector<log::LogRecord> records;
};

std::string Store::KeyIndexPrefix(std::string_view key) {
  std::string p = "k";
  p.append(key);
  p.push_back('\0');
  return p;
}

std::string Store::NodeIndexPrefix(std::string_view session, std::string_view node) {
  std::string p = "n";
  p.append(session);
  p.push_back('\0');
  p.append(node);
  p.push_back('\0');
  return p;
}

std::string Store::SessionIndexPrefix(std::string_view session) {
  std::string p = "s";
  p.append(session);
  p.push_back('\0');
  return p;
}

StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  log::LogOptions log_options;
  log_options.env = options.env;
  log_options.every_write_synced = options.sync;
  auto log = log::EventLog::Open(options.dir, log_options);
  if (!log.ok()) return log.status();
  const auto started = std::chrono::steady_clock::now();
  auto state = snapshots::RebuildState(**log, options.limits);
  if (!state.ok()) return state.status();
  spdlog::info(
      "recovered {} events in {} ms", state->head_seq,
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
          .count());
  return std::unique_ptr<Store>(new Store(options, std::move(log).value(), std::move(state).value()));
}

Store::Store(const StoreOptions& options, std::unique_ptr<log::EventLog> log, engine::State state)
    : options_(options), log_(std::move(log)), state_(std::move(state)) {
  durable_seq_.store(state_.head_seq);
  snapshotter_ = std::make_unique<snapshots::Snapshotter>(*log_, options_.limits, options_.snapshots);
  writer_ = std::thread([this] { WriterLoop(); });
  NameThread(writer_, "ctxd-writer");
  writer_waiting_.wait();
}

Store::~Store() { Close(); }

void Store::Close() {
  std::call_once(close_once_, [this] {
    {
      std::lock_guard lock(queue_mu_);
      closing_ = true;
    }
    queue_cv_.notify_all();
    writer_.join();
    snapshotter_.reset();
  });
}

bool Store::Enqueue(engine::Command& command, Completion& done, const void* source,
                    std::unique_lock<std::mutex>& lock) {
  if (closing_) {
    lock.unlock();
    done(Status::Unavailable("the store is shutting down"));
    return false;
  }
  pending_.push_back({std::move(command), std::move(done), source});
  return true;
}

void Store::Submit(engine::Command command, Completion done) {
  std::unique_lock lock(queue_mu_);
  if (Enqueue(command, done, nullptr, lock) && pending_.size() == 1 && !committing_) queue_cv_.notify_one();
}

void Store::SubmitDeferred(engine::Command command, Completion done, const void* source) {
  std::unique_lock lock(queue_mu_);
  Enqueue(command, done, source, lock);  // CommitPending wakes the writer if need be
}

void Store::CommitPending() {
  std::unique_lock lock(queue_mu_);
  // A batch being committed hands what queued meanwhile to the writer when it ends (RunBatch).
  if (pending_.empty() || committing_) return;
  if (!last_batch_solo_ || closing_) return queue_cv_.notify_one();
  committing_ = true;
  Batch batch;
  batch.submissions = TakeBatchLocked();
  lock.unlock();
  RunBatch(batch);
}

StatusOr<engine::CommandResult> Store::Execute(engine::Command command) {
  std::promise<StatusOr<engine::CommandResult>> promise;
  auto future = promise.get_future();
  Submit(std::move(command),
         [&promise](StatusOr<engine::CommandResult> r) { promise.set_value(std::move(r)); });
  return future.get();
}

void Store::AddCommitListener(CommitListener fn) {
  std::lock_guard lock(listeners_mu_);
  listeners_.push_back(std::move(fn));
}

void Store::AddCommitStatsListener(CommitStatsListener fn) {
  std::lock_guard lock(listeners_mu_);
  stats_listeners_.push_back(std::move(fn));
}

std::vector<Store::Submission> Store::TakePending() {
  std::unique_lock lock(queue_mu_);
  if (!writer_waiting_.try_wait()) writer_waiting_.count_down();  // queue_mu_ is held until the wait
  queue_cv_.wait(lock, [&] { return !committing_ && (closing_ || !pending_.empty()); });
  committing_ = true;
  return TakeBatchLocked();
}

std::vector<Store::Submission> Store::TakeBatchLocked() {
  std::vector<Submission> taken;
  if (pending_.size() <= options_.max_batch) {
    taken.swap(pending_);
  } else {
    auto split = pending_.begin() + static_cast<std::ptrdiff_t>(options_.max_batch);
    taken.assign(std::make_move_iterator(pending_.begin()), std::make_move_iterator(split));
    pending_.erase(pending_.begin(), split);
  }
  return taken;
}

void Store::WriterLoop() {
  while (true) {
    Batch batch;
    batch.submissions = TakePending();
    if (batch.submissions.empty()) return;  // closing and drained
    RunBatch(batch);
  }
}

bool Store::IsSolo(const std::vector<Submission>& batch) {
  if (batch.size() == 1) return true;
  if (batch.size() > kSoloBatchMax || batch.front().source == nullptr) return false;
  return std::all_of(batch.begin(), batch.end(),
                     [source = batch.front().source](const Submission& s) { return s.source == source; });
}

void Store::RunBatch(Batch& batch) {
  ExecuteBatch(batch);
  CommitBatch(batch);
  std::lock_guard lock(queue_mu_);
  committing_ = false;
  last_batch_solo_ = IsSolo(batch.submissions);
  // The writer waits for the end of a batch committed by a CommitPending
  // caller when commands queued behind it or the store is closing.
  if (!pending_.empty() || closing_) queue_cv_.notify_one();
}

// Validates and applies each command in order, so later commands of the
// batch see the effects of earlier ones; then, outside the state lock (so
// readers wait less), encodes the events and their index keys.
void Store::ExecuteBatch(Batch& batch) {
  batch.results.reserve(batch.submissions.size());
  batch.events->reserve(batch.submissions.size());
  for (auto& submission : batch.submissions) {
    if (submission.command.command_id.empty()) {
      submission.command.command_id = boost::uuids::to_string(uuid_generator_());
    }
  }
  {
    std::unique_lock lock(state_mu_);
    // Commit times never go backwards along the log (SeqAtTime relies on it).
    const int64_t ts = std::max(NowMicros(), state_.head_ts_us);
    for (auto& submission : batch.submissions) {
      auto outcome = engine::Execute(state_, submission.command, ts);
      if (!outcome.ok()) {
        batch.results.emplace_back(outcome.status());
        continue;
      }
      batch.results.emplace_back(std::move(outcome->result));
      if (outcome->event) batch.events->push_back(std::move(*outcome->event));
    }
  }
  batch.records.reserve(batch.events->size());
  for (const engine::Event& event : *batch.events) {
    log::LogRecord& record = batch.records.emplace_back(log::LogRecord{event.seq, {}, IndexPrefixes(event)});
    engine::EncodeEvent(event, &record.payload);
  }
}

void Store::CommitBatch(Batch& batch) {
  if (!batch.records.empty()) {
    const auto started = std::chrono::steady_clock::now();
    Status written = log_->Append(batch.records, options_.sync);
    const CommitStats stats{batch.records.size(), batch.submissions.size(),
                            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                            written.ok()};
    if (!written.ok()) {
      spdlog::error("commit of {} events failed: {}", batch.records.size(), written.ToString());
      RecoverAfterFailedWrite();
      PublishStats(stats);  // after the rollback: whoever read the failed batch can now be told
      for (auto& submission : batch.submissions) {
        submission.done(Status::Unavailable("the write failed and nothing was stored: " + written.message()));
      }
      return;
    }
    PublishStats(stats);
    durable_seq_.store(batch.records.back().seq, std::memory_order_release);
    {
      std::lock_guard lock(listeners_mu_);
      const CommittedEvents events = std::move(batch.events);
      for (const auto& listener : listeners_) listener(events);
    }
    snapshotter_->OnCommitted(batch.records.back().seq);
  }
  for (size_t i = 0; i < batch.submissions.size(); ++i) {
    batch.submissions[i].done(std::move(batch.results[i]));
  }
}

void Store::PublishStats(const CommitStats& stats) {
  std::lock_guard lock(listeners_mu_);
  for (const auto& listener : stats_listeners_) listener(stats);
}

// The batch was applied to the state but not stored: rebuild the state from
// the log, which is exactly the state before the batch.
void Store::RecoverAfterFailedWrite() {
  auto rebuilt = snapshots::RebuildState(*log_, options_.limits);
  if (!rebuilt.ok()) {
    spdlog::critical("cannot rebuild the state after a failed write: {}", rebuilt.status().ToString());
    std::abort();  // serving a state that is not the log's would break every guarantee
  }
  std::unique_lock lock(state_mu_);
  state_ = std::move(rebuilt).value();
}

StatusOr<engine::Command> Store::MakeRestore(const std::string& session, const std::string& name,
                                             uint64_t seq) {
  std::string label = name;
  if (!name.empty()) {
    auto save_seq = Read([&](const engine::State& s) -> StatusOr<uint64_t> {
      auto it = s.sessions.find(session);
      if (it == s.sessions.end()) return Status::NotFound("session '" + session + "' does not exist");
      auto save = it->second.saves.find(name);
      if (save == it->second.saves.end()) {
        return Status::NotFound("session '" + session + "' has no save named '" + name + "'");
      }
      return save->second.seq;
    });
    if (!save_seq.ok()) return save_seq.status();
    seq = *save_seq;
  } else {
    label = "seq:" + std::to_string(seq);
  }
  auto state = StateAt(seq);
  if (!state.ok()) return state.status();
  engine::RestoreGraph restore{label, {}};
  if (auto it = state->sessions.find(session); it != state->sessions.end()) restore.target = it->second.graph;
  engine::Command command;
  command.session = session;
  command.body = std::move(restore);
  return command;
}

StatusOr<engine::State> Store::StateAt(uint64_t seq) const {
  const uint64_t durable = durable_seq();
  if (seq > durable) {
    return Status::InvalidArgument("seq " + std::to_string(seq) + " is past the head (" +
                                   std::to_string(durable) + ")");
  }
  return snapshots::RebuildState(*log_, options_.limits, seq);
}

StatusOr<std::vector<engine::Event>> Store::ReadIndexedEvents(const std::string& prefix, uint64_t from,
                                                              uint64_t limit) const {
  auto seqs = log_->ReadIndex(prefix, from, limit);
  if (!seqs.ok()) return seqs.status();
  std::vector<engine::Event> events;
  size_t bytes = 0;
  for (uint64_t seq : *seqs) {
    if (bytes >= kReadBytes) break;
    auto payload = log_->ReadEvent(seq);
    if (!payload.ok()) return payload.status();
    bytes += payload->size();
    auto event = engine::DecodeEvent(*payload);
    if (!event.ok()) return event.status();
    events.push_back(std::move(event).value());
  }
  return events;
}

StatusOr<std::vector<engine::Event>> Store::KeyHistory(const std::string& key, uint64_t from,
                                                       uint64_t limit) const {
  return ReadIndexedEvents(KeyIndexPrefix(key), from, limit);
}

StatusOr<std::vector<engine::Event>> Store::NodeHistory(const std::string& session, const std::string& node,
                                                        uint64_t from, uint64_t limit) const {
  return ReadIndexedEvents(NodeIndexPrefix(session, node), from, limit);
}

StatusOr<std::vector<engine::Event>> Store::ReadEvents(uint64_t from, uint64_t limit) const {
  std::vector<engine::Event> events;
  size_t bytes = 0;
  Status failure;
  Status read = log_->ReadRange(from, durable_seq(), limit, [&](uint64_t, std::string_view payload) {
    auto event = engine::DecodeEvent(payload);
    if (!event.ok()) {
      failure = event.status();
      return false;
    }
    events.push_back(std::move(event).value());
    bytes += payload.size();
    return bytes < kReadBytes;
  });
  CTXD_RETURN_IF_ERROR(read);
  CTXD_RETURN_IF_ERROR(failure);
  return events;
}

}  // namespace ctxd::store
