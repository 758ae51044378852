// Status and StatusOr: the error type that crosses every module boundary.
//
// A Status is either OK or carries a code and a message a user can act on.
// No exceptions cross module APIs; RocksDB, JSON and Beast errors are
// converted into a Status where they are caught. Both types are [[nodiscard]].
// Thread safety: values; safe to copy between threads.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace ctxd {

enum class StatusCode {
  kOk,
  kInvalidArgument,     // the request itself is wrong (400)
  kNotFound,            // a key, node, edge, session or seq is absent (404)
  kConflict,            // cycle, duplicate, undo conflict (409)
  kNothingToUndo,       // undo stack empty (409)
  kNothingToRedo,       // redo stack empty (409)
  kPreconditionFailed,  // If-Match version mismatch (412)
  kPayloadTooLarge,     // a value over its limit (413)
  kUnavailable,         // disk full, I/O error, shutting down (503)
  kCorruption,          // stored data fails its checks
  kInternal,            // a bug
};

// The API error code string for `code`, e.g. "NOT_FOUND".
const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status Conflict(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
  static Status PreconditionFailed(std::string m) { return {StatusCode::kPreconditionFailed, std::move(m)}; }
  static Status PayloadTooLarge(std::string m) { return {StatusCode::kPayloadTooLarge, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NOT_FOUND: key 'a' does not exist"
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }
  StatusOr(T value) : v_(std::move(value)) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace ctxd

// Returns early from the enclosing function when `expr` is not OK.
#define CTXD_RETURN_IF_ERROR(expr)          \
  do {                                      \
    ::ctxd::Status ctxd_status_ = (expr);   \
    if (!ctxd_status_.ok()) return ctxd_status_; \
  } while (0)
