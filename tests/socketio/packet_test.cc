#include "server/socketio/packet.h"

#include <gtest/gtest.h>

namespace ctxd::server::socketio {
namespace {

TEST(PacketTest, OpenPacketOffersWebSocketOnlyToPolling) {
  EioOptions options;
  EXPECT_EQ(OpenPacket("abc", true, options),
            "0{\"sid\":\"abc\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":20000,"
            "\"maxPayload\":1000000}");
  EXPECT_EQ(OpenPacket("abc", false, options).substr(0, 30), "0{\"sid\":\"abc\",\"upgrades\":[],\"p");
}

TEST(PacketTest, PayloadSplitsOnRecordSeparator) {
  const std::vector<std::string_view> packets = SplitPayload(
      "2\x1e"
      "40/graph,{}\x1e"
      "42[\"a\"]");
  ASSERT_EQ(packets.size(), 3u);
  EXPECT_EQ(packets[0], "2");
  EXPECT_EQ(packets[1], "40/graph,{}");
  EXPECT_EQ(packets[2], "42[\"a\"]");
}

TEST(PacketTest, EmptyPayloadHasNoPackets) { EXPECT_TRUE(SplitPayload("").empty()); }

TEST(PacketTest, EmptyPacketsInsidePayloadAreKept) {
  const auto packets = SplitPayload(
      "\x1e"
      "3");
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_EQ(packets[0], "");
  EXPECT_EQ(packets[1], "3");
}

TEST(PacketTest, JoinIsTheInverseOfSplit) {
  EXPECT_EQ(JoinPayload({"6"}), "6");
  EXPECT_EQ(JoinPayload({"2", "42[\"x\",1]"}),
            "2\x1e"
            "42[\"x\",1]");
  EXPECT_EQ(JoinPayload({}), "");
  const std::string body =
      "40\x1e"
      "42/graph,1[\"e\",{}]\x1e"
      "3";
  EXPECT_EQ(JoinPayload(SplitPayload(body)), body);
}

TEST(PacketTest, ConnectToRootWithoutNamespace) {
  auto packet = ParseSioPacket("0");
  ASSERT_TRUE(packet.ok());
  EXPECT_EQ(packet->type, SioType::kConnect);
  EXPECT_EQ(packet->nsp, "/");
  EXPECT_FALSE(packet->ack_id);
  EXPECT_EQ(packet->data, "");
}

TEST(PacketTest, ConnectWithNamespaceAndAuth) {
  auto packet = ParseSioPacket("0/graph,{\"session_id\":\"abc\"}");
  ASSERT_TRUE(packet.ok());
  EXPECT_EQ(packet->nsp, "/graph");
  EXPECT_EQ(packet->data, "{\"session_id\":\"abc\"}");
}

TEST(PacketTest, NamespaceWithoutCommaIsAccepted) {
  auto packet = ParseSioPacket("0/graph");
  ASSERT_TRUE(packet.ok());
  EXPECT_EQ(packet->nsp, "/graph");
  EXPECT_EQ(packet->data, "");
}

TEST(PacketTest, EventWithAckId) {
  auto packet = ParseSioPacket("2/graph,12[\"x\",{\"a\":1}]");
  ASSERT_TRUE(packet.ok());
  EXPECT_EQ(packet->type, SioType::kEvent);
  ASSERT_TRUE(packet->ack_id);
  EXPECT_EQ(*packet->ack_id, 12u);
  EXPECT_EQ(packet->data, "[\"x\",{\"a\":1}]");
}

TEST(PacketTest, EventOnRootWithAckIdZero) {
  auto packet = ParseSioPacket("20[\"context_set\",{}]");
  ASSERT_TRUE(packet.ok());
  EXPECT_EQ(packet->nsp, "/");
  ASSERT_TRUE(packet->ack_id);
  EXPECT_EQ(*packet->ack_id, 0u);
}

TEST(PacketTest, BinaryPacketsAreRefused) {
  EXPECT_FALSE(ParseSioPacket("51-[\"x\",{\"_placeholder\":true,\"num\":0}]").ok());
  EXPECT_FALSE(ParseSioPacket("6").ok());
}

TEST(PacketTest, MalformedPacketsAreRefused) {
  EXPECT_FALSE(ParseSioPacket("").ok());
  EXPECT_FALSE(ParseSioPacket("9").ok());
  EXPECT_FALSE(ParseSioPacket("x[]").ok());
  EXPECT_FALSE(ParseSioPacket("299999999999999999999999[]").ok());
}

TEST(PacketTest, MessagesOmitTheRootNamespace) {
  EXPECT_EQ(SioMessage(SioType::kConnect, "/", std::nullopt, "{\"sid\":\"s\"}"), "40{\"sid\":\"s\"}");
  EXPECT_EQ(SioMessage(SioType::kConnect, "/graph", std::nullopt, "{}"), "40/graph,{}");
  EXPECT_EQ(SioMessage(SioType::kAck, "/graph", 0, "[]"), "43/graph,0[]");
  EXPECT_EQ(SioMessage(SioType::kAck, "/", 7, "[1]"), "437[1]");
}

TEST(PacketTest, EventMessageEscapesTheName) {
  EXPECT_EQ(EventMessage("/", "a\"b", "{}"), "42[\"a\\\"b\",{}]");
  EXPECT_EQ(EventMessage("/graph", "graph:node-created", "{\"x\":1}"),
            "42/graph,[\"graph:node-created\",{\"x\":1}]");
}

TEST(PacketTest, ConnectErrorIsAnObjectWithMessage) {
  EXPECT_EQ(ConnectErrorMessage("/nope", "Invalid namespace"), "44/nope,{\"message\":\"Invalid namespace\"}");
}

}  // namespace
}  // namespace ctxd::server::socketio
