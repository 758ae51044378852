// The JSON form of an event, used on the wire, in /v1/events and in NDJSON
// exports. Values are embedded as JSON, not strings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/event.h"

namespace ctxd::engine {

struct Node;  // engine/state.h

// {"seq":..,"ts":"..","type":"..","actor":..,"session":..,"command_id":..,
//  "changes":[{"op":"ctx.put","key":..,"value":..,"old":..},..], ...}
std::string EventToJson(const Event& event);

// The fields of a node as GET /v1/sessions/{sid}/graph lists it, without
// the braces: "id":..,"type":..,"name":..,"props":{..},"parents":[..],"children":[..]
// (property values embedded as the canonical JSON they are).
void AppendNodeFields(std::string* out, std::string_view id, const Node& node);

// RFC 3339 UTC with microseconds: "2026-11-22T22:21:41.123456Z".
std::string FormatTimestamp(int64_t ts_us);
// Parses RFC 3339 (any offset, optional fraction); false when malformed.
bool ParseTimestamp(std::string_view text, int64_t* ts_us);

}  // namespace ctxd::engine
