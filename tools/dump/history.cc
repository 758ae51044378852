#include "tools/dump/history.h"

#include <variant>

#include "engine/event_codec.h"

namespace ctxd::dump {
namespace {

constexpr uint64_t kProgressEvery = 65536;

}  // namespace

void AppendHistory(const engine::Event& event, std::vector<HistoryEntry>* out) {
  for (const engine::Change& change : event.changes) {
    HistoryEntry entry{event.seq, event.ts_us, {}, std::nullopt, std::nullopt, event.actor};
    if (const auto* put = std::get_if<engine::CtxPut>(&change)) {
      entry.key = put->key;
      entry.before = put->old;
      entry.after = put->value;
    } else if (const auto* del = std::get_if<engine::CtxDel>(&change)) {
      entry.key = del->key;
      entry.before = del->old;
    } else {
      continue;
    }
    out->push_back(std::move(entry));
  }
}

StatusOr<std::vector<HistoryEntry>> CollectHistory(const log::EventLog& log, uint64_t to,
                                                   const std::function<void(uint64_t)>& progress) {
  std::vector<HistoryEntry> history;
  Status failure;
  Status read = log.ReadRange(1, to, to, [&](uint64_t seq, std::string_view payload) {
    auto event = engine::DecodeEvent(payload);
    if (!event.ok()) {
      failure = Status::Corruption("event " + std::to_string(seq) + ": " + event.status().message());
      return false;
    }
    AppendHistory(*event, &history);
    if (progress && seq % kProgressEvery == 0) progress(seq);
    return true;
  });
  CTXD_RETURN_IF_ERROR(read);
  CTXD_RETURN_IF_ERROR(failure);
  return history;
}

}  // namespace ctxd::dump
