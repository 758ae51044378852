#include "engine/event_codec.h"

#include <array>
#include <string>
#include <utility>
#include <variant>

#include "common/crc32c.h"

namespace ctxd::engine {

namespace {

// Change kinds on disk: the Change variant index + 1. Never renumber; new
// kinds are appended to the variant.
constexpr uint8_t kFirstChangeKind = 1;
constexpr uint8_t kLastEventType = static_cast<uint8_t>(EventType::kSave);
constexpr uint8_t kFlagClientCommandId = 0x01;
constexpr uint8_t kKnownFlags = kFlagClientCommandId;
constexpr size_t kCrcSize = 4;

void OptionalStr(ByteWriter& w, const std::optional<std::string>& s) {
  w.U8(s ? 1 : 0);
  if (s) w.Str(*s);
}

bool OptionalStr(ByteReader& r, std::optional<std::string>* s) {
  uint8_t present;
  if (!r.U8(&present) || present > 1) return false;
  if (present == 0) {
    s->reset();
    return true;
  }
  return r.Str(s->has_value() ? &**s : &s->emplace());
}

void EncodeProps(ByteWriter& w, const Props& props) {
  w.Varint(props.size());
  for (const auto& [name, value] : props) {
    w.Str(name);
    w.Str(value);
  }
}

bool DecodeProps(ByteReader& r, Props* props) {
  uint64_t count;
  if (!r.Varint(&count)) return false;
  props->clear();
  for (uint64_t i = 0; i < count; ++i) {
    std::string name, value;
    if (!r.Str(&name) || !r.Str(&value)) return false;
    // Encoded from a std::map: names strictly ascend, and appending at the
    // end is O(1). Anything else is malformed.
    if (!props->empty() && !(props->rbegin()->first < name)) return false;
    props->emplace_hint(props->end(), std::move(name), std::move(value));
  }
  return true;
}

void EncodeFields(ByteWriter& w, const CtxPut& c) {
  w.Str(c.key);
  w.Str(c.value);
  OptionalStr(w, c.old);
}
void EncodeFields(ByteWriter& w, const CtxDel& c) {
  w.Str(c.key);
  w.Str(c.old);
}
void EncodeFields(ByteWriter& w, const NodeAdd& c) {
  w.Str(c.node);
  w.Str(c.type);
  w.Str(c.name);
  EncodeProps(w, c.props);
}
void EncodeFields(ByteWriter& w, const NodeRemove& c) {
  w.Str(c.node);
  w.Str(c.type);
  w.Str(c.name);
  EncodeProps(w, c.props);
}
void EncodeFields(ByteWriter& w, const EdgeAdd& c) {
  w.Str(c.parent);
  w.Str(c.child);
}
void EncodeFields(ByteWriter& w, const EdgeRemove& c) {
  w.Str(c.parent);
  w.Str(c.child);
}
void EncodeFields(ByteWriter& w, const PropPut& c) {
  w.Str(c.node);
  w.Str(c.name);
  w.Str(c.value);
  OptionalStr(w, c.old);
}
void EncodeFields(ByteWriter& w, const PropDel& c) {
  w.Str(c.node);
  w.Str(c.name);
  w.Str(c.old);
}

// An upper bound of the encoded size when strings are shorter than 16 KiB
// (two-byte length prefixes), so that encoding allocates once.
size_t EstimateSize(const Event& event) {
  size_t size = 58 + event.actor.size() + event.session.size() + event.command_id.size() +
                event.label.size() + event.result.size();
  for (const auto& change : event.changes) {
    const ChangeSize change_size = SizeOf(change);
    size += 16 + change_size.string_bytes + 4 * change_size.props;
  }
  return size;
}

bool DecodeFields(ByteReader& r, CtxPut* c) {
  return r.Str(&c->key) && r.Str(&c->value) && OptionalStr(r, &c->old);
}
bool DecodeFields(ByteReader& r, CtxDel* c) { return r.Str(&c->key) && r.Str(&c->old); }
bool DecodeFields(ByteReader& r, NodeAdd* c) {
  return r.Str(&c->node) && r.Str(&c->type) && r.Str(&c->name) && DecodeProps(r, &c->props);
}
bool DecodeFields(ByteReader& r, NodeRemove* c) {
  return r.Str(&c->node) && r.Str(&c->type) && r.Str(&c->name) && DecodeProps(r, &c->props);
}
bool DecodeFields(ByteReader& r, EdgeAdd* c) { return r.Str(&c->parent) && r.Str(&c->child); }
bool DecodeFields(ByteReader& r, EdgeRemove* c) { return r.Str(&c->parent) && r.Str(&c->child); }
bool DecodeFields(ByteReader& r, PropPut* c) {
  return r.Str(&c->node) && r.Str(&c->name) && r.Str(&c->value) && OptionalStr(r, &c->old);
}
bool DecodeFields(ByteReader& r, PropDel* c) { return r.Str(&c->node) && r.Str(&c->name) && r.Str(&c->old); }

// Decodes the fields of alternative I, reusing the change's strings when it
// already holds that alternative (every field is overwritten).
template <size_t I>
bool DecodeAlternative(ByteReader& r, Change* change) {
  if (change->index() != I) change->emplace<I>();
  return DecodeFields(r, &std::get<I>(*change));
}

using DecodeFn = bool (*)(ByteReader&, Change*);

template <size_t... I>
constexpr std::array<DecodeFn, sizeof...(I)> MakeDecoders(std::index_sequence<I...>) {
  return {&DecodeAlternative<I>...};
}

constexpr auto kDecoders = MakeDecoders(std::make_index_sequence<std::variant_size_v<Change>>());

bool DecodeHeader(ByteReader& r, uint8_t version, Event* e) {
  uint8_t type, flags;
  if (!r.Varint(&e->seq) || !r.SignedVarint(&e->ts_us) || !r.U8(&type) || !r.U8(&flags)) return false;
  if (type < 1 || type > kLastEventType || (flags & ~kKnownFlags) != 0) return false;
  e->type = static_cast<EventType>(type);
  e->client_command_id = (flags & kFlagClientCommandId) != 0;
  if (!r.Str(&e->actor) || !r.Str(&e->session) || !r.Str(&e->command_id)) return false;
  e->request_digest = 0;  // version 1 has none
  if (version >= 2 && !r.Varint(&e->request_digest)) return false;
  return r.Varint(&e->undoes) && r.Varint(&e->redoes) && r.Str(&e->label) && r.Str(&e->result);
}

bool DecodeChanges(ByteReader& r, std::vector<Change>* changes) {
  uint64_t count;
  // Every change takes at least three bytes, which bounds the reservation
  // even when the count itself is garbage.
  if (!r.Varint(&count) || count > r.remaining() / 3) return false;
  changes->resize(count);
  for (auto& change : *changes) {
    if (!DecodeChange(r, &change)) return false;
  }
  return true;
}

}  // namespace

void EncodeChange(const Change& change, ByteWriter& w) {
  w.U8(static_cast<uint8_t>(change.index() + kFirstChangeKind));
  std::visit([&w](const auto& c) { EncodeFields(w, c); }, change);
}

bool DecodeChange(ByteReader& r, Change* change) {
  uint8_t kind;
  if (!r.U8(&kind) || kind < kFirstChangeKind) return false;
  size_t index = kind - kFirstChangeKind;
  return index < kDecoders.size() && kDecoders[index](r, change);
}

void EncodeEvent(const Event& event, std::string* out) {
  size_t start = out->size();
  out->reserve(start + EstimateSize(event));
  ByteWriter w(out);
  w.U8(kEventFormatVersion);
  w.Varint(event.seq);
  w.SignedVarint(event.ts_us);
  w.U8(static_cast<uint8_t>(event.type));
  w.U8(event.client_command_id ? kFlagClientCommandId : 0);
  w.Str(event.actor);
  w.Str(event.session);
  w.Str(event.command_id);
  w.Varint(event.request_digest);
  w.Varint(event.undoes);
  w.Varint(event.redoes);
  w.Str(event.label);
  w.Str(event.result);
  w.Varint(event.changes.size());
  for (const auto& change : event.changes) EncodeChange(change, w);
  w.Fixed32(Crc32c(std::string_view(*out).substr(start)));
}

StatusOr<Event> DecodeEvent(std::string_view bytes) {
  Event event;
  CTXD_RETURN_IF_ERROR(DecodeEventInto(bytes, &event));
  return event;
}

Status DecodeEventInto(std::string_view bytes, Event* event) {
  if (bytes.size() < 1 + kCrcSize) return Status::Corruption("event record too short");
  std::string_view body = bytes.substr(0, bytes.size() - kCrcSize);
  uint32_t stored_crc;
  ByteReader crc_reader(bytes.substr(body.size()));
  if (!crc_reader.Fixed32(&stored_crc) || stored_crc != Crc32c(body)) {
    return Status::Corruption("event checksum mismatch");
  }
  const auto version = static_cast<uint8_t>(body[0]);
  if (version < 1 || version > kEventFormatVersion) {
    return Status::Corruption("unsupported event format version " + std::to_string(version));
  }
  ByteReader r(body.substr(1));
  if (!DecodeHeader(r, version, event) || !DecodeChanges(r, &event->changes)) {
    return Status::Corruption("malformed event record");
  }
  if (!r.empty()) return Status::Corruption("trailing bytes after event");
  return Status::Ok();
}

}  // namespace ctxd::engine
