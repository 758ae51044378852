// IoPool: the I/O threads, one io_context each.
//
// A connection is placed on one context when it is accepted (round robin)
// and stays there, so its reads, its request handlers and its writes all run
// on the thread that polled its socket. Each context is run by that one
// thread only: connections rely on it to serialize their handlers (their
// Strand is the context's executor, connection.h). With one io_context shared by all
// I/O threads, Asio hands every ready socket from the thread that polled it
// to another (a futex wake, which is a hypervisor call on this kind of VM,
// on every request); with one writing client, PUT/s rose 27 % without it
// (docs/server.md).
//
// Answers produced off the I/O threads (by the store's writer, the worker
// pool) reach a connection through its context's DeliveryQueue.
//
// Thread safety: Next and DeliveriesOf from any thread; Run and Stop from
// the thread that owns the pool.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "server/http_message.h"

namespace ctxd::store {
class Store;
}

namespace ctxd::server {

namespace net = boost::asio;

class HttpSession;

// Hands responses produced off the I/O threads to the connections of one
// io_context. Posting each one to its strand from the writer would take the
// io_context's lock once per response, contending with the I/O thread; here
// the writer appends to a list and posts one drain per burst, and the drain,
// running on the I/O thread, posts to the strands through the thread's
// private queue.
// Thread safety: Push from any thread.
class DeliveryQueue {
 public:
  explicit DeliveryQueue(net::io_context& ioc) : ioc_(ioc) {}
  void Push(std::shared_ptr<HttpSession> session, uint64_t id, HttpResponse response);
  net::io_context& context() const { return ioc_; }

 private:
  struct Item {
    std::shared_ptr<HttpSession> session;
    uint64_t id;
    HttpResponse response;
  };
  void Drain();

  net::io_context& ioc_;
  std::mutex mu_;
  std::vector<Item> items_;  // guarded by mu_
};

class IoPool {
 public:
  explicit IoPool(size_t threads);
  ~IoPool();  // Stop()
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  // The context of the listener, the signals and the stream hubs.
  net::io_context& main() { return contexts_.front()->ioc; }
  // The context for a new connection.
  net::io_context& Next();
  DeliveryQueue& DeliveriesOf(const net::io_context& ioc);

  // Starts one thread per context; they run until Stop().
  void Run();
  // Stops the contexts and joins their threads. Idempotent.
  void Stop();

 private:
  struct Context {
    net::io_context ioc{1};  // one thread: Asio skips waking other threads
    DeliveryQueue deliveries{ioc};
    net::executor_work_guard<net::io_context::executor_type> work = net::make_work_guard(ioc);
  };
  std::vector<std::unique_ptr<Context>> contexts_;
  std::atomic<size_t> next_{0};
  std::vector<std::thread> threads_;
};

// On an I/O thread: runs store.CommitPending() on this thread once the
// handlers it already has ready have run (posted to its own io_context, so
// that the requests those handlers submit join the same commit); once per
// round, however often it is called. Off the I/O threads: runs it now.
void CommitPendingAfterReadyHandlers(store::Store& store);

}  // namespace ctxd::server
