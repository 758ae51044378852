// Every dump format parsed back and compared with the state it was taken
// from: context values with their JSON types, and the session graphs.
#include <gtest/gtest.h>

#include <sstream>

#include "engine/event_json.h"
#include "tests/tools/dump_parsers.h"
#include "tests/tools/dump_state_fixture.h"
#include "tools/dump/dump_writer.h"

namespace ctxd::dump {
namespace {

using nlohmann::json;

class DumpFormatsTest : public testutil::DumpStateFixture {
 protected:
  DumpRequest Request(DumpFormat format) {
    DumpRequest request;
    request.format = format;
    request.requested_by = "tester, \"quoted\"";
    request.store_id = "store-123";
    request.dump_ts_us = kStartTs + 999'000'000;
    return request;
  }
  std::string Dump(const DumpRequest& request, DumpInfo* info = nullptr) {
    std::ostringstream out;
    auto written = WriteDump(state_, request, out);
    EXPECT_TRUE(written.ok()) << written.status().ToString();
    if (written.ok() && info != nullptr) *info = *written;
    if (written.ok()) {
      EXPECT_EQ(written->bytes, out.str().size());
    }
    return out.str();
  }
  json ExpectedSession(const std::string& id) {
    return {{"nodes", testutil::ExpectedNodes(state_.sessions.at(id))}};
  }
  void ExpectAllSessions(const std::map<std::string, json>& sessions) {
    ASSERT_EQ(sessions.size(), state_.sessions.size());
    for (const auto& [id, session] : state_.sessions) EXPECT_EQ(sessions.at(id), ExpectedSession(id)) << id;
  }
  std::map<std::string, json> ContextMap() {
    std::map<std::string, json> context;
    const json expected = testutil::ExpectedContext(state_);
    for (const auto& [key, value] : expected.items()) context[key] = value;
    return context;
  }
};

TEST_F(DumpFormatsTest, JsonRoundTripsContextGraphsAndMetadata) {
  DumpInfo info;
  json doc = testutil::ParseJsonDump(Dump(Request(DumpFormat::kJson), &info));
  EXPECT_EQ(doc.at("context"), testutil::ExpectedContext(state_));
  for (const auto& [id, session] : state_.sessions) {
    EXPECT_EQ(doc.at("sessions").at(id).at("nodes"), testutil::ExpectedNodes(session));
    EXPECT_EQ(doc.at("sessions").at(id).at("edges"), session.graph.edge_count);
  }
  const json& meta = doc.at("metadata");
  EXPECT_EQ(meta.at("seq"), state_.head_seq);
  EXPECT_EQ(meta.at("store_id"), "store-123");
  EXPECT_EQ(meta.at("key_count"), state_.context.size());
  EXPECT_EQ(meta.at("format"), "json");
  EXPECT_EQ(meta.at("requested_by"), "tester, \"quoted\"");
  EXPECT_EQ(meta.at("dump_timestamp"), engine::FormatTimestamp(kStartTs + 999'000'000));
  EXPECT_EQ(meta.at("seq_timestamp"), engine::FormatTimestamp(state_.head_ts_us));
  EXPECT_FALSE(doc.contains("history"));
  EXPECT_EQ(info.key_count, state_.context.size());
  EXPECT_EQ(info.seq, state_.head_seq);
  EXPECT_EQ(info.session_count, 2u);
  EXPECT_EQ(info.node_count, 5u);
}

TEST_F(DumpFormatsTest, JsonHistoryListsEveryContextChangeInOrder) {
  DumpRequest request = Request(DumpFormat::kJson);
  request.include_history = true;
  for (const auto& event : events_) AppendHistory(event, &request.history);
  json doc = testutil::ParseJsonDump(Dump(request));
  const json& history = doc.at("history");
  ASSERT_EQ(history.size(), 25u);  // 24 sets + 1 delete
  EXPECT_EQ(history[0].at("key"), "plain");
  EXPECT_EQ(history[0].at("before"), nullptr);
  EXPECT_EQ(history[0].at("after"), "hello");
  EXPECT_EQ(history[0].at("who"), "alice");
  EXPECT_EQ(history[0].at("seq"), 1);
  EXPECT_EQ(history[0].at("timestamp"), engine::FormatTimestamp(kStartTs + 1000));
  EXPECT_EQ(history[23].at("before"), "hello");
  EXPECT_EQ(history[23].at("after"), "hello again");
  EXPECT_EQ(history[24].at("key"), "neg");
  EXPECT_EQ(history[24].at("before"), -7);
  EXPECT_EQ(history[24].at("after"), nullptr);
  EXPECT_EQ(doc.at("metadata").at("history_count"), 25);
}

TEST_F(DumpFormatsTest, JsonWithSessionHasOnlyThatGraph) {
  DumpRequest request = Request(DumpFormat::kJson);
  request.session = "s 2";
  json doc = testutil::ParseJsonDump(Dump(request));
  ASSERT_EQ(doc.at("sessions").size(), 1u);
  EXPECT_EQ(doc.at("sessions").at("s 2").at("nodes"), testutil::ExpectedNodes(state_.sessions.at("s 2")));
  EXPECT_EQ(doc.at("metadata").at("session"), "s 2");
}

TEST_F(DumpFormatsTest, PrettyRoundTripsContextAndGraphs) {
  DumpRequest request = Request(DumpFormat::kPretty);
  request.include_history = true;
  for (const auto& event : events_) AppendHistory(event, &request.history);
  std::string text = Dump(request);
  EXPECT_TRUE(text.starts_with(std::string(80, '=') + "\nCONTEXT DUMP REPORT\n"));
  auto parsed = testutil::ParsePrettyDump(text);
  EXPECT_EQ(parsed.context, ContextMap());
  ExpectAllSessions(parsed.sessions);
  EXPECT_EQ(parsed.metadata.at("Seq"), std::to_string(state_.head_seq));
  EXPECT_EQ(parsed.metadata.at("Store ID"), "store-123");
  EXPECT_EQ(parsed.metadata.at("Requested By"), "tester, \"quoted\"");
  EXPECT_NE(text.find("HISTORY (25 changes)"), std::string::npos);
}

TEST_F(DumpFormatsTest, CsvRoundTripsValuesAndPythonTypeNames) {
  auto parsed = testutil::ParseCsvDump(Dump(Request(DumpFormat::kCsv)));
  EXPECT_EQ(parsed.context, ContextMap());
  EXPECT_TRUE(parsed.sessions.empty()) << "graphs only with a session";
  const std::map<std::string, std::string> types = {
      {"plain", "str"},   {"eq=key", "int"},      {"#hash", "bool"},    {"\"quoted", "NoneType"},
      {"float", "float"}, {"float_int", "float"}, {"exp", "float"},     {"dict", "dict"},
      {"list", "list"},   {"numstr", "str"},      {"emptyobj", "dict"}, {"emptyarr", "list"}};
  for (const auto& [key, type] : types) EXPECT_EQ(parsed.context_text.at(key), type) << key;
  EXPECT_EQ(parsed.metadata.at("Requested_By"), "tester, \"quoted\"");
}

TEST_F(DumpFormatsTest, CsvWithSessionAddsItsNodes) {
  DumpRequest request = Request(DumpFormat::kCsv);
  request.session = "s1";
  auto parsed = testutil::ParseCsvDump(Dump(request));
  EXPECT_EQ(parsed.context, ContextMap());
  ASSERT_EQ(parsed.sessions.size(), 1u);
  EXPECT_EQ(parsed.sessions.at("s1"), ExpectedSession("s1"));
}

TEST_F(DumpFormatsTest, CsvQuotesCommasQuotesAndLineBreaks) {
  std::string text = Dump(Request(DumpFormat::kCsv));
  EXPECT_TRUE(text.starts_with("Key,Value,Type,Dump_Timestamp,Requested_By\r\n"));
  const std::string tail =
      "," + engine::FormatTimestamp(kStartTs + 999'000'000) + ",\"tester, \"\"quoted\"\"\"\r\n";
  EXPECT_NE(text.find("\r\n\"with,comma\",\"a,b\",str" + tail), std::string::npos);
  EXPECT_NE(text.find("\r\n\"quote\"\"key\",\"say \"\"hi\"\"\",str" + tail), std::string::npos);
  EXPECT_NE(text.find("\r\nmulti,\"line1\nline2\r\nline3\",str" + tail), std::string::npos);
  EXPECT_NE(text.find("\r\ndict,\"{\"\"a\"\":[1,2,{\"\"b\"\":null}],\"\"s\"\":\"\"x,y\"\"}\",dict" + tail),
            std::string::npos);
  EXPECT_NE(text.find("\r\nempty,,str" + tail), std::string::npos);
  EXPECT_NE(text.find("\r\nplain,hello again,str" + tail), std::string::npos);
}

TEST_F(DumpFormatsTest, TxtRoundTripsEveryKeyOnOneLine) {
  std::string text = Dump(Request(DumpFormat::kTxt));
  auto parsed = testutil::ParseTxtDump(text);
  ASSERT_EQ(parsed.context_text.size(), state_.context.size());
  for (const auto& [key, entry] : state_.context) {
    json value = json::parse(entry.value.view());
    const std::string& line_value = parsed.context_text.at(key);
    if (!value.is_string()) {
      EXPECT_EQ(json::parse(line_value), value) << key;
    } else if (line_value.starts_with("\"")) {
      EXPECT_EQ(json::parse(line_value), value) << key;
    } else {
      EXPECT_EQ(line_value, value.get<std::string>()) << key;
    }
  }
  EXPECT_NE(text.find("\nplain=hello again\n"), std::string::npos);
  EXPECT_NE(text.find("\nnumstr=123\n"), std::string::npos);
  EXPECT_NE(text.find("\n\"eq=key\"=1\n"), std::string::npos);
  EXPECT_NE(text.find("\nmulti=\"line1\\nline2\\r\\nline3\"\n"), std::string::npos);
  EXPECT_EQ(parsed.metadata.at("seq"), std::to_string(state_.head_seq));
  EXPECT_EQ(parsed.metadata.at("store_id"), "store-123");
  EXPECT_TRUE(parsed.sessions.empty());
}

TEST_F(DumpFormatsTest, TxtWithSessionAddsItsNodes) {
  DumpRequest request = Request(DumpFormat::kTxt);
  request.session = "s 2";
  auto parsed = testutil::ParseTxtDump(Dump(request));
  ASSERT_EQ(parsed.sessions.size(), 1u);
  EXPECT_EQ(parsed.sessions.at("s 2"), ExpectedSession("s 2"));
}

TEST_F(DumpFormatsTest, UnknownSessionIsNotFound) {
  DumpRequest request = Request(DumpFormat::kJson);
  request.session = "nope";
  std::ostringstream out;
  auto written = WriteDump(state_, request, out);
  EXPECT_EQ(written.status().code(), StatusCode::kNotFound);
}

TEST_F(DumpFormatsTest, EmptyStateDumpsParse) {
  state_ = engine::State();
  json doc = testutil::ParseJsonDump(Dump(Request(DumpFormat::kJson)));
  EXPECT_EQ(doc.at("context"), json::object());
  EXPECT_EQ(doc.at("sessions"), json::object());
  EXPECT_EQ(doc.at("metadata").at("seq_timestamp"), nullptr);
  EXPECT_TRUE(testutil::ParsePrettyDump(Dump(Request(DumpFormat::kPretty))).context.empty());
  EXPECT_EQ(Dump(Request(DumpFormat::kCsv)), "Key,Value,Type,Dump_Timestamp,Requested_By\r\n");
  EXPECT_TRUE(testutil::ParseTxtDump(Dump(Request(DumpFormat::kTxt))).context.empty());
}

TEST_F(DumpFormatsTest, FailingStreamIsUnavailable) {
  std::ostringstream out;
  out.setstate(std::ios::badbit);
  auto written = WriteDump(state_, Request(DumpFormat::kJson), out);
  EXPECT_EQ(written.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace ctxd::dump
