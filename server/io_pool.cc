#include "server/io_pool.h"

#include <boost/asio/post.hpp>

#include "common/thread_name.h"
#include "server/http_session.h"
#include "store/store.h"

namespace ctxd::server {
namespace {

// The context of the calling I/O thread (null off them), and whether a
// CommitPendingAfterReadyHandlers round is posted on it.
thread_local net::io_context* current_context = nullptr;
thread_local bool commit_posted = false;

}  // namespace

void DeliveryQueue::Push(std::shared_ptr<HttpSession> session, uint64_t id, HttpResponse response) {
  bool first = false;
  {
    std::lock_guard lock(mu_);
    first = items_.empty();
    items_.push_back({std::move(session), id, std::move(response)});
  }
  if (first) net::post(ioc_, [this] { Drain(); });
}

void DeliveryQueue::Drain() {
  std::vector<Item> items;
  {
    std::lock_guard lock(mu_);
    items.swap(items_);
  }
  for (auto& item : items) item.session->Post(item.id, std::move(item.response));
}

IoPool::IoPool(size_t threads) {
  for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) contexts_.push_back(std::make_unique<Context>());
}

IoPool::~IoPool() { Stop(); }

net::io_context& IoPool::Next() {
  return contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()]->ioc;
}

DeliveryQueue& IoPool::DeliveriesOf(const net::io_context& ioc) {
  for (auto& context : contexts_) {
    if (&context->ioc == &ioc) return context->deliveries;
  }
  return contexts_.front()->deliveries;  // not a pool context: the main one serves it
}

void IoPool::Run() {
  for (auto& context : contexts_) {
    threads_.emplace_back([&ioc = context->ioc] {
      current_context = &ioc;
      ioc.run();
    });
    NameThread(threads_.back(), "ctxd-io");
  }
}

void IoPool::Stop() {
  for (auto& context : contexts_) {
    context->work.reset();
    context->ioc.stop();
  }
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

void CommitPendingAfterReadyHandlers(store::Store& store) {
  if (current_context == nullptr) return store.CommitPending();
  if (commit_posted) return;
  commit_posted = true;
  net::post(*current_context, [&store] {
    commit_posted = false;
    store.CommitPending();
  });
}

}  // namespace ctxd::server
