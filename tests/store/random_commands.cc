#include "tests/store/random_commands.h"

namespace ctxd::testutil {

std::string RandomCommands::Value() {
  switch (Uniform(0, 3)) {
    case 0: return std::to_string(Uniform(0, 5));
    case 1: return "\"v" + std::to_string(Uniform(0, 5)) + "\"";
    case 2: return "{\"n\":" + std::to_string(Uniform(0, 3)) + "}";
    default: return Chance(50) ? "true" : "null";
  }
}

std::string RandomCommands::ExistingNode(const engine::State& state, const std::string& session) {
  auto it = state.sessions.find(session);
  if (it == state.sessions.end() || it->second.graph.nodes.empty() || Chance(5)) {
    return "missing-" + std::to_string(Uniform(0, 3));
  }
  auto node = it->second.graph.nodes.begin();
  std::advance(node, Uniform(0, static_cast<int>(it->second.graph.nodes.size()) - 1));
  return node->first;
}

engine::GraphOp RandomCommands::GraphOp(const engine::State& state, const std::string& session) {
  switch (Uniform(0, 9)) {
    case 0:
    case 1:
    case 2: {
      engine::CreateNode create{"n" + std::to_string(next_node_++), Chance(50) ? "task" : "group",
                                "name" + std::to_string(Uniform(0, 9)), std::nullopt, {}};
      if (Chance(40)) create.parent_id = ExistingNode(state, session);
      if (Chance(30)) create.props["color"] = Value();
      return create;
    }
    case 3: return engine::DeleteNode{ExistingNode(state, session)};
    case 4:
    case 5: return engine::Link{ExistingNode(state, session), ExistingNode(state, session)};
    case 6: return engine::Unlink{ExistingNode(state, session), ExistingNode(state, session)};
    case 7:
    case 8:
      return engine::SetProperty{ExistingNode(state, session), Chance(50) ? "color" : "size", Value()};
    default: return engine::DeleteProperty{ExistingNode(state, session), Chance(50) ? "color" : "size"};
  }
}

engine::CommandBody RandomCommands::ContextBody(const engine::State& state) {
  const int kind = Uniform(0, 9);
  if (kind <= 5) {
    engine::SetContext set{Key(), Value(), std::nullopt};
    if (Chance(10)) {
      auto it = state.context.find(set.key);
      set.if_match = (it != state.context.end() && Chance(70)) ? it->second.version : Uniform(0, 3);
    }
    return set;
  }
  if (kind <= 7) return engine::DeleteContext{Key(), std::nullopt};
  engine::BatchContext batch;
  for (int i = Uniform(1, 4); i > 0; --i) batch.sets.emplace_back(Key(), Value());
  if (Chance(50)) batch.deletes.push_back(Key());
  return batch;
}

engine::Command RandomCommands::Next(const engine::State& state) {
  engine::Command command = Fresh(state);
  if (!command.client_command_id) return command;
  if (!client_commands_.empty() && Chance(15)) {
    const engine::Command& earlier =
        client_commands_[Uniform(0, static_cast<int>(client_commands_.size()) - 1)];
    if (Chance(50)) return earlier;           // a retry: the original answer, nothing appended
    command.command_id = earlier.command_id;  // the id reused for another request: refused
    return command;
  }
  if (client_commands_.size() == 8) client_commands_.erase(client_commands_.begin());
  client_commands_.push_back(command);
  return command;
}

engine::Command RandomCommands::Fresh(const engine::State& state) {
  engine::Command command;
  command.actor = "actor" + std::to_string(Uniform(0, 3));
  command.command_id = "c" + std::to_string(next_command_++);
  command.client_command_id = Chance(20);
  const std::string session = SessionName(Uniform(0, sessions_ - 1));
  const int kind = Uniform(0, 99);
  if (kind < 30) {
    command.body = ContextBody(state);
    if (Chance(40)) command.session = session;  // undoable context writes
    return command;
  }
  command.session = session;
  if (kind < 70) {
    command.body = std::visit([](auto&& op) -> engine::CommandBody { return std::move(op); },
                              GraphOp(state, session));
  } else if (kind < 78) {
    engine::BatchGraph batch;
    for (int i = Uniform(1, 4); i > 0; --i) batch.ops.push_back(GraphOp(state, session));
    command.body = std::move(batch);
  } else if (kind < 88) {
    command.body = engine::Undo{};
  } else if (kind < 96) {
    command.body = engine::Redo{};
  } else {
    command.body = engine::SaveSession{"save" + std::to_string(Uniform(0, 2))};
  }
  return command;
}

}  // namespace ctxd::testutil
