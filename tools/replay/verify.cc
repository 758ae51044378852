#include "tools/replay/verify.h"

#include <optional>

#include "engine/engine.h"
#include "engine/event_codec.h"
#include "snapshots/snapshot_codec.h"
#include "tools/replay/state_diff.h"

namespace ctxd::replay {
namespace {

constexpr size_t kProblemsShown = 100;

// Walks the log once: continuity, decoding, replay, snapshot comparison.
class Verifier {
 public:
  Verifier(const log::EventLog& log, const std::function<void(uint64_t)>& progress)
      : log_(log), progress_(progress) {}

  VerifyReport Run();

 private:
  struct Gap {
    uint64_t first = 0;  // the first seq that could not be read
    std::string why;
  };

  void LoadSnapshotList();
  bool Visit(uint64_t seq, std::string_view payload);
  // Reports the unreadable stretch [gap_->first, next_present).
  void CloseGap(uint64_t next_present);
  void CheckEvent(uint64_t seq, std::string_view payload);
  // Handles the pending snapshots below `seq`: compare, resync or skip.
  void DrainSnapshotsBefore(uint64_t seq);
  void CompareSnapshot(uint64_t seq);
  void Resync(uint64_t seq);
  void Problem(uint64_t seq, std::string what) { report_.problems.push_back({seq, std::move(what)}); }

  const log::EventLog& log_;
  const std::function<void(uint64_t)>& progress_;
  VerifyReport report_;
  std::vector<uint64_t> snapshot_seqs_;
  size_t next_snapshot_ = 0;
  engine::State state_;
  bool replaying_ = true;   // state_ is the verified replay of 1..state_.head_seq
  uint64_t expected_ = 1;   // the next seq to read
  std::optional<Gap> gap_;  // an unreadable stretch not yet reported
};

VerifyReport Verifier::Run() {
  const uint64_t head = report_.head_seq = log_.head_seq();
  LoadSnapshotList();
  state_ = engine::State(LimitsOfSnapshots(log_, snapshot_seqs_));
  DrainSnapshotsBefore(1);
  // The log refuses to read across a seq it cannot read; carry on after it.
  for (uint64_t from = 1; from <= head; from = ++expected_) {
    Status read = log_.ReadRange(from, head, head - from + 1, [this](uint64_t seq, std::string_view payload) {
      return Visit(seq, payload);
    });
    if (read.ok()) break;
    if (!gap_) gap_ = Gap{expected_, read.ToString()};
  }
  if (gap_) CloseGap(head + 1);
  DrainSnapshotsBefore(head + 1);
  for (; next_snapshot_ < snapshot_seqs_.size(); ++next_snapshot_) {
    Problem(snapshot_seqs_[next_snapshot_],
            "snapshot is past the head of the log (" + std::to_string(head) + ")");
  }
  return std::move(report_);
}

void Verifier::CloseGap(uint64_t next_present) {
  const uint64_t first = gap_->first, last = next_present - 1;
  Problem(first, first == last ? "event " + std::to_string(first) + " cannot be read: " + gap_->why
                               : "events " + std::to_string(first) + ".." + std::to_string(last) +
                                     " cannot be read: " + gap_->why);
  gap_.reset();
  replaying_ = false;
}

void Verifier::LoadSnapshotList() {
  auto list = log_.ListSnapshots();
  if (!list.ok()) {
    Problem(0, "cannot list snapshots: " + list.status().ToString());
    return;
  }
  for (const log::SnapshotInfo& info : *list) snapshot_seqs_.push_back(info.seq);
}

bool Verifier::Visit(uint64_t seq, std::string_view payload) {
  if (seq != expected_ && !gap_) gap_ = Gap{expected_, "missing"};
  if (gap_) CloseGap(seq);
  DrainSnapshotsBefore(seq);
  expected_ = seq + 1;
  ++report_.events_read;
  CheckEvent(seq, payload);
  DrainSnapshotsBefore(seq + 1);
  if (progress_) progress_(seq);
  return true;
}

void Verifier::CheckEvent(uint64_t seq, std::string_view payload) {
  auto event = engine::DecodeEvent(payload);
  if (!event.ok()) {
    Problem(seq, "cannot decode: " + event.status().message());
    replaying_ = false;
    return;
  }
  if (event->seq != seq) {
    Problem(seq, "the event stored at seq " + std::to_string(seq) + " says it is seq " +
                     std::to_string(event->seq));
    replaying_ = false;
    return;
  }
  if (!replaying_) return;
  Status applied = engine::Apply(state_, *event);
  if (!applied.ok()) {
    Problem(seq, "replay failed: " + applied.message());
    replaying_ = false;
    return;
  }
  ++report_.events_replayed;
}

void Verifier::DrainSnapshotsBefore(uint64_t seq) {
  for (; next_snapshot_ < snapshot_seqs_.size() && snapshot_seqs_[next_snapshot_] < seq; ++next_snapshot_) {
    const uint64_t snapshot = snapshot_seqs_[next_snapshot_];
    if (replaying_ && state_.head_seq == snapshot) {
      CompareSnapshot(snapshot);
    } else if (!replaying_ && snapshot + 1 == seq) {
      Resync(snapshot);
    } else {
      report_.snapshots_unchecked.push_back(snapshot);
    }
  }
}

void Verifier::CompareSnapshot(uint64_t seq) {
  auto bytes = log_.ReadSnapshot(seq);
  if (!bytes.ok()) {
    Problem(seq, "snapshot cannot be read: " + bytes.status().ToString());
    return;
  }
  if (!SnapshotMatches(state_, *bytes)) {
    Problem(seq, "snapshot differs from the replayed state: " + DescribeSnapshotDifference(state_, *bytes));
    return;
  }
  report_.snapshots_matched.push_back(seq);
}

// Continues from the snapshot after a stretch that could not be replayed.
void Verifier::Resync(uint64_t seq) {
  report_.snapshots_unchecked.push_back(seq);
  auto bytes = log_.ReadSnapshot(seq);
  if (!bytes.ok()) return Problem(seq, "snapshot cannot be read: " + bytes.status().ToString());
  auto state = snapshots::DecodeState(*bytes);
  if (!state.ok()) return Problem(seq, "snapshot does not decode: " + state.status().message());
  if (state->head_seq != seq) {
    return Problem(seq, "snapshot holds the state at seq " + std::to_string(state->head_seq));
  }
  state_ = std::move(state).value();
  replaying_ = true;
}

}  // namespace

VerifyReport VerifyLog(const log::EventLog& log, const std::function<void(uint64_t)>& progress) {
  return Verifier(log, progress).Run();
}

std::string FormatVerifyReport(const VerifyReport& report) {
  std::string out =
      report.ok() ? "OK: " : "CORRUPT: " + std::to_string(report.problems.size()) + " problem(s); ";
  out += "head " + std::to_string(report.head_seq) + ", " + std::to_string(report.events_read) +
         " events read, " + std::to_string(report.events_replayed) + " replayed, " +
         std::to_string(report.snapshots_matched.size()) + " snapshot(s) match the replay";
  if (!report.snapshots_unchecked.empty()) {
    out += ", " + std::to_string(report.snapshots_unchecked.size()) + " not checked";
  }
  out += "\n";
  for (size_t i = 0; i < report.problems.size() && i < kProblemsShown; ++i) {
    out += "seq " + std::to_string(report.problems[i].seq) + ": " + report.problems[i].what + "\n";
  }
  if (report.problems.size() > kProblemsShown) {
    out += "... and " + std::to_string(report.problems.size() - kProblemsShown) + " more\n";
  }
  return out;
}

}  // namespace ctxd::replay
