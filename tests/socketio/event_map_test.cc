#include "server/socketio/event_map.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace ctxd::server::socketio {
namespace {

using Json = nlohmann::json;
using engine::Event;
using engine::EventType;

// The name and payload of a mapped event packet (42[nsp,][name, payload]).
std::pair<std::string, Json> Decode(const MappedEvent& mapped) {
  std::string_view packet = mapped.packet;
  EXPECT_EQ(packet.substr(0, 2), "42");
  packet.remove_prefix(2);
  if (mapped.nsp == Nsp::kGraph) {
    EXPECT_EQ(packet.substr(0, 7), "/graph,");
    packet.remove_prefix(7);
  }
  Json array = Json::parse(packet);
  return {array[0].get<std::string>(), array[1]};
}

Event GraphEvent(EventType type, std::vector<engine::Change> changes) {
  Event event;
  event.seq = 42;
  event.ts_us = 1'700'000'000'000'000;
  event.type = type;
  event.actor = "alice";
  event.session = "s1";
  event.command_id = "cmd-1";
  event.changes = std::move(changes);
  return event;
}

std::vector<std::string> Names(const std::vector<MappedEvent>& mapped) {
  std::vector<std::string> names;
  for (const auto& m : mapped) names.push_back(Decode(m).first);
  return names;
}

class EventMapTest : public ::testing::Test {
 protected:
  MapLookup lookup_{[](uint64_t seq) { return seq == 7 ? std::string("original") : std::string(); },
                    [](const std::string& session, uint64_t seq) {
                      return "{\"seq\":" + std::to_string(seq) + ",\"session\":\"" + session +
                             "\",\"nodes\":[]}";
                    }};
};

TEST_F(EventMapTest, ContextSetBecomesContextUpdatedOnRoot) {
  Event event = GraphEvent(EventType::kContextSet, {engine::CtxPut{"k", "{\"a\":1}", std::nullopt}});
  event.session.clear();
  const auto mapped = MapEvent(event, lookup_);
  ASSERT_EQ(mapped.size(), 1u);
  EXPECT_EQ(mapped[0].nsp, Nsp::kRoot);
  const auto [name, payload] = Decode(mapped[0]);
  EXPECT_EQ(name, "context_updated");
  EXPECT_EQ(payload["key"], "k");
  EXPECT_EQ(payload["value"], Json({{"a", 1}}));
  EXPECT_EQ(payload["who"], "alice");
  EXPECT_EQ(payload["seq"], 42);
  EXPECT_TRUE(payload["timestamp"].is_string());
}

TEST_F(EventMapTest, BatchSetsAreOneUpdatePerKey) {
  const auto mapped = MapEvent(
      GraphEvent(EventType::kContextBatch, {engine::CtxPut{"a", "1", std::nullopt},
                                            engine::CtxPut{"b", "2", "1"}, engine::CtxDel{"c", "3"}}),
      lookup_);
  EXPECT_EQ(Names(mapped),
            (std::vector<std::string>{"context_updated", "context_updated", "context_deleted"}));
}

TEST_F(EventMapTest, CreateNodeWithParentIsOneNodeCreatedWithParentId) {
  const auto mapped = MapEvent(GraphEvent(EventType::kCreateNode, {engine::NodeAdd{"n1", "task", "Build", {}},
                                                                   engine::EdgeAdd{"p", "n1"}}),
                               lookup_);
  ASSERT_EQ(Names(mapped),
            (std::vector<std::string>{"command:executing", "graph:node-created", "command:executed"}));
  for (const auto& m : mapped) {
    EXPECT_EQ(m.nsp, Nsp::kGraph);
    EXPECT_EQ(m.room, "s1");
  }
  const Json created = Decode(mapped[1]).second;
  EXPECT_EQ(created, Json::parse(R"({"node_id":"n1","name":"Build","blueprint_type_id":"task","parent_id":"p",
                                     "timestamp":")" +
                                 created["timestamp"].get<std::string>() + R"(","seq":42})"));
  const Json executing = Decode(mapped[0]).second;
  EXPECT_EQ(executing["command_id"], "cmd-1");
  EXPECT_EQ(executing["command_type"], "create_node");
}

TEST_F(EventMapTest, RootNodeHasNullParent) {
  const auto mapped =
      MapEvent(GraphEvent(EventType::kCreateNode, {engine::NodeAdd{"n1", "task", "Build", {}}}), lookup_);
  EXPECT_TRUE(Decode(mapped[1]).second["parent_id"].is_null());
}

TEST_F(EventMapTest, CommandExecutedCarriesTheResult) {
  Event event = GraphEvent(EventType::kCreateNode, {engine::NodeAdd{"n1", "task", "Build", {}}});
  event.result = "{\"node_id\":\"n1\"}";
  const Json executed = Decode(MapEvent(event, lookup_).back()).second;
  EXPECT_EQ(executed["result"], Json({{"node_id", "n1"}}));
  EXPECT_EQ(executed["seq"], 42);
}

TEST_F(EventMapTest, DeleteNodeFoldsItsEdges) {
  const auto mapped =
      MapEvent(GraphEvent(EventType::kDeleteNode,
                          {engine::EdgeRemove{"p", "n1"}, engine::NodeRemove{"n1", "task", "Build", {}}}),
               lookup_);
  EXPECT_EQ(Names(mapped),
            (std::vector<std::string>{"command:executing", "graph:node-deleted", "command:executed"}));
  EXPECT_EQ(Decode(mapped[1]).second["node_id"], "n1");
}

TEST_F(EventMapTest, LinkAndUnlink) {
  const auto linked = MapEvent(GraphEvent(EventType::kLink, {engine::EdgeAdd{"a", "b"}}), lookup_);
  const Json link = Decode(linked[1]).second;
  EXPECT_EQ(Decode(linked[1]).first, "graph:node-linked");
  EXPECT_EQ(link["parent_id"], "a");
  EXPECT_EQ(link["child_id"], "b");
  const auto unlinked = MapEvent(GraphEvent(EventType::kUnlink, {engine::EdgeRemove{"a", "b"}}), lookup_);
  EXPECT_EQ(Decode(unlinked[1]).first, "graph:node-unlinked");
  EXPECT_EQ(Decode(unlinked[1]).second["child_id"], "b");
}

TEST_F(EventMapTest, PropertyChangeHasOldAndNewValues) {
  const auto mapped = MapEvent(
      GraphEvent(EventType::kSetProperty, {engine::PropPut{"n1", "color", "\"red\"", "\"blue\""}}), lookup_);
  const auto [name, payload] = Decode(mapped[1]);
  EXPECT_EQ(name, "graph:property-changed");
  EXPECT_EQ(payload["node_id"], "n1");
  EXPECT_EQ(payload["property_id"], "color");
  EXPECT_EQ(payload["old_value"], "blue");
  EXPECT_EQ(payload["new_value"], "red");
}

TEST_F(EventMapTest, NewPropertyHasNullOldValue) {
  const auto mapped = MapEvent(
      GraphEvent(EventType::kSetProperty, {engine::PropPut{"n1", "size", "3", std::nullopt}}), lookup_);
  EXPECT_TRUE(Decode(mapped[1]).second["old_value"].is_null());
}

TEST_F(EventMapTest, PropertyDeleted) {
  const auto mapped =
      MapEvent(GraphEvent(EventType::kDeleteProperty, {engine::PropDel{"n1", "size", "3"}}), lookup_);
  EXPECT_EQ(Decode(mapped[1]).first, "graph:property-deleted");
  EXPECT_EQ(Decode(mapped[1]).second["property_id"], "size");
}

TEST_F(EventMapTest, UndoNamesTheOriginalCommandAndBroadcastsItsChanges) {
  Event event = GraphEvent(EventType::kUndo, {engine::NodeRemove{"n1", "task", "Build", {}}});
  event.undoes = 7;
  const auto mapped = MapEvent(event, lookup_);
  EXPECT_EQ(Names(mapped), (std::vector<std::string>{"command:undo", "graph:node-deleted"}));
  EXPECT_EQ(Decode(mapped[0]).second["command_id"], "original");
}

TEST_F(EventMapTest, RedoNamesTheOriginalCommand) {
  Event event = GraphEvent(EventType::kRedo, {});
  event.redoes = 7;
  const auto mapped = MapEvent(event, lookup_);
  EXPECT_EQ(Names(mapped), (std::vector<std::string>{"command:redo"}));
  EXPECT_EQ(Decode(mapped[0]).second["command_id"], "original");
}

TEST_F(EventMapTest, SaveIsProjectSaved) {
  Event event = GraphEvent(EventType::kSave, {});
  event.label = "v1";
  const auto mapped = MapEvent(event, lookup_);
  EXPECT_EQ(Names(mapped), (std::vector<std::string>{"project:saved"}));
  EXPECT_EQ(Decode(mapped[0]).second["project_id"], "v1");
}

TEST_F(EventMapTest, RestoreIsProjectLoadedWithTheGraph) {
  Event event = GraphEvent(EventType::kGraphRestore, {engine::NodeRemove{"n1", "task", "Build", {}}});
  event.label = "seq:3";
  const auto mapped = MapEvent(event, lookup_);
  EXPECT_EQ(Names(mapped), (std::vector<std::string>{"command:executing", "graph:node-deleted",
                                                     "project:loaded", "command:executed"}));
  const Json loaded = Decode(mapped[2]).second;
  EXPECT_EQ(loaded["project_id"], "seq:3");
  EXPECT_EQ(loaded["graph"]["session"], "s1");
  EXPECT_EQ(loaded["graph"]["seq"], 42);  // the graph at the restore's own seq
}

TEST(MapsToAGraphTest, OnlyRestoresRenderAGraph) {
  for (EventType type : {EventType::kCreateNode, EventType::kGraphBatch, EventType::kUndo, EventType::kRedo,
                         EventType::kSave, EventType::kContextSet}) {
    EXPECT_FALSE(MapsToAGraph(GraphEvent(type, {}))) << static_cast<int>(type);
  }
  EXPECT_TRUE(MapsToAGraph(GraphEvent(EventType::kGraphRestore, {})));
}

TEST(SessionGraphJsonTest, RendersNodesLikeTheGraphRoute) {
  engine::State state;
  state.head_seq = 5;
  engine::Node node;
  node.type = "task";
  node.name = "Build";
  node.props["color"] = "\"red\"";
  node.children = {"c"};
  state.sessions["s1"].graph.nodes["n1"] = node;
  const Json graph = Json::parse(SessionGraphJson(state, "s1"));
  EXPECT_EQ(graph, Json::parse(R"({"seq":5,"session":"s1","nodes":[{"id":"n1","type":"task","name":"Build",
                                   "props":{"color":"red"},"parents":[],"children":["c"]}]})"));
  EXPECT_EQ(SessionGraphJson(state, "missing"), "null");
}

TEST(PayloadTest, OutsideTheLog) {
  EXPECT_EQ(Json::parse(ClientStatsPayload(3)), Json({{"count", 3}}));
  EXPECT_EQ(Json::parse(PresencePayload("s", 2, "t")),
            Json({{"session_id", "s"}, {"client_count", 2}, {"timestamp", "t"}}));
  EXPECT_EQ(Json::parse(ContextSnapshotPayload("{\"k\":1}", "t", "c")),
            Json({{"context", {{"k", 1}}}, {"timestamp", "t"}, {"client_id", "c"}}));
  EXPECT_EQ(Json::parse(MessagePayload("bad \"x\"")), Json({{"message", "bad \"x\""}}));
  EXPECT_EQ(Json::parse(ContextDumpedPayload("f.json", "json", "bob", 4, "t")), Json({{"filename", "f.json"},
                                                                                      {"format", "json"},
                                                                                      {"who", "bob"},
                                                                                      {"key_count", 4},
                                                                                      {"timestamp", "t"}}));
}

}  // namespace
}  // namespace ctxd::server::socketio
