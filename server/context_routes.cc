// /v1/context, /v1/context/{key}, /v1/context/{key}/history, /v1/changes.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/event_json.h"
#include "server/read_path.h"
#include "server/routes.h"
#include "server/write_path.h"

namespace ctxd::server {
namespace {

constexpr uint64_t kDefaultHistoryLimit = 100;
constexpr uint64_t kMaxPageLimit = 10000;
// /v1/changes scans at most this many events; a longer gap diffs two states.
constexpr uint64_t kChangesScanLimit = 10000;

const std::string& KeyParam(const HttpRequest& request) { return request.segments[2]; }

void AppendEntry(std::string* out, const std::string& key, const engine::ContextEntry& entry) {
  out->append("{\"key\":");
  AppendJsonString(out, key);
  out->append(",\"value\":");
  out->append(entry.value);
  out->append(",\"version\":");
  out->append(std::to_string(entry.version));
  out->append(",\"actor\":");
  AppendJsonString(out, entry.actor);
  out->append(",\"ts\":\"");
  out->append(engine::FormatTimestamp(entry.ts_us));
  out->append("\"}");
}

// If-Match: a version, optionally quoted like an ETag. `0` = must not exist.
Status ParseIfMatch(const HttpRequest& request, std::optional<uint64_t>* if_match) {
  auto header = request.Header("If-Match");
  if (!header) return Status::Ok();
  std::string_view text = *header;
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') text = text.substr(1, text.size() - 2);
  auto version = ParseUint(text);
  if (!version) return Status::InvalidArgument("If-Match must be a version number");
  *if_match = *version;
  return Status::Ok();
}

// "actor", "session" and the command id from a write body.
Status ReadCommandFields(const HttpRequest& request, const Json& body, engine::Command* command) {
  CTXD_RETURN_IF_ERROR(OptionalString(body, "actor", &command->actor));
  CTXD_RETURN_IF_ERROR(OptionalString(body, "session", &command->session));
  CTXD_RETURN_IF_ERROR(ValidateActor(command->actor));
  if (!command->session.empty()) CTXD_RETURN_IF_ERROR(engine::ValidateName("session", command->session));
  return SetCommandId(request, &body, command);
}

HttpResponse RenderSeq(const engine::CommandResult& result) {
  return JsonResponse("{\"seq\":" + std::to_string(result.seq) + "}");
}

}  // namespace

void GetContextList(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  std::string prefix;
  if (const std::string* p = request.Query("prefix")) prefix = *p;
  const auto render = [prefix](const engine::State& state, uint64_t seq) {
    std::string body = "{\"seq\":" + std::to_string(seq) + ",\"context\":{";
    bool first = true;
    for (auto it = state.context.lower_bound(prefix); it != state.context.end(); ++it) {
      if (it->first.compare(0, prefix.size(), prefix) != 0) break;
      AppendJsonKey(&body, it->first, first);
      body.append(it->second.value);
      first = false;
    }
    body.append("}}");
    return JsonResponse(std::move(body));
  };
  ReadState(ctx, request, respond, render,
            [&prefix](const engine::State& state) { return IsLongListing(state, prefix); });
}

void GetContextKey(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  const std::string& key = KeyParam(request);
  if (Status valid = engine::ValidateKey(key); !valid.ok()) return respond(ErrorResponse(valid));
  ReadState(ctx, request, respond, [key](const engine::State& state, uint64_t) {
    auto it = state.context.find(key);
    if (it == state.context.end()) return NotFound("key '" + key + "' does not exist");
    std::string body;
    AppendEntry(&body, it->first, it->second);
    return JsonResponse(std::move(body));
  });
}

namespace {

// The answer to PUT /v1/context/{key}.
HttpResponse RenderSet(const engine::CommandResult& result) {
  // A retried command gets its original answer: that set changed the key,
  // and its version is its seq.
  const bool changed = result.changed || result.deduplicated;
  const uint64_t version = result.deduplicated ? result.seq : result.version;
  std::string out = "{\"seq\":" + std::to_string(result.seq) + ",\"version\":" + std::to_string(version) +
                    (changed ? ",\"changed\":true}" : ",\"changed\":false}");
  return JsonResponse(std::move(out));
}

// A flat body (json_body.h) whose fields have the types a PUT takes: read
// without a JSON tree, with the checks and messages of ReadCommandFields.
// nullopt when the body is not such a body.
std::optional<Status> ReadFlatSetBody(const HttpRequest& request, engine::SetContext* set,
                                      engine::Command* command) {
  FlatObject body;
  if (!ParseFlatObject(request.body, &body)) return std::nullopt;
  const FlatMember* value = body.Find("value");
  const FlatMember* fields[] = {body.Find("actor"), body.Find("session"), body.Find("command_id")};
  if (value == nullptr) return std::nullopt;
  for (const FlatMember* field : fields) {
    if (field != nullptr && !field->is_string) return std::nullopt;
  }
  const auto text = [](const FlatMember* field) { return field ? field->text() : std::string_view(); };
  set->value = value->json;
  CTXD_RETURN_IF_ERROR(ParseIfMatch(request, &set->if_match));
  command->actor = text(fields[0]);
  command->session = text(fields[1]);
  CTXD_RETURN_IF_ERROR(ValidateActor(command->actor));
  if (!command->session.empty()) CTXD_RETURN_IF_ERROR(engine::ValidateName("session", command->session));
  return SetCommandId(request, text(fields[2]), command);
}

// The body of a PUT: "value" (canonical JSON) and the command fields.
Status ReadSetBody(const HttpRequest& request, engine::SetContext* set, engine::Command* command) {
  if (auto flat = ReadFlatSetBody(request, set, command)) return *flat;
  auto body = ParseJsonObject(request.body);
  if (!body.ok()) return body.status();
  Status status;
  const Json* value = RequiredField(*body, "value", &status);
  if (value == nullptr) return status;
  set->value = CanonicalJson(*value);
  CTXD_RETURN_IF_ERROR(ParseIfMatch(request, &set->if_match));
  return ReadCommandFields(request, *body, command);
}

}  // namespace

void PutContextKey(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  engine::SetContext set;
  set.key = KeyParam(request);
  if (Status valid = engine::ValidateKey(set.key); !valid.ok()) return respond(ErrorResponse(valid));
  engine::Command command;
  if (Status status = ReadSetBody(request, &set, &command); !status.ok())
    return respond(ErrorResponse(status));
  command.body = std::move(set);
  SubmitCommand(ctx, std::move(command), respond, RenderSet);
}

void DeleteContextKey(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  engine::DeleteContext del;
  del.key = KeyParam(request);
  if (Status valid = engine::ValidateKey(del.key); !valid.ok()) return respond(ErrorResponse(valid));
  engine::Command command;
  if (const std::string* actor = request.Query("actor")) command.actor = *actor;
  Status status = ValidateActor(command.actor);
  if (status.ok()) status = ParseIfMatch(request, &del.if_match);
  if (status.ok()) status = SetCommandId(request, nullptr, &command);
  if (!status.ok()) return respond(ErrorResponse(status));
  command.body = std::move(del);
  SubmitCommand(ctx, std::move(command), respond, RenderSeq);
}

namespace {

Status ReadBatch(const Json& body, engine::BatchContext* batch) {
  if (auto set = body.find("set"); set != body.end() && !set->is_null()) {
    if (!set->is_object()) return Status::InvalidArgument("'set' must be an object of key: value");
    for (const auto& [key, value] : set->items()) {
      CTXD_RETURN_IF_ERROR(engine::ValidateKey(key));
      batch->sets.emplace_back(key, CanonicalJson(value));
    }
  }
  if (auto del = body.find("delete"); del != body.end() && !del->is_null()) {
    if (!del->is_array()) return Status::InvalidArgument("'delete' must be an array of keys");
    for (const auto& key : *del) {
      if (!key.is_string()) return Status::InvalidArgument("'delete' must be an array of keys");
      CTXD_RETURN_IF_ERROR(engine::ValidateKey(key.get_ref<const std::string&>()));
      batch->deletes.push_back(key.get<std::string>());
    }
  }
  if (batch->sets.empty() && batch->deletes.empty()) {
    return Status::InvalidArgument("the batch needs a non-empty 'set' or 'delete'");
  }
  return Status::Ok();
}

}  // namespace

void PostContextBatch(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  auto body = ParseJsonObject(request.body);
  if (!body.ok()) return respond(ErrorResponse(body.status()));
  engine::BatchContext batch;
  engine::Command command;
  Status status = ReadBatch(*body, &batch);
  if (status.ok()) status = ReadCommandFields(request, *body, &command);
  if (!status.ok()) return respond(ErrorResponse(status));
  command.body = std::move(batch);
  SubmitCommand(ctx, std::move(command), respond, RenderSeq);
}

namespace {

void AppendHistoryEntry(std::string* out, const engine::Event& event, const engine::Change& change) {
  out->append("{\"seq\":");
  out->append(std::to_string(event.seq));
  out->append(",\"ts\":\"");
  out->append(engine::FormatTimestamp(event.ts_us));
  out->append("\",\"actor\":");
  AppendJsonString(out, event.actor);
  out->append(",\"session\":");
  if (event.session.empty()) {
    out->append("null");
  } else {
    AppendJsonString(out, event.session);
  }
  if (const auto* put = std::get_if<engine::CtxPut>(&change)) {
    out->append(",\"op\":\"set\",\"value\":");
    out->append(put->value);
    out->append(",\"old\":");
    out->append(put->old ? *put->old : "null");
  } else if (const auto* del = std::get_if<engine::CtxDel>(&change)) {
    out->append(",\"op\":\"delete\",\"value\":null,\"old\":");
    out->append(del->old);
  }
  out->push_back('}');
}

bool TouchesKey(const engine::Change& change, const std::string& key) {
  if (const auto* put = std::get_if<engine::CtxPut>(&change)) return put->key == key;
  if (const auto* del = std::get_if<engine::CtxDel>(&change)) return del->key == key;
  return false;
}

// The `next` of a history page of `events` (up to limit + 1 were asked for):
// the seq after the page, or null at the end. A page Store::kReadBytes cut
// short goes on after its last event, if there is more.
std::string NextHistorySeq(const store::Store& store, const std::string& key,
                           const std::vector<engine::Event>& events, uint64_t limit) {
  if (events.size() > limit) return std::to_string(events[limit].seq);
  if (events.empty()) return "null";
  auto more = store.KeyHistory(key, events.back().seq + 1, 1);
  return more.ok() && !more->empty() ? std::to_string(more->front().seq) : "null";
}

}  // namespace

void GetKeyHistory(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  const std::string key = KeyParam(request);
  if (Status valid = engine::ValidateKey(key); !valid.ok()) return respond(ErrorResponse(valid));
  auto from = UintQuery(request, "from", 1);
  auto limit = UintQuery(request, "limit", kDefaultHistoryLimit);
  if (!from.ok()) return respond(ErrorResponse(from.status()));
  if (!limit.ok()) return respond(ErrorResponse(limit.status()));
  if (*limit == 0 || *limit > kMaxPageLimit) {
    return respond(BadRequest("'limit' must be between 1 and " + std::to_string(kMaxPageLimit)));
  }
  ctx.OffloadRead(respond, [&ctx, key, from = *from, limit = *limit](const Responder& done) {
    auto events = ctx.store.KeyHistory(key, from, limit + 1);
    if (!events.ok()) return done(ErrorResponse(events.status()));
    std::string body = "{\"key\":";
    AppendJsonString(&body, key);
    body.append(",\"entries\":[");
    const size_t shown = std::min<size_t>(events->size(), limit);
    bool first = true;
    for (size_t i = 0; i < shown; ++i) {
      for (const auto& change : (*events)[i].changes) {
        if (!TouchesKey(change, key)) continue;
        if (!first) body.push_back(',');
        first = false;
        AppendHistoryEntry(&body, (*events)[i], change);
      }
    }
    body.append("],\"next\":");
    body.append(NextHistorySeq(ctx.store, key, *events, limit));
    body.push_back('}');
    done(JsonResponse(std::move(body)));
  });
}

namespace {

struct KeyFate {
  bool existed_before = false;  // the key existed at `since`
  bool exists_now = false;
};

// Keys changed in (since, head]: from the events when the gap is short.
Status ScanChanges(const store::Store& store, uint64_t since, uint64_t head,
                   std::map<std::string, KeyFate>* fates) {
  for (uint64_t from = since + 1; from <= head;) {
    auto events = store.ReadEvents(from, std::min<uint64_t>(1000, head - from + 1));
    if (!events.ok()) return events.status();
    if (events->empty()) break;
    for (const auto& event : *events) {
      for (const auto& change : event.changes) {
        if (const auto* put = std::get_if<engine::CtxPut>(&change)) {
          auto [it, inserted] = fates->try_emplace(put->key, KeyFate{put->old.has_value(), true});
          it->second.exists_now = true;
        } else if (const auto* del = std::get_if<engine::CtxDel>(&change)) {
          auto [it, inserted] = fates->try_emplace(del->key, KeyFate{true, false});
          it->second.exists_now = false;
        }
      }
    }
    from = events->back().seq + 1;
  }
  return Status::Ok();
}

HttpResponse RenderChanges(uint64_t seq, const std::map<std::string, KeyFate>& fates) {
  std::string changed;
  std::string deleted;
  for (const auto& [key, fate] : fates) {
    std::string* list = fate.exists_now ? &changed : (fate.existed_before ? &deleted : nullptr);
    if (list == nullptr) continue;
    if (!list->empty()) list->push_back(',');
    AppendJsonString(list, key);
  }
  return JsonResponse("{\"seq\":" + std::to_string(seq) + ",\"changed\":[" + changed + "],\"deleted\":[" +
                      deleted + "]}");
}

// The long-gap path: the state at `since` against the live state.
void DiffStates(ServerContext& ctx, uint64_t since, const Responder& done) {
  auto old_state = ctx.store.StateAt(since);
  if (!old_state.ok()) return done(ErrorResponse(old_state.status()));
  std::map<std::string, KeyFate> fates;
  const auto head = ReadHead(ctx, IsLongContext, [&](const engine::State& state) {
    for (const auto& [key, entry] : state.context) {
      if (entry.version > since) fates[key] = {old_state->context.count(key) > 0, true};
    }
    for (const auto& [key, entry] : old_state->context) {
      if (state.context.count(key) == 0) fates[key] = {true, false};
    }
  });
  if (!head.ok()) return done(ErrorResponse(head.status()));
  ctx.gate.Respond(*head, done, RenderChanges(*head, fates));
}

}  // namespace

void GetChanges(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  auto since = UintQuery(request, "since", 0);
  if (!since.ok()) return respond(ErrorResponse(since.status()));
  ctx.OffloadRead(respond, [&ctx, since = *since](const Responder& done) {
    const uint64_t durable = ctx.store.durable_seq();
    // Every seq a client was told is durable: a cursor past the head is from
    // another store, or from writes an async store lost in a crash. Answering
    // "nothing changed" would hide every change until the head passed it.
    if (since > durable) {
      return done(ErrorResponse(Status::InvalidArgument("since " + std::to_string(since) +
                                                        " is past the head (" + std::to_string(durable) +
                                                        "): this cursor is not from this store's log")));
    }
    if (since == durable) return done(RenderChanges(durable, {}));
    if (durable - since > kChangesScanLimit) return DiffStates(ctx, since, done);
    std::map<std::string, KeyFate> fates;
    if (Status scanned = ScanChanges(ctx.store, since, durable, &fates); !scanned.ok()) {
      return done(ErrorResponse(scanned));
    }
    done(RenderChanges(durable, fates));
  });
}

}  // namespace ctxd::server
