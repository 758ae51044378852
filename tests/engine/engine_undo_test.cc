#include <string>

#include "engine/engine.h"
#include "tests/engine/engine_fixture.h"

namespace ctxd::engine {
namespace {

using ::testing::HasSubstr;

constexpr char kSession[] = "s1";

class UndoTest : public EngineFixture {
 protected:
  UndoTest() : EngineFixture(EngineLimits{.max_undo_depth = 3}) {}

  Outcome Do(CommandBody body) { return Accept(std::move(body), kSession); }
  std::string Fail(CommandBody body, StatusCode code) { return Refuse(std::move(body), code, kSession); }
  const Session& session() { return state_.sessions.at(kSession); }
};

TEST_F(UndoTest, UndoReversesLastCommand) {
  Do(NewNode("a"));
  Graph before = session().graph;
  Outcome created = Do(NewNode("b", "a"));
  Outcome undo = Do(Undo{});
  ASSERT_TRUE(undo.event);
  EXPECT_EQ(undo.event->type, EventType::kUndo);
  EXPECT_EQ(undo.event->undoes, created.event->seq);
  EXPECT_EQ(undo.event->changes, Invert(created.event->changes));
  EXPECT_EQ(undo.result.ref_seq, created.event->seq);
  EXPECT_TRUE(session().graph == before);
  ASSERT_EQ(session().redo.size(), 1u);
  EXPECT_EQ(session().redo.back().seq, created.event->seq);
  EXPECT_EQ(session().undo.size(), 1u);
}

TEST_F(UndoTest, RedoReappliesUndoneCommand) {
  Do(NewNode("a"));
  Outcome created = Do(NewNode("b", "a", {{"k", "1"}}));
  Graph after = session().graph;
  Do(Undo{});
  Outcome redo = Do(Redo{});
  EXPECT_EQ(redo.event->type, EventType::kRedo);
  EXPECT_EQ(redo.event->redoes, created.event->seq);
  EXPECT_EQ(redo.event->changes, created.event->changes);
  EXPECT_EQ(redo.result.ref_seq, created.event->seq);
  EXPECT_TRUE(session().graph == after);
  EXPECT_TRUE(session().redo.empty());
  EXPECT_EQ(session().undo.back().seq, created.event->seq);
}

TEST_F(UndoTest, UndoTwiceThenRedoTwiceRoundTrips) {
  Do(NewNode("a"));
  Do(SetProperty{"a", "k", "1"});
  Graph after = session().graph;
  Do(Undo{});
  Do(Undo{});
  EXPECT_TRUE(session().graph.nodes.empty());
  Do(Redo{});
  Do(Redo{});
  EXPECT_TRUE(session().graph == after);
}

TEST_F(UndoTest, EmptyUndoStackIsNothingToUndo) {
  std::string message = Fail(Undo{}, StatusCode::kNothingToUndo);
  EXPECT_THAT(message, HasSubstr("nothing to undo in session 's1'"));
  EXPECT_FALSE(state_.sessions.contains(kSession));
  Do(NewNode("a"));
  Do(Undo{});
  Fail(Undo{}, StatusCode::kNothingToUndo);
}

TEST_F(UndoTest, EmptyRedoStackIsNothingToRedo) {
  Fail(Redo{}, StatusCode::kNothingToRedo);
  Do(NewNode("a"));
  Fail(Redo{}, StatusCode::kNothingToRedo);
}

TEST_F(UndoTest, NewCommandClearsRedo) {
  Do(NewNode("a"));
  Do(Undo{});
  Do(NewNode("b"));
  EXPECT_TRUE(session().redo.empty());
  Fail(Redo{}, StatusCode::kNothingToRedo);
}

TEST_F(UndoTest, SaveDoesNotTouchUndoStacks) {
  Do(NewNode("a"));
  Do(Undo{});
  Do(SaveSession{"v1"});
  EXPECT_EQ(session().redo.size(), 1u);
  EXPECT_TRUE(session().undo.empty());
}

TEST_F(UndoTest, UndoOfDeleteNodeRestoresEdgesAndProps) {
  Do(NewNode("p"));
  Do(NewNode("n", "p", {{"k", "1"}}));
  Do(NewNode("c", "n"));
  Graph before = session().graph;
  Do(DeleteNode{"n"});
  Do(Undo{});
  EXPECT_TRUE(session().graph == before);
}

TEST_F(UndoTest, UndoOfContextSetRestoresOldValue) {
  Accept(Set("a", "1"));
  Do(Set("a", "2"));
  Outcome undo = Do(Undo{});
  EXPECT_EQ(undo.event->changes, (std::vector<Change>{CtxPut{"a", "1", "2"}}));
  EXPECT_EQ(state_.context.at("a").value, "1");
  EXPECT_EQ(state_.context.at("a").version, undo.event->seq);
  EXPECT_EQ(state_.context.at("a").created_seq, 1u);
}

TEST_F(UndoTest, UndoOfKeyCreationDeletesKey) {
  Do(Set("a", "1"));
  Do(Undo{});
  EXPECT_FALSE(state_.context.contains("a"));
  Do(Redo{});
  EXPECT_EQ(state_.context.at("a").value, "1");
}

TEST_F(UndoTest, UndoConflictsWhenAnotherWriterChangedKey) {
  Do(Set("a", "1"));
  Accept(Set("a", "2"));  // no session: another writer
  std::string message = Fail(Undo{}, StatusCode::kConflict);
  EXPECT_EQ(message, "cannot undo seq 1: key 'a' was changed since (now version 2)");
}

TEST_F(UndoTest, UndoConflictsWhenAnotherWriterDeletedKey) {
  Do(Set("a", "1"));
  Accept(Del("a"), "s2");
  std::string message = Fail(Undo{}, StatusCode::kConflict);
  EXPECT_THAT(message, HasSubstr("key 'a' was deleted since"));
}

TEST_F(UndoTest, UndoConflictsWhenAnotherWriterRecreatedKey) {
  Do(Set("a", "1"));
  Do(Del("a"));
  Accept(Set("a", "3"));
  std::string message = Fail(Undo{}, StatusCode::kConflict);
  EXPECT_THAT(message, HasSubstr("key 'a' was created since (now version 3)"));
}

TEST_F(UndoTest, FailedUndoRollsBackItsEarlierChanges) {
  Accept(BatchContext{{{"a", "0"}, {"b", "0"}}, {}});
  Do(BatchContext{{{"a", "1"}, {"b", "1"}}, {}});
  Accept(Set("a", "9"));  // the undo reverses b first, then fails on a
  Fail(Undo{}, StatusCode::kConflict);
  EXPECT_EQ(state_.context.at("b").value, "1");
  EXPECT_EQ(state_.context.at("b").version, 2u);
}

TEST_F(UndoTest, RedoConflictsWhenKeyChangedSince) {
  Do(Set("a", "1"));
  Do(Undo{});
  Accept(Set("a", "5"));
  std::string message = Fail(Redo{}, StatusCode::kConflict);
  EXPECT_THAT(message, HasSubstr("cannot redo seq 1: key 'a' was created since"));
}

TEST_F(UndoTest, UndoDepthIsBounded) {
  for (const char* id : {"a", "b", "c", "d", "e"}) Do(NewNode(id));
  EXPECT_EQ(session().undo.size(), 3u);
  EXPECT_EQ(session().undo.front().seq, 3u);
  Do(Undo{});
  Do(Undo{});
  Do(Undo{});
  Fail(Undo{}, StatusCode::kNothingToUndo);
  EXPECT_EQ(session().graph.nodes.size(), 2u);
  EXPECT_EQ(session().redo.size(), 3u);
}

TEST_F(UndoTest, UndoStacksArePerSession) {
  Do(NewNode("a"));
  Accept(NewNode("a"), "s2");
  Do(Undo{});
  EXPECT_TRUE(session().graph.nodes.empty());
  EXPECT_EQ(GraphOf("s2").nodes.size(), 1u);
  Refuse(Redo{}, StatusCode::kNothingToRedo, "s2");
}

TEST_F(UndoTest, ContextWithoutSessionIsNotUndone) {
  Accept(Set("a", "1"));
  Do(NewNode("n"));
  Do(Undo{});
  EXPECT_EQ(state_.context.at("a").value, "1");
}

TEST_F(UndoTest, UndoEntryKeepsCommandId) {
  Command command = Make(NewNode("a"), kSession);
  command.command_id = "mine";
  Accept(command);
  EXPECT_EQ(session().undo.back().command_id, "mine");
  Do(Undo{});
  EXPECT_EQ(session().redo.back().command_id, "mine");
}

// A session's stacks with a byte limit of 2,500: entries of a set of a
// 900-byte value hold about 970 bytes (ChangeBytes), so two fit.
class UndoBytesTest : public EngineFixture {
 protected:
  UndoBytesTest() : EngineFixture(EngineLimits{.max_undo_bytes = 2500}) {}

  Outcome SetLong(const std::string& key, size_t bytes) {
    return Accept(Set(key, "\"" + std::string(bytes, 'x') + "\""), kSession);
  }
  const Session& session() { return state_.sessions.at(kSession); }
  static uint64_t Sum(const std::deque<UndoEntry>& stack) {
    uint64_t bytes = 0;
    for (const auto& entry : stack) bytes += entry.bytes;
    return bytes;
  }
};

TEST_F(UndoBytesTest, AnEntryHoldsItsStringsAndSixtyFourBytesAChange) {
  Outcome set = SetLong("k1", 900);
  const UndoEntry& entry = session().undo.back();
  EXPECT_EQ(entry.bytes, set.event->command_id.size() + 64 + 2 + 902);
  Outcome replaced = SetLong("k1", 10);
  EXPECT_EQ(session().undo.back().bytes, replaced.event->command_id.size() + 64 + 2 + 12 + 902);
}

TEST_F(UndoBytesTest, TheOldestEntriesGoPastTheByteLimit) {
  SetLong("k1", 900);
  Outcome second = SetLong("k2", 900);
  Outcome third = SetLong("k3", 900);
  ASSERT_EQ(session().undo.size(), 2u);
  EXPECT_EQ(session().undo.front().seq, second.event->seq);
  EXPECT_EQ(session().undo.back().seq, third.event->seq);
  EXPECT_EQ(session().undo_bytes, Sum(session().undo));
  EXPECT_LE(session().undo_bytes, 2500u);
  Accept(Undo{}, kSession);
  Accept(Undo{}, kSession);
  Refuse(Undo{}, StatusCode::kNothingToUndo, kSession);
  EXPECT_TRUE(state_.context.contains("k1"));
  EXPECT_FALSE(state_.context.contains("k2"));
  EXPECT_EQ(session().undo_bytes, 0u);
  EXPECT_EQ(session().redo.size(), 2u);
  EXPECT_EQ(session().redo_bytes, Sum(session().redo));
  Accept(Redo{}, kSession);
  EXPECT_EQ(session().undo_bytes, Sum(session().undo));
  EXPECT_EQ(session().redo_bytes, Sum(session().redo));
}

TEST_F(UndoBytesTest, AnEntryLargerThanTheLimitStaysAlone) {
  SetLong("k1", 900);
  Outcome large = SetLong("k2", 4000);
  ASSERT_EQ(session().undo.size(), 1u);
  EXPECT_EQ(session().undo.back().seq, large.event->seq);
  EXPECT_GT(session().undo_bytes, 2500u);
  Accept(Undo{}, kSession);
  EXPECT_FALSE(state_.context.contains("k2"));
  Accept(Redo{}, kSession);
  EXPECT_TRUE(state_.context.contains("k2"));
  SetLong("k3", 10);  // the large entry goes once a newer one is pushed
  ASSERT_EQ(session().undo.size(), 1u);
  EXPECT_EQ(session().redo_bytes, 0u);
}

TEST(UndoLimitsTest, NoByteLimitKeepsEntriesUpToTheDepth) {
  State state(EngineLimits{.max_undo_depth = 1000, .max_undo_bytes = 0});
  for (int i = 0; i < 50; ++i) {
    Command command;
    command.session = "s";
    command.command_id = "c" + std::to_string(i);
    command.body = Set("k" + std::to_string(i), "\"" + std::string(100000, 'x') + "\"");
    ASSERT_TRUE(Execute(state, command, 1000 * (i + 1)).ok());
  }
  EXPECT_EQ(state.sessions.at("s").undo.size(), 50u);
}

TEST(ApplyTest, EventOutOfSequenceIsCorruption) {
  State state;
  Event event;
  event.seq = 2;
  event.actor = "a";
  event.command_id = "c";
  event.changes = {CtxPut{"a", "1", std::nullopt}};
  EXPECT_EQ(Apply(state, event).code(), StatusCode::kCorruption);
}

TEST(ApplyTest, ChangeNotFittingStateIsCorruptionNamingSeq) {
  State state;
  Event event;
  event.seq = 1;
  event.changes = {CtxPut{"a", "2", "1"}};
  Status status = Apply(state, event);
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_THAT(status.message(), HasSubstr("event seq 1"));
}

TEST(ApplyTest, UndoNotMatchingStackTopIsCorruption) {
  State state;
  Event event;
  event.seq = 1;
  event.type = EventType::kUndo;
  event.session = "s";
  event.undoes = 7;
  EXPECT_EQ(Apply(state, event).code(), StatusCode::kCorruption);
  EXPECT_TRUE(state == State{});
}

TEST(ApplyTest, GraphChangeWithoutSessionIsCorruption) {
  State state;
  Event event;
  event.seq = 1;
  event.type = EventType::kCreateNode;
  event.changes = {NodeAdd{"a", "t", "n", {}}};
  EXPECT_EQ(Apply(state, event).code(), StatusCode::kCorruption);
}

TEST(ChangeTest, InvertRestoresBeforeImages) {
  const std::pair<Change, Change> cases[] = {
      {CtxPut{"k", "2", "1"}, CtxPut{"k", "1", "2"}},
      {CtxPut{"k", "2", std::nullopt}, CtxDel{"k", "2"}},
      {CtxDel{"k", "1"}, CtxPut{"k", "1", std::nullopt}},
      {NodeAdd{"n", "t", "x", {{"p", "1"}}}, NodeRemove{"n", "t", "x", {{"p", "1"}}}},
      {NodeRemove{"n", "t", "x", {}}, NodeAdd{"n", "t", "x", {}}},
      {EdgeAdd{"a", "b"}, EdgeRemove{"a", "b"}},
      {EdgeRemove{"a", "b"}, EdgeAdd{"a", "b"}},
      {PropPut{"n", "p", "2", "1"}, PropPut{"n", "p", "1", "2"}},
      {PropPut{"n", "p", "2", std::nullopt}, PropDel{"n", "p", "2"}},
      {PropDel{"n", "p", "1"}, PropPut{"n", "p", "1", std::nullopt}},
  };
  for (const auto& [change, inverse] : cases) {
    EXPECT_EQ(Invert(change), inverse) << ChangeName(change);
    EXPECT_EQ(Invert(inverse), change) << ChangeName(change);
  }
}

TEST(ChangeTest, InvertListReversesOrder) {
  std::vector<Change> changes = {NodeAdd{"n", "t", "x", {}}, EdgeAdd{"p", "n"}};
  EXPECT_EQ(Invert(changes), (std::vector<Change>{EdgeRemove{"p", "n"}, NodeRemove{"n", "t", "x", {}}}));
  EXPECT_EQ(Invert(Invert(changes)), changes);
}

TEST(ChangeTest, NamesMatchDesign) {
  EXPECT_STREQ(ChangeName(CtxPut{}), "ctx.put");
  EXPECT_STREQ(ChangeName(CtxDel{}), "ctx.del");
  EXPECT_STREQ(ChangeName(NodeAdd{}), "node.add");
  EXPECT_STREQ(ChangeName(NodeRemove{}), "node.remove");
  EXPECT_STREQ(ChangeName(EdgeAdd{}), "edge.add");
  EXPECT_STREQ(ChangeName(EdgeRemove{}), "edge.remove");
  EXPECT_STREQ(ChangeName(PropPut{}), "prop.put");
  EXPECT_STREQ(ChangeName(PropDel{}), "prop.del");
}

}  // namespace
}  // namespace ctxd::engine
