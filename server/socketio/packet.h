// The Engine.IO 4 and Socket.IO 5 wire formats (/work/shared/SOCKETIO.md,
// docs/server.md "Socket.IO"): Engine.IO packets and the long-polling
// payload (packets joined by \x1e), Socket.IO packets inside Engine.IO
// message packets. Pure functions on strings: no I/O, no Beast.
//
// Thread safety: stateless.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ctxd::server::socketio {

// Engine.IO packet types (the first character of a packet).
enum class EioType : char {
  kOpen = '0',
  kClose = '1',
  kPing = '2',
  kPong = '3',
  kMessage = '4',
  kUpgrade = '5',
  kNoop = '6',
};

// Socket.IO packet types (the first character of an Engine.IO message).
enum class SioType : char {
  kConnect = '0',
  kDisconnect = '1',
  kEvent = '2',
  kAck = '3',
  kConnectError = '4',
};

inline constexpr std::string_view kEngineIoPath = "/socket.io/";
inline constexpr char kRecordSeparator = '\x1e';
inline constexpr std::string_view kRootNamespace = "/";

struct EioOptions {
  int64_t ping_interval_ms = 25000;
  int64_t ping_timeout_ms = 20000;
  int64_t max_payload = 1000000;
};

// The open packet: 0{"sid":..,"upgrades":[..],"pingInterval":..,...}.
std::string OpenPacket(std::string_view sid, bool offer_websocket, const EioOptions& options);

// The packets of a long-polling payload; an empty body has none.
std::vector<std::string_view> SplitPayload(std::string_view body);
// Packets joined by the record separator.
std::string JoinPayload(const std::vector<std::string_view>& packets);

struct SioPacket {
  SioType type = SioType::kEvent;
  std::string nsp = std::string(kRootNamespace);
  std::optional<uint64_t> ack_id;
  std::string_view data;  // JSON text (may be empty), inside the parsed text
};

// Parses the Socket.IO packet in an Engine.IO message (without the '4').
// Binary packets (types 5 and 6) and malformed ones are kInvalidArgument.
StatusOr<SioPacket> ParseSioPacket(std::string_view text);

// The Engine.IO message packet carrying a Socket.IO packet:
// 4<type>[<nsp>,][<ack id>]<json>; the namespace is omitted for "/".
std::string SioMessage(SioType type, std::string_view nsp, std::optional<uint64_t> ack_id,
                       std::string_view json);
// 42[<nsp>,]["<name>",<payload>]: `payload` is JSON text.
std::string EventMessage(std::string_view nsp, std::string_view name, std::string_view payload);
// 44[<nsp>,]{"message":"<message>"}
std::string ConnectErrorMessage(std::string_view nsp, std::string_view message);

}  // namespace ctxd::server::socketio
