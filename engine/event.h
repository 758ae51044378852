// The event: one accepted command, as recorded in the log.
//
// Fields follow DESIGN.md "The event". Binary encoding: engine/event_codec.h
// (docs/event-format.md); JSON form: engine/event_json.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/change.h"

namespace ctxd::engine {

// Values are part of the on-disk format: never renumber.
enum class EventType : uint8_t {
  kContextSet = 1,
  kContextDelete = 2,
  kContextBatch = 3,
  kCreateNode = 4,
  kDeleteNode = 5,
  kLink = 6,
  kUnlink = 7,
  kSetProperty = 8,
  kDeleteProperty = 9,
  kGraphBatch = 10,
  kGraphRestore = 11,
  kUndo = 12,
  kRedo = 13,
  kSave = 14,
};

// "context.set", "graph.create_node", "session.undo", ...
std::string_view EventTypeName(EventType type);
std::optional<EventType> ParseEventType(std::string_view name);

struct Event {
  uint64_t seq = 0;
  int64_t ts_us = 0;  // commit time, microseconds since the Unix epoch (UTC)
  EventType type = EventType::kContextSet;
  std::string actor;
  std::string session;     // empty when the command had none
  std::string command_id;  // client-supplied or generated
  bool client_command_id = false;  // true: the client chose it, so it is kept for dedupe
  uint64_t request_digest = 0;     // with a client command id: RequestDigest, else 0
  uint64_t undoes = 0;     // session.undo: seq of the command reversed
  uint64_t redoes = 0;     // session.redo: seq of the command replayed
  std::string label;       // session.save: the save name; graph.restore: name or "seq:N"
  std::string result;      // canonical JSON of the command's result, empty when none
  std::vector<Change> changes;

  friend bool operator==(const Event&, const Event&) = default;
};

}  // namespace ctxd::engine
