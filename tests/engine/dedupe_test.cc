#include <string>

#include "engine/engine.h"
#include "engine/state.h"
#include "tests/engine/engine_fixture.h"

namespace ctxd::engine {
namespace {

TEST(DedupeTableTest, FindsInsertedEntries) {
  DedupeTable table(4);
  EXPECT_EQ(table.Find("a"), nullptr);
  table.Insert("a", DedupeEntry{1, 0, "{}"});
  ASSERT_NE(table.Find("a"), nullptr);
  EXPECT_EQ(*table.Find("a"), (DedupeEntry{1, 0, "{}"}));
  EXPECT_EQ(table.size(), 1u);
}

TEST(DedupeTableTest, InsertingPresentIdKeepsFirstAnswer) {
  DedupeTable table(4);
  table.Insert("a", DedupeEntry{1, 0, ""});
  table.Insert("b", DedupeEntry{2, 0, ""});
  table.Insert("a", DedupeEntry{3, 0, ""});
  EXPECT_EQ(table.Find("a")->seq, 1u);
  EXPECT_EQ(table.order(), (std::deque<std::string>{"a", "b"}));
}

TEST(DedupeTableTest, EvictsOldestBeyondCapacity) {
  DedupeTable table(2);
  table.Insert("a", DedupeEntry{1, 0, ""});
  table.Insert("b", DedupeEntry{2, 0, ""});
  table.Insert("c", DedupeEntry{3, 0, ""});
  EXPECT_EQ(table.Find("a"), nullptr);
  EXPECT_NE(table.Find("b"), nullptr);
  EXPECT_NE(table.Find("c"), nullptr);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.capacity(), 2u);
  EXPECT_EQ(table.order(), (std::deque<std::string>{"b", "c"}));
}

class DedupeTest : public EngineFixture {
 protected:
  DedupeTest() : EngineFixture(EngineLimits{.max_undo_depth = 10, .dedupe_capacity = 2}) {}

  Command Client(CommandBody body, std::string id, std::string session = "") {
    Command command = Make(std::move(body), std::move(session));
    command.command_id = std::move(id);
    command.client_command_id = true;
    return command;
  }
};

TEST_F(DedupeTest, RetryReturnsOriginalAnswerWithoutEvent) {
  Outcome first = Accept(Client(Set("a", "1"), "req-1"));
  Accept(Set("a", "2"));
  State before = state_;
  Outcome retry = Accept(Client(Set("a", "1"), "req-1"));
  EXPECT_FALSE(retry.event);
  EXPECT_TRUE(retry.result.deduplicated);
  EXPECT_FALSE(retry.result.changed);
  EXPECT_EQ(retry.result.seq, first.result.seq);
  EXPECT_EQ(retry.result.version, first.result.seq);
  EXPECT_EQ(retry.result.command_id, "req-1");
  EXPECT_TRUE(state_ == before);
  EXPECT_EQ(state_.context.at("a").value, "2");
}

TEST_F(DedupeTest, RetryReturnsOriginalResultEvenIfItWouldNowFail) {
  Outcome first = Accept(Client(NewNode("n1"), "create", "s"));
  Outcome retry = Accept(Client(NewNode("n1"), "create", "s"));
  EXPECT_TRUE(retry.result.deduplicated);
  EXPECT_EQ(retry.result.result, R"({"node_id":"n1"})");
  EXPECT_EQ(retry.result.seq, first.event->seq);
}

TEST_F(DedupeTest, RetriedUndoAnswersUndoneSeq) {
  Accept(NewNode("n1"), "s");
  Outcome undo = Accept(Client(Undo{}, "undo-1", "s"));
  Outcome retry = Accept(Client(Undo{}, "undo-1", "s"));
  EXPECT_TRUE(retry.result.deduplicated);
  EXPECT_EQ(retry.result.seq, undo.event->seq);
  EXPECT_EQ(retry.result.ref_seq, 1u);
}

TEST_F(DedupeTest, GeneratedIdsAreNotRemembered) {
  Command command = Make(Set("a", "1"));
  command.command_id = "generated";
  Accept(command);
  EXPECT_EQ(state_.dedupe.size(), 0u);
  command.body = Set("a", "2");
  EXPECT_TRUE(Accept(command).event);
}

TEST_F(DedupeTest, UnchangedSetIsNotRemembered) {
  Accept(Set("a", "1"));
  Accept(Client(Set("a", "1"), "noop"));
  EXPECT_EQ(state_.dedupe.Find("noop"), nullptr);
}

TEST_F(DedupeTest, RefusedCommandIsNotRemembered) {
  Refuse(Client(Del("missing"), "del"), StatusCode::kNotFound);
  EXPECT_EQ(state_.dedupe.Find("del"), nullptr);
}

TEST_F(DedupeTest, EvictedIdRunsAgain) {
  Accept(Client(Set("a", "1"), "r1"));
  Accept(Client(Set("b", "1"), "r2"));
  Accept(Client(Set("c", "1"), "r3"));
  Accept(Set("a", "0"));
  Outcome again = Accept(Client(Set("a", "1"), "r1"));
  EXPECT_FALSE(again.result.deduplicated);
  EXPECT_TRUE(again.event);
}

}  // namespace
}  // namespace ctxd::engine
