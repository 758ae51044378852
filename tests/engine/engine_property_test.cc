// Random command sequences: the live state always equals the replay of the
// (encoded, decoded) events, refusals never change the state, and undoing
// everything in a session whose writes nobody else touches empties it.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/event_codec.h"

namespace ctxd::engine {
namespace {

// g0..g4 own their graphs and private keys "gN/..": nobody else writes
// them, so their undo never conflicts. c0, c1 and the session-less writer
// share the "shared/.." keys, so undo in c0/c1 meets conflicts.
const std::vector<std::string> kOwnerSessions = {"g0", "g1", "g2", "g3", "g4"};
const std::vector<std::string> kSharedSessions = {"c0", "c1"};
const std::vector<std::string> kValues = {"1", "2", "\"x\"", "null", "[1,2]", "{\"a\":1}"};

struct Counters {
  int accepted = 0;
  int refused = 0;
  int unchanged = 0;
  int undo_conflicts = 0;
  int deduplicated = 0;
  int reused_ids_refused = 0;  // a client id used again for another request
  int restores = 0;
  std::map<StatusCode, int> codes;
};

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  int Uniform(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool Chance(int percent) { return Uniform(100) < percent; }
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[Uniform(static_cast<int>(items.size()))];
  }

  std::string Value() { return Pick(kValues); }
  // Mostly an existing node, so that most graph commands can succeed.
  std::string Node() {
    if (graph_ == nullptr || graph_->nodes.empty() || Chance(15)) return NewNodeId();
    auto it = graph_->nodes.begin();
    std::advance(it, Uniform(static_cast<int>(graph_->nodes.size())));
    return it->first;
  }
  std::string Key(const std::string& session) {
    bool shared = session.empty() || session[0] == 'c';
    return (shared ? "shared/" : session + "/") + std::to_string(Uniform(6));
  }

  CommandBody ContextCommand(const State& state, const std::string& session) {
    int roll = Uniform(10);
    if (roll < 5) {
      std::string key = Key(session);
      std::optional<uint64_t> if_match;
      if (Chance(15)) {
        auto it = state.context.find(key);
        // Mostly right, sometimes stale: exercises 412.
        if_match = it == state.context.end() ? 0 : it->second.version - (Chance(30) ? 1 : 0);
      }
      return SetContext{key, Value(), if_match};
    }
    if (roll < 8) return DeleteContext{Key(session), std::nullopt};
    BatchContext batch;
    int n = Uniform(4);
    for (int i = 0; i < n; ++i) batch.sets.emplace_back(Key(session), Value());
    if (Chance(40)) batch.deletes.push_back(Key(session));
    return batch;
  }

  std::string NewNodeId() { return "n" + std::to_string(Uniform(30)); }

  GraphOp Op() {
    int roll = Uniform(12);
    if (roll < 4) {
      return CreateNode{NewNodeId(), Chance(80) ? "task" : "bug", Chance(10) ? "" : "N",
                        Chance(50) ? std::optional(Node()) : std::nullopt,
                        Chance(30) ? Props{{"p", Value()}} : Props{}};
    }
    if (roll < 5) return DeleteNode{Node()};
    if (roll < 8) return Link{Node(), Node()};
    if (roll < 9) return Unlink{Node(), Node()};
    if (roll < 11) return SetProperty{Node(), Chance(50) ? "p" : "q", Value()};
    return DeleteProperty{Node(), Chance(50) ? "p" : "q"};
  }

  CommandBody GraphCommand() {
    if (!Chance(15)) return std::visit([](auto op) -> CommandBody { return op; }, Op());
    BatchGraph batch;
    int n = 1 + Uniform(4);
    for (int i = 0; i < n; ++i) batch.ops.push_back(Op());
    return batch;
  }

  std::mt19937 rng_;
  const Graph* graph_ = nullptr;  // the graph of the session being generated for
};

class PropertyTest : public ::testing::Test {
 protected:
  void SetUpLimits(EngineLimits limits) {
    live_ = State(limits);
    replica_ = State(limits);
  }

  // Executes `command`, checks the event's codec round trip and replays it
  // on the replica. Returns the status.
  Status Step(const Command& command) {
    auto outcome = Execute(live_, command, ts_ += 17);
    last_appended_ = false;
    if (!outcome.ok()) {
      ++counters_.refused;
      ++counters_.codes[outcome.status().code()];
      ExpectInSync("after refused " + command.command_id + ": " + outcome.status().ToString());
      return outcome.status();
    }
    last_appended_ = outcome->event.has_value();
    if (outcome->result.deduplicated) ++counters_.deduplicated;
    if (!outcome->event) {
      ++counters_.unchanged;
      ExpectInSync("after unchanged " + command.command_id);
      return Status::Ok();
    }
    ++counters_.accepted;
    std::string bytes;
    EncodeEvent(*outcome->event, &bytes);
    auto decoded = DecodeEvent(bytes);
    EXPECT_TRUE(decoded.ok() && *decoded == *outcome->event) << command.command_id;
    if (!decoded.ok()) return decoded.status();
    Status applied = Apply(replica_, *decoded);
    EXPECT_TRUE(applied.ok()) << applied.ToString();
    return Status::Ok();
  }

  void ExpectInSync(const std::string& where) {
    ASSERT_TRUE(live_ == replica_) << "live and replayed states differ " << where;
  }

  void ExpectGraphsConsistent() {
    for (const auto& [id, session] : live_.sessions) {
      uint64_t edges = 0;
      for (const auto& [node_id, node] : session.graph.nodes) {
        edges += node.children.size();
        for (const auto& child : node.children) {
          ASSERT_TRUE(session.graph.nodes.at(child).parents.contains(node_id)) << id;
        }
        for (const auto& parent : node.parents) {
          ASSERT_TRUE(session.graph.nodes.at(parent).children.contains(node_id)) << id;
        }
      }
      ASSERT_EQ(edges, session.graph.edge_count) << id;
    }
  }

  enum class IdUse { kFresh, kRetry, kReused };

  // A command for `body`; sometimes instead an earlier client command again
  // (a retry) or `body` under an earlier client id (refused unless the
  // earlier one appended nothing). Sets last_id_use_ and reused_.
  Command MakeCommand(Generator& gen, const std::string& session, CommandBody body) {
    Command command;
    command.actor = gen.Chance(50) ? "alice" : "bob";
    command.session = session;
    command.body = std::move(body);
    last_id_use_ = IdUse::kFresh;
    if (gen.Chance(3) && !client_commands_.empty()) {
      reused_ = gen.Uniform(static_cast<int>(client_commands_.size()));
      const Command& earlier = client_commands_[reused_];
      last_id_use_ = gen.Chance(50) ? IdUse::kRetry : IdUse::kReused;
      if (last_id_use_ == IdUse::kRetry) return earlier;
      command.command_id = earlier.command_id;
      command.client_command_id = true;
    } else if (gen.Chance(10)) {
      command.command_id = "client-" + std::to_string(++next_id_);
      command.client_command_id = true;
      client_commands_.push_back(command);
    } else {
      command.command_id = "gen-" + std::to_string(++next_id_);
    }
    return command;
  }

  CommandBody SessionCommand(Generator& gen, const std::string& session) {
    int roll = gen.Uniform(100);
    bool owner = session[0] == 'g';
    if (roll < 12) return Undo{};
    if (roll < 18) return Redo{};
    if (roll < (owner ? 30 : 60)) return gen.ContextCommand(live_, session);
    if (roll < 33) return SaveSession{"save" + std::to_string(gen.Uniform(3))};
    if (roll < 36) {
      auto& saved = saved_graphs_[session];
      ++counters_.restores;
      return RestoreGraph{"seq:" + std::to_string(live_.head_seq), saved.empty() ? Graph{} : gen.Pick(saved)};
    }
    return gen.GraphCommand();
  }

  void RunRandomCommands(Generator& gen, int count) {
    for (int i = 0; i < count; ++i) {
      int who = gen.Uniform(10);
      std::string session = who < 5   ? kOwnerSessions[who]
                            : who < 7 ? kSharedSessions[who - 5]
                            : who < 8 ? ""
                                      : gen.Pick(kOwnerSessions);
      auto it = live_.sessions.find(session);
      gen.graph_ = it == live_.sessions.end() ? nullptr : &it->second.graph;
      CommandBody body = session.empty() ? gen.ContextCommand(live_, session) : SessionCommand(gen, session);
      bool is_undo = std::holds_alternative<Undo>(body) || std::holds_alternative<Redo>(body);
      bool is_save = std::holds_alternative<SaveSession>(body);
      Command command = MakeCommand(gen, session, std::move(body));
      const IdUse id_use = last_id_use_;
      Status status = Step(command);
      if (HasFatalFailure()) return;
      const bool id_refused =
          status.message().find("already used for a different request") != std::string::npos;
      if (id_use == IdUse::kReused && id_refused) {
        EXPECT_EQ(status.code(), StatusCode::kConflict);
        ++counters_.reused_ids_refused;
      } else if (id_use == IdUse::kRetry) {
        EXPECT_FALSE(id_refused) << "a retry was refused: " << status.ToString();
      } else if (id_use == IdUse::kReused && last_appended_) {
        client_commands_[reused_] = command;  // the id was free again (its first use appended nothing)
      }
      if (id_use != IdUse::kFresh) continue;  // the body below is not the command's
      if (is_undo && status.code() == StatusCode::kConflict) {
        ++counters_.undo_conflicts;
        EXPECT_EQ(session[0], 'c') << "owner session undo conflicted: " << status.ToString();
      }
      if (is_save && status.ok()) saved_graphs_[session].push_back(live_.sessions.at(session).graph);
      if (i % 500 == 0) {
        ExpectInSync("at command " + std::to_string(i));
        ExpectGraphsConsistent();
      }
    }
  }

  // Undoes until the stack is empty (or, in shared sessions, a conflict).
  void UndoAll(const std::string& session, bool may_conflict) {
    for (;;) {
      Command command;
      command.session = session;
      command.command_id = "undo-all-" + std::to_string(++next_id_);
      command.body = Undo{};
      Status status = Step(command);
      if (HasFatalFailure() || status.code() == StatusCode::kNothingToUndo) return;
      if (status.code() == StatusCode::kConflict && may_conflict) return;
      ASSERT_TRUE(status.ok()) << session << ": " << status.ToString();
    }
  }

  State live_;
  State replica_;
  int64_t ts_ = 1'700'000'000'000'000;
  int next_id_ = 0;
  std::vector<Command> client_commands_;
  IdUse last_id_use_ = IdUse::kFresh;
  size_t reused_ = 0;           // with kRetry or kReused: the client command's index
  bool last_appended_ = false;  // whether Step's command appended an event
  std::map<std::string, std::vector<Graph>> saved_graphs_;
  Counters counters_;
};

TEST_F(PropertyTest, LiveStateEqualsReplayAndUndoAllEmptiesOwnedSessions) {
  SetUpLimits(EngineLimits{.max_undo_depth = 100000, .dedupe_capacity = 100000});
  Generator gen(20240601);
  RunRandomCommands(gen, 12000);
  ASSERT_FALSE(HasFatalFailure());
  ExpectGraphsConsistent();

  for (const auto& session : kSharedSessions) UndoAll(session, /*may_conflict=*/true);
  for (const auto& session : kOwnerSessions) {
    UndoAll(session, /*may_conflict=*/false);
    ASSERT_FALSE(HasFatalFailure());
    EXPECT_TRUE(live_.sessions.at(session).graph.nodes.empty()) << session;
    EXPECT_EQ(live_.sessions.at(session).graph.edge_count, 0u) << session;
    for (const auto& [key, entry] : live_.context) EXPECT_NE(key.rfind(session + "/", 0), 0u) << key;
  }
  ExpectInSync("at the end");

  // The run must have exercised what it claims to.
  EXPECT_GT(counters_.accepted, 5000);
  EXPECT_GT(counters_.undo_conflicts, 0);
  EXPECT_GT(counters_.deduplicated, 0);
  EXPECT_GT(counters_.reused_ids_refused, 0);
  EXPECT_GT(counters_.unchanged, 0);
  EXPECT_GT(counters_.restores, 0);
  for (StatusCode code :
       {StatusCode::kNotFound, StatusCode::kConflict, StatusCode::kInvalidArgument,
        StatusCode::kPreconditionFailed, StatusCode::kNothingToUndo, StatusCode::kNothingToRedo}) {
    EXPECT_GT(counters_.codes[code], 0) << StatusCodeName(code);
  }
}

TEST_F(PropertyTest, ShallowUndoDepthStillReplaysIdentically) {
  SetUpLimits(EngineLimits{.max_undo_depth = 4, .dedupe_capacity = 8});
  Generator gen(7);
  RunRandomCommands(gen, 3000);
  ASSERT_FALSE(HasFatalFailure());
  for (const auto& [id, session] : live_.sessions) EXPECT_LE(session.undo.size(), 4u);
  EXPECT_LE(live_.dedupe.size(), 8u);
  ExpectInSync("at the end");
}

TEST_F(PropertyTest, SmallUndoByteLimitStillReplaysIdentically) {
  SetUpLimits(EngineLimits{.max_undo_bytes = 2000, .dedupe_capacity = 100});
  Generator gen(11);
  RunRandomCommands(gen, 3000);
  ASSERT_FALSE(HasFatalFailure());
  size_t trimmed = 0;
  for (const auto& [id, session] : live_.sessions) {
    EXPECT_TRUE(session.undo_bytes <= 2000 || session.undo.size() == 1) << id;
    EXPECT_TRUE(session.redo_bytes <= 2000 || session.redo.size() == 1) << id;
    if (session.undo_bytes > 1500) ++trimmed;
  }
  EXPECT_GT(trimmed, 0u);
  ExpectInSync("at the end");
}

}  // namespace
}  // namespace ctxd::engine
