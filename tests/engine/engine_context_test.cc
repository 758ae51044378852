#include <string>

#include "engine/engine.h"
#include "tests/engine/engine_fixture.h"

namespace ctxd::engine {
namespace {

using ::testing::HasSubstr;

class ContextTest : public EngineFixture {};

TEST_F(ContextTest, SetCreatesKeyVersionedBySeq) {
  Outcome out = Accept(Set("a", "1"));
  ASSERT_TRUE(out.event);
  EXPECT_EQ(out.event->seq, 1u);
  EXPECT_EQ(out.event->type, EventType::kContextSet);
  EXPECT_EQ(out.event->changes, (std::vector<Change>{CtxPut{"a", "1", std::nullopt}}));
  EXPECT_TRUE(out.result.changed);
  EXPECT_EQ(out.result.seq, 1u);
  EXPECT_EQ(out.result.version, 1u);
  EXPECT_EQ(state_.context.at("a"), (ContextEntry{"1", 1, 1, "alice", ts_}));
  EXPECT_EQ(state_.head_seq, 1u);
  EXPECT_EQ(state_.head_ts_us, ts_);
}

TEST_F(ContextTest, OverwriteRecordsOldValueAndKeepsCreatedSeq) {
  Accept(Set("a", "1"));
  Accept(Set("other", "true"));
  Outcome out = Accept(Set("a", "\"two\""));
  EXPECT_EQ(out.event->changes, (std::vector<Change>{CtxPut{"a", "\"two\"", "1"}}));
  EXPECT_EQ(out.result.version, 3u);
  const ContextEntry& entry = state_.context.at("a");
  EXPECT_EQ(entry.version, 3u);
  EXPECT_EQ(entry.created_seq, 1u);
}

TEST_F(ContextTest, SetToCurrentValueAppendsNothing) {
  Accept(Set("a", "{\"x\":1}"));
  Accept(Set("b", "2"));
  State before = state_;
  Outcome out = Accept(Set("a", "{\"x\":1}"));
  EXPECT_FALSE(out.event);
  EXPECT_FALSE(out.result.changed);
  EXPECT_EQ(out.result.seq, 2u);
  EXPECT_EQ(out.result.version, 1u);
  EXPECT_TRUE(state_ == before);
}

TEST_F(ContextTest, EventCarriesCommandFields) {
  Command command = Make(Set("a", "1"), "s1");
  command.actor = "bob";
  command.command_id = "retry-me";
  command.client_command_id = true;
  Outcome out = Accept(command);
  EXPECT_EQ(out.event->actor, "bob");
  EXPECT_EQ(out.event->session, "s1");
  EXPECT_EQ(out.event->command_id, "retry-me");
  EXPECT_TRUE(out.event->client_command_id);
  EXPECT_EQ(out.event->ts_us, ts_);
  EXPECT_EQ(out.result.command_id, "retry-me");
  EXPECT_EQ(state_.sessions.at("s1").last_seq, 1u);
}

TEST_F(ContextTest, IfMatchZeroRequiresAbsentKey) {
  Accept(Set("a", "1", 0));
  std::string message = Refuse(Set("a", "2", 0), StatusCode::kPreconditionFailed);
  EXPECT_THAT(message, HasSubstr("at version 1"));
}

TEST_F(ContextTest, IfMatchMismatchNamesBothVersions) {
  Accept(Set("a", "1"));
  Accept(Set("a", "2"));
  std::string message = Refuse(Set("a", "3", 1), StatusCode::kPreconditionFailed);
  EXPECT_THAT(message, HasSubstr("expected version 1"));
  EXPECT_THAT(message, HasSubstr("at version 2"));
}

TEST_F(ContextTest, IfMatchOnMissingKeyFails) {
  std::string message = Refuse(Set("a", "3", 4), StatusCode::kPreconditionFailed);
  EXPECT_THAT(message, HasSubstr("does not exist"));
}

TEST_F(ContextTest, IfMatchCurrentVersionIsAccepted) {
  Accept(Set("a", "1"));
  EXPECT_EQ(Accept(Set("a", "2", 1)).result.version, 2u);
}

TEST_F(ContextTest, IfMatchIsCheckedEvenForUnchangedValue) {
  Accept(Set("a", "1"));
  Refuse(Set("a", "1", 7), StatusCode::kPreconditionFailed);
}

TEST_F(ContextTest, InvalidKeysAreRefused) {
  for (const std::string& key :
       {std::string(), std::string(1025, 'k'), std::string("a\x01"), std::string("a\x7f"),
        std::string("a\nb"), std::string("\xff\xfe"), std::string("\xc0\xaf"), std::string("a\xc2\x80"),
        std::string("\xc2\x85") + "b", std::string("a\xc2\x9f")}) {
    Refuse(Set(key, "1"), StatusCode::kInvalidArgument);
  }
}

TEST_F(ContextTest, LongestAndUnicodeKeysAreAccepted) {
  Accept(Set(std::string(1024, 'k'), "1"));
  Accept(Set("über/日本/🚀", "1"));
  Accept(Set("\xc2\xa0\xc2\xbf", "1"));  // U+00A0 and U+00BF, beside the C1 controls
  EXPECT_EQ(state_.context.size(), 3u);
}

TEST_F(ContextTest, EmptyValueIsRefused) { Refuse(Set("a", ""), StatusCode::kInvalidArgument); }

TEST_F(ContextTest, CommandNeedsActorAndCommandId) {
  Command no_actor = Make(Set("a", "1"));
  no_actor.actor = "";
  Refuse(no_actor, StatusCode::kInvalidArgument);
  Command no_id = Make(Set("a", "1"));
  no_id.command_id = "";
  Refuse(no_id, StatusCode::kInvalidArgument);
}

TEST_F(ContextTest, InvalidSessionIsRefused) {
  Refuse(Set("a", "1"), StatusCode::kInvalidArgument, std::string("s\x02"));
}

TEST_F(ContextTest, UnchangedSetInNewSessionLeavesNoSession) {
  Accept(Set("a", "1"));
  Accept(Set("a", "1"), "fresh");
  EXPECT_FALSE(state_.sessions.contains("fresh"));
}

TEST_F(ContextTest, SetWithoutSessionIsNotUndoable) {
  Accept(Set("a", "1"));
  EXPECT_TRUE(state_.sessions.empty());
}

TEST_F(ContextTest, SetWithSessionIsUndoableThere) {
  Outcome out = Accept(Set("a", "1"), "s1");
  const Session& session = state_.sessions.at("s1");
  ASSERT_EQ(session.undo.size(), 1u);
  EXPECT_EQ(session.undo.back(), (UndoEntry{1, out.event->command_id, out.event->changes}));
}

TEST_F(ContextTest, DeleteRemovesKeyAndRecordsOld) {
  Accept(Set("a", "[1,2]"));
  Outcome out = Accept(Del("a"));
  EXPECT_EQ(out.event->type, EventType::kContextDelete);
  EXPECT_EQ(out.event->changes, (std::vector<Change>{CtxDel{"a", "[1,2]"}}));
  EXPECT_FALSE(state_.context.contains("a"));
}

TEST_F(ContextTest, DeleteMissingKeyIsNotFound) {
  Accept(Set("b", "1"));
  std::string message = Refuse(Del("a"), StatusCode::kNotFound);
  EXPECT_THAT(message, HasSubstr("'a'"));
}

TEST_F(ContextTest, DeleteIfMatchMismatchFails) {
  Accept(Set("a", "1"));
  Refuse(Del("a", 5), StatusCode::kPreconditionFailed);
  Refuse(Del("a", 0), StatusCode::kPreconditionFailed);
  Accept(Del("a", 1));
}

TEST_F(ContextTest, RecreatedKeyGetsNewCreatedSeq) {
  Accept(Set("a", "1"));
  Accept(Del("a"));
  Accept(Set("a", "1"));
  EXPECT_EQ(state_.context.at("a").created_seq, 3u);
}

TEST_F(ContextTest, BatchIsOneAtomicEvent) {
  Accept(Set("gone", "0"));
  Accept(Set("same", "1"));
  Outcome out = Accept(BatchContext{{{"x", "1"}, {"same", "1"}, {"y", "2"}}, {"gone"}});
  ASSERT_TRUE(out.event);
  EXPECT_EQ(out.event->type, EventType::kContextBatch);
  EXPECT_EQ(out.event->changes, (std::vector<Change>{CtxPut{"x", "1", std::nullopt},
                                                     CtxPut{"y", "2", std::nullopt}, CtxDel{"gone", "0"}}));
  EXPECT_EQ(state_.context.at("x").version, 3u);
  EXPECT_EQ(state_.context.at("same").version, 2u);
  EXPECT_FALSE(state_.context.contains("gone"));
}

TEST_F(ContextTest, EmptyBatchIsRefused) { Refuse(BatchContext{}, StatusCode::kInvalidArgument); }

TEST_F(ContextTest, BatchWithDuplicateKeyIsRefused) {
  Refuse(BatchContext{{{"a", "1"}, {"a", "2"}}, {}}, StatusCode::kInvalidArgument);
  Accept(Set("b", "1"));
  Refuse(BatchContext{{}, {"b", "b"}}, StatusCode::kInvalidArgument);
}

TEST_F(ContextTest, BatchSettingAndDeletingOneKeyIsRefused) {
  Accept(Set("a", "1"));
  std::string message = Refuse(BatchContext{{{"a", "2"}}, {"a"}}, StatusCode::kInvalidArgument);
  EXPECT_THAT(message, HasSubstr("'a'"));
}

TEST_F(ContextTest, BatchDeletingMissingKeyChangesNothing) {
  Accept(Set("a", "1"));
  Refuse(BatchContext{{{"a", "2"}, {"n", "3"}}, {"missing"}}, StatusCode::kNotFound);
}

TEST_F(ContextTest, BatchWithInvalidKeyIsRefused) {
  Refuse(BatchContext{{{"ok", "1"}, {"", "2"}}, {}}, StatusCode::kInvalidArgument);
}

TEST_F(ContextTest, BatchOfUnchangedValuesAppendsNothing) {
  Accept(Set("a", "1"));
  Outcome out = Accept(BatchContext{{{"a", "1"}}, {}});
  EXPECT_FALSE(out.event);
  EXPECT_FALSE(out.result.changed);
  EXPECT_EQ(out.result.seq, 1u);
}

TEST(ValidationTest, Utf8AcceptsWellFormedSequences) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9"));          // é
  EXPECT_TRUE(IsValidUtf8("\xe2\x82\xac"));      // €
  EXPECT_TRUE(IsValidUtf8("\xef\xbf\xbf"));      // U+FFFF
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x9a\x80"));  // 🚀
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
}

TEST(ValidationTest, Utf8RejectsMalformedSequences) {
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\x80"));          // overlong NUL
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf0\x80\x80\xaf"));  // overlong
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xf8\x88\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));
}

// The ASCII runs are checked a word of eight bytes at a time: a bad or a good
// sequence at every offset, within a word, across two and after the last.
TEST(ValidationTest, Utf8ChecksEverySequenceAroundAsciiWords) {
  for (size_t offset = 0; offset <= 20; ++offset) {
    const std::string ascii(offset, 'a');
    SCOPED_TRACE(offset);
    EXPECT_TRUE(IsValidUtf8(ascii + "\xe2\x82\xac" + ascii));
    EXPECT_TRUE(IsValidUtf8(ascii + "\xf0\x9f\x9a\x80"));
    EXPECT_FALSE(IsValidUtf8(ascii + "\x80" + ascii));
    EXPECT_FALSE(IsValidUtf8(ascii + "\xed\xa0\x80" + ascii));
    EXPECT_FALSE(IsValidUtf8(ascii + "\xe2\x82"));
    EXPECT_FALSE(IsValidUtf8(ascii + "\xff" + std::string(16, 'b')));
  }
}

TEST(ValidationTest, NamesNameWhatIsWrong) {
  Status status = ValidateName("node_id", "");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("node_id"));
  EXPECT_TRUE(ValidateName("type", "task").ok());
  EXPECT_TRUE(ValidateKey("a/b c").ok());
}

// A value's limit is on its canonical JSON: "1234567" (with the quotes) is
// 9 bytes, one over the limit of 8.
class ValueLimitTest : public EngineFixture {
 protected:
  ValueLimitTest() : EngineFixture(EngineLimits{.max_value_bytes = 8}) {}
};

TEST_F(ValueLimitTest, ContextValuesOverTheLimitAreRefusedAsTooLarge) {
  Accept(Set("a", "\"123456\""));
  EXPECT_THAT(Refuse(Set("a", "\"1234567\""), StatusCode::kPayloadTooLarge),
              HasSubstr("value is 9 bytes of JSON, more than the limit of 8"));
  Refuse(BatchContext{{{"b", "1"}, {"c", "\"1234567\""}}, {}}, StatusCode::kPayloadTooLarge);
}

TEST_F(ValueLimitTest, PropertyValuesOverTheLimitAreRefusedAsTooLarge) {
  Refuse(CreateNode{"n1", "task", "x", std::nullopt, {{"p", "\"1234567\""}}}, StatusCode::kPayloadTooLarge,
         "s");
  Accept(CreateNode{"n1", "task", "x", std::nullopt, {{"p", "\"123456\""}}}, "s");
  Refuse(SetProperty{"n1", "p", "\"1234567\""}, StatusCode::kPayloadTooLarge, "s");
  Accept(SetProperty{"n1", "p", "12345678"}, "s");
}

}  // namespace
}  // namespace ctxd::engine
