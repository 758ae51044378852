#include "server/workers.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

namespace ctxd::server {

struct Workers::Impl {
  explicit Impl(size_t threads) : pool(threads) {}
  boost::asio::thread_pool pool;
};

Workers::Workers(size_t threads) : impl_(std::make_unique<Impl>(threads)) {}
Workers::~Workers() { Join(); }

void Workers::Post(std::function<void()> task) { boost::asio::post(impl_->pool, std::move(task)); }

void Workers::Join() { impl_->pool.join(); }

}  // namespace ctxd::server
