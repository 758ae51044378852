#include "server/origin_policy.h"

#include <gtest/gtest.h>

namespace ctxd::server {
namespace {

OriginPolicy Policy(const std::vector<std::string>& allowed) {
  auto policy = OriginPolicy::Create(allowed);
  EXPECT_TRUE(policy.ok()) << policy.status().ToString();
  return *policy;
}

TEST(OriginPolicyTest, RequestsWithoutAnOriginAreServed) {
  EXPECT_TRUE(OriginPolicy().Allows("", "127.0.0.1:8080"));
}

TEST(OriginPolicyTest, TheServersOwnOriginIsServed) {
  const OriginPolicy policy;
  EXPECT_TRUE(policy.Allows("http://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_TRUE(policy.Allows("http://LocalHost:8080", "localhost:8080"));
  EXPECT_TRUE(policy.Allows("https://[::1]:8443", "[::1]:8443"));
  // python-websocket names http:// as its origin over wss too: the port decides.
  EXPECT_TRUE(policy.Allows("http://127.0.0.1:8443", "127.0.0.1:8443"));
  EXPECT_TRUE(policy.Allows("http://example.com", "example.com:80"));
  EXPECT_TRUE(policy.Allows("https://example.com", "example.com:443"));
  EXPECT_TRUE(policy.Allows("https://example.com", "example.com"));
}

TEST(OriginPolicyTest, OtherOriginsAreRefused) {
  const OriginPolicy policy;
  EXPECT_FALSE(policy.Allows("http://evil.example", "127.0.0.1:8080"));
  EXPECT_FALSE(
      policy.Allows("http://example.com:3000", "example.com:8080"));  // another port is another origin
  EXPECT_FALSE(policy.Allows("http://example.com", "example.com:8080"));
  EXPECT_FALSE(policy.Allows("https://example.com:8080", "other.example:8080"));
  EXPECT_FALSE(policy.Allows("null", "127.0.0.1:8080"));
  // Names that only look local, and addresses that are not loopback.
  for (const char* remote :
       {"http://localhost.evil.example", "http://127.0.0.1.evil.example", "http://[::2]:8080",
        "http://10.0.0.1:8080", "http://0.0.0.0:8080", "http://localhostx:8080"}) {
    EXPECT_FALSE(policy.Allows(remote, "127.0.0.1:8080")) << remote;
  }
  for (const char* malformed : {"127.0.0.1:8080", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/x",
                                "http://u@127.0.0.1:8080", "ftp://127.0.0.1:8080", "http://", "\xff"}) {
    EXPECT_FALSE(policy.Allows(malformed, "127.0.0.1:8080")) << malformed;
  }
  EXPECT_FALSE(policy.Allows("http://app.example:8080", "not a host"));
}

TEST(OriginPolicyTest, PagesServedFromThisMachineAreServed) {
  const OriginPolicy policy;
  for (const char* local : {"http://localhost:3000", "http://127.0.0.1:5173", "https://127.9.8.7",
                            "http://[::1]:3000", "http://app.localhost:3000", "http://LOCALHOST"}) {
    EXPECT_TRUE(policy.Allows(local, "127.0.0.1:8080")) << local;
  }
}

TEST(OriginPolicyTest, ListedOriginsAreServedWhateverTheirCaseOrDefaultPort) {
  const OriginPolicy policy = Policy({"http://app.example:3000", "HTTPS://Tools.Example:443", "null"});
  EXPECT_TRUE(policy.Allows("http://app.example:3000", "127.0.0.1:8080"));
  EXPECT_TRUE(policy.Allows("https://tools.example", "127.0.0.1:8080"));
  EXPECT_TRUE(policy.Allows("null", "127.0.0.1:8080"));
  EXPECT_FALSE(policy.Allows("https://app.example:3000", "127.0.0.1:8080"));  // the scheme is part of it
  EXPECT_FALSE(policy.Allows("http://app.example:3001", "127.0.0.1:8080"));
  EXPECT_FALSE(policy.Allows("http://tools.example", "127.0.0.1:8080"));
}

TEST(OriginPolicyTest, AStarServesEveryOrigin) {
  const OriginPolicy policy = Policy({"*"});
  EXPECT_TRUE(policy.Allows("http://evil.example", "127.0.0.1:8080"));
  EXPECT_TRUE(policy.Allows("null", "127.0.0.1:8080"));
}

TEST(OriginPolicyTest, ValuesThatAreNotOriginsAreRefusedByName) {
  for (const char* bad : {"app.example", "http://app.example/", "http://app.example/path", "ws://app.example",
                          "http://app.example?x", "", "**"}) {
    auto policy = OriginPolicy::Create({"http://ok.example", bad});
    ASSERT_FALSE(policy.ok()) << bad;
    EXPECT_EQ(policy.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(policy.status().message().find(std::string("'") + bad + "'"), std::string::npos)
        << policy.status().message();
  }
}

}  // namespace
}  // namespace ctxd::server
