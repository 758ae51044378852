#include "snapshots/snapshot_codec.h"

#include <memory>
#include <string>
#include <string_view>

#include "engine/event_codec.h"
#include "engine/wire.h"

namespace ctxd::snapshots {
namespace {

using engine::ByteReader;
using engine::ByteWriter;

void EncodeProps(const engine::Props& props, ByteWriter& w) {
  w.Varint(props.size());
  for (const auto& [name, value] : props) {
    w.Str(name);
    w.Str(value);
  }
}

bool DecodeProps(ByteReader& r, engine::Props* props) {
  uint64_t n;
  if (!r.Varint(&n)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    std::string name, value;
    if (!r.Str(&name) || !r.Str(&value)) return false;
    props->emplace_hint(props->end(), std::move(name), std::move(value));
  }
  return true;
}

void EncodeContext(const engine::State& state, ByteWriter& w) {
  w.Varint(state.context.size());
  for (const auto& [key, e] : state.context) {
    w.Str(key);
    w.Str(e.value);
    w.Varint(e.version);
    w.Varint(e.created_seq);
    w.Str(e.actor);
    w.SignedVarint(e.ts_us);
  }
}

// One context entry; its value is a view into `buffer`, which it shares.
bool DecodeEntry(ByteReader& r, const std::shared_ptr<const std::string>& buffer, std::string_view* key,
                 engine::ContextEntry* e) {
  std::string_view value;
  if (!r.View(key) || !r.View(&value) || !r.Varint(&e->version) || !r.Varint(&e->created_seq) ||
      !r.Str(&e->actor) || !r.SignedVarint(&e->ts_us)) {
    return false;
  }
  e->value = engine::ContextValue::InBuffer(buffer, value);
  return true;
}

// Keys were encoded from an ordered map, so anything but strictly ascending
// keys is malformed. Each entry goes in after the last one (no search), and
// its value is not copied: restart time is the map's nodes (see node_pool.h).
bool DecodeContext(ByteReader& r, const std::shared_ptr<const std::string>& buffer, engine::State* state) {
  uint64_t n;
  if (!r.Varint(&n)) return false;
  // Every entry takes at least six bytes, which bounds `n` even when it is garbage.
  if (n > r.remaining() / 6) return false;
  auto& context = state->context;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view key;
    engine::ContextEntry e;
    if (!DecodeEntry(r, buffer, &key, &e)) return false;
    if (!context.empty() && !(context.rbegin()->first < key)) return false;
    context.emplace_hint(context.end(), std::string(key), std::move(e));
  }
  return true;
}

// Nodes with their children; parents and edge_count are derived on decode.
void EncodeGraph(const engine::Graph& graph, ByteWriter& w) {
  w.Varint(graph.nodes.size());
  for (const auto& [id, node] : graph.nodes) {
    w.Str(id);
    w.Str(node.type);
    w.Str(node.name);
    EncodeProps(node.props, w);
    w.Varint(node.children.size());
    for (const auto& child : node.children) w.Str(child);
  }
}

bool DecodeGraph(ByteReader& r, engine::Graph* graph) {
  uint64_t n;
  if (!r.Varint(&n)) return false;
  std::vector<std::pair<std::string, std::string>> edges;
  for (uint64_t i = 0; i < n; ++i) {
    std::string id;
    engine::Node node;
    uint64_t children;
    if (!r.Str(&id) || !r.Str(&node.type) || !r.Str(&node.name) || !DecodeProps(r, &node.props) ||
        !r.Varint(&children)) {
      return false;
    }
    for (uint64_t c = 0; c < children; ++c) {
      std::string child;
      if (!r.Str(&child)) return false;
      edges.emplace_back(id, child);
    }
    graph->nodes.emplace_hint(graph->nodes.end(), std::move(id), std::move(node));
  }
  for (auto& [parent, child] : edges) {
    auto child_it = graph->nodes.find(child);
    if (child_it == graph->nodes.end()) return false;
    child_it->second.parents.insert(parent);
    graph->nodes[parent].children.insert(std::move(child));
  }
  graph->edge_count = edges.size();
  return true;
}

void EncodeStack(const std::deque<engine::UndoEntry>& stack, ByteWriter& w) {
  w.Varint(stack.size());
  for (const auto& entry : stack) {
    w.Varint(entry.seq);
    w.Str(entry.command_id);
    w.Varint(entry.changes.size());
    for (const auto& change : entry.changes) engine::EncodeChange(change, w);
  }
}

bool DecodeStack(ByteReader& r, std::deque<engine::UndoEntry>* stack, uint64_t* stack_bytes) {
  uint64_t n;
  if (!r.Varint(&n)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t seq, count;
    std::string command_id;
    if (!r.Varint(&seq) || !r.Str(&command_id) || !r.Varint(&count)) return false;
    if (count > r.remaining()) return false;
    std::vector<engine::Change> changes(count);
    for (auto& change : changes) {
      if (!engine::DecodeChange(r, &change)) return false;
    }
    stack->emplace_back(seq, std::move(command_id), std::move(changes));
    *stack_bytes += stack->back().bytes;
  }
  return true;
}

void EncodeSessions(const engine::State& state, ByteWriter& w) {
  w.Varint(state.sessions.size());
  for (const auto& [id, session] : state.sessions) {
    w.Str(id);
    w.Varint(session.last_seq);
    EncodeGraph(session.graph, w);
    EncodeStack(session.undo, w);
    EncodeStack(session.redo, w);
    w.Varint(session.saves.size());
    for (const auto& [name, save] : session.saves) {
      w.Str(name);
      w.Varint(save.seq);
      w.SignedVarint(save.ts_us);
    }
  }
}

bool DecodeSaves(ByteReader& r, engine::Session* session) {
  uint64_t n;
  if (!r.Varint(&n)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    std::string name;
    engine::SavePoint save;
    if (!r.Str(&name) || !r.Varint(&save.seq) || !r.SignedVarint(&save.ts_us)) return false;
    session->saves.emplace_hint(session->saves.end(), std::move(name), save);
  }
  return true;
}

bool DecodeSessions(ByteReader& r, engine::State* state) {
  uint64_t n;
  if (!r.Varint(&n)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    std::string id;
    engine::Session session;
    if (!r.Str(&id) || !r.Varint(&session.last_seq) || !DecodeGraph(r, &session.graph) ||
        !DecodeStack(r, &session.undo, &session.undo_bytes) ||
        !DecodeStack(r, &session.redo, &session.redo_bytes) || !DecodeSaves(r, &session)) {
      return false;
    }
    state->sessions.emplace_hint(state->sessions.end(), std::move(id), std::move(session));
  }
  return true;
}

void EncodeDedupe(const engine::DedupeTable& table, ByteWriter& w) {
  w.Varint(table.capacity());
  w.Varint(table.size());
  for (const auto& id : table.order()) {
    const engine::DedupeEntry* e = table.Find(id);
    w.Str(id);
    w.Varint(e->seq);
    w.Varint(e->ref_seq);
    w.Str(e->result);
    w.Varint(e->request_digest);
  }
}

bool DecodeDedupe(ByteReader& r, uint8_t version, engine::DedupeTable* table) {
  uint64_t capacity, n;
  if (!r.Varint(&capacity) || !r.Varint(&n)) return false;
  *table = engine::DedupeTable(capacity);
  for (uint64_t i = 0; i < n; ++i) {
    std::string id;
    engine::DedupeEntry e;
    if (!r.Str(&id) || !r.Varint(&e.seq) || !r.Varint(&e.ref_seq) || !r.Str(&e.result)) return false;
    if (version >= 2 && !r.Varint(&e.request_digest)) return false;  // version 1 has none
    table->Insert(id, std::move(e));
  }
  return true;
}

}  // namespace

std::string EncodeState(const engine::State& state) {
  std::string out;
  out.reserve(64 + state.context.size() * 64);
  ByteWriter w(&out);
  w.U8(kSnapshotFormatVersion);
  w.Varint(state.head_seq);
  w.SignedVarint(state.head_ts_us);
  w.Varint(state.max_undo_depth);
  w.Varint(state.max_undo_bytes);
  EncodeContext(state, w);
  EncodeSessions(state, w);
  EncodeDedupe(state.dedupe, w);
  return out;
}

StatusOr<engine::State> DecodeState(std::string_view bytes) {
  return DecodeState(std::string(bytes));
}

StatusOr<engine::State> DecodeState(std::string bytes) {
  const auto buffer = std::make_shared<const std::string>(std::move(bytes));
  ByteReader r(*buffer);
  uint8_t version;
  if (!r.U8(&version)) return Status::Corruption("snapshot is empty");
  if (version < 1 || version > kSnapshotFormatVersion) {
    return Status::Corruption("snapshot format version " + std::to_string(version) + " is not supported");
  }
  engine::State state;
  uint64_t max_undo_depth;
  state.max_undo_bytes = 0;  // before version 3 the stacks had no byte limit
  if (!r.Varint(&state.head_seq) || !r.SignedVarint(&state.head_ts_us) || !r.Varint(&max_undo_depth) ||
      (version >= 3 && !r.Varint(&state.max_undo_bytes)) || !DecodeContext(r, buffer, &state) ||
      !DecodeSessions(r, &state) || !DecodeDedupe(r, version, &state.dedupe)) {
    return Status::Corruption("snapshot is truncated or malformed");
  }
  if (!r.empty()) return Status::Corruption("snapshot has trailing bytes");
  state.max_undo_depth = max_undo_depth;
  return state;
}

}  // namespace ctxd::snapshots
