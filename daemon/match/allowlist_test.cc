#include "match/allowlist.h"

#include <gtest/gtest.h>

namespace iocd {
namespace {

Indicator I(std::string_view text) {
  auto got = ParseIndicator(text);
  EXPECT_TRUE(got.ok()) << text;
  return *got;
}

TEST(AllowlistTest, MatchesByKindOfEntry) {
  AllowlistBuilder b;
  uint32_t rfc1918 = b.AddList("rfc1918");
  uint32_t hosts = b.AddList("hosts");
  uint32_t strings = b.AddList("strings");
  uint32_t subs = b.AddList("subs");
  ASSERT_TRUE(b.Add(rfc1918, I("10.0.0.0/8"), true).ok());
  ASSERT_TRUE(b.Add(hosts, I("google.com"), true).ok());
  ASSERT_TRUE(b.Add(strings, I("bing.com"), false).ok());
  ASSERT_TRUE(b.Add(strings, I("d41d8cd98f00b204e9800998ecf8427e"), false).ok());
  b.AddSubstring(subs, "SINKHOLE");
  auto list = std::move(b).Build();

  EXPECT_EQ(list->Match(I("10.20.30.40")), rfc1918);
  EXPECT_EQ(list->Match(I("11.0.0.1")), std::nullopt);
  EXPECT_EQ(list->Match(I("mail.google.com")), hosts);
  EXPECT_EQ(list->Match(I("google.com")), hosts);
  EXPECT_EQ(list->Match(I("bing.com")), strings);
  EXPECT_EQ(list->Match(I("www.bing.com")), std::nullopt);  // "string" entries are exact
  EXPECT_EQ(list->Match(I("D41D8CD98F00B204E9800998ECF8427E")), strings);
  EXPECT_EQ(list->Match(I("a.sinkhole.example.org")), subs);
  EXPECT_EQ(list->Match(I("notgoogle.com")), std::nullopt);
  EXPECT_EQ(list->name(hosts), "hosts");
  EXPECT_FALSE(list->empty());
}

TEST(AllowlistTest, EmptyMatchesNothing) {
  auto list = AllowlistBuilder().Build();
  EXPECT_TRUE(list->empty());
  EXPECT_EQ(list->Match(I("10.0.0.1")), std::nullopt);
}

}  // namespace
}  // namespace iocd
