// ctxd-replay events: NDJSON, one engine::EventToJson per line, the same
// bytes GET /v1/events returns for each event.
#include <algorithm>

#include "engine/event_codec.h"
#include "engine/event_json.h"
#include "tools/replay/commands.h"
#include "tools/replay/secondary_log.h"

namespace ctxd::replay {
namespace {

constexpr size_t kChunkBytes = size_t{1} << 20;

// Writes the events [from, to] to `out`; a missing or undecodable event
// stops the export with kCorruption naming its seq.
Status Export(const log::EventLog& log, uint64_t from, uint64_t to, Progress::Mode mode, std::ostream& out) {
  Progress progress("exporting events", to - from + 1, mode);
  std::string buffer;
  uint64_t expected = from;
  Status failure;
  Status read = log.ReadRange(from, to, to - from + 1, [&](uint64_t seq, std::string_view payload) {
    if (seq != expected) {
      failure = Status::Corruption("event " + std::to_string(expected) + " is missing");
      return false;
    }
    auto event = engine::DecodeEvent(payload);
    if (!event.ok()) {
      failure = Status::Corruption("event " + std::to_string(seq) + ": " + event.status().message());
      return false;
    }
    buffer.append(engine::EventToJson(*event)).push_back('\n');
    if (buffer.size() >= kChunkBytes) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
    }
    progress.Update(seq - from + 1);
    ++expected;
    return true;
  });
  out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  out.flush();
  CTXD_RETURN_IF_ERROR(read);
  CTXD_RETURN_IF_ERROR(failure);
  if (expected != to + 1) return Status::Corruption("event " + std::to_string(expected) + " is missing");
  if (!out) return Status::Unavailable("writing the events failed");
  return Status::Ok();
}

}  // namespace

int RunEvents(const EventsOptions& options, std::ostream& out) {
  if (options.to && *options.to < options.from) {
    return Fail("--to " + std::to_string(*options.to) + " is below --from " + std::to_string(options.from),
                kExitUsage);
  }
  auto secondary = SecondaryLog::Open(options.data_dir);
  if (!secondary.ok()) return Fail(secondary.status().ToString());
  const log::EventLog& log = (*secondary)->log();
  const uint64_t head = log.head_seq();
  const uint64_t to = options.to ? std::min(*options.to, head) : head;
  const uint64_t from = std::max<uint64_t>(options.from, 1);  // seqs start at 1, as for GET /v1/events
  if (from > to) return kExitOk;
  Status exported = Export(log, from, to, options.progress, out);
  if (!exported.ok()) return Fail(exported.ToString());
  return kExitOk;
}

}  // namespace ctxd::replay
