// Random command sequences for property tests: context and graph commands,
// batches, undo/redo, saves and restores over a few sessions, with enough
// overlap (shared keys, links between random nodes) that refusals and undo
// conflicts happen, and client command ids that are retried or reused for
// another request. Deterministic for a given seed and state.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine/command.h"
#include "engine/state.h"

namespace ctxd::testutil {

class RandomCommands {
 public:
  RandomCommands(uint32_t seed, int sessions, int keys) : rng_(seed), sessions_(sessions), keys_(keys) {}

  // A command chosen against `state` (used to pick existing nodes).
  engine::Command Next(const engine::State& state);
  std::string SessionName(int i) const { return "s" + std::to_string(i); }

 private:
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(int percent) { return Uniform(1, 100) <= percent; }
  std::string Key() { return "k" + std::to_string(Uniform(0, keys_ - 1)); }
  std::string Value();
  std::string ExistingNode(const engine::State& state, const std::string& session);
  engine::GraphOp GraphOp(const engine::State& state, const std::string& session);
  engine::CommandBody ContextBody(const engine::State& state);
  engine::Command Fresh(const engine::State& state);

  std::mt19937 rng_;
  int sessions_;
  int keys_;
  uint64_t next_node_ = 0;
  uint64_t next_command_ = 0;
  std::vector<engine::Command> client_commands_;  // the last few with client ids, to retry or reuse
};

}  // namespace ctxd::testutil
