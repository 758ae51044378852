// TopLevelMember: finding a member of an object by its structure alone, for
// messages the JSON parser refuses (server/json_body.h).
#include "server/json_body.h"

#include <gtest/gtest.h>

#include <string>

namespace ctxd::server {
namespace {

TEST(TopLevelMemberTest, FindsTheMemberOfTheOuterObjectOnly) {
  EXPECT_EQ(TopLevelMember(R"({"op":"set","id":17,"key":"k"})", "id"), "17");
  EXPECT_EQ(TopLevelMember(R"( { "id" : "a b" , "x":1 } )", "id"), R"("a b")");
  EXPECT_EQ(TopLevelMember(R"({"v":{"id":1,"w":[{"id":2}]},"id":3})", "id"), "3");
  EXPECT_EQ(TopLevelMember(R"({"v":{"id":1}})", "id"), "");
  EXPECT_EQ(TopLevelMember(R"({"id":1,"id":2})", "id"), "2");  // the last one, as the parser keeps
  EXPECT_EQ(TopLevelMember(R"({"id":{"a":[1,"]"]}})", "id"), R"({"a":[1,"]"]})");
}

TEST(TopLevelMemberTest, SeesPastValuesTheParserRefuses) {
  EXPECT_EQ(TopLevelMember(R"({"k":"\ud800","id":"x"})", "id"), R"("x")");
  EXPECT_EQ(TopLevelMember(R"({"v":1e400,"id":5})", "id"), "5");
  EXPECT_EQ(TopLevelMember(R"({"v":"a \"quoted\" }],{","id":6})", "id"), "6");
  EXPECT_EQ(TopLevelMember(R"({"v":"tail\\","id":7})", "id"), "7");  // an escaped backslash ends the string
  EXPECT_EQ(TopLevelMember(R"({"\u0069d":8})", "id"), "8");          // names are compared decoded
  EXPECT_EQ(TopLevelMember(R"({"id":9,"op":)", "id"), "9");          // cut short after the id
}

TEST(TopLevelMemberTest, FindsNothingWhereTheStructureBreaksFirst) {
  for (const char* text : {"", "not json", "[1,2]", R"("id")", R"({"v":[1,{"id":2})", R"({"v" "id":1})",
                           R"({"v":"unterminated,"id":1})", R"({id:1})", R"({"v":,"id":1})"}) {
    EXPECT_EQ(TopLevelMember(text, "id"), "") << text;
  }
}

}  // namespace
}  // namespace ctxd::server
