#include "engine/context_value.h"

namespace ctxd::engine {

ContextValue ContextValue::InBuffer(std::shared_ptr<const std::string> buffer, std::string_view text) {
  ContextValue value;
  value.buffer_ = std::move(buffer);
  value.viewed_ = text;
  return value;
}

ContextValue& ContextValue::Assign(std::string_view text) {
  owned_.assign(text);
  buffer_.reset();
  viewed_ = {};
  return *this;
}

void ContextValue::Take(std::string& text) {
  owned_.swap(text);
  buffer_.reset();
  viewed_ = {};
}

}  // namespace ctxd::engine
