// Shared fixture for engine tests: runs commands against a State, keeps the
// events they produced, and checks after every test that replaying those
// events on a fresh State gives the same State.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/engine.h"

namespace ctxd::engine {

inline constexpr int64_t kStartTs = 1'700'000'000'000'000;

class EngineFixture : public ::testing::Test {
 protected:
  explicit EngineFixture(EngineLimits limits = {}) : limits_(limits), state_(limits) {}

  void TearDown() override { ExpectReplayEqualsLive(); }

  // A command in `session` (empty: none) with a fresh generated command id.
  Command Make(CommandBody body, std::string session = "") {
    Command command;
    command.actor = "alice";
    command.session = std::move(session);
    command.command_id = "cmd-" + std::to_string(++next_id_);
    command.body = std::move(body);
    return command;
  }

  StatusOr<Outcome> Run(const Command& command) {
    ts_ += 1000;
    auto outcome = Execute(state_, command, ts_);
    if (outcome.ok() && outcome->event) events_.push_back(*outcome->event);
    return outcome;
  }

  // Runs a command that must be accepted.
  Outcome Accept(const Command& command) {
    auto outcome = Run(command);
    EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
    return outcome.ok() ? *outcome : Outcome{};
  }
  Outcome Accept(CommandBody body, std::string session = "") {
    return Accept(Make(std::move(body), session));
  }

  // Runs a command that must be refused with `code`, leaving the state as it
  // was. Returns the error message.
  std::string Refuse(const Command& command, StatusCode code) {
    State before = state_;
    auto outcome = Run(command);
    EXPECT_FALSE(outcome.ok());
    EXPECT_EQ(outcome.status().code(), code) << outcome.status().ToString();
    EXPECT_TRUE(state_ == before) << "a refused command changed the state";
    return outcome.status().message();
  }
  std::string Refuse(CommandBody body, StatusCode code, std::string session = "") {
    return Refuse(Make(std::move(body), session), code);
  }

  void ExpectReplayEqualsLive() {
    State replayed(limits_);
    for (const auto& event : events_) {
      Status status = Apply(replayed, event);
      ASSERT_TRUE(status.ok()) << status.ToString();
    }
    EXPECT_TRUE(replayed == state_) << "replay differs from the live state";
  }

  const Graph& GraphOf(const std::string& session) { return state_.sessions.at(session).graph; }

  EngineLimits limits_;
  State state_;
  std::vector<Event> events_;
  int64_t ts_ = kStartTs;
  int next_id_ = 0;
};

// Command body shorthands.
inline SetContext Set(std::string key, std::string value, std::optional<uint64_t> if_match = std::nullopt) {
  return SetContext{std::move(key), std::move(value), if_match};
}
inline DeleteContext Del(std::string key, std::optional<uint64_t> if_match = std::nullopt) {
  return DeleteContext{std::move(key), if_match};
}
inline CreateNode NewNode(std::string id, std::optional<std::string> parent = std::nullopt,
                          Props props = {}) {
  return CreateNode{std::move(id), "task", "Node", std::move(parent), std::move(props)};
}

}  // namespace ctxd::engine
