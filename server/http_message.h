// HttpRequest, HttpResponse and Responder: the Beast-free view of one HTTP
// exchange that every route handler works on.
//
// Only the connection code (http_session.cc) sees Beast. It turns a parsed
// request into an HttpRequest, hands it to the Router with a Responder, and
// writes the HttpResponse that comes back, in request order.
//
// Thread safety: HttpRequest/HttpResponse are values. A Responder may be
// invoked from any thread (e.g. the store's committing thread); it only posts the
// response to the connection's strand.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ctxd::server {

enum class Method { kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions, kOther };

struct HttpRequest {
  Method method = Method::kGet;
  std::string target;                                        // as received: percent-encoded path and query
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string body;

  // Filled by the Router from `target`: decoded path segments and query parameters.
  std::vector<std::string> segments;
  std::vector<std::pair<std::string, std::string>> query;

  // Header value by case-insensitive name; nullopt when absent.
  std::optional<std::string_view> Header(std::string_view name) const;
  // Last value of query parameter `name`; nullptr when absent.
  const std::string* Query(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  const char* content_type = "application/json";  // static storage
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  bool close = false;                                        // close the connection after this response
};

// Where a Responder delivers: implemented by the connection.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  // Called at most once per `id`, from any thread.
  virtual void Deliver(uint64_t id, HttpResponse response) = 0;
};

// Answers one request. Copyable so it fits in std::function; must be invoked
// exactly once (later calls are ignored by the connection).
class Responder {
 public:
  Responder() = default;
  Responder(std::shared_ptr<ResponseSink> sink, uint64_t id) : sink_(std::move(sink)), id_(id) {}
  void operator()(HttpResponse response) const {
    if (sink_) sink_->Deliver(id_, std::move(response));
  }

 private:
  std::shared_ptr<ResponseSink> sink_;
  uint64_t id_ = 0;
};

}  // namespace ctxd::server
