// ContextValue: the canonical JSON text of a context value in the State.
//
// A value either owns its bytes or, when it was loaded from a snapshot,
// views them inside the snapshot's buffer, which it shares (the buffer lives
// as long as any value loaded from it). Loading 1,000,000 keys therefore
// copies and allocates no value at all; assigning a new value makes the
// entry own its bytes. Both forms compare, print and serialize the same, so
// the engine stays deterministic whichever form an entry is in.
//
// Thread safety: a const ContextValue may be read from any thread; the
// shared buffer is immutable.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace ctxd::engine {

class ContextValue {
 public:
  ContextValue() = default;
  ContextValue(std::string text) : owned_(std::move(text)) {}  // NOLINT: implicit, like a string
  ContextValue(const char* text) : owned_(text) {}             // NOLINT
  // `text` must lie inside `*buffer`.
  static ContextValue InBuffer(std::shared_ptr<const std::string> buffer, std::string_view text);

  // Assigning text makes the value own a copy (reusing its owned capacity).
  ContextValue& operator=(const std::string& text) { return Assign(text); }
  ContextValue& operator=(const char* text) { return Assign(text); }

  std::string_view view() const { return buffer_ ? viewed_ : std::string_view(owned_); }
  operator std::string_view() const { return view(); }  // NOLINT: reads like a string
  std::string str() const { return std::string(view()); }
  size_t size() const { return view().size(); }

  // Takes `text`'s bytes and gives it this value's old owned bytes (their
  // buffers are swapped, so a caller reusing `text` does not reallocate).
  void Take(std::string& text);

  friend bool operator==(const ContextValue& a, const ContextValue& b) { return a.view() == b.view(); }
  friend bool operator==(const ContextValue& a, std::string_view b) { return a.view() == b; }
  friend bool operator==(const ContextValue& a, const std::string& b) { return a.view() == b; }
  friend bool operator==(const ContextValue& a, const char* b) { return a.view() == b; }
  friend std::ostream& operator<<(std::ostream& out, const ContextValue& v) { return out << v.view(); }

 private:
  ContextValue& Assign(std::string_view text);

  std::string owned_;
  std::shared_ptr<const std::string> buffer_;  // set: the value is `viewed_`, inside it
  std::string_view viewed_;
};

}  // namespace ctxd::engine
