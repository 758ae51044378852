// The old context server's REST routes, field by field as in API.md
// "Compatibility": GET /ctx, POST /ctx, GET /ctx/all, GET /ctx/history.
//
// The old server kept its change history in memory. Here it is read from
// the log: the history is the newest kLegacyHistoryCap context changes, or
// fewer when their keys and values pass kLegacyHistoryBytes (scanning back
// at most kLegacyMaxScan events), oldest first; `who` is the
// event's actor. history_count and total_entries count that window.
#include <algorithm>
#include <deque>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/event_json.h"
#include "server/json_body.h"
#include "server/read_path.h"
#include "server/routes.h"
#include "server/write_path.h"

namespace ctxd::server {
namespace {

constexpr size_t kLegacyHistoryCap = 10000;
constexpr size_t kLegacyHistoryBytes = size_t{16} << 20;
constexpr uint64_t kLegacyMaxScan = 200000;
constexpr uint64_t kPage = 1000;

struct LegacyEntry {
  int64_t ts_us = 0;
  std::string key;
  std::string before;  // canonical JSON, "null" when absent
  std::string after;
  std::string who;
};

size_t SizeOf(const LegacyEntry& entry) {
  return entry.key.size() + entry.before.size() + entry.after.size();
}

// The context changes of `event`, in order.
void AppendEntries(const engine::Event& event, std::deque<LegacyEntry>* out) {
  for (const auto& change : event.changes) {
    if (const auto* put = std::get_if<engine::CtxPut>(&change)) {
      out->push_back({event.ts_us, put->key, put->old.value_or("null"), put->value, event.actor});
    } else if (const auto* del = std::get_if<engine::CtxDel>(&change)) {
      out->push_back({event.ts_us, del->key, del->old, "null", event.actor});
    }
  }
}

// The newest context changes up to seq `upto`, oldest first: at most
// kLegacyHistoryCap of them and kLegacyHistoryBytes of keys and values.
// The log is read back window by window, each window forward in pages
// (Store::ReadEvents), keeping only the newest entries that still fit.
StatusOr<std::vector<LegacyEntry>> ReadLegacyHistory(const store::Store& store, uint64_t upto) {
  std::deque<LegacyEntry> history;  // oldest first
  size_t bytes = 0;
  uint64_t end = upto;  // scan (start, end]
  while (end > 0 && history.size() < kLegacyHistoryCap && bytes < kLegacyHistoryBytes &&
         upto - end < kLegacyMaxScan) {
    const uint64_t start = end > kPage ? end - kPage : 0;
    std::deque<LegacyEntry> window;
    size_t window_bytes = 0;
    for (uint64_t next = start + 1; next <= end;) {
      auto events = store.ReadEvents(next, end - next + 1);
      if (!events.ok()) return events.status();
      if (events->empty()) break;
      for (const auto& event : *events) {
        const size_t first_new = window.size();
        AppendEntries(event, &window);
        for (size_t i = first_new; i < window.size(); ++i) window_bytes += SizeOf(window[i]);
      }
      // Older entries of the window that the newer ones leave no room for.
      while (window.size() > 1 && (history.size() + window.size() > kLegacyHistoryCap ||
                                   bytes + window_bytes > kLegacyHistoryBytes)) {
        window_bytes -= SizeOf(window.front());
        window.pop_front();
      }
      next = events->back().seq + 1;
    }
    bytes += window_bytes;
    history.insert(history.begin(), std::make_move_iterator(window.begin()),
                   std::make_move_iterator(window.end()));
    end = start;
  }
  return std::vector<LegacyEntry>(std::make_move_iterator(history.begin()),
                                  std::make_move_iterator(history.end()));
}

HttpResponse LegacyErrorFor(const Status& status) {
  return LegacyError(HttpStatusFor(status.code()), status.message());
}

}  // namespace

void LegacyGetContext(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  const std::string* key = request.Query("key");
  if (key == nullptr || key->empty()) return respond(LegacyError(400, "key parameter is required"));
  if (Status valid = engine::ValidateKey(*key); !valid.ok()) return respond(LegacyErrorFor(valid));
  uint64_t head = 0;
  std::string body = "{\"key\":";
  AppendJsonString(&body, *key);
  body.append(",\"value\":");
  ctx.store.Read([&](const engine::State& state) {
    head = state.head_seq;
    auto it = state.context.find(*key);
    body.append(it == state.context.end() ? std::string_view("null") : std::string_view(it->second.value));
  });
  body.append(",\"timestamp\":\"" + NowTimestamp() + "\",\"status\":\"success\"}");
  ctx.gate.Respond(head, respond, JsonResponse(std::move(body)));
}

void LegacySetContext(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  auto body = ParseJsonObject(request.body);
  if (!body.ok()) return respond(LegacyError(400, "invalid JSON: " + body.status().message()));
  engine::SetContext set;
  engine::Command command;
  Status status = RequiredString(*body, "key", &set.key);
  const Json* value = status.ok() ? RequiredField(*body, "value", &status) : nullptr;
  if (status.ok()) status = engine::ValidateKey(set.key);
  if (status.ok()) status = OptionalString(*body, "who", &command.actor);
  if (status.ok()) status = ValidateActor(command.actor);
  if (status.ok()) status = SetCommandId(request, nullptr, &command);
  if (!status.ok()) return respond(LegacyErrorFor(status));
  set.value = CanonicalJson(*value);
  std::string echo = "{\"status\":\"success\",\"key\":";
  AppendJsonString(&echo, set.key);
  echo.append(",\"value\":" + set.value + ",\"who\":");
  AppendJsonString(&echo, command.actor);
  command.body = std::move(set);
  SubmitFromRequest(ctx.store, std::move(command),
                    [respond, echo = std::move(echo)](StatusOr<engine::CommandResult> result) {
                      if (!result.ok()) return respond(LegacyErrorFor(result.status()));
                      respond(JsonResponse(echo + ",\"timestamp\":\"" + NowTimestamp() + "\"}"));
                    });
}

void LegacyAllContext(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  (void)request;
  ctx.OffloadRead(respond, [&ctx](const Responder& done) {
    std::string body = "{\"context\":{";
    const auto head = ReadHead(ctx, IsLongContext, [&](const engine::State& state) {
      bool first = true;
      for (const auto& [key, entry] : state.context) {
        AppendJsonKey(&body, key, first);
        body.append(entry.value);
        first = false;
      }
    });
    if (!head.ok()) return done(LegacyErrorFor(head.status()));
    auto history = ReadLegacyHistory(ctx.store, ctx.store.durable_seq());
    if (!history.ok()) return done(LegacyErrorFor(history.status()));
    body.append("},\"history_count\":" + std::to_string(history->size()) +
                ",\"connected_clients\":" + std::to_string(ctx.stream_clients.load()) + ",\"timestamp\":\"" +
                NowTimestamp() + "\",\"status\":\"success\"}");
    ctx.gate.Respond(*head, done, JsonResponse(std::move(body)));
  });
}

void LegacyHistory(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  std::string key;
  std::string who;
  if (const std::string* k = request.Query("key")) key = *k;
  if (const std::string* w = request.Query("who")) who = *w;
  ctx.OffloadRead(respond, [&ctx, key, who](const Responder& done) {
    auto history = ReadLegacyHistory(ctx.store, ctx.store.durable_seq());
    if (!history.ok()) return done(LegacyErrorFor(history.status()));
    std::string body = "{\"history\":[";
    size_t filtered = 0;
    for (const auto& entry : *history) {
      if ((!key.empty() && entry.key != key) || (!who.empty() && entry.who != who)) continue;
      if (filtered++ > 0) body.push_back(',');
      body.append("{\"timestamp\":\"" + engine::FormatTimestamp(entry.ts_us) + "\",\"key\":");
      AppendJsonString(&body, entry.key);
      body.append(",\"before\":" + entry.before + ",\"after\":" + entry.after + ",\"who\":");
      AppendJsonString(&body, entry.who);
      body.push_back('}');
    }
    body.append("],\"total_entries\":" + std::to_string(history->size()) +
                ",\"filtered_entries\":" + std::to_string(filtered) + ",\"timestamp\":\"" + NowTimestamp() +
                "\",\"status\":\"success\"}");
    done(JsonResponse(std::move(body)));
  });
}

}  // namespace ctxd::server
