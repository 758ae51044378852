#include <set>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/request_digest.h"
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

TEST_F(DedupeTest, IdReusedForAnotherRequestIsRefused) {
  Outcome first = Accept(Client(Set("a", "1"), "req-1"));
  const std::string message = Refuse(Client(Set("a", "2"), "req-1"), StatusCode::kConflict);
  EXPECT_EQ(message, "the command id 'req-1' was already used for a different request (seq " +
                         std::to_string(first.event->seq) + "); a new request needs a new id");
  Refuse(Client(Set("b", "1"), "req-1"), StatusCode::kConflict);
  Refuse(Client(Set("a", "1", 1), "req-1"), StatusCode::kConflict);
  Refuse(Client(Del("a"), "req-1"), StatusCode::kConflict);
  Refuse(Client(Set("a", "1"), "req-1", "s"), StatusCode::kConflict);
  Command other_actor = Client(Set("a", "1"), "req-1");
  other_actor.actor = "bob";
  Refuse(other_actor, StatusCode::kConflict);
  EXPECT_TRUE(Accept(Client(Set("a", "1"), "req-1")).result.deduplicated);
}

TEST_F(DedupeTest, RetryMatchesWhateverNodeIdTheServerGenerated) {
  CreateNode create = NewNode("generated-1");
  create.node_id_generated = true;
  Outcome first = Accept(Client(create, "create", "s"));
  create.node_id = "generated-2";
  Outcome retry = Accept(Client(create, "create", "s"));
  EXPECT_TRUE(retry.result.deduplicated);
  EXPECT_EQ(retry.result.result, R"({"node_id":"generated-1"})");
  EXPECT_EQ(GraphOf("s").nodes.size(), 1u);
  create.node_id_generated = false;  // the client's own id now: another request
  Refuse(Client(create, "create", "s"), StatusCode::kConflict);
}

TEST_F(DedupeTest, RequestsDifferingAnywhereHaveDifferentDigests) {
  const auto digest = [](CommandBody body, std::string session = "s") {
    Command command;
    command.session = std::move(session);
    command.body = std::move(body);
    return RequestDigest(command);
  };
  BatchGraph batch{{NewNode("n1"), Link{"n1", "n2"}}};
  BatchGraph swapped{{Link{"n1", "n2"}, NewNode("n1")}};
  const std::vector<uint64_t> digests = {
      digest(Set("ab", "1")),
      digest(Set("a", "b1")),
      digest(Set("a", "1", 0)),
      digest(Set("a", "1", 1)),
      digest(Set("a", "1"), ""),
      digest(Del("a")),
      digest(BatchContext{{{"a", "1"}}, {}}),
      digest(BatchContext{{}, {"a"}}),
      digest(NewNode("n1")),
      digest(NewNode("n1", "p")),
      digest(NewNode("n1", std::nullopt, {{"c", "1"}})),
      digest(Link{"n1", "n2"}),
      digest(Unlink{"n1", "n2"}),
      digest(Link{"n2", "n1"}),
      digest(SetProperty{"n1", "c", "1"}),
      digest(DeleteProperty{"n1", "c"}),
      digest(batch),
      digest(swapped),
      digest(RestoreGraph{"v1", {}}),
      digest(Undo{}),
      digest(Redo{}),
      digest(SaveSession{"v1"}),
  };
  const std::set<uint64_t> distinct(digests.begin(), digests.end());
  EXPECT_EQ(distinct.size(), digests.size());
  EXPECT_EQ(distinct.count(0), 0u);
  // What the digest of a request is must never change: it is in the log.
  EXPECT_EQ(digest(Set("a", "1")), digest(Set("a", "1")));
  EXPECT_EQ(digest(Set("a", "1")), 0x0a906f3de11f2545ULL);  // FNV-1a of 09"anonymous" 01"s" 00 01"a" 01"1" 00
}

TEST_F(DedupeTest, AnIdRememberedWithoutADigestMatchesAnyRequest) {
  Event old = Accept(Client(Set("a", "1"), "old")).event.value();
  old.request_digest = 0;  // as an event from before digests decodes
  State replayed(limits_);
  ASSERT_TRUE(Apply(replayed, old).ok());
  Command other = Client(Set("a", "2"), "old");
  auto outcome = Execute(replayed, other, kStartTs + 5000);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_TRUE(outcome->result.deduplicated);
}

}  // namespace
}  // namespace ctxd::engine
