// SioSockets: the Socket.IO sockets of one Engine.IO session — at most one
// per namespace ("/" and "/graph") — and what they do: CONNECT (with auth
// session_id and from_seq), DISCONNECT, the client events of the old context
// server (context_set, client_register), acks, and the cursor that makes a
// replay (auth.from_seq) and the live frames meet without a gap or a
// duplicate. See docs/server.md "Socket.IO".
//
// Ownership: a member of its EioSession, which it reaches through
// SocketHost. Thread safety: the session's strand, except where noted.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/server_context.h"
#include "server/socketio/packet.h"
#include "server/socketio/sio_hub.h"

namespace ctxd::server::socketio {

// What the sockets need from their Engine.IO session.
class SocketHost {
 public:
  virtual ~SocketHost() = default;
  virtual void Send(std::string packet) = 0;        // an Engine.IO packet of this session only
  virtual void Deliver(const FramePtr& frame) = 0;  // a shared frame
  virtual void Fail(std::string_view why) = 0;      // close the session
  // Packets queued in the session, not yet taken by its transport.
  virtual size_t queued_packets() const = 0;
  virtual size_t queued_bytes() const = 0;
  // Runs `task` on the session's strand while the session lives.
  virtual void PostToStrand(std::function<void()> task) = 0;
  virtual std::shared_ptr<FrameSink> sink() = 0;
  virtual const std::string& eio_sid() const = 0;
};

class SioSockets {
 public:
  // Live frames held during a replay. Beyond it the logged ones are
  // dropped, and read from the log once the replay is out (Hold).
  static constexpr size_t kMaxHeldFrames = 16384;

  SioSockets(ServerContext& context, SioHub& hub, SocketHost& host)
      : context_(context), hub_(hub), host_(host) {}
  SioSockets(const SioSockets&) = delete;
  SioSockets& operator=(const SioSockets&) = delete;

  // An Engine.IO message packet's data (a Socket.IO packet).
  void OnMessage(std::string_view text);
  // Live frames from the hub for the socket in `nsp`.
  void OnFrames(Nsp nsp, const std::vector<FramePtr>& frames);
  // The session's transport took queued packets: a replay goes on.
  void OnRoom();
  // A replay is waiting for the session to take its packets.
  bool replay_pending() const;
  // The session ends: every socket leaves.
  void CloseAll();
  // The session's access token may read but not write (--auth-file):
  // context_set is refused.
  void set_read_only(bool read_only) { read_only_ = read_only; }

 private:
  struct Socket {
    std::string sid;
    std::string room;        // /graph: the session id
    uint64_t next_seq = 1;   // live frames below it are already sent
    bool replaying = false;  // live frames are held until the replay is out
    std::vector<FramePtr> held;
    bool overflowed = false;  // logged frames were dropped from `held`: replay them after
    // A replay read from the log, sent as the session takes it (PumpReplay).
    std::vector<std::string> replay;
    size_t replay_sent = 0;
    uint64_t replay_last_seq = 0;  // this page of the replay ends at this seq
    uint64_t replay_to = 0;        // and the whole replay at this one
  };

  void OnConnect(const SioPacket& packet);
  void ConnectRoot(std::string_view context);  // the context as a JSON object
  void ConnectGraph(Socket& socket);
  void Attach(Nsp nsp, std::optional<uint64_t> from_seq);
  void Replay(Nsp nsp, std::optional<uint64_t> from_seq, uint64_t to);
  void OnReplay(Nsp nsp, const std::string& sid, StatusOr<SioHub::ReplayPage> page);
  void PumpReplay(Nsp nsp);
  static bool ReplayWaits(const std::optional<Socket>& socket);
  bool Backlogged(const Socket& socket, const std::vector<FramePtr>& frames) const;
  void CatchUpFromLog(Nsp nsp, const std::vector<FramePtr>& frames);
  void Hold(Socket& socket, const std::vector<FramePtr>& frames);
  void ReleaseHeld(Nsp nsp);
  void Disconnect(Nsp nsp);
  void OnEvent(const SioPacket& packet, Nsp nsp);
  void ContextSet(const std::string& args, std::optional<uint64_t> ack_id);
  void Emit(Nsp nsp, std::string_view name, std::string_view payload);
  void Ack(Nsp nsp, std::optional<uint64_t> ack_id, std::string_view args);

  ServerContext& context_;
  SioHub& hub_;
  SocketHost& host_;
  std::optional<Socket> sockets_[2];  // by Nsp
  bool read_only_ = false;
};

}  // namespace ctxd::server::socketio
