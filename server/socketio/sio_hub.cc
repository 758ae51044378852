#include "server/socketio/sio_hub.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <iterator>

#include "server/stream_hub.h"

namespace ctxd::server::socketio {

std::shared_ptr<Frame> MakeFrame(std::string packet, uint64_t seq) {
  auto frame = std::make_shared<Frame>();
  frame->bytes.reserve(packet.size() + 10);
  AppendWsFrameHeader(&frame->bytes, packet.size());
  frame->header = frame->bytes.size();
  frame->bytes.append(packet);
  frame->seq = seq;
  return frame;
}

SioHub::SioHub(store::Store& store, Workers& workers, Metrics& metrics, net::io_context& ioc)
    : store_(store), workers_(workers), metrics_(metrics), strand_(net::make_strand(ioc)) {
  published_.store(store.durable_seq());
}

void SioHub::OnCommit(const std::vector<engine::Event>& events) {
  if (events.empty()) return;
  std::lock_guard lock(pending_mu_);
  if (member_count_ == 0 && pending_.empty()) {
    published_.store(events.back().seq, std::memory_order_release);
    return;
  }
  pending_.insert(pending_.end(), events.begin(), events.end());
  if (flush_posted_) return;
  flush_posted_ = true;
  net::post(strand_, [this] { Flush(); });
}

uint64_t SioHub::Join(const std::shared_ptr<FrameSink>& sink, Nsp nsp, const std::string& room) {
  std::lock_guard lock(mu_);
  members_[static_cast<int>(nsp)].push_back({sink, room});
  if (nsp == Nsp::kGraph) ++room_sizes_[room];
  UpdateGauges();
  std::lock_guard pending_lock(pending_mu_);
  ++member_count_;
  return published_.load(std::memory_order_acquire);
}

void SioHub::Leave(const FrameSink* sink, Nsp nsp, const std::string& room) {
  std::shared_ptr<FrameSink> removed;  // released outside the lock
  std::lock_guard lock(mu_);
  auto& members = members_[static_cast<int>(nsp)];
  auto it =
      std::find_if(members.begin(), members.end(), [sink](const Member& m) { return m.sink.get() == sink; });
  if (it == members.end()) return;
  removed = std::move(it->sink);
  *it = std::move(members.back());
  members.pop_back();
  if (nsp == Nsp::kGraph && --room_sizes_[room] <= 0) room_sizes_.erase(room);
  UpdateGauges();
  std::lock_guard pending_lock(pending_mu_);
  --member_count_;
}

void SioHub::UpdateGauges() {
  metrics_.SetSocketIoSockets(std::string(NspName(Nsp::kRoot)), static_cast<int64_t>(members_[0].size()));
  metrics_.SetSocketIoSockets(std::string(NspName(Nsp::kGraph)), static_cast<int64_t>(members_[1].size()));
}

int64_t SioHub::RoomSize(const std::string& room) const {
  std::lock_guard lock(mu_);
  auto it = room_sizes_.find(room);
  return it == room_sizes_.end() ? 0 : it->second;
}

int64_t SioHub::NamespaceSize(Nsp nsp) const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(members_[static_cast<int>(nsp)].size());
}

void SioHub::ExpectOwnSet(const std::string& command_id, const FrameSink* sink) {
  std::lock_guard lock(mu_);
  own_sets_[command_id] = sink;
}

void SioHub::ForgetOwnSet(const std::string& command_id) {
  std::lock_guard lock(mu_);
  own_sets_.erase(command_id);
}

void SioHub::Broadcast(Nsp nsp, const std::string& room, std::string packet) {
  const FramePtr frame = MakeFrame(std::move(packet));
  std::vector<std::shared_ptr<FrameSink>> targets;
  {
    std::lock_guard lock(mu_);
    for (const Member& member : members_[static_cast<int>(nsp)]) {
      if (nsp == Nsp::kRoot || member.room == room) targets.push_back(member.sink);
    }
  }
  for (const auto& sink : targets) sink->Offer(nsp, {frame});
}

MapLookup SioHub::Lookup() const {
  MapLookup lookup;
  store::Store* store = &store_;
  lookup.command_id_of = [store](uint64_t seq) {
    auto events = store->ReadEvents(seq, 1);
    if (!events.ok() || events->empty() || events->front().seq != seq) return std::string();
    return events->front().command_id;
  };
  // From the snapshotter's follower, which the writer never waits for; it
  // has not passed a just committed restore unless a long read moved it on.
  lookup.graph_of = [store](const std::string& session, uint64_t seq) {
    std::string graph = "null";
    Status read = store->snapshotter().ReadAt(
        seq, [&](const engine::State& state) { graph = SessionGraphJson(state, session); });
    if (!read.ok()) spdlog::warn("socket.io: the graph of restore {}: {}", seq, read.ToString());
    return graph;
  };
  return lookup;
}

// Strand: takes the pending events. A batch with a restore, whose
// project:loaded renders a whole graph, is mapped on the worker pool; until
// it is delivered, later batches wait in pending_ (flush_posted_ stays set),
// so that members still get every batch in seq order.
void SioHub::Flush() {
  std::vector<engine::Event> events;
  bool off_strand;
  {
    std::lock_guard lock(pending_mu_);
    events.swap(pending_);
    off_strand = std::any_of(events.begin(), events.end(), MapsToAGraph);
    flush_posted_ = off_strand;
  }
  if (!off_strand) return Deliver(events);
  workers_.Post([this, events = std::move(events)] {
    Deliver(events);
    net::post(strand_, [this] { Flush(); });
  });
}

// Maps and serializes each event once, then offers every member its part.
void SioHub::Deliver(const std::vector<engine::Event>& events) {
  if (events.empty()) return;
  const MapLookup lookup = Lookup();
  std::vector<FramePtr> root;
  std::map<std::string, std::vector<FramePtr>> rooms;
  std::vector<std::pair<std::shared_ptr<Frame>, const std::string*>> own_sets;  // frame, command id
  for (const auto& event : events) {
    for (auto& mapped : MapEvent(event, lookup)) {
      std::shared_ptr<Frame> frame = MakeFrame(std::move(mapped.packet), event.seq);
      if (mapped.nsp == Nsp::kGraph) {
        rooms[mapped.room].push_back(std::move(frame));
        continue;
      }
      if (event.type == engine::EventType::kContextSet) own_sets.emplace_back(frame, &event.command_id);
      root.push_back(std::move(frame));
    }
  }
  struct Target {
    std::shared_ptr<FrameSink> sink;
    Nsp nsp;
    const std::vector<FramePtr>* frames;
  };
  std::vector<Target> targets;
  {
    std::lock_guard lock(mu_);
    for (auto& [frame, command_id] : own_sets) {
      auto it = own_sets_.find(*command_id);
      if (it == own_sets_.end()) continue;
      frame->except = it->second;
      own_sets_.erase(it);
    }
    if (!root.empty()) {
      for (const Member& member : members_[0]) targets.push_back({member.sink, Nsp::kRoot, &root});
    }
    for (const Member& member : members_[1]) {
      auto it = rooms.find(member.room);
      if (it != rooms.end()) targets.push_back({member.sink, Nsp::kGraph, &it->second});
    }
    std::lock_guard pending_lock(pending_mu_);
    published_.store(std::max(published_.load(), events.back().seq), std::memory_order_release);
  }
  for (const Target& target : targets) target.sink->Offer(target.nsp, *target.frames);
}

void SioHub::Replay(Nsp nsp, const std::string& room, uint64_t from, uint64_t to, size_t max_packets,
                    size_t max_bytes, ReplayDone done) {
  workers_.Post([this, nsp, room, from, to, max_packets, max_bytes, done = std::move(done)] {
    constexpr uint64_t kPage = 512;
    MapLookup lookup = Lookup();
    // Rebuilt apart from the follower, which a replay of old events would
    // otherwise move back (restores are rare).
    lookup.graph_of = [this](const std::string& session, uint64_t seq) {
      auto state = store_.StateAt(seq);
      return state.ok() ? SessionGraphJson(*state, session) : std::string("null");
    };
    ReplayPage page;
    size_t bytes = 0;
    for (uint64_t next = std::max<uint64_t>(from, 1); next <= to;) {
      auto events = store_.ReadEvents(next, kPage);
      if (!events.ok()) return done(events.status());
      if (events->empty()) break;
      for (const auto& event : *events) {
        if (event.seq > to) break;
        std::vector<std::string> packets;  // the event's, which go whole or not at all
        size_t event_bytes = 0;
        for (auto& mapped : MapEvent(event, lookup)) {
          if (mapped.nsp != nsp || (nsp == Nsp::kGraph && mapped.room != room)) continue;
          event_bytes += mapped.packet.size();
          packets.push_back(std::move(mapped.packet));
        }
        const bool full =
            page.packets.size() + packets.size() > max_packets || bytes + event_bytes > max_bytes;
        if (full && !page.packets.empty()) {
          page.last_seq = event.seq - 1;
          return done(std::move(page));
        }
        bytes += event_bytes;
        std::move(packets.begin(), packets.end(), std::back_inserter(page.packets));
      }
      next = events->back().seq + 1;
    }
    page.last_seq = to;
    done(std::move(page));
  });
}

}  // namespace ctxd::server::socketio
