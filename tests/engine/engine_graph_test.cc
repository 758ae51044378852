#include <string>

#include "engine/engine.h"
#include "tests/engine/engine_fixture.h"

namespace ctxd::engine {
namespace {

using ::testing::HasSubstr;

constexpr char kSession[] = "s1";

class GraphTest : public EngineFixture {
 protected:
  Outcome Do(CommandBody body) { return Accept(std::move(body), kSession); }
  std::string Fail(CommandBody body, StatusCode code) { return Refuse(std::move(body), code, kSession); }
  const Graph& graph() { return GraphOf(kSession); }
  bool HasEdge(const std::string& parent, const std::string& child) {
    return graph().nodes.at(parent).children.contains(child) &&
           graph().nodes.at(child).parents.contains(parent);
  }
};

TEST_F(GraphTest, CreateNodeAddsNodeAndAnswersItsId) {
  Outcome out = Do(CreateNode{"n1", "task", "Build", std::nullopt, {{"color", "\"red\""}}});
  ASSERT_TRUE(out.event);
  EXPECT_EQ(out.event->type, EventType::kCreateNode);
  EXPECT_EQ(out.event->changes,
            (std::vector<Change>{NodeAdd{"n1", "task", "Build", {{"color", "\"red\""}}}}));
  EXPECT_EQ(out.result.result, R"({"node_id":"n1"})");
  EXPECT_EQ(out.event->result, out.result.result);
  const Node& node = graph().nodes.at("n1");
  EXPECT_EQ(node.type, "task");
  EXPECT_EQ(node.name, "Build");
  EXPECT_EQ(node.props.at("color"), "\"red\"");
  EXPECT_EQ(state_.sessions.at(kSession).last_seq, 1u);
}

TEST_F(GraphTest, CreateNodeUnderParentAddsEdge) {
  Do(NewNode("root"));
  Outcome out = Do(NewNode("leaf", "root"));
  EXPECT_EQ(out.event->changes,
            (std::vector<Change>{NodeAdd{"leaf", "task", "Node", {}}, EdgeAdd{"root", "leaf"}}));
  EXPECT_TRUE(HasEdge("root", "leaf"));
  EXPECT_EQ(graph().edge_count, 1u);
}

TEST_F(GraphTest, CreateNodeAllowsEmptyName) {
  Do(CreateNode{"n1", "task", "", std::nullopt, {}});
  EXPECT_EQ(graph().nodes.at("n1").name, "");
}

TEST_F(GraphTest, CreateNodeWithExistingIdConflicts) {
  Do(NewNode("n1"));
  std::string message = Fail(NewNode("n1"), StatusCode::kConflict);
  EXPECT_THAT(message, HasSubstr("'n1' already exists"));
}

TEST_F(GraphTest, CreateNodeWithMissingParentIsNotFound) {
  Do(NewNode("n1"));
  Fail(NewNode("n2", "ghost"), StatusCode::kNotFound);
}

TEST_F(GraphTest, CreateNodeValidatesIdTypeAndProps) {
  Do(NewNode("n0"));
  Fail(CreateNode{"", "task", "x", std::nullopt, {}}, StatusCode::kInvalidArgument);
  Fail(CreateNode{"n1", "", "x", std::nullopt, {}}, StatusCode::kInvalidArgument);
  Fail(CreateNode{"n1", "task", "bad\x01", std::nullopt, {}}, StatusCode::kInvalidArgument);
  Fail(CreateNode{"n1", "task", "x", std::nullopt, {{"", "1"}}}, StatusCode::kInvalidArgument);
  Fail(CreateNode{"n1", "task", "x", std::nullopt, {{"p", ""}}}, StatusCode::kInvalidArgument);
}

TEST_F(GraphTest, GraphCommandsNeedSession) {
  std::string message = Refuse(NewNode("n1"), StatusCode::kInvalidArgument);
  EXPECT_THAT(message, HasSubstr("session"));
  Refuse(Undo{}, StatusCode::kInvalidArgument);
  Refuse(SaveSession{"v1"}, StatusCode::kInvalidArgument);
}

TEST_F(GraphTest, RefusedCommandInNewSessionLeavesNoSession) {
  Refuse(Link{"a", "b"}, StatusCode::kNotFound, "fresh");
  EXPECT_FALSE(state_.sessions.contains("fresh"));
}

TEST_F(GraphTest, DeleteNodeRemovesIncidentEdgesThenNode) {
  Do(NewNode("p1"));
  Do(NewNode("p2"));
  Do(CreateNode{"n", "task", "N", "p1", {{"k", "1"}}});
  Do(Link{"p2", "n"});
  Do(NewNode("c", "n"));
  Outcome out = Do(DeleteNode{"n"});
  EXPECT_EQ(out.event->changes,
            (std::vector<Change>{EdgeRemove{"p1", "n"}, EdgeRemove{"p2", "n"}, EdgeRemove{"n", "c"},
                                 NodeRemove{"n", "task", "N", {{"k", "1"}}}}));
  EXPECT_FALSE(graph().nodes.contains("n"));
  EXPECT_TRUE(graph().nodes.contains("c"));
  EXPECT_TRUE(graph().nodes.at("c").parents.empty());
  EXPECT_TRUE(graph().nodes.at("p1").children.empty());
  EXPECT_EQ(graph().edge_count, 0u);
}

TEST_F(GraphTest, DeleteMissingNodeIsNotFound) {
  Do(NewNode("n1"));
  Fail(DeleteNode{"n2"}, StatusCode::kNotFound);
}

TEST_F(GraphTest, LinkAllowsSeveralParents) {
  Do(NewNode("a"));
  Do(NewNode("b"));
  Do(NewNode("c"));
  Outcome out = Do(Link{"a", "c"});
  EXPECT_EQ(out.event->type, EventType::kLink);
  EXPECT_EQ(out.event->changes, (std::vector<Change>{EdgeAdd{"a", "c"}}));
  EXPECT_TRUE(out.result.result.empty());
  Do(Link{"b", "c"});
  EXPECT_TRUE(HasEdge("a", "c"));
  EXPECT_TRUE(HasEdge("b", "c"));
  EXPECT_EQ(graph().edge_count, 2u);
}

TEST_F(GraphTest, LinkWithMissingEndIsNotFound) {
  Do(NewNode("a"));
  Fail(Link{"a", "ghost"}, StatusCode::kNotFound);
  Fail(Link{"ghost", "a"}, StatusCode::kNotFound);
}

TEST_F(GraphTest, DuplicateLinkConflicts) {
  Do(NewNode("a"));
  Do(NewNode("b", "a"));
  Fail(Link{"a", "b"}, StatusCode::kConflict);
}

TEST_F(GraphTest, LinkClosingCycleConflicts) {
  Do(NewNode("a"));
  Do(NewNode("b", "a"));
  Do(NewNode("c", "b"));
  std::string message = Fail(Link{"c", "a"}, StatusCode::kConflict);
  EXPECT_THAT(message, HasSubstr("cycle"));
}

// n<first> -> ... -> n<first + count - 1>, each created under the one before.
BatchGraph Chain(const std::string& prefix, int count) {
  BatchGraph batch;
  batch.ops.push_back(NewNode(prefix + "0"));
  for (int i = 1; i < count; ++i)
    batch.ops.push_back(NewNode(prefix + std::to_string(i), prefix + std::to_string(i - 1)));
  return batch;
}

TEST_F(GraphTest, CyclesThroughLongChainsAreFound) {
  Do(Chain("a", 300));
  EXPECT_THAT(Fail(Link{"a299", "a0"}, StatusCode::kConflict), HasSubstr("cycle"));
  Do(NewNode("top"));
  Do(Link{"top", "a0"});
  Do(NewNode("bottom"));
  Do(Link{"a299", "bottom"});
  EXPECT_THAT(Fail(Link{"bottom", "top"}, StatusCode::kConflict), HasSubstr("cycle"));
  // A branch: a150 -> side -> a200 is a diamond, side -> a10 a cycle.
  Do(NewNode("side", "a150"));
  Do(Link{"side", "a200"});
  EXPECT_THAT(Fail(Link{"side", "a10"}, StatusCode::kConflict), HasSubstr("cycle"));
  EXPECT_EQ(graph().edge_count, 299u + 2 + 2);
}

TEST_F(GraphTest, ABatchMayLinkADeepChainLeafFirst) {
  // Each link's parent has no parents yet: its check looks at a few edges,
  // not at the chain below the child.
  BatchGraph batch;
  for (int i = 0; i < 5000; ++i) batch.ops.push_back(NewNode("n" + std::to_string(i)));
  for (int i = 4998; i >= 0; --i)
    batch.ops.push_back(Link{"n" + std::to_string(i), "n" + std::to_string(i + 1)});
  Do(batch);
  EXPECT_EQ(graph().edge_count, 4999u);
  EXPECT_THAT(Fail(BatchGraph{{NewNode("x", "n4999"), Link{"x", "n0"}}}, StatusCode::kConflict),
              HasSubstr("cycle"));
  // Undo, redo and restore step through states the graph has been in.
  Do(SaveSession{"linked"});
  Do(Undo{});
  EXPECT_EQ(graph().edge_count, 0u);
  Do(Redo{});
  EXPECT_EQ(graph().edge_count, 4999u);
  const Graph linked = graph();
  Do(Unlink{"n2500", "n2501"});
  Do(RestoreGraph{"linked", linked});
  EXPECT_EQ(graph(), linked);
}

TEST_F(GraphTest, ACommandWhoseCycleChecksWouldLookAtTooManyEdgesIsRefused) {
  // Every link p -> c<i> searches up the 2,000 nodes above p and down the
  // 2,000 below c<i>: 1,000 of them are more than one command may check.
  Do(Chain("up", 2000));
  Do(Chain("down", 2000));
  BatchGraph links;
  for (int i = 0; i < 1000; ++i) {
    Do(NewNode("c" + std::to_string(i)));
    Do(Link{"c" + std::to_string(i), "down0"});
    links.ops.push_back(Link{"up1999", "c" + std::to_string(i)});
  }
  // An unlink ahead of them is rolled back with the rest: its edge, in the
  // middle of a chain of 20,000, is put back although putting it back costs
  // more checking than the spent budget has left.
  Do(Chain("z", 20000));
  links.ops.insert(links.ops.begin(), Unlink{"z9999", "z10000"});
  const uint64_t edges = graph().edge_count;
  EXPECT_THAT(Fail(links, StatusCode::kInvalidArgument), HasSubstr("in smaller commands"));
  EXPECT_EQ(graph().edge_count, edges);
  EXPECT_TRUE(HasEdge("z9999", "z10000"));
  links.ops.erase(links.ops.begin());
  links.ops.resize(100);
  Do(links);
  EXPECT_EQ(graph().edge_count, edges + 100);
}

TEST_F(GraphTest, SelfLinkConflicts) {
  Do(NewNode("a"));
  Fail(Link{"a", "a"}, StatusCode::kConflict);
}

TEST_F(GraphTest, UnlinkRemovesEdge) {
  Do(NewNode("a"));
  Do(NewNode("b", "a"));
  Outcome out = Do(Unlink{"a", "b"});
  EXPECT_EQ(out.event->type, EventType::kUnlink);
  EXPECT_EQ(out.event->changes, (std::vector<Change>{EdgeRemove{"a", "b"}}));
  EXPECT_TRUE(graph().nodes.at("a").children.empty());
  EXPECT_EQ(graph().edge_count, 0u);
}

TEST_F(GraphTest, UnlinkMissingEdgeIsNotFound) {
  Do(NewNode("a"));
  Do(NewNode("b"));
  Fail(Unlink{"a", "b"}, StatusCode::kNotFound);
  Fail(Unlink{"ghost", "b"}, StatusCode::kNotFound);
}

TEST_F(GraphTest, SetPropertyRecordsOldValue) {
  Do(NewNode("a"));
  Outcome first = Do(SetProperty{"a", "color", "\"red\""});
  EXPECT_EQ(first.event->changes, (std::vector<Change>{PropPut{"a", "color", "\"red\"", std::nullopt}}));
  Outcome second = Do(SetProperty{"a", "color", "\"blue\""});
  EXPECT_EQ(second.event->type, EventType::kSetProperty);
  EXPECT_EQ(second.event->changes, (std::vector<Change>{PropPut{"a", "color", "\"blue\"", "\"red\""}}));
  EXPECT_EQ(graph().nodes.at("a").props.at("color"), "\"blue\"");
}

TEST_F(GraphTest, SetPropertyToCurrentValueAppendsNothing) {
  Do(NewNode("a", std::nullopt, {{"color", "\"red\""}}));
  State before = state_;
  Outcome out = Do(SetProperty{"a", "color", "\"red\""});
  EXPECT_FALSE(out.event);
  EXPECT_FALSE(out.result.changed);
  EXPECT_TRUE(state_ == before);
}

TEST_F(GraphTest, SetPropertyOnMissingNodeIsNotFound) {
  Do(NewNode("a"));
  Fail(SetProperty{"ghost", "color", "1"}, StatusCode::kNotFound);
  Fail(SetProperty{"a", "", "1"}, StatusCode::kInvalidArgument);
  Fail(SetProperty{"a", "color", ""}, StatusCode::kInvalidArgument);
}

TEST_F(GraphTest, DeletePropertyRecordsOldValue) {
  Do(NewNode("a", std::nullopt, {{"color", "\"red\""}}));
  Outcome out = Do(DeleteProperty{"a", "color"});
  EXPECT_EQ(out.event->type, EventType::kDeleteProperty);
  EXPECT_EQ(out.event->changes, (std::vector<Change>{PropDel{"a", "color", "\"red\""}}));
  EXPECT_TRUE(graph().nodes.at("a").props.empty());
}

TEST_F(GraphTest, DeleteMissingPropertyIsNotFound) {
  Do(NewNode("a"));
  Fail(DeleteProperty{"a", "color"}, StatusCode::kNotFound);
  Fail(DeleteProperty{"ghost", "color"}, StatusCode::kNotFound);
}

TEST_F(GraphTest, BatchIsOneEventWithPerOpResults) {
  Outcome out = Do(BatchGraph{{NewNode("a"), NewNode("b", "a"), SetProperty{"b", "k", "1"}}});
  ASSERT_TRUE(out.event);
  EXPECT_EQ(out.event->type, EventType::kGraphBatch);
  EXPECT_EQ(out.event->changes.size(), 4u);
  EXPECT_EQ(out.result.result, R"({"results":[{"node_id":"a"},{"node_id":"b"},null]})");
  EXPECT_EQ(graph().nodes.at("b").props.at("k"), "1");
  EXPECT_EQ(state_.sessions.at(kSession).undo.size(), 1u);
}

TEST_F(GraphTest, FailingBatchOpRollsBackEarlierOps) {
  Do(NewNode("a"));
  Do(NewNode("b", "a"));
  std::string message =
      Fail(BatchGraph{{NewNode("c", "b"), SetProperty{"a", "k", "1"}, DeleteNode{"b"}, Link{"c", "ghost"}}},
           StatusCode::kNotFound);
  EXPECT_THAT(message, HasSubstr("commands[3] (link)"));
}

TEST_F(GraphTest, FailingBatchKeepsTheOpsErrorCode) {
  Do(NewNode("a"));
  Fail(BatchGraph{{NewNode("b", "a"), Link{"b", "a"}}}, StatusCode::kConflict);
}

TEST_F(GraphTest, BatchOfUnchangedPropertiesAppendsNothing) {
  Do(NewNode("a", std::nullopt, {{"k", "1"}}));
  Outcome out = Do(BatchGraph{{SetProperty{"a", "k", "1"}}});
  EXPECT_FALSE(out.event);
}

TEST_F(GraphTest, EmptyBatchIsRefused) { Fail(BatchGraph{}, StatusCode::kInvalidArgument); }

TEST_F(GraphTest, SessionsHaveIndependentGraphs) {
  Do(NewNode("a"));
  Accept(NewNode("a"), "s2");
  EXPECT_EQ(GraphOf(kSession).nodes.size(), 1u);
  EXPECT_EQ(GraphOf("s2").nodes.size(), 1u);
}

TEST_F(GraphTest, SaveRecordsSavePoint) {
  Do(NewNode("a"));
  Outcome out = Do(SaveSession{"v1"});
  ASSERT_TRUE(out.event);
  EXPECT_EQ(out.event->type, EventType::kSave);
  EXPECT_EQ(out.event->label, "v1");
  EXPECT_TRUE(out.event->changes.empty());
  EXPECT_EQ(state_.sessions.at(kSession).saves.at("v1"), (SavePoint{2, ts_}));
  EXPECT_EQ(state_.sessions.at(kSession).undo.size(), 1u);
}

TEST_F(GraphTest, SavingSameNameAgainOverwrites) {
  Do(SaveSession{"v1"});
  Do(NewNode("a"));
  Do(SaveSession{"v1"});
  EXPECT_EQ(state_.sessions.at(kSession).saves.at("v1").seq, 3u);
  EXPECT_EQ(state_.sessions.at(kSession).saves.size(), 1u);
}

TEST_F(GraphTest, SaveNeedsValidName) { Fail(SaveSession{""}, StatusCode::kInvalidArgument); }

TEST_F(GraphTest, SaveNamesThatLookLikeARestoreBySeqAreRefused) {
  // A restore by seq N is labelled "seq:N": a save of that name would make
  // the label, and a retried request, ambiguous.
  EXPECT_THAT(Fail(SaveSession{"seq:1"}, StatusCode::kInvalidArgument), HasSubstr("restores by seq"));
  Fail(SaveSession{"seq:"}, StatusCode::kInvalidArgument);
  Do(SaveSession{"seq"});
  Do(SaveSession{"my seq:1"});
}

class RestoreTest : public GraphTest {
 protected:
  // a -> b -> c, a -> c, d; props on a and b.
  void BuildGraph() {
    Do(NewNode("a", std::nullopt, {{"k", "1"}, {"gone", "0"}}));
    Do(NewNode("b", "a", {{"x", "true"}}));
    Do(NewNode("c", "b"));
    Do(Link{"a", "c"});
    Do(NewNode("d"));
  }
};

TEST_F(RestoreTest, MakesGraphEqualToTarget) {
  BuildGraph();
  Graph target = graph();
  Do(DeleteNode{"b"});
  Do(DeleteProperty{"a", "gone"});
  Do(SetProperty{"a", "k", "2"});
  Do(SetProperty{"a", "new", "3"});
  Do(NewNode("e", "d"));
  Do(Link{"c", "d"});
  Do(Unlink{"a", "c"});
  Do(DeleteNode{"d"});
  Do(CreateNode{"d", "other-type", "D", "c", {}});
  Outcome out = Do(RestoreGraph{"v1", target});
  ASSERT_TRUE(out.event);
  EXPECT_EQ(out.event->type, EventType::kGraphRestore);
  EXPECT_EQ(out.event->label, "v1");
  EXPECT_TRUE(out.result.result.empty());
  EXPECT_TRUE(graph() == target);
}

TEST_F(RestoreTest, ReplacesNodeWhoseTypeChanged) {
  Do(NewNode("a"));
  Graph target = graph();
  target.nodes.at("a").type = "bug";
  Outcome out = Do(RestoreGraph{"seq:1", target});
  EXPECT_EQ(out.event->changes,
            (std::vector<Change>{NodeRemove{"a", "task", "Node", {}}, NodeAdd{"a", "bug", "Node", {}}}));
  EXPECT_TRUE(graph() == target);
}

TEST_F(RestoreTest, ToEmptyGraphRemovesEverything) {
  BuildGraph();
  Do(RestoreGraph{"empty", Graph{}});
  EXPECT_TRUE(graph() == Graph{});
}

TEST_F(RestoreTest, IsUndoable) {
  BuildGraph();
  Graph before = graph();
  Do(RestoreGraph{"empty", Graph{}});
  Do(Undo{});
  EXPECT_TRUE(graph() == before);
}

TEST_F(RestoreTest, UnchangedGraphStillAppendsEvent) {
  BuildGraph();
  Outcome out = Do(RestoreGraph{"v1", graph()});
  ASSERT_TRUE(out.event);
  EXPECT_TRUE(out.event->changes.empty());
  EXPECT_EQ(state_.sessions.at(kSession).undo.back().seq, out.event->seq);
}

TEST_F(RestoreTest, InvalidTargetIsRefused) {
  BuildGraph();
  Graph target;
  target.nodes["x"] = Node{"task", "X", {}, {}, {"ghost"}};
  Fail(RestoreGraph{"bad", target}, StatusCode::kInvalidArgument);
  Fail(RestoreGraph{"", Graph{}}, StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ctxd::engine
