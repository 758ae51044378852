// Primitive state changes: the only things Apply knows how to do.
//
// Every change carries the before-image of what it overwrites, so the inverse
// of a change is computed from the change alone (Invert is pure). Values and
// property values are canonical JSON text (nlohmann `dump()` of the parsed
// value), so "same JSON" is byte equality.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace ctxd::engine {

using Props = std::map<std::string, std::string>;  // property name -> canonical JSON

struct CtxPut {
  std::string key;
  std::string value;
  std::optional<std::string> old;  // absent when the key did not exist
  friend bool operator==(const CtxPut&, const CtxPut&) = default;
};
struct CtxDel {
  std::string key;
  std::string old;
  friend bool operator==(const CtxDel&, const CtxDel&) = default;
};
struct NodeAdd {
  std::string node;
  std::string type;
  std::string name;
  Props props;
  friend bool operator==(const NodeAdd&, const NodeAdd&) = default;
};
// Removes a node that has no edges left; carries the node as it was.
struct NodeRemove {
  std::string node;
  std::string type;
  std::string name;
  Props props;
  friend bool operator==(const NodeRemove&, const NodeRemove&) = default;
};
struct EdgeAdd {
  std::string parent;
  std::string child;
  friend bool operator==(const EdgeAdd&, const EdgeAdd&) = default;
};
struct EdgeRemove {
  std::string parent;
  std::string child;
  friend bool operator==(const EdgeRemove&, const EdgeRemove&) = default;
};
struct PropPut {
  std::string node;
  std::string name;
  std::string value;
  std::optional<std::string> old;  // absent when the property did not exist
  friend bool operator==(const PropPut&, const PropPut&) = default;
};
struct PropDel {
  std::string node;
  std::string name;
  std::string old;
  friend bool operator==(const PropDel&, const PropDel&) = default;
};

// Graph changes (node/edge/prop) apply to the graph of the event's session.
using Change = std::variant<CtxPut, CtxDel, NodeAdd, NodeRemove, EdgeAdd, EdgeRemove, PropPut, PropDel>;

// The change that undoes `change`.
Change Invert(const Change& change);
// The changes that undo `changes`: reversed, each inverted.
std::vector<Change> Invert(const std::vector<Change>& changes);

// What a change's strings hold: keys, ids, names, values and old values (a
// property counts its name and value), and how many properties it carries.
struct ChangeSize {
  uint64_t string_bytes = 0;
  uint64_t props = 0;
};
ChangeSize SizeOf(const Change& change);

// The bytes of a change's strings plus a fixed 64 for the change itself: the
// measure of an undo entry (UndoEntry::bytes). A pure function of the
// content; changing it changes which entries a replay keeps.
uint64_t ChangeBytes(const Change& change);

// "ctx.put", "node.add", ... as in DESIGN.md.
const char* ChangeName(const Change& change);

}  // namespace ctxd::engine
