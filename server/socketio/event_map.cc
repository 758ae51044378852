#include "server/socketio/event_map.h"

#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include "engine/event_json.h"
#include "engine/json_text.h"
#include "server/socketio/packet.h"

namespace ctxd::server::socketio {
namespace {

using engine::AppendJsonString;

// Builds one payload object: {"a":..,"b":..}.
class Payload {
 public:
  Payload& Str(std::string_view name, std::string_view value) {
    Key(name);
    AppendJsonString(&out_, value);
    return *this;
  }
  // Canonical JSON text, embedded as it is.
  Payload& Raw(std::string_view name, std::string_view json) {
    Key(name);
    out_.append(json.empty() ? std::string_view("null") : json);
    return *this;
  }
  Payload& Int(std::string_view name, int64_t value) { return Raw(name, std::to_string(value)); }
  std::string Done() {
    out_.push_back('}');
    return std::move(out_);
  }

 private:
  void Key(std::string_view name) {
    if (out_.size() > 1) out_.push_back(',');
    AppendJsonString(&out_, name);
    out_.push_back(':');
  }
  std::string out_ = "{";
};

// Adds the fields every graph payload ends with.
std::string Stamped(Payload payload, const engine::Event& event) {
  return payload.Str("timestamp", engine::FormatTimestamp(event.ts_us))
      .Int("seq", static_cast<int64_t>(event.seq))
      .Done();
}

bool IsGraphCommand(engine::EventType type) {
  using engine::EventType;
  return type >= EventType::kCreateNode && type <= EventType::kGraphRestore;
}

// "graph.create_node" -> "create_node"
std::string_view CommandType(engine::EventType type) {
  std::string_view name = engine::EventTypeName(type);
  const size_t dot = name.find('.');
  return dot == std::string_view::npos ? name : name.substr(dot + 1);
}

class Mapper {
 public:
  Mapper(const engine::Event& event, const MapLookup& lookup) : event_(event), lookup_(lookup) {}

  std::vector<MappedEvent> Run() && {
    using engine::EventType;
    const EventType type = event_.type;
    if (type == EventType::kContextSet || type == EventType::kContextDelete ||
        type == EventType::kContextBatch) {
      MapChanges();
    } else if (IsGraphCommand(type)) {
      MapCommand();
    } else if (type == EventType::kUndo || type == EventType::kRedo) {
      const bool undo = type == EventType::kUndo;
      const uint64_t original = undo ? event_.undoes : event_.redoes;
      const std::string id = lookup_.command_id_of ? lookup_.command_id_of(original) : std::string();
      Graph(undo ? "command:undo" : "command:redo", Payload().Str("command_id", id));
      MapChanges();
    } else if (type == EventType::kSave) {
      Graph("project:saved", Payload().Str("project_id", event_.label));
    }
    return std::move(out_);
  }

 private:
  void MapCommand() {
    const std::string_view command_type = CommandType(event_.type);
    Graph("command:executing",
          Payload().Str("command_id", event_.command_id).Str("command_type", command_type));
    MapChanges();
    if (MapsToAGraph(event_)) {
      const std::string graph =
          lookup_.graph_of ? lookup_.graph_of(event_.session, event_.seq) : std::string("null");
      Graph("project:loaded", Payload().Str("project_id", event_.label).Raw("graph", graph));
    }
    Graph("command:executed", Payload()
                                  .Str("command_id", event_.command_id)
                                  .Str("command_type", command_type)
                                  .Raw("result", event_.result));
  }

  void MapChanges() {
    IndexNodes();
    for (const auto& change : event_.changes) std::visit([this](const auto& c) { Map(c); }, change);
  }

  // Which nodes the event adds (with the first edge to each) and removes:
  // looked up once per change, so one pass builds them (a delete_node of a
  // hub with 60,000 children had scanned every change for each edge).
  void IndexNodes() {
    for (const auto& change : event_.changes) {
      if (const auto* add = std::get_if<engine::NodeAdd>(&change)) {
        added_.try_emplace(add->node, nullptr);
      } else if (const auto* remove = std::get_if<engine::NodeRemove>(&change)) {
        removed_.insert(remove->node);
      }
    }
    for (const auto& change : event_.changes) {
      const auto* edge = std::get_if<engine::EdgeAdd>(&change);
      if (edge == nullptr) continue;
      auto added = added_.find(edge->child);
      if (added != added_.end() && added->second == nullptr) added->second = edge;
    }
  }

  void Map(const engine::CtxPut& put) {
    Root("context_updated", Payload()
                                .Str("key", put.key)
                                .Raw("value", put.value)
                                .Str("who", event_.actor)
                                .Str("timestamp", engine::FormatTimestamp(event_.ts_us))
                                .Int("seq", static_cast<int64_t>(event_.seq)));
  }
  void Map(const engine::CtxDel& del) {
    Root("context_deleted", Payload()
                                .Str("key", del.key)
                                .Str("who", event_.actor)
                                .Str("timestamp", engine::FormatTimestamp(event_.ts_us))
                                .Int("seq", static_cast<int64_t>(event_.seq)));
  }
  // A node created with a parent is one node-created event with parent_id.
  void Map(const engine::NodeAdd& add) {
    Payload payload;
    payload.Str("node_id", add.node).Str("name", add.name).Str("blueprint_type_id", add.type);
    const engine::EdgeAdd* parent = added_.at(add.node);  // the node's first parent, if any
    if (parent != nullptr) {
      payload.Str("parent_id", parent->parent);
    } else {
      payload.Raw("parent_id", "null");
    }
    Graph("graph:node-created", std::move(payload));
  }
  void Map(const engine::NodeRemove& remove) {
    Graph("graph:node-deleted", Payload().Str("node_id", remove.node));
  }
  void Map(const engine::EdgeAdd& edge) {
    if (added_.contains(edge.child)) return;  // in the child's node-created
    Graph("graph:node-linked", Payload().Str("parent_id", edge.parent).Str("child_id", edge.child));
  }
  // The edges of a deleted node go with its node-deleted.
  void Map(const engine::EdgeRemove& edge) {
    if (removed_.contains(edge.child) || removed_.contains(edge.parent)) return;
    Graph("graph:node-unlinked", Payload().Str("parent_id", edge.parent).Str("child_id", edge.child));
  }
  void Map(const engine::PropPut& put) {
    Graph("graph:property-changed", Payload()
                                        .Str("node_id", put.node)
                                        .Str("property_id", put.name)
                                        .Raw("old_value", put.old.value_or("null"))
                                        .Raw("new_value", put.value));
  }
  void Map(const engine::PropDel& del) {
    Graph("graph:property-deleted", Payload().Str("node_id", del.node).Str("property_id", del.name));
  }

  void Root(std::string_view name, Payload payload) {
    out_.push_back({Nsp::kRoot, std::string(), EventMessage(kRootNamespace, name, payload.Done())});
  }
  void Graph(std::string_view name, Payload payload) {
    out_.push_back({Nsp::kGraph, event_.session,
                    EventMessage(kGraphNamespace, name, Stamped(std::move(payload), event_))});
  }

  const engine::Event& event_;
  const MapLookup& lookup_;
  std::vector<MappedEvent> out_;
  std::unordered_map<std::string_view, const engine::EdgeAdd*> added_;  // node -> its first edge.add
  std::unordered_set<std::string_view> removed_;
};

}  // namespace

std::string_view NspName(Nsp nsp) { return nsp == Nsp::kRoot ? kRootNamespace : kGraphNamespace; }

bool MapsToAGraph(const engine::Event& event) { return event.type == engine::EventType::kGraphRestore; }

std::vector<MappedEvent> MapEvent(const engine::Event& event, const MapLookup& lookup) {
  return Mapper(event, lookup).Run();
}

std::string ContextSnapshotPayload(std::string_view context_json, std::string_view timestamp,
                                   std::string_view client_id) {
  return Payload()
      .Raw("context", context_json)
      .Str("timestamp", timestamp)
      .Str("client_id", client_id)
      .Done();
}

std::string ClientStatsPayload(int64_t count) { return Payload().Int("count", count).Done(); }

std::string PresencePayload(std::string_view session_id, int64_t client_count, std::string_view timestamp) {
  return Payload()
      .Str("session_id", session_id)
      .Int("client_count", client_count)
      .Str("timestamp", timestamp)
      .Done();
}

std::string ContextDumpedPayload(std::string_view filename, std::string_view format, std::string_view who,
                                 int64_t key_count, std::string_view timestamp) {
  return Payload()
      .Str("filename", filename)
      .Str("format", format)
      .Str("who", who)
      .Int("key_count", key_count)
      .Str("timestamp", timestamp)
      .Done();
}

namespace {

void AppendStrings(std::string* out, const std::set<std::string>& items) {
  out->push_back('[');
  for (const auto& item : items) {
    if (out->back() != '[') out->push_back(',');
    AppendJsonString(out, item);
  }
  out->push_back(']');
}

void AppendNode(std::string* out, const std::string& id, const engine::Node& node) {
  Payload props;
  for (const auto& [name, value] : node.props) props.Raw(name, value);
  out->append(Payload()
                  .Str("id", id)
                  .Str("type", node.type)
                  .Str("name", node.name)
                  .Raw("props", props.Done())
                  .Done());
  out->pop_back();
  out->append(",\"parents\":");
  AppendStrings(out, node.parents);
  out->append(",\"children\":");
  AppendStrings(out, node.children);
  out->push_back('}');
}

}  // namespace

std::string SessionGraphJson(const engine::State& state, const std::string& session) {
  const auto it = state.sessions.find(session);
  if (it == state.sessions.end()) return "null";
  std::string out = "{\"seq\":" + std::to_string(state.head_seq) + ",\"session\":";
  AppendJsonString(&out, session);
  out.append(",\"nodes\":[");
  for (const auto& [id, node] : it->second.graph.nodes) {
    if (out.back() != '[') out.push_back(',');
    AppendNode(&out, id, node);
  }
  out.append("]}");
  return out;
}

std::string MessagePayload(std::string_view message) { return Payload().Str("message", message).Done(); }

std::string CommandFailedPayload(std::string_view command_id, std::string_view command_type,
                                 std::string_view error, std::string_view timestamp) {
  return Payload()
      .Str("command_id", command_id)
      .Str("command_type", command_type)
      .Str("error", error)
      .Str("timestamp", timestamp)
      .Done();
}

}  // namespace ctxd::server::socketio
