#include "engine/event_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "engine/event.h"

namespace ctxd::engine {
namespace {

using nlohmann::json;

Event ContextSet() {
  Event e;
  e.seq = 12;
  e.ts_us = 1'700'000'000'123'456;
  e.type = EventType::kContextSet;
  e.actor = "alice";
  e.command_id = "c-1";
  e.changes = {CtxPut{"k", R"({"a":[1,2]})", "null"}};
  return e;
}

json Parse(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << text;
  return j;
}

TEST(EventJsonTest, ContextSetHasExactCompactForm) {
  EXPECT_EQ(EventToJson(ContextSet()),
            R"({"seq":12,"ts":"2023-11-14T22:13:20.123456Z","type":"context.set","actor":"alice",)"
            R"("command_id":"c-1","changes":[{"op":"ctx.put","key":"k","value":{"a":[1,2]},"old":null}]})");
}

TEST(EventJsonTest, OptionalFieldsAppearOnlyWhenSet) {
  Event e = ContextSet();
  e.changes = {CtxPut{"k", "1", std::nullopt}};
  json plain = Parse(EventToJson(e));
  for (const char* field : {"session", "undoes", "redoes", "label", "result"}) {
    EXPECT_FALSE(plain.contains(field)) << field;
  }
  EXPECT_FALSE(plain["changes"][0].contains("old"));

  e.type = EventType::kUndo;
  e.session = "s1";
  e.undoes = 5;
  e.label = "v1";
  e.result = R"({"node_id":"n"})";
  json full = Parse(EventToJson(e));
  EXPECT_EQ(full["session"], "s1");
  EXPECT_EQ(full["undoes"], 5);
  EXPECT_FALSE(full.contains("redoes"));
  EXPECT_EQ(full["label"], "v1");
  EXPECT_EQ(full["result"], json({{"node_id", "n"}}));
  EXPECT_EQ(full["type"], "session.undo");
}

TEST(EventJsonTest, RedoNamesRedoneSeq) {
  Event e = ContextSet();
  e.type = EventType::kRedo;
  e.redoes = 3;
  EXPECT_EQ(Parse(EventToJson(e))["redoes"], 3);
}

TEST(EventJsonTest, EveryChangeKindHasItsFields) {
  Event e = ContextSet();
  e.changes = {CtxDel{"k", "1"},
               NodeAdd{"n", "task", "N", {{"p", "[true]"}}},
               NodeRemove{"n", "task", "N", {}},
               EdgeAdd{"a", "b"},
               EdgeRemove{"a", "b"},
               PropPut{"n", "p", "2", "1"},
               PropDel{"n", "p", "\"x\""}};
  json changes = Parse(EventToJson(e))["changes"];
  EXPECT_EQ(changes[0], json::parse(R"({"op":"ctx.del","key":"k","old":1})"));
  EXPECT_EQ(changes[1],
            json::parse(R"({"op":"node.add","node":"n","type":"task","name":"N","props":{"p":[true]}})"));
  EXPECT_EQ(changes[2],
            json::parse(R"({"op":"node.remove","node":"n","type":"task","name":"N","props":{}})"));
  EXPECT_EQ(changes[3], json::parse(R"({"op":"edge.add","parent":"a","child":"b"})"));
  EXPECT_EQ(changes[4], json::parse(R"({"op":"edge.remove","parent":"a","child":"b"})"));
  EXPECT_EQ(changes[5], json::parse(R"({"op":"prop.put","node":"n","name":"p","value":2,"old":1})"));
  EXPECT_EQ(changes[6], json::parse(R"({"op":"prop.del","node":"n","name":"p","old":"x"})"));
}

TEST(EventJsonTest, StringsAreEscapedLikeNlohmann) {
  std::string every_ascii;
  for (int c = 1; c < 128; ++c) every_ascii.push_back(static_cast<char>(c));
  std::string tricky = every_ascii + "\"\\/ é € 🚀";
  Event e = ContextSet();
  e.actor = tricky;
  e.changes = {EdgeAdd{tricky, "b"}};
  std::string text = EventToJson(e);
  EXPECT_NE(text.find(json(tricky).dump()), std::string::npos);
  json parsed = Parse(text);
  EXPECT_EQ(parsed["actor"], tricky);
  EXPECT_EQ(parsed["changes"][0]["parent"], tricky);
}

TEST(EventJsonTest, NegativeTimestampFormatsBeforeEpoch) {
  Event e = ContextSet();
  e.ts_us = -1;
  EXPECT_EQ(Parse(EventToJson(e))["ts"], "1969-12-31T23:59:59.999999Z");
}

TEST(TimestampTest, FormatsUtcWithMicroseconds) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatTimestamp(1'700'000'000'123'456), "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(FormatTimestamp(951'782'400'000'001), "2000-02-29T00:00:00.000001Z");
  EXPECT_EQ(FormatTimestamp(253'402'300'799'999'999), "9999-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTimestamp(-86'400'000'000), "1969-12-31T00:00:00.000000Z");
}

int64_t ParseOk(std::string_view text) {
  int64_t ts = 0;
  EXPECT_TRUE(ParseTimestamp(text, &ts)) << text;
  return ts;
}

TEST(TimestampTest, ParsesUtcAndOffsets) {
  EXPECT_EQ(ParseOk("2023-11-14T22:13:20.123456Z"), 1'700'000'000'123'456);
  EXPECT_EQ(ParseOk("2023-11-14T22:13:20Z"), 1'700'000'000'000'000);
  EXPECT_EQ(ParseOk("2023-11-15T00:13:20+02:00"), 1'700'000'000'000'000);
  EXPECT_EQ(ParseOk("2023-11-14T16:43:20.5-05:30"), 1'700'000'000'500'000);
  EXPECT_EQ(ParseOk("2023-11-14t22:13:20z"), 1'700'000'000'000'000);
  EXPECT_EQ(ParseOk("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseOk("1969-12-31T23:59:59.999999Z"), -1);
}

TEST(TimestampTest, FractionBeyondMicrosecondsIsTruncated) {
  EXPECT_EQ(ParseOk("1970-01-01T00:00:00.123456789Z"), 123'456);
  EXPECT_EQ(ParseOk("1970-01-01T00:00:00.1Z"), 100'000);
}

TEST(TimestampTest, RoundTripsThroughFormat) {
  for (int64_t ts :
       {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{1'700'000'000'123'456}, int64_t{951'782'400'000'001}}) {
    EXPECT_EQ(ParseOk(FormatTimestamp(ts)), ts);
  }
}

TEST(TimestampTest, RejectsMalformedText) {
  for (const char* text :
       {"", "2023-11-14", "2023-11-14T22:13:20", "2023-11-14T22:13:20.Z", "2023-11-14T22:13:20.1234567890Z",
        "2023-13-14T22:13:20Z", "2023-02-29T00:00:00Z", "2024-02-30T00:00:00Z", "2023-11-14T24:00:00Z",
        "2023-11-14T22:60:00Z", "2023-11-14T22:13:61Z", "2023-11-14T22:13:20+2:00",
        "2023-11-14T22:13:20+02:60", "2023-11-14T22:13:20Zjunk", "23-11-14T22:13:20Z", "2023/11/14T22:13:20Z",
        "2023-11-14X22:13:20Z"}) {
    int64_t ts = 42;
    EXPECT_FALSE(ParseTimestamp(text, &ts)) << text;
  }
}

TEST(EventTypeTest, NamesRoundTrip) {
  const char* names[] = {"context.set",           "context.delete", "context.batch", "graph.create_node",
                         "graph.delete_node",     "graph.link",     "graph.unlink",  "graph.set_property",
                         "graph.delete_property", "graph.batch",    "graph.restore", "session.undo",
                         "session.redo",          "session.save"};
  for (int t = 1; t <= 14; ++t) {
    auto type = static_cast<EventType>(t);
    EXPECT_EQ(EventTypeName(type), names[t - 1]);
    EXPECT_EQ(ParseEventType(names[t - 1]), type);
  }
  EXPECT_EQ(ParseEventType("context.nope"), std::nullopt);
  EXPECT_EQ(ParseEventType(""), std::nullopt);
}

}  // namespace
}  // namespace ctxd::engine
