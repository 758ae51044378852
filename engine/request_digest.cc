#include "engine/request_digest.h"

#include <string>
#include <string_view>

#include "engine/wire.h"

namespace ctxd::engine {
namespace {

void Put(ByteWriter& w, std::string_view s) { w.Str(s); }
void Put(ByteWriter& w, uint64_t v) { w.Varint(v); }

template <typename T>
void Put(ByteWriter& w, const std::optional<T>& v) {
  w.U8(v.has_value() ? 1 : 0);
  if (v) Put(w, *v);
}

void Put(ByteWriter& w, const Props& props) {
  w.Varint(props.size());
  for (const auto& [name, value] : props) {
    Put(w, name);
    Put(w, value);
  }
}

// One Put per body type; the variant's index, written first, keeps bodies of
// different types apart.
void Put(ByteWriter& w, const SetContext& c) {
  Put(w, c.key);
  Put(w, c.value);
  Put(w, c.if_match);
}
void Put(ByteWriter& w, const DeleteContext& c) {
  Put(w, c.key);
  Put(w, c.if_match);
}
void Put(ByteWriter& w, const BatchContext& c) {
  w.Varint(c.sets.size());
  for (const auto& [key, value] : c.sets) {
    Put(w, key);
    Put(w, value);
  }
  w.Varint(c.deletes.size());
  for (const auto& key : c.deletes) Put(w, key);
}
void Put(ByteWriter& w, const CreateNode& c) {
  Put(w, c.node_id_generated ? std::string_view() : std::string_view(c.node_id));
  Put(w, c.type);
  Put(w, c.name);
  Put(w, c.parent_id);
  Put(w, c.props);
}
void Put(ByteWriter& w, const DeleteNode& c) { Put(w, c.node_id); }
void Put(ByteWriter& w, const Link& c) {
  Put(w, c.parent_id);
  Put(w, c.child_id);
}
void Put(ByteWriter& w, const Unlink& c) {
  Put(w, c.parent_id);
  Put(w, c.child_id);
}
void Put(ByteWriter& w, const SetProperty& c) {
  Put(w, c.node_id);
  Put(w, c.property);
  Put(w, c.value);
}
void Put(ByteWriter& w, const DeleteProperty& c) {
  Put(w, c.node_id);
  Put(w, c.property);
}
// The target graph is rebuilt from the log; what was asked for is the label.
void Put(ByteWriter& w, const RestoreGraph& c) { Put(w, c.label); }
void Put(ByteWriter&, const Undo&) {}
void Put(ByteWriter&, const Redo&) {}
void Put(ByteWriter& w, const SaveSession& c) { Put(w, c.name); }
void Put(ByteWriter& w, const BatchGraph& c);

template <typename Variant>
void PutVariant(ByteWriter& w, const Variant& v) {
  w.Varint(v.index());
  std::visit([&w](const auto& alternative) { Put(w, alternative); }, v);
}

void Put(ByteWriter& w, const BatchGraph& c) {
  w.Varint(c.ops.size());
  for (const auto& op : c.ops) PutVariant(w, op);
}

uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char byte : bytes) {
    hash ^= byte;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace

uint64_t RequestDigest(const Command& command) {
  std::string bytes;
  ByteWriter w(&bytes);
  Put(w, command.actor);
  Put(w, command.session);
  PutVariant(w, command.body);
  const uint64_t digest = Fnv1a64(bytes);
  return digest != 0 ? digest : 1;
}

}  // namespace ctxd::engine
