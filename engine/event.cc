#include "engine/event.h"

#include <array>

namespace ctxd::engine {

namespace {

struct TypeName {
  EventType type;
  std::string_view name;
};

constexpr std::array<TypeName, 14> kTypeNames = {{
    {EventType::kContextSet, "context.set"},
    {EventType::kContextDelete, "context.delete"},
    {EventType::kContextBatch, "context.batch"},
    {EventType::kCreateNode, "graph.create_node"},
    {EventType::kDeleteNode, "graph.delete_node"},
    {EventType::kLink, "graph.link"},
    {EventType::kUnlink, "graph.unlink"},
    {EventType::kSetProperty, "graph.set_property"},
    {EventType::kDeleteProperty, "graph.delete_property"},
    {EventType::kGraphBatch, "graph.batch"},
    {EventType::kGraphRestore, "graph.restore"},
    {EventType::kUndo, "session.undo"},
    {EventType::kRedo, "session.redo"},
    {EventType::kSave, "session.save"},
}};

}  // namespace

std::string_view EventTypeName(EventType type) {
  for (const auto& entry : kTypeNames) {
    if (entry.type == type) return entry.name;
  }
  return "unknown";
}

std::optional<EventType> ParseEventType(std::string_view name) {
  for (const auto& entry : kTypeNames) {
    if (entry.name == name) return entry.type;
  }
  return std::nullopt;
}

}  // namespace ctxd::engine
