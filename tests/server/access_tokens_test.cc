#include "server/access_tokens.h"

#include <gtest/gtest.h>

namespace ctxd::server {
namespace {

AccessTokens Tokens() {
  auto tokens = AccessTokens::Parse("# comment\n\n  wtoken write  ci \nrtoken\tread\n", "tokens");
  EXPECT_TRUE(tokens.ok()) << tokens.status().ToString();
  return *tokens;
}

TEST(AccessTokensTest, ParsesTokensWithTheirAccessSkippingCommentsAndBlankLines) {
  const AccessTokens tokens = Tokens();
  EXPECT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens.Find("wtoken"), Access::kWrite);
  EXPECT_EQ(tokens.Find("rtoken"), Access::kRead);
  EXPECT_EQ(tokens.Find("wtoke"), std::nullopt);
  EXPECT_EQ(tokens.Find(""), std::nullopt);
}

TEST(AccessTokensTest, MalformedLinesNameTheirLine) {
  for (const char* text : {"a write\nb admin\n", "a write\nb\n", "a write\nb read label extra\n"}) {
    auto tokens = AccessTokens::Parse(text, "f");
    ASSERT_FALSE(tokens.ok()) << text;
    EXPECT_EQ(tokens.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(tokens.status().message().find("f:2:"), std::string::npos) << tokens.status().message();
  }
}

TEST(AccessTokensTest, DuplicateTokensAndEmptyFilesAreRefused) {
  EXPECT_FALSE(AccessTokens::Parse("a write\na read\n", "f").ok());
  EXPECT_FALSE(AccessTokens::Parse("# nothing\n\n", "f").ok());
  EXPECT_FALSE(AccessTokens::Load("/nonexistent/ctxd-tokens").ok());
}

TEST(AccessTokensTest, TheBearerHeaderWinsOverTheQueryParameter) {
  EXPECT_EQ(RequestToken("Bearer abc", "/v1/context?access_token=xyz"), "abc");
  EXPECT_EQ(RequestToken("bearer  abc ", "/"), "abc");
  EXPECT_EQ(RequestToken(std::nullopt, "/v1/ws?from=3&access_token=a%2Bb"), "a+b");
  EXPECT_EQ(RequestToken("Basic abc", "/?access_token=xyz"), "");
  EXPECT_EQ(RequestToken(std::nullopt, "/v1/context"), "");
  EXPECT_EQ(RequestToken(std::nullopt, "/?access_token=%zz"), "");
}

TEST(AccessTokensTest, UnknownTokensAre401WithAChallenge) {
  const AccessTokens tokens = Tokens();
  for (const char* token : {"", "nope"}) {
    auto refusal = Authorize(tokens, "/v1/context", false, token);
    ASSERT_TRUE(refusal.has_value());
    EXPECT_EQ(refusal->status, 401);
    EXPECT_NE(refusal->body.find("UNAUTHORIZED"), std::string::npos);
    ASSERT_EQ(refusal->headers.size(), 1u);
    EXPECT_EQ(refusal->headers[0].first, "WWW-Authenticate");
  }
}

TEST(AccessTokensTest, ReadTokensMayNotWriteExceptThroughSocketIoTransport) {
  const AccessTokens tokens = Tokens();
  EXPECT_EQ(Authorize(tokens, "/v1/context", false, "rtoken"), std::nullopt);
  auto refusal = Authorize(tokens, "/v1/context/k", true, "rtoken");
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->status, 403);
  EXPECT_EQ(Authorize(tokens, "/socket.io/", true, "rtoken"), std::nullopt);
  EXPECT_EQ(Authorize(tokens, "/v1/context/k", true, "wtoken"), std::nullopt);
}

TEST(AccessTokensTest, ProbesNeedNoToken) {
  const AccessTokens tokens = Tokens();
  EXPECT_EQ(Authorize(tokens, "/healthz", false, ""), std::nullopt);
  EXPECT_EQ(Authorize(tokens, "/readyz", false, ""), std::nullopt);
  EXPECT_TRUE(Authorize(tokens, "/metrics", false, "").has_value());
}

}  // namespace
}  // namespace ctxd::server
