#include "engine/context_value.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace ctxd::engine {
namespace {

std::shared_ptr<const std::string> Buffer(std::string bytes) {
  return std::make_shared<const std::string>(std::move(bytes));
}

TEST(ContextValueTest, AValueInABufferEqualsTheOwnedValueWithTheSameText) {
  auto buffer = Buffer("xx\"abc\"yy");
  const ContextValue viewed = ContextValue::InBuffer(buffer, std::string_view(*buffer).substr(2, 5));
  const ContextValue owned(std::string("\"abc\""));
  EXPECT_EQ(viewed, owned);
  EXPECT_EQ(viewed, "\"abc\"");
  EXPECT_EQ(viewed.str(), owned.str());
  EXPECT_EQ(viewed.size(), 5u);
}

TEST(ContextValueTest, ACopyKeepsTheBufferAlive) {
  auto buffer = Buffer("[1,2]");
  ContextValue copy;
  {
    const ContextValue viewed = ContextValue::InBuffer(buffer, *buffer);
    copy = viewed;
  }
  buffer.reset();
  EXPECT_EQ(copy, "[1,2]");
}

TEST(ContextValueTest, AssigningTextMakesTheValueOwnIt) {
  auto buffer = Buffer("1");
  ContextValue value = ContextValue::InBuffer(buffer, *buffer);
  value = std::string("2");
  EXPECT_EQ(value, "2");
  value = "3";
  EXPECT_EQ(value, "3");
  EXPECT_EQ(buffer.use_count(), 1);  // the buffer is no longer shared
}

TEST(ContextValueTest, TakeSwapsTheOwnedBytes) {
  auto buffer = Buffer("1");
  ContextValue value = ContextValue::InBuffer(buffer, *buffer);
  std::string text = "\"new\"";
  value.Take(text);
  EXPECT_EQ(value, "\"new\"");
  EXPECT_EQ(buffer.use_count(), 1);
  std::string next = "4";
  value.Take(next);
  EXPECT_EQ(value, "4");
  EXPECT_EQ(next, "\"new\"");  // the old owned bytes, for the caller to reuse
}

}  // namespace
}  // namespace ctxd::engine
