// EventFilter: the filters of GET /v1/events, shared with the streams
// (/v1/stream, /v1/ws): session, actor, type (exact), key (prefix of a
// context key the event changes). An empty field matches everything.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "engine/event.h"
#include "server/http_message.h"

namespace ctxd::server {

struct EventFilter {
  std::string session;
  std::string actor;
  std::string type;
  std::string key_prefix;

  // From the query parameters session, actor, type and key; kInvalidArgument
  // for an unknown type.
  static StatusOr<EventFilter> FromQuery(const HttpRequest& request);

  bool empty() const { return session.empty() && actor.empty() && type.empty() && key_prefix.empty(); }
  bool Matches(const engine::Event& event) const;
};

// A stream's request target (/v1/stream, /v1/ws) read before the stream
// starts: its query parameters (in `request`, for the query helpers) and
// the filter they name. kInvalidArgument for a bad target or filter.
struct StreamTarget {
  HttpRequest request;
  EventFilter filter;
};
StatusOr<StreamTarget> ReadStreamTarget(std::string_view target);

}  // namespace ctxd::server
