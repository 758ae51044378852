#include "server/event_filter.h"

#include <variant>

#include "engine/engine.h"
#include "server/target.h"

namespace ctxd::server {

StatusOr<EventFilter> EventFilter::FromQuery(const HttpRequest& request) {
  EventFilter filter;
  // What no event can carry (bad UTF-8, control characters) is a mistake,
  // not a filter that matches nothing.
  for (const char* name : {"session", "actor", "key"}) {
    const std::string* v = request.Query(name);
    if (v != nullptr && !v->empty()) {
      CTXD_RETURN_IF_ERROR(engine::ValidateName(std::string("the ") + name + " filter", *v));
    }
  }
  if (const std::string* v = request.Query("session")) filter.session = *v;
  if (const std::string* v = request.Query("actor")) filter.actor = *v;
  if (const std::string* v = request.Query("key")) filter.key_prefix = *v;
  if (const std::string* v = request.Query("type")) {
    if (!v->empty() && !engine::ParseEventType(*v)) {
      return Status::InvalidArgument("unknown event type '" + *v + "' (e.g. context.set, graph.create_node)");
    }
    filter.type = *v;
  }
  return filter;
}

bool EventFilter::Matches(const engine::Event& event) const {
  if (!session.empty() && event.session != session) return false;
  if (!actor.empty() && event.actor != actor) return false;
  if (!type.empty() && engine::EventTypeName(event.type) != type) return false;
  if (key_prefix.empty()) return true;
  for (const auto& change : event.changes) {
    const std::string* key = nullptr;
    if (const auto* put = std::get_if<engine::CtxPut>(&change)) key = &put->key;
    if (const auto* del = std::get_if<engine::CtxDel>(&change)) key = &del->key;
    if (key != nullptr && key->compare(0, key_prefix.size(), key_prefix) == 0) return true;
  }
  return false;
}

StatusOr<StreamTarget> ReadStreamTarget(std::string_view target) {
  StreamTarget read;
  read.request.target = target;
  ParsedTarget parsed;
  CTXD_RETURN_IF_ERROR(ParseTarget(read.request.target, &parsed));
  read.request.query = std::move(parsed.query);
  auto filter = EventFilter::FromQuery(read.request);
  if (!filter.ok()) return filter.status();
  read.filter = std::move(filter).value();
  return read;
}

}  // namespace ctxd::server
