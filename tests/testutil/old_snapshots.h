// Snapshots in the layouts of earlier format versions, for the tests that
// check a newer build still reads them (docs/snapshot-format.md).
#pragma once

#include <string>

#include "engine/state.h"
#include "engine/wire.h"
#include "snapshots/snapshot_codec.h"

namespace ctxd::testutil {

// `state` as format version 2 wrote it: without the undo byte limit, which
// followed the undo depth limit in the header. Such a snapshot decodes with
// no byte limit (0), whatever `state` has.
inline std::string EncodeVersion2(const engine::State& state) {
  std::string bytes = snapshots::EncodeState(state);
  std::string header;  // the fields between the version byte and the byte limit
  engine::ByteWriter w(&header);
  w.Varint(state.head_seq);
  w.SignedVarint(state.head_ts_us);
  w.Varint(state.max_undo_depth);
  std::string byte_limit;
  engine::ByteWriter(&byte_limit).Varint(state.max_undo_bytes);
  bytes.erase(1 + header.size(), byte_limit.size());
  bytes[0] = 2;
  return bytes;
}

}  // namespace ctxd::testutil
