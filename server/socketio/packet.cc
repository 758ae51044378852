#include "server/socketio/packet.h"

#include <charconv>

#include "engine/json_text.h"

namespace ctxd::server::socketio {

std::string OpenPacket(std::string_view sid, bool offer_websocket, const EioOptions& options) {
  std::string out = "0{\"sid\":";
  engine::AppendJsonString(&out, sid);
  out.append(offer_websocket ? ",\"upgrades\":[\"websocket\"]" : ",\"upgrades\":[]");
  out.append(",\"pingInterval\":" + std::to_string(options.ping_interval_ms));
  out.append(",\"pingTimeout\":" + std::to_string(options.ping_timeout_ms));
  out.append(",\"maxPayload\":" + std::to_string(options.max_payload) + "}");
  return out;
}

std::vector<std::string_view> SplitPayload(std::string_view body) {
  std::vector<std::string_view> packets;
  if (body.empty()) return packets;
  while (true) {
    const size_t end = body.find(kRecordSeparator);
    packets.push_back(body.substr(0, end));
    if (end == std::string_view::npos) return packets;
    body.remove_prefix(end + 1);
  }
}

std::string JoinPayload(const std::vector<std::string_view>& packets) {
  size_t size = packets.size();
  for (const auto packet : packets) size += packet.size();
  std::string out;
  out.reserve(size);
  for (size_t i = 0; i < packets.size(); ++i) {
    if (i > 0) out.push_back(kRecordSeparator);
    out.append(packets[i]);
  }
  return out;
}

StatusOr<SioPacket> ParseSioPacket(std::string_view text) {
  if (text.empty()) return Status::InvalidArgument("empty Socket.IO packet");
  const char type = text.front();
  if (type == '5' || type == '6')
    return Status::InvalidArgument("binary Socket.IO packets are not supported");
  if (type < '0' || type > '4') return Status::InvalidArgument("unknown Socket.IO packet type");
  SioPacket packet;
  packet.type = static_cast<SioType>(type);
  text.remove_prefix(1);
  if (!text.empty() && text.front() == '/') {
    const size_t comma = text.find(',');
    packet.nsp = std::string(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits > 0) {
    uint64_t id = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + digits, id);
    if (ec != std::errc()) return Status::InvalidArgument("Socket.IO ack id out of range");
    packet.ack_id = id;
    text.remove_prefix(digits);
  }
  packet.data = text;
  return packet;
}

std::string SioMessage(SioType type, std::string_view nsp, std::optional<uint64_t> ack_id,
                       std::string_view json) {
  std::string out;
  out.reserve(nsp.size() + json.size() + 24);
  out.push_back(static_cast<char>(EioType::kMessage));
  out.push_back(static_cast<char>(type));
  if (nsp != kRootNamespace) {
    out.append(nsp);
    out.push_back(',');
  }
  if (ack_id) out.append(std::to_string(*ack_id));
  out.append(json);
  return out;
}

std::string EventMessage(std::string_view nsp, std::string_view name, std::string_view payload) {
  std::string array = "[";
  engine::AppendJsonString(&array, name);
  array.push_back(',');
  array.append(payload);
  array.push_back(']');
  return SioMessage(SioType::kEvent, nsp, std::nullopt, array);
}

std::string ConnectErrorMessage(std::string_view nsp, std::string_view message) {
  std::string body = "{\"message\":";
  engine::AppendJsonString(&body, message);
  body.push_back('}');
  return SioMessage(SioType::kConnectError, nsp, std::nullopt, body);
}

}  // namespace ctxd::server::socketio
