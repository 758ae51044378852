// DurabilityGate: holds read responses until what they reveal is durable.
//
// The store's writer applies a batch to the in-memory state before the
// batch's fsync returns, so a read may see events that are not durable yet.
// A handler that read the state at head seq H calls Respond(H, ...); the
// response goes out at once when H <= durable_seq, otherwise when the commit
// listener reports a durable seq >= H. Nothing blocks: waiting responses sit
// in a map and are released from the committing thread (the Responder posts them
// to their connection).
//
// If a batch's write fails, the store rolls its state back and later events
// reuse the seqs; every response held at that moment saw the failed batch
// (durable_seq did not move), so each is answered 503 instead and the client
// retries. No response ever describes state that was not stored.
//
// Thread safety: all methods are safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "server/http_message.h"
#include "store/store.h"

namespace ctxd::server {

class DurabilityGate {
 public:
  explicit DurabilityGate(store::Store& store);
  DurabilityGate(const DurabilityGate&) = delete;
  DurabilityGate& operator=(const DurabilityGate&) = delete;

  // Sends `response` through `respond` once seq `head` is durable.
  void Respond(uint64_t head, Responder respond, HttpResponse response);
  // From the store's commit listener: releases everything up to `durable`.
  void OnDurable(uint64_t durable);
  // Answers every held response with 503 UNAVAILABLE saying `why`: after a
  // failed write (see above), and at shutdown.
  void FailAll(const std::string& why);

 private:
  store::Store& store_;
  std::mutex mu_;
  std::multimap<uint64_t, std::pair<Responder, HttpResponse>> held_;  // guarded by mu_
};

}  // namespace ctxd::server
