// A State with the awkward cases the dump formats must survive: keys and
// values with commas, quotes, newlines, '=', '#', unicode; every JSON type;
// two sessions with multi-parent graphs and props. Built with the real
// engine (Execute), and the events it produced are kept for history.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace ctxd::testutil {

class DumpStateFixture : public ::testing::Test {
 protected:
  static constexpr int64_t kStartTs = 1'700'000'000'000'000;

  void SetUp() override { BuildState(); }

  void Run(engine::CommandBody body, const std::string& session = "", const std::string& actor = "alice") {
    engine::Command command;
    command.actor = actor;
    command.session = session;
    command.command_id = "cmd-" + std::to_string(events_.size() + 1);
    command.body = std::move(body);
    ts_ += 1000;
    auto outcome = engine::Execute(state_, command, ts_);
    ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
    if (outcome->event) events_.push_back(*outcome->event);
  }
  void Set(const std::string& key, const std::string& json) {
    Run(engine::SetContext{key, nlohmann::json::parse(json).dump(), std::nullopt});
  }
  void Node(const std::string& session, const std::string& id, const std::string& name,
            std::optional<std::string> parent = std::nullopt, engine::Props props = {}) {
    Run(engine::CreateNode{id, "task", name, std::move(parent), std::move(props)}, session);
  }

  void BuildState() {
    Set("plain", R"("hello")");
    Set("with,comma", R"("a,b")");
    Set("quote\"key", R"("say \"hi\"")");
    Set("multi", R"("line1\nline2\r\nline3")");
    Set("eq=key", "1");
    Set("#hash", "true");
    Set("\"quoted", "null");
    Set("unicode é ✓", R"("ünï ✓")");
    Set("int", "42");
    Set("neg", "-7");
    Set("float", "3.5");
    Set("float_int", "1.0");
    Set("exp", "1e300");
    Set("dict", R"({"a": [1, 2, {"b": null}], "s": "x,y"})");
    Set("list", R"([1, "two", 3.0])");
    Set("empty", R"("")");
    Set("numstr", R"("123")");
    Set("startsquote", R"("\"quoted\" start")");
    Set("tab", R"("a\tb")");
    Set("emptyobj", "{}");
    Set("emptyarr", "[]");
    Set("  spaced key  ", R"("v")");
    Set(": colon", R"("x: y")");
    Set("plain", R"("hello again")");
    Run(engine::DeleteContext{"neg", std::nullopt});
    Node("s1", "n1", "Build, \"fast\"", std::nullopt, {{"color", "\"red\""}, {"weight", "2"}});
    Node("s1", "n2", "Test", "n1");
    Node("s1", "n3", "Ship it", "n1");
    Run(engine::Link{"n2", "n3"}, "s1");
    Run(engine::SetProperty{"n3", "notes", R"({"k":[1,"a,b"]})"}, "s1");
    Node("s 2", "x=y", "other");
    Node("s 2", "#z", "hash", "x=y");
  }

  engine::State state_;
  std::vector<engine::Event> events_;
  int64_t ts_ = kStartTs;
};

}  // namespace ctxd::testutil
