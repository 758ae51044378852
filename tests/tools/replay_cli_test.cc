// The ctxd-replay binary end to end, against a real store that stays open
// in this process (the tool reads it as a RocksDB secondary): exit codes,
// every dump format parsed back and compared with Store::StateAt (what
// GET /v1/context?at=SEQ serves), events NDJSON, stats, and all of it while
// the store keeps writing.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/event_codec.h"
#include "engine/event_json.h"
#include "log/keys.h"
#include "tests/store/random_commands.h"
#include "tests/testutil/temp_dir.h"
#include "tests/tools/dump_parsers.h"
#include "tests/tools/raw_db.h"
#include "tests/tools/run_tool.h"
#include "tests/tools/store_builder.h"
#include "tools/replay/rebuild.h"
#include "tools/replay/secondary_log.h"

namespace ctxd {
namespace {

using nlohmann::json;
using testutil::RunReplay;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class ReplayCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testutil::TempDir();
    store_ = testutil::OpenStore(dir_->Sub("store")).release();
    ASSERT_NE(store_, nullptr);
    testutil::FillStore(*store_, 400, 100, 11);
  }
  static void TearDownTestSuite() {
    delete store_;
    delete dir_;
  }

  static std::string Data() { return dir_->Sub("store"); }

  // Dumps at `seq` in `format` through the binary and returns the text.
  std::string DumpAt(uint64_t seq, const std::string& format, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"dump",     "--data", Data(), "--at", std::to_string(seq),
                                     "--format", format};
    args.insert(args.end(), extra.begin(), extra.end());
    auto result = RunReplay(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result.out;
  }

  engine::State StateAt(uint64_t seq) {
    auto state = store_->StateAt(seq);
    EXPECT_TRUE(state.ok()) << state.status().ToString();
    return state.ok() ? *state : engine::State{};
  }

  // Every format at `seq` agrees with the store's state at `seq`.
  void ExpectDumpsMatch(uint64_t seq) {
    const engine::State state = StateAt(seq);
    const json context = testutil::ExpectedContext(state);
    std::map<std::string, json> context_map;
    for (const auto& [key, value] : context.items()) context_map[key] = value;
    std::map<std::string, json> sessions;
    for (const auto& [id, session] : state.sessions)
      sessions[id] = {{"nodes", testutil::ExpectedNodes(session)}};

    json doc = testutil::ParseJsonDump(DumpAt(seq, "json"));
    EXPECT_EQ(doc.at("metadata").at("seq"), seq);
    EXPECT_EQ(doc.at("metadata").at("store_id"), store_->store_id());
    EXPECT_EQ(doc.at("context"), context);
    for (const auto& [id, expected] : sessions)
      EXPECT_EQ(doc.at("sessions").at(id).at("nodes"), expected.at("nodes"));
    EXPECT_EQ(doc.at("sessions").size(), sessions.size());

    auto pretty = testutil::ParsePrettyDump(DumpAt(seq, "pretty"));
    EXPECT_EQ(pretty.context, context_map);
    EXPECT_EQ(pretty.sessions, sessions);
    EXPECT_EQ(pretty.metadata.at("Seq"), std::to_string(seq));

    EXPECT_EQ(testutil::ParseCsvDump(DumpAt(seq, "csv")).context, context_map);
    auto txt = testutil::ParseTxtDump(DumpAt(seq, "txt"));
    EXPECT_EQ(txt.context_text.size(), state.context.size());
    EXPECT_EQ(txt.metadata.at("seq"), std::to_string(seq));
    EXPECT_EQ(txt.metadata.at("store_id"), store_->store_id());
    for (const auto& [id, expected] : sessions) {
      auto csv = testutil::ParseCsvDump(DumpAt(seq, "csv", {"--session", id}));
      // A session without nodes has no rows.
      const json empty = {{"nodes", json::array()}};
      EXPECT_EQ(csv.sessions.count(id) ? csv.sessions.at(id) : empty, expected) << id;
      EXPECT_EQ(testutil::ParseTxtDump(DumpAt(seq, "txt", {"--session", id})).sessions.at(id), expected)
          << id;
    }
  }

  static testutil::TempDir* dir_;
  static store::Store* store_;
};

testutil::TempDir* ReplayCliTest::dir_ = nullptr;
store::Store* ReplayCliTest::store_ = nullptr;

// Writes random commands to the shared store, a few hundred a second (like
// a busy server, and slow enough that the tests' replays stay short), until
// destroyed.
class BackgroundWriter {
 public:
  explicit BackgroundWriter(store::Store& store) : store_(store), thread_([this] { Run(); }) {}
  ~BackgroundWriter() {
    stop_ = true;
    thread_.join();
  }
  uint64_t written() const { return written_; }

 private:
  void Run() {
    testutil::RandomCommands random(99, 3, 40);
    while (!stop_) {
      engine::Command command = store_.Read([&](const engine::State& state) { return random.Next(state); });
      if (store_.Execute(std::move(command)).ok()) ++written_;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  store::Store& store_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> written_{0};
  std::thread thread_;
};

TEST_F(ReplayCliTest, HelpExplainsEachSubcommand) {
  auto help = RunReplay({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* word : {"dump", "verify", "events", "stats", "Exit codes: 0 ok, 1 failure", "secondary"}) {
    EXPECT_NE(help.out.find(word), std::string::npos) << word;
  }
  auto dump = RunReplay({"dump", "--help"});
  EXPECT_EQ(dump.exit_code, 0);
  for (const char* word :
       {"--at", "--at-time", "--session", "--include-history", "--format", "-o", "snapshot"}) {
    EXPECT_NE(dump.out.find(word), std::string::npos) << word;
  }
  for (const char* command : {"verify", "events", "stats"}) {
    auto result = RunReplay({command, "--help"});
    EXPECT_EQ(result.exit_code, 0) << command;
    EXPECT_NE(result.out.find("--data"), std::string::npos) << command;
  }
}

TEST_F(ReplayCliTest, UsageErrorsExitTwo) {
  testutil::TempDir empty;
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"frobnicate", "--data", Data()},
      {"dump", "--format", "json"},
      {"dump", "--data", Data()},
      {"dump", "--data", Data(), "--format", "xml"},
      {"dump", "--data", empty.Sub("absent"), "--format", "json"},
      {"dump", "--data", Data(), "--format", "json", "--at", "3", "--at-time", "2026-01-01T00:00:00Z"},
      {"dump", "--data", Data(), "--format", "json", "--at-time", "yesterday"},
      {"dump", "--data", Data(), "--format", "json", "--at", "minus-one"},
      {"dump", "--data", Data(), "--format", "json", "--at", "-1"},
      {"dump", "--data", Data(), "--format", "json", "--at", "18446744073709551616"},
      {"dump", "--data", Data(), "--format", "json", "--at", "+3"},
      {"events", "--data", Data(), "--from", "-5"},
      {"events", "--data", Data(), "--from", "10", "--to", "5"},
      {"stats"},
      {"verify", "--data", Data(), "--bogus"},
  };
  for (const auto& args : cases) {
    auto result = RunReplay(args);
    std::string joined;
    for (const auto& arg : args) joined += arg + " ";
    EXPECT_EQ(result.exit_code, 2) << joined << "\n" << result.err << result.out;
  }
}

TEST_F(ReplayCliTest, FailuresExitOne) {
  testutil::TempDir empty;
  const uint64_t head = store_->durable_seq();
  auto not_a_store = RunReplay({"stats", "--data", empty.path()});
  EXPECT_EQ(not_a_store.exit_code, 1) << not_a_store.err;
  auto past_head =
      RunReplay({"dump", "--data", Data(), "--format", "json", "--at", std::to_string(head + 1000000)});
  EXPECT_EQ(past_head.exit_code, 1);
  EXPECT_NE(past_head.err.find("past the head"), std::string::npos) << past_head.err;
  auto no_session = RunReplay({"dump", "--data", Data(), "--format", "csv", "--session", "nope"});
  EXPECT_EQ(no_session.exit_code, 1);
  EXPECT_NE(no_session.err.find("session 'nope'"), std::string::npos) << no_session.err;
  auto unwritable =
      RunReplay({"dump", "--data", Data(), "--format", "json", "-o", empty.Sub("no/such/dir.json")});
  EXPECT_EQ(unwritable.exit_code, 1);
}

TEST_F(ReplayCliTest, EveryFormatMatchesTheStateAtSeq) {
  const uint64_t head = store_->durable_seq();
  ExpectDumpsMatch(head / 3);      // below the first snapshot: replay only
  ExpectDumpsMatch(head / 2 + 7);  // snapshot + replay
  ExpectDumpsMatch(head);
}

TEST_F(ReplayCliTest, DumpsWhileTheStoreKeepsWriting) {
  BackgroundWriter writer(*store_);
  const uint64_t start = store_->durable_seq();
  ExpectDumpsMatch(store_->durable_seq());
  for (int round = 1; round <= 3; ++round) {
    while (store_->durable_seq() < start + 40 * round)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const uint64_t seq = store_->durable_seq();
    json doc = testutil::ParseJsonDump(DumpAt(seq, "json"));
    EXPECT_EQ(doc.at("context"), testutil::ExpectedContext(StateAt(seq))) << "at seq " << seq;
  }
  auto verify = RunReplay({"verify", "--data", Data()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  // The store kept writing while the tool ran on its directory.
  EXPECT_GT(store_->durable_seq(), start + 120);
  EXPECT_GT(writer.written(), 120u);
}

TEST_F(ReplayCliTest, DumpToFileIsAtomicAndCarriesHistory) {
  testutil::TempDir out;
  const uint64_t seq = store_->durable_seq() / 2;
  auto result = RunReplay({"dump", "--data", Data(), "--at", std::to_string(seq), "--format", "json",
                           "--include-history", "--who", "ops", "-o", out.Sub("d.json")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.out.empty());
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(out.path()))
    files.push_back(entry.path().filename());
  EXPECT_EQ(files, std::vector<std::string>{"d.json"});
  json doc = json::parse(ReadFile(out.Sub("d.json")));
  EXPECT_EQ(doc.at("metadata").at("requested_by"), "ops");
  EXPECT_EQ(doc.at("context"), testutil::ExpectedContext(StateAt(seq)));
  size_t changes = 0;
  auto events = store_->ReadEvents(1, seq);
  ASSERT_TRUE(events.ok());
  for (const auto& event : *events) {
    for (const auto& change : event.changes) {
      changes +=
          std::holds_alternative<engine::CtxPut>(change) || std::holds_alternative<engine::CtxDel>(change);
    }
  }
  EXPECT_EQ(doc.at("history").size(), changes);
  EXPECT_LE(doc.at("history").back().at("seq").get<uint64_t>(), seq);
}

TEST_F(ReplayCliTest, DumpAtTimeTakesTheLastEventAtOrBeforeIt) {
  auto events = store_->ReadEvents(1, 300);
  ASSERT_TRUE(events.ok());
  const engine::Event& pick = (*events)[150];
  uint64_t expected = 0;
  for (const auto& event : *events) expected = event.ts_us <= pick.ts_us ? event.seq : expected;
  json doc = json::parse(RunReplay({"dump", "--data", Data(), "--format", "json", "--at-time",
                                    engine::FormatTimestamp(pick.ts_us)})
                             .out);
  EXPECT_EQ(doc.at("metadata").at("seq"), expected);
  EXPECT_EQ(doc.at("metadata").at("at_time"), engine::FormatTimestamp(pick.ts_us));
  EXPECT_EQ(doc.at("context"), testutil::ExpectedContext(StateAt(expected)));
  json before = json::parse(
      RunReplay({"dump", "--data", Data(), "--format", "json", "--at-time", "2000-01-01T00:00:00+02:00"})
          .out);
  EXPECT_EQ(before.at("metadata").at("seq"), 0);
  EXPECT_EQ(before.at("context"), json::object());
}

TEST_F(ReplayCliTest, EventsAreTheSameNdjsonAsTheApi) {
  auto result = RunReplay({"events", "--data", Data(), "--from", "5", "--to", "120"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto lines = Lines(result.out);
  ASSERT_EQ(lines.size(), 116u);
  auto events = store_->ReadEvents(5, 116);
  ASSERT_TRUE(events.ok());
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i], engine::EventToJson((*events)[i]));
    EXPECT_EQ(json::parse(lines[i]).at("seq"), 5 + i);
  }
  auto all = RunReplay({"events", "--data", Data()});
  EXPECT_GE(Lines(all.out).size(), 400u / 2);
  EXPECT_EQ(json::parse(Lines(all.out).front()).at("seq"), 1);
  // From 0 is from the first event, as for GET /v1/events.
  auto from_zero = RunReplay({"events", "--data", Data(), "--from", "0", "--to", "2"});
  ASSERT_EQ(from_zero.exit_code, 0) << from_zero.err;
  ASSERT_EQ(Lines(from_zero.out).size(), 2u);
  EXPECT_EQ(json::parse(Lines(from_zero.out).front()).at("seq"), 1);
  auto beyond = RunReplay({"events", "--data", Data(), "--from", "999999999"});
  EXPECT_EQ(beyond.exit_code, 0);
  EXPECT_TRUE(beyond.out.empty());
}

TEST_F(ReplayCliTest, StatsDescribeTheStore) {
  auto result = RunReplay({"stats", "--data", Data()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  json stats = json::parse(result.out);
  const uint64_t head = stats.at("head_seq");
  const engine::State state = StateAt(head);
  EXPECT_EQ(stats.at("store_id"), store_->store_id());
  EXPECT_EQ(stats.at("event_count"), head);
  EXPECT_EQ(stats.at("keys"), state.context.size());
  EXPECT_EQ(stats.at("sessions"), state.sessions.size());
  auto snapshots = store_->event_log().ListSnapshots();
  ASSERT_TRUE(snapshots.ok());
  ASSERT_FALSE(snapshots->empty());
  EXPECT_EQ(stats.at("snapshot_seqs").front(), snapshots->front().seq);
  EXPECT_GT(stats.at("disk_bytes").get<uint64_t>(), 0u);
}

TEST_F(ReplayCliTest, RebuildThroughASecondaryEqualsTheStore) {
  auto secondary = replay::SecondaryLog::Open(Data());
  ASSERT_TRUE(secondary.ok()) << secondary.status().ToString();
  const uint64_t seq = (*secondary)->log().head_seq() - 3;
  auto state = replay::RebuildAt((*secondary)->log(), seq, replay::Progress::Mode::kOff);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_TRUE(*state == StateAt(seq));
}

TEST(ReplayCliCorruptionTest, VerifyExitsOneAndNamesTheSeq) {
  testutil::TempDir dir;
  ASSERT_GT(testutil::BuildStore(dir.Sub("store"), 200, 50, 3), 100u);
  testutil::RawDb(dir.Sub("store")).Put("events", log::EventKey(42), "garbage");
  auto result = RunReplay({"verify", "--data", dir.Sub("store")});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.out.find("CORRUPT"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("\nseq 42: cannot decode"), std::string::npos) << result.out;
  auto events = RunReplay({"events", "--data", dir.Sub("store")});
  EXPECT_EQ(events.exit_code, 1);
  EXPECT_NE(events.err.find("event 42"), std::string::npos) << events.err;
  EXPECT_EQ(Lines(events.out).size(), 41u);
}

}  // namespace
}  // namespace ctxd
