// GET /v1/events and GET /v1/events/{seq}.
#include <string>

#include "engine/event_codec.h"
#include "engine/event_json.h"
#include "server/event_filter.h"
#include "server/read_path.h"
#include "server/routes.h"

namespace ctxd::server {
namespace {

constexpr uint64_t kDefaultLimit = 100;
constexpr uint64_t kMaxLimit = 10000;
constexpr uint64_t kPage = 1000;
// A filtered listing scans at most this many events per request; `next`
// tells the client where to go on.
constexpr uint64_t kMaxScan = 100000;
// A page of large events ends past this many bytes of events (after at
// least one), whatever `limit` says; `next` goes on from there.
constexpr size_t kMaxPageBytes = size_t{8} << 20;

}  // namespace

void ListEvents(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  auto from = UintQuery(request, "from", 1);
  auto limit = UintQuery(request, "limit", kDefaultLimit);
  auto filter = EventFilter::FromQuery(request);
  if (!from.ok()) return respond(ErrorResponse(from.status()));
  if (!limit.ok()) return respond(ErrorResponse(limit.status()));
  if (!filter.ok()) return respond(ErrorResponse(filter.status()));
  if (*limit == 0 || *limit > kMaxLimit) {
    return respond(BadRequest("'limit' must be between 1 and " + std::to_string(kMaxLimit)));
  }
  ctx.OffloadRead(respond, [&ctx, from = std::max<uint64_t>(*from, 1), limit = *limit,
                            filter = std::move(filter).value()](const Responder& done) {
    const uint64_t head = ctx.store.durable_seq();
    std::string events = "[";
    uint64_t matched = 0;
    uint64_t cursor = from;  // the next seq to look at
    while (cursor <= head && matched < limit && cursor - from < kMaxScan && events.size() < kMaxPageBytes) {
      auto page = ctx.store.ReadEvents(cursor, filter.empty() ? limit - matched : kPage);
      if (!page.ok()) return done(ErrorResponse(page.status()));
      if (page->empty()) break;
      for (const auto& event : *page) {
        cursor = event.seq + 1;
        if (!filter.Matches(event)) continue;
        if (matched > 0) events.push_back(',');
        events.append(engine::EventToJson(event));
        if (++matched == limit || events.size() >= kMaxPageBytes) break;
      }
    }
    std::string body = "{\"events\":" + events + "],\"next\":";
    body.append(cursor <= head ? std::to_string(cursor) : "null");
    body.append(",\"head\":" + std::to_string(head) + "}");
    done(JsonResponse(std::move(body)));
  });
}

void GetEvent(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  auto seq = ParseUint(request.segments[2]);
  if (!seq) return respond(BadRequest("the event seq must be a positive integer"));
  if (*seq == 0 || *seq > ctx.store.durable_seq()) {
    return respond(NotFound("event " + std::to_string(*seq) + " does not exist"));
  }
  ctx.OffloadRead(respond, [&ctx, seq = *seq](const Responder& done) {
    auto events = ctx.store.ReadEvents(seq, 1);
    if (!events.ok()) return done(ErrorResponse(events.status()));
    if (events->empty() || events->front().seq != seq) {
      return done(NotFound("event " + std::to_string(seq) + " does not exist"));
    }
    done(JsonResponse(engine::EventToJson(events->front())));
  });
}

}  // namespace ctxd::server
