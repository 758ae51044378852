// What a client asked for, as a 64-bit digest, so that a command id reused
// for a different request can be told from a retry (engine.cc). Stored in
// events (docs/event-format.md) and snapshots, so the digest of a request
// must never change between builds.
#pragma once

#include <cstdint>

#include "engine/command.h"

namespace ctxd::engine {

// FNV-1a (64-bit) over a canonical encoding of the command's actor, session
// and body. Node ids the server generated are left out: a retry gets a new
// one. Never 0, which stands for "no digest" (events written before it, and
// generated command ids).
uint64_t RequestDigest(const Command& command);

}  // namespace ctxd::engine
