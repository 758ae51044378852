// Binary encoding of events (the `events` column family values).
// Layout and versioning: docs/event-format.md.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "engine/event.h"
#include "engine/wire.h"

namespace ctxd::engine {

// Written by this build. Version 1 (no request digest) is still read.
inline constexpr uint8_t kEventFormatVersion = 2;

// Appends the encoding of `event` (with its trailing CRC-32C) to `out`.
void EncodeEvent(const Event& event, std::string* out);
// kCorruption on a bad checksum, unknown version or malformed bytes.
StatusOr<Event> DecodeEvent(std::string_view bytes);
// The same into `event`, reusing its strings and changes (replay decodes
// every event into one Event). On failure `event` is unspecified.
Status DecodeEventInto(std::string_view bytes, Event* event);

// Single changes, shared with the snapshot codec.
void EncodeChange(const Change& change, ByteWriter& w);
bool DecodeChange(ByteReader& r, Change* change);

}  // namespace ctxd::engine
