#include "engine/change.h"

namespace ctxd::engine {

namespace {

// One overload per primitive: each returns the change that restores the
// before-image it carries.
Change InvertOne(const CtxPut& c) {
  if (c.old) return CtxPut{c.key, *c.old, c.value};
  return CtxDel{c.key, c.value};
}
Change InvertOne(const CtxDel& c) { return CtxPut{c.key, c.old, std::nullopt}; }
Change InvertOne(const NodeAdd& c) { return NodeRemove{c.node, c.type, c.name, c.props}; }
Change InvertOne(const NodeRemove& c) { return NodeAdd{c.node, c.type, c.name, c.props}; }
Change InvertOne(const EdgeAdd& c) { return EdgeRemove{c.parent, c.child}; }
Change InvertOne(const EdgeRemove& c) { return EdgeAdd{c.parent, c.child}; }
Change InvertOne(const PropPut& c) {
  if (c.old) return PropPut{c.node, c.name, *c.old, c.value};
  return PropDel{c.node, c.name, c.value};
}
Change InvertOne(const PropDel& c) { return PropPut{c.node, c.name, c.old, std::nullopt}; }

// One overload per primitive: what its strings hold.
uint64_t StringBytes(const std::optional<std::string>& s) { return s ? s->size() : 0; }
ChangeSize Sized(uint64_t string_bytes, const Props* props = nullptr) {
  ChangeSize size{string_bytes, 0};
  if (props == nullptr) return size;
  size.props = props->size();
  for (const auto& [name, value] : *props) size.string_bytes += name.size() + value.size();
  return size;
}
ChangeSize SizeOfOne(const CtxPut& c) { return Sized(c.key.size() + c.value.size() + StringBytes(c.old)); }
ChangeSize SizeOfOne(const CtxDel& c) { return Sized(c.key.size() + c.old.size()); }
ChangeSize SizeOfOne(const NodeAdd& c) {
  return Sized(c.node.size() + c.type.size() + c.name.size(), &c.props);
}
ChangeSize SizeOfOne(const NodeRemove& c) {
  return Sized(c.node.size() + c.type.size() + c.name.size(), &c.props);
}
ChangeSize SizeOfOne(const EdgeAdd& c) { return Sized(c.parent.size() + c.child.size()); }
ChangeSize SizeOfOne(const EdgeRemove& c) { return Sized(c.parent.size() + c.child.size()); }
ChangeSize SizeOfOne(const PropPut& c) {
  return Sized(c.node.size() + c.name.size() + c.value.size() + StringBytes(c.old));
}
ChangeSize SizeOfOne(const PropDel& c) { return Sized(c.node.size() + c.name.size() + c.old.size()); }

}  // namespace

Change Invert(const Change& change) {
  return std::visit([](const auto& c) { return InvertOne(c); }, change);
}

std::vector<Change> Invert(const std::vector<Change>& changes) {
  std::vector<Change> inverse;
  inverse.reserve(changes.size());
  for (auto it = changes.rbegin(); it != changes.rend(); ++it) inverse.push_back(Invert(*it));
  return inverse;
}

ChangeSize SizeOf(const Change& change) {
  return std::visit([](const auto& c) { return SizeOfOne(c); }, change);
}

uint64_t ChangeBytes(const Change& change) {
  constexpr uint64_t kPerChange = 64;
  return kPerChange + SizeOf(change).string_bytes;
}

const char* ChangeName(const Change& change) {
  static constexpr const char* kNames[] = {"ctx.put",  "ctx.del",     "node.add", "node.remove",
                                           "edge.add", "edge.remove", "prop.put", "prop.del"};
  static_assert(std::size(kNames) == std::variant_size_v<Change>);
  return kNames[change.index()];
}

}  // namespace ctxd::engine
