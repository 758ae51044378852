#include "server/socketio/sio_sockets.h"

#include <algorithm>

#include "engine/engine.h"
#include "engine/json_text.h"
#include "server/json_body.h"
#include "server/read_path.h"
#include "server/responses.h"
#include "server/write_path.h"

namespace ctxd::server::socketio {
namespace {

constexpr std::string_view kRejected = "Connection rejected by server";
// A replay is read from the log a page at a time (SioHub::Replay), so a
// client far behind holds one page, not all it missed.
constexpr size_t kReplayPagePackets = 4096;
constexpr size_t kReplayPageBytes = size_t{4} << 20;
// Replay packets (and bytes) queued in the session at a time: a replay may
// be far more than a session may queue (SessionLimits), so it goes out as
// it is taken.
constexpr size_t kReplayWindow = 1024;
constexpr size_t kReplayWindowBytes = 1024 * 1024;
// Live frames go to a session only while it holds fewer than these (the
// largest new frame not counted); past them the client is read the events
// from the log, paced like a replay, instead. One command can map to more
// frames than a session may queue (a batch of 20,000 create_node), which
// closed every socket of its room as a slow consumer.
constexpr size_t kLiveBacklogPackets = 4096;
constexpr size_t kLiveBacklogBytes = size_t{4} << 20;

// The whole context as one JSON object (context_snapshot).
std::string RenderContext(const engine::State& state) {
  std::string out = "{";
  for (const auto& [key, entry] : state.context) {
    AppendJsonKey(&out, key, out.size() == 1);
    out.append(entry.value);
  }
  out.push_back('}');
  return out;
}

std::optional<Nsp> NspOf(std::string_view name) {
  if (name == kRootNamespace) return Nsp::kRoot;
  if (name == kGraphNamespace) return Nsp::kGraph;
  return std::nullopt;
}

// CONNECT's auth: an object, or nothing (JS without auth sends nothing).
Json AuthOf(std::string_view data) {
  if (data.empty()) return Json::object();
  auto auth = ParseJsonObject(data);
  return auth.ok() ? std::move(auth).value() : Json();
}

// auth.from_seq (ctxd's extension): absent or null is live only. Anything but
// a seq is refused: a client that meant to resume would miss events.
StatusOr<std::optional<uint64_t>> FromSeq(const Json& auth) {
  auto it = auth.is_object() ? auth.find("from_seq") : auth.end();
  if (it == auth.end() || it->is_null()) return std::optional<uint64_t>();
  if (!it->is_number_unsigned()) return Status::InvalidArgument("auth.from_seq must be an event seq");
  return std::optional<uint64_t>(it->get<uint64_t>());
}

std::string SidJson(const std::string& sid) {
  std::string out = "{\"sid\":";
  engine::AppendJsonString(&out, sid);
  out.push_back('}');
  return out;
}

// client_register's argument {type?, name?} (none: both defaults) as the
// registration_confirmed payload of `client_id`.
StatusOr<std::string> RegistrationPayload(const Json& body, const std::string& client_id) {
  if (!body.is_null() && !body.is_object()) {
    return Status::InvalidArgument("the argument must be an object {type, name}");
  }
  std::string type = "unknown";
  std::string name = "anonymous";
  if (body.is_object()) {
    CTXD_RETURN_IF_ERROR(OptionalString(body, "type", &type));
    CTXD_RETURN_IF_ERROR(OptionalString(body, "name", &name));
  }
  return "{\"client_id\":" + engine::JsonString(client_id) + ",\"type\":" + engine::JsonString(type) +
         ",\"name\":" + engine::JsonString(name) + ",\"status\":\"registered\"}";
}

}  // namespace

void SioSockets::OnMessage(std::string_view text) {
  auto packet = ParseSioPacket(text);
  if (!packet.ok()) return host_.Fail(packet.status().message());
  const std::optional<Nsp> nsp = NspOf(packet->nsp);
  switch (packet->type) {
    case SioType::kConnect:
      if (!nsp) return host_.Send(ConnectErrorMessage(packet->nsp, "Invalid namespace"));
      return OnConnect(*packet);
    case SioType::kDisconnect:
      if (nsp) Disconnect(*nsp);
      return;
    case SioType::kEvent:
      if (nsp && sockets_[static_cast<int>(*nsp)]) OnEvent(*packet, *nsp);
      return;
    default:
      return;  // acks from the client: the server asks for none
  }
}

void SioSockets::OnConnect(const SioPacket& packet) {
  const Nsp nsp = *NspOf(packet.nsp);
  if (sockets_[static_cast<int>(nsp)]) Disconnect(nsp);
  const Json auth = AuthOf(packet.data);
  const auto from_seq = FromSeq(auth);
  if (!from_seq.ok()) return host_.Send(ConnectErrorMessage(packet.nsp, from_seq.status().message()));
  Socket socket;
  socket.sid = NewUuid();
  if (nsp == Nsp::kGraph) {
    auto it = auth.is_object() ? auth.find("session_id") : auth.end();
    if (it == auth.end() || !it->is_string() ||
        !engine::ValidateName("session", it->get<std::string>()).ok()) {
      return host_.Send(ConnectErrorMessage(packet.nsp, kRejected));
    }
    socket.room = it->get<std::string>();
  }
  sockets_[static_cast<int>(nsp)] = std::move(socket);
  host_.Send(
      SioMessage(SioType::kConnect, packet.nsp, std::nullopt, SidJson(sockets_[static_cast<int>(nsp)]->sid)));
  Attach(nsp, *from_seq);
}

// Joins the hub; the events up to the seq it returns come from the log
// (from_seq) or not at all (live only).
void SioSockets::Attach(Nsp nsp, std::optional<uint64_t> from_seq) {
  Socket& socket = *sockets_[static_cast<int>(nsp)];
  const uint64_t published = hub_.Join(host_.sink(), nsp, socket.room);
  socket.next_seq = published + 1;
  if (nsp == Nsp::kGraph) {
    ConnectGraph(socket);
    return Replay(nsp, from_seq, published);
  }
  const std::optional<std::string> short_context =
      context_.store.Read([](const engine::State& state) -> std::optional<std::string> {
        if (IsLongContext(state)) return std::nullopt;
        return RenderContext(state);
      });
  if (short_context) {
    ConnectRoot(*short_context);
    return Replay(nsp, from_seq, published);
  }
  // Rendered under the state lock, a long context would hold up the writer
  // (read_path.h): it is rendered on the worker pool from the follower
  // state, and the socket's live frames are held until its snapshot is out.
  socket.replaying = true;
  context_.workers.Post([this, sink = host_.sink(), sid = socket.sid, from_seq, published] {
    std::string context;
    const auto seq = context_.store.snapshotter().ReadCaughtUp(
        [&](const engine::State& state) { context = RenderContext(state); });
    host_.PostToStrand(
        [this, sink, sid, from_seq, published, context = std::move(context), status = seq.status()] {
          auto& socket = sockets_[static_cast<int>(Nsp::kRoot)];
          if (!socket || socket->sid != sid) return;  // gone, or connected again since
          if (!status.ok()) return host_.Fail("reading the context failed: " + status.message());
          ConnectRoot(context);
          if (from_seq && *from_seq <= published) return Replay(Nsp::kRoot, from_seq, published);
          ReleaseHeld(Nsp::kRoot);
        });
  });
}

// Sends the events in [from_seq, to] from the log, a page at a time,
// holding the live frames until they are out (OnReplay).
void SioSockets::Replay(Nsp nsp, std::optional<uint64_t> from_seq, uint64_t to) {
  if (!from_seq || *from_seq > to) return;
  Socket& socket = *sockets_[static_cast<int>(nsp)];
  socket.replaying = true;
  socket.replay_to = to;
  hub_.Replay(nsp, socket.room, *from_seq, to, kReplayPagePackets, kReplayPageBytes,
              [this, sink = host_.sink(), nsp, sid = socket.sid](StatusOr<SioHub::ReplayPage> page) mutable {
                host_.PostToStrand([this, sink, nsp, sid, page = std::move(page)]() mutable {
                  OnReplay(nsp, sid, std::move(page));
                });
              });
}

void SioSockets::ConnectRoot(std::string_view context) {
  Emit(Nsp::kRoot, "context_snapshot",
       ContextSnapshotPayload(context, NowTimestamp(), sockets_[static_cast<int>(Nsp::kRoot)]->sid));
  hub_.Broadcast(
      Nsp::kRoot, std::string(),
      EventMessage(kRootNamespace, "client_stats", ClientStatsPayload(hub_.NamespaceSize(Nsp::kRoot))));
}

void SioSockets::ConnectGraph(Socket& socket) {
  hub_.Broadcast(Nsp::kGraph, socket.room,
                 EventMessage(kGraphNamespace, "session:connected",
                              PresencePayload(socket.room, hub_.RoomSize(socket.room), NowTimestamp())));
}

void SioSockets::OnReplay(Nsp nsp, const std::string& sid, StatusOr<SioHub::ReplayPage> page) {
  auto& socket = sockets_[static_cast<int>(nsp)];
  if (!socket || socket->sid != sid || !socket->replaying) return;  // gone, or connected again since
  if (!page.ok()) return host_.Fail("from_seq replay failed: " + page.status().message());
  socket->replay = std::move(page->packets);
  socket->replay_sent = 0;
  socket->replay_last_seq = page->last_seq;
  PumpReplay(nsp);
}

// Sends the replay while the session has room for it (OnRoom calls again);
// once all of it is out, the live frames held meanwhile follow.
void SioSockets::PumpReplay(Nsp nsp) {
  auto& socket = sockets_[static_cast<int>(nsp)];
  while (socket->replay_sent < socket->replay.size()) {
    if (host_.queued_packets() >= kReplayWindow || host_.queued_bytes() >= kReplayWindowBytes) return;
    host_.Send(std::move(socket->replay[socket->replay_sent++]));
  }
  std::vector<std::string>().swap(socket->replay);
  socket->next_seq = socket->replay_last_seq + 1;
  ReleaseHeld(nsp);
}

bool SioSockets::ReplayWaits(const std::optional<Socket>& socket) {
  return socket && socket->replaying && !socket->replay.empty();
}

bool SioSockets::replay_pending() const {
  return std::any_of(std::begin(sockets_), std::end(sockets_), ReplayWaits);
}

void SioSockets::OnRoom() {
  for (const Nsp nsp : {Nsp::kRoot, Nsp::kGraph}) {
    if (ReplayWaits(sockets_[static_cast<int>(nsp)])) PumpReplay(nsp);
  }
}

// Sends the live frames held for the socket in `nsp` and stops holding them;
// first, while the replay has pages to go, or if logged frames were dropped
// meanwhile (Hold), reads on from the log up to what the hub has published.
void SioSockets::ReleaseHeld(Nsp nsp) {
  Socket& socket = *sockets_[static_cast<int>(nsp)];
  if (socket.overflowed || socket.next_seq <= socket.replay_to) {
    socket.overflowed = false;
    const uint64_t published = hub_.published_seq();
    if (socket.next_seq <= published) return Replay(nsp, socket.next_seq, published);
  }
  socket.replaying = false;
  std::vector<FramePtr> held;
  held.swap(socket.held);
  OnFrames(nsp, held);
}

void SioSockets::OnFrames(Nsp nsp, const std::vector<FramePtr>& frames) {
  auto& socket = sockets_[static_cast<int>(nsp)];
  if (!socket) return;
  if (socket->replaying) return Hold(*socket, frames);
  if (Backlogged(*socket, frames)) return CatchUpFromLog(nsp, frames);
  const FrameSink* self = host_.sink().get();
  for (const FramePtr& frame : frames) {
    if (frame->seq != 0) {
      if (frame->seq < socket->next_seq) continue;  // in the replay already
      socket->next_seq = frame->seq;                // a seq maps to several frames
    }
    if (frame->except != self) host_.Deliver(frame);
  }
}

// Whether queueing the frames not sent yet would leave the session holding
// more than kLiveBacklog* for this client.
bool SioSockets::Backlogged(const Socket& socket, const std::vector<FramePtr>& frames) const {
  size_t packets = 0, bytes = 0, largest = 0;
  for (const FramePtr& frame : frames) {
    if (frame->seq < socket.next_seq) continue;  // sent, or outside the log (seq 0)
    ++packets;
    bytes += frame->packet().size();
    largest = std::max(largest, frame->packet().size());
  }
  return packets > 0 && (host_.queued_packets() + packets > kLiveBacklogPackets ||
                         host_.queued_bytes() + bytes - largest > kLiveBacklogBytes);
}

// Sends the logged frames from the log instead, as a replay from the first
// not sent; frames outside the log wait for it (Hold). The hub has
// published every frame it offers, so the replay reaches them all.
void SioSockets::CatchUpFromLog(Nsp nsp, const std::vector<FramePtr>& frames) {
  Socket& socket = *sockets_[static_cast<int>(nsp)];
  uint64_t from = 0;
  for (const FramePtr& frame : frames) {
    if (frame->seq == 0) socket.held.push_back(frame);
    if (from == 0 && frame->seq >= socket.next_seq) from = frame->seq;
  }
  Replay(nsp, from, hub_.published_seq());
}

// Live frames that arrive during a replay (or a long snapshot) wait for it.
// A paced replay can take a while, and a socket closed for holding too many
// would reconnect into the same replay under a steady stream of writes: so
// past kMaxHeldFrames the frames of logged events are dropped, to be read
// from the log after the replay (ReleaseHeld). Frames outside the log
// (seq 0: client_stats, presence) are always held.
void SioSockets::Hold(Socket& socket, const std::vector<FramePtr>& frames) {
  for (const FramePtr& frame : frames) {
    if (!socket.overflowed || frame->seq == 0) socket.held.push_back(frame);
  }
  if (socket.held.size() <= kMaxHeldFrames) return;
  if (!socket.overflowed) {
    socket.overflowed = true;
    std::erase_if(socket.held, [](const FramePtr& frame) { return frame->seq != 0; });
    if (socket.held.size() <= kMaxHeldFrames) return;
  }
  host_.Fail("slow consumer: too many events outside the log during a replay");
}

void SioSockets::Disconnect(Nsp nsp) {
  auto& socket = sockets_[static_cast<int>(nsp)];
  if (!socket) return;
  const std::string room = socket->room;
  socket.reset();
  hub_.Leave(host_.sink().get(), nsp, room);
  if (nsp == Nsp::kRoot) {
    hub_.Broadcast(
        Nsp::kRoot, std::string(),
        EventMessage(kRootNamespace, "client_stats", ClientStatsPayload(hub_.NamespaceSize(Nsp::kRoot))));
  } else {
    hub_.Broadcast(Nsp::kGraph, room,
                   EventMessage(kGraphNamespace, "session:disconnected",
                                PresencePayload(room, hub_.RoomSize(room), NowTimestamp())));
  }
}

void SioSockets::CloseAll() {
  Disconnect(Nsp::kRoot);
  Disconnect(Nsp::kGraph);
}

void SioSockets::OnEvent(const SioPacket& packet, Nsp nsp) {
  auto args = ParseJson(packet.data, "the event");
  if (!args.ok()) return Emit(nsp, "error", MessagePayload(args.status().message()));
  if (!args->is_array() || args->empty() || !(*args)[0].is_string()) {
    return Emit(nsp, "error", MessagePayload("an event is a JSON array that starts with its name"));
  }
  const std::string name = (*args)[0].get<std::string>();
  const std::string arg = args->size() > 1 ? (*args)[1].dump() : std::string("null");
  if (nsp == Nsp::kRoot && name == "context_set") return ContextSet(arg, packet.ack_id);
  if (nsp == Nsp::kRoot && name == "client_register") {
    auto payload = RegistrationPayload(args->size() > 1 ? (*args)[1] : Json(), sockets_[0]->sid);
    if (!payload.ok()) {
      return Emit(Nsp::kRoot, "error", MessagePayload("client_register: " + payload.status().message()));
    }
    Emit(Nsp::kRoot, "registration_confirmed", *payload);
    return Ack(nsp, packet.ack_id, "[" + *payload + "]");
  }
  Ack(nsp, packet.ack_id, "[]");
}

// context_set {key, value, who}: the sender gets context_set_confirmed once
// the set is durable, the others context_updated from the log.
void SioSockets::ContextSet(const std::string& arg, std::optional<uint64_t> ack_id) {
  auto body = ParseJsonObject(arg);
  engine::SetContext set;
  engine::Command command;
  Status status = body.status();
  const Json* value = nullptr;
  if (status.ok()) status = RequiredString(*body, "key", &set.key);
  if (status.ok()) value = RequiredField(*body, "value", &status);
  if (status.ok()) status = engine::ValidateKey(set.key);
  if (status.ok()) status = OptionalString(*body, "who", &command.actor);
  if (status.ok()) status = ValidateActor(command.actor);
  if (status.ok() && read_only_) status = Status::InvalidArgument("this access token may read but not write");
  if (!status.ok()) return Emit(Nsp::kRoot, "error", MessagePayload("context_set: " + status.message()));
  set.value = CanonicalJson(*value);
  command.command_id = NewUuid();
  command.body = set;
  const std::string command_id = command.command_id;
  hub_.ExpectOwnSet(command_id, host_.sink().get());
  context_.store.Submit(std::move(command), [this, sink = host_.sink(), set, command_id,
                                             ack_id](StatusOr<engine::CommandResult> result) {
    if (!result.ok() || !result->changed) hub_.ForgetOwnSet(command_id);  // no event to skip
    host_.PostToStrand([this, set, ack_id, status = result.status()] {
      if (!status.ok()) return Emit(Nsp::kRoot, "error", MessagePayload("context_set: " + status.message()));
      std::string payload =
          "{\"key\":" + engine::JsonString(set.key) + ",\"value\":" + set.value + ",\"status\":\"success\"}";
      Emit(Nsp::kRoot, "context_set_confirmed", payload);
      Ack(Nsp::kRoot, ack_id, "[" + payload + "]");
    });
  });
}

void SioSockets::Emit(Nsp nsp, std::string_view name, std::string_view payload) {
  host_.Send(EventMessage(NspName(nsp), name, payload));
}

void SioSockets::Ack(Nsp nsp, std::optional<uint64_t> ack_id, std::string_view args) {
  if (ack_id) host_.Send(SioMessage(SioType::kAck, NspName(nsp), ack_id, args));
}

}  // namespace ctxd::server::socketio
