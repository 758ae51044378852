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

HostPolicy Hosts(const std::vector<std::string>& allowed, std::string_view listen_host) {
  auto policy = HostPolicy::Create(allowed, listen_host);
  EXPECT_TRUE(policy.ok()) << policy.status().ToString();
  return *policy;
}

TEST(HostPolicyTest, OnALoopbackListenerOnlyLocalNamesAndAddressesAreServed) {
  for (const char* listen : {"127.0.0.1", "127.0.0.2", "::1", "localhost"}) {
    const HostPolicy policy = Hosts({}, listen);
    for (const char* host : {"127.0.0.1:8080", "localhost:8080", "LOCALHOST", "app.localhost:8080",
                             "[::1]:8080", "10.1.2.3:8080", ""}) {
      EXPECT_TRUE(policy.Allows(host)) << listen << " " << host;
    }
    // A rebound name, names that only look local, and what is not a host.
    for (const char* host : {"evil.example:8080", "evil.example", "localhost.evil.example:8080",
                             "127.0.0.1.evil.example", "localhostx", "u@localhost:8080", "not a host"}) {
      EXPECT_FALSE(policy.Allows(host)) << listen << " " << host;
    }
  }
}

TEST(HostPolicyTest, ListedNamesAreServedWhateverTheirCase) {
  const HostPolicy policy = Hosts({"Ctx.Example", "box"}, "127.0.0.1");
  EXPECT_TRUE(policy.Allows("ctx.example:443"));
  EXPECT_TRUE(policy.Allows("CTX.example"));
  EXPECT_TRUE(policy.Allows("box:8080"));
  EXPECT_TRUE(policy.Allows("localhost:8080"));
  EXPECT_FALSE(policy.Allows("other.example"));
  EXPECT_FALSE(policy.Allows("sub.ctx.example"));
}

TEST(HostPolicyTest, ElsewhereTheCheckIsOnOnlyWhenNamesAreListed) {
  for (const char* listen : {"0.0.0.0", "::", "10.1.2.3", "box.example"}) {
    EXPECT_TRUE(Hosts({}, listen).Allows("anything.example:8080")) << listen;
    const HostPolicy listed = Hosts({"box.example"}, listen);
    EXPECT_TRUE(listed.Allows("box.example:8080")) << listen;
    EXPECT_FALSE(listed.Allows("anything.example:8080")) << listen;
  }
}

TEST(HostPolicyTest, AStarTurnsTheCheckOff) {
  EXPECT_TRUE(Hosts({"*"}, "127.0.0.1").Allows("evil.example:8080"));
  EXPECT_TRUE(Hosts({"box", "*"}, "0.0.0.0").Allows("evil.example:8080"));
}

TEST(HostPolicyTest, ValuesThatAreNotHostNamesAreRefusedByName) {
  for (const char* bad : {"box:8080", "u@box", "", "http://box", "box/path"}) {
    auto policy = HostPolicy::Create({"ok.example", bad}, "127.0.0.1");
    ASSERT_FALSE(policy.ok()) << bad;
    EXPECT_EQ(policy.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(policy.status().message().find(std::string("'") + bad + "'"), std::string::npos);
  }
}

}  // namespace
}  // namespace ctxd::server
