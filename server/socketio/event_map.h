// Which Socket.IO events a committed event becomes (API.md "Old context
// server Socket.IO", "Graph backend Socket.IO"), and the payloads of the
// events that are not in the log (snapshot, presence, dumps, errors).
//
// Each mapped event is one complete Engine.IO message packet
// (42[/graph,]["name",{...}]), built once and sent as it is to every socket
// of its namespace (and room). Pure functions: no I/O, no Beast.
//
// Thread safety: stateless; the lookups are called on the caller's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/event.h"
#include "engine/state.h"

namespace ctxd::server::socketio {

inline constexpr std::string_view kGraphNamespace = "/graph";

enum class Nsp { kRoot, kGraph };
std::string_view NspName(Nsp nsp);

// One Socket.IO event for the sockets of `nsp` (in room `room` for /graph).
struct MappedEvent {
  Nsp nsp = Nsp::kRoot;
  std::string room;
  std::string packet;  // the Engine.IO message packet
};

// What a mapping may need beyond the event.
struct MapLookup {
  // command:undo|redo name the original command: its command_id by seq
  // ("" when unknown).
  std::function<std::string(uint64_t seq)> command_id_of;
  // project:loaded carries the session's graph as the restore at `seq` left
  // it, as GET /v1/sessions/{sid}/graph?at=seq answers it ("null" when
  // unknown). Only graph.restore events call it (MapsToAGraph).
  std::function<std::string(const std::string& session, uint64_t seq)> graph_of;
};

// Whether mapping `event` renders a session's graph (lookup.graph_of).
bool MapsToAGraph(const engine::Event& event);

// The events for `event`, in the order they are to be sent.
std::vector<MappedEvent> MapEvent(const engine::Event& event, const MapLookup& lookup);

// Payloads (JSON objects) of the events outside the log. `timestamp` is
// RFC 3339 UTC.
std::string ContextSnapshotPayload(std::string_view context_json, std::string_view timestamp,
                                   std::string_view client_id);
std::string ClientStatsPayload(int64_t count);
std::string PresencePayload(std::string_view session_id, int64_t client_count, std::string_view timestamp);
std::string ContextDumpedPayload(std::string_view filename, std::string_view format, std::string_view who,
                                 int64_t key_count, std::string_view timestamp);
// {"seq","session","nodes":[{id,type,name,props,parents,children}]}, as GET
// /v1/sessions/{sid}/graph answers; "null" for an unknown session.
std::string SessionGraphJson(const engine::State& state, const std::string& session);
std::string MessagePayload(std::string_view message);  // {"message":..}
std::string CommandFailedPayload(std::string_view command_id, std::string_view command_type,
                                 std::string_view error, std::string_view timestamp);

}  // namespace ctxd::server::socketio
