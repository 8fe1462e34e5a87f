#include "match/prefix_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "indicator/indicator.h"

namespace iocd {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

uint32_t V4(const char* text) {
  std::optional<uint32_t> a = ParseIpv4(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(0);
}

Ipv6Address V6(const char* text) {
  std::optional<Ipv6Address> a = ParseIpv6(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(Ipv6Address{});
}

TEST(PrefixTraitsTest, MasksIpv4) {
  EXPECT_EQ(PrefixTraits<uint32_t>::Mask(V4("255.255.255.255"), 0), 0u);
  EXPECT_EQ(PrefixTraits<uint32_t>::Mask(V4("10.1.2.3"), 8), V4("10.0.0.0"));
  EXPECT_EQ(PrefixTraits<uint32_t>::Mask(V4("10.1.2.3"), 31), V4("10.1.2.2"));
  EXPECT_EQ(PrefixTraits<uint32_t>::Mask(V4("10.1.2.3"), 32), V4("10.1.2.3"));
  EXPECT_EQ(PrefixTraits<uint32_t>::Mask(V4("255.255.255.255"), 1), V4("128.0.0.0"));
}

TEST(PrefixTraitsTest, MasksIpv6) {
  const Ipv6Address all = V6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
  EXPECT_EQ(PrefixTraits<Ipv6Address>::Mask(all, 0), V6("::"));
  EXPECT_EQ(PrefixTraits<Ipv6Address>::Mask(all, 1), V6("8000::"));
  EXPECT_EQ(PrefixTraits<Ipv6Address>::Mask(all, 9), V6("ff80::"));
  EXPECT_EQ(PrefixTraits<Ipv6Address>::Mask(all, 64), V6("ffff:ffff:ffff:ffff::"));
  EXPECT_EQ(PrefixTraits<Ipv6Address>::Mask(all, 127),
            V6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"));
  EXPECT_EQ(PrefixTraits<Ipv6Address>::Mask(all, 128), all);
}

TEST(PrefixTableTest, EmptyTableCoversNothing) {
  Ipv4PrefixTable<int> v4;
  Ipv6PrefixTable<int> v6;
  EXPECT_TRUE(v4.empty());
  EXPECT_EQ(v4.size(), 0u);
  EXPECT_EQ(v4.distinct_lengths(), 0u);
  EXPECT_THAT(v4.Covering(V4("0.0.0.0")), IsEmpty());
  EXPECT_THAT(v4.Covering(V4("10.1.2.3")), IsEmpty());
  EXPECT_EQ(v4.Find(V4("10.0.0.0"), 8), nullptr);
  EXPECT_TRUE(v6.empty());
  EXPECT_THAT(v6.Covering(V6("::1")), IsEmpty());
  EXPECT_THAT(v6.Covering(V6("2001:db8::1")), IsEmpty());
}

class NestedIpv4Test : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(table_.Insert(V4("0.0.0.0"), 0, "/0"));
    ASSERT_TRUE(table_.Insert(V4("10.0.0.0"), 8, "/8"));
    ASSERT_TRUE(table_.Insert(V4("10.1.0.0"), 16, "/16"));
    ASSERT_TRUE(table_.Insert(V4("10.1.2.0"), 24, "/24"));
    ASSERT_TRUE(table_.Insert(V4("10.1.2.4"), 31, "/31"));
  }
  Ipv4PrefixTable<std::string> table_;
};

TEST_F(NestedIpv4Test, ReturnsAllCoveringLongestFirst) {
  EXPECT_EQ(table_.size(), 5u);
  EXPECT_EQ(table_.distinct_lengths(), 5u);
  EXPECT_THAT(
      table_.Covering(V4("10.1.2.4")),
      ElementsAre(Pair(31, "/31"), Pair(24, "/24"), Pair(16, "/16"), Pair(8, "/8"), Pair(0, "/0")));
  EXPECT_THAT(
      table_.Covering(V4("10.1.2.5")),
      ElementsAre(Pair(31, "/31"), Pair(24, "/24"), Pair(16, "/16"), Pair(8, "/8"), Pair(0, "/0")));
}

TEST_F(NestedIpv4Test, LeavesOutPrefixesThatDoNotCover) {
  // Just outside the /31 on either side.
  EXPECT_THAT(table_.Covering(V4("10.1.2.3")),
              ElementsAre(Pair(24, "/24"), Pair(16, "/16"), Pair(8, "/8"), Pair(0, "/0")));
  EXPECT_THAT(table_.Covering(V4("10.1.2.6")),
              ElementsAre(Pair(24, "/24"), Pair(16, "/16"), Pair(8, "/8"), Pair(0, "/0")));
  EXPECT_THAT(table_.Covering(V4("10.1.3.0")),
              ElementsAre(Pair(16, "/16"), Pair(8, "/8"), Pair(0, "/0")));
  EXPECT_THAT(table_.Covering(V4("10.2.0.0")), ElementsAre(Pair(8, "/8"), Pair(0, "/0")));
  EXPECT_THAT(table_.Covering(V4("11.1.2.4")), ElementsAre(Pair(0, "/0")));
  EXPECT_THAT(table_.Covering(V4("255.255.255.255")), ElementsAre(Pair(0, "/0")));
}

TEST_F(NestedIpv4Test, ForEachCoveringVisitsInOrder) {
  std::vector<int> lengths;
  table_.ForEachCovering(V4("10.1.2.5"),
                         [&](int length, const std::string&) { lengths.push_back(length); });
  EXPECT_THAT(lengths, ElementsAre(31, 24, 16, 8, 0));
}

TEST(PrefixTableTest, Ipv4RangeBoundaries) {
  Ipv4PrefixTable<int> table;
  ASSERT_TRUE(table.Insert(V4("192.168.1.0"), 24, 1));
  ASSERT_TRUE(table.Insert(V4("172.16.0.0"), 12, 2));
  EXPECT_THAT(table.Covering(V4("192.168.1.0")), ElementsAre(Pair(24, 1)));
  EXPECT_THAT(table.Covering(V4("192.168.1.255")), ElementsAre(Pair(24, 1)));
  EXPECT_THAT(table.Covering(V4("192.168.0.255")), IsEmpty());
  EXPECT_THAT(table.Covering(V4("192.168.2.0")), IsEmpty());
  EXPECT_THAT(table.Covering(V4("172.16.0.0")), ElementsAre(Pair(12, 2)));
  EXPECT_THAT(table.Covering(V4("172.31.255.255")), ElementsAre(Pair(12, 2)));
  EXPECT_THAT(table.Covering(V4("172.15.255.255")), IsEmpty());
  EXPECT_THAT(table.Covering(V4("172.32.0.0")), IsEmpty());
}

TEST(PrefixTableTest, InsertMasksHostBitsAndKeepsFirstValue) {
  Ipv4PrefixTable<int> table;
  EXPECT_TRUE(table.Insert(V4("10.1.2.3"), 8, 1));
  EXPECT_FALSE(table.Insert(V4("10.9.9.9"), 8, 2));  // same prefix 10.0.0.0/8
  EXPECT_EQ(table.size(), 1u);
  ASSERT_NE(table.Find(V4("10.0.0.0"), 8), nullptr);
  EXPECT_EQ(*table.Find(V4("10.0.0.0"), 8), 1);
  EXPECT_EQ(table.Find(V4("10.0.0.0"), 9), nullptr);
  EXPECT_THAT(table.Covering(V4("10.200.0.1")), ElementsAre(Pair(8, 1)));
}

TEST(PrefixTableTest, RejectsLengthsOutOfRange) {
  Ipv4PrefixTable<int> v4;
  EXPECT_FALSE(v4.Insert(V4("10.0.0.0"), -1, 1));
  EXPECT_FALSE(v4.Insert(V4("10.0.0.0"), 33, 1));
  EXPECT_TRUE(v4.Insert(V4("10.0.0.1"), 32, 1));  // the table itself allows /32
  EXPECT_EQ(v4.size(), 1u);
  Ipv6PrefixTable<int> v6;
  EXPECT_FALSE(v6.Insert(V6("::"), 129, 1));
  EXPECT_TRUE(v6.Insert(V6("::1"), 128, 1));
  EXPECT_EQ(v6.size(), 1u);
}

class NestedIpv6Test : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(table_.Insert(V6("::"), 0, 0));
    ASSERT_TRUE(table_.Insert(V6("2001:db8::"), 32, 32));
    ASSERT_TRUE(table_.Insert(V6("2001:db8:1::"), 48, 48));
    ASSERT_TRUE(table_.Insert(V6("2001:db8:1:2::"), 64, 64));
    ASSERT_TRUE(table_.Insert(V6("2001:db8:1:2::"), 127, 127));
  }
  Ipv6PrefixTable<int> table_;
};

TEST_F(NestedIpv6Test, ReturnsAllCoveringLongestFirst) {
  EXPECT_EQ(table_.size(), 5u);
  EXPECT_THAT(table_.Covering(V6("2001:db8:1:2::")),
              ElementsAre(Pair(127, 127), Pair(64, 64), Pair(48, 48), Pair(32, 32), Pair(0, 0)));
  EXPECT_THAT(table_.Covering(V6("2001:db8:1:2::1")),
              ElementsAre(Pair(127, 127), Pair(64, 64), Pair(48, 48), Pair(32, 32), Pair(0, 0)));
}

TEST_F(NestedIpv6Test, Boundaries) {
  // Just past the /127.
  EXPECT_THAT(table_.Covering(V6("2001:db8:1:2::2")),
              ElementsAre(Pair(64, 64), Pair(48, 48), Pair(32, 32), Pair(0, 0)));
  // Last address of the /64 and of the /48, then just past them.
  EXPECT_THAT(table_.Covering(V6("2001:db8:1:2:ffff:ffff:ffff:ffff")),
              ElementsAre(Pair(64, 64), Pair(48, 48), Pair(32, 32), Pair(0, 0)));
  EXPECT_THAT(table_.Covering(V6("2001:db8:1:3::")),
              ElementsAre(Pair(48, 48), Pair(32, 32), Pair(0, 0)));
  EXPECT_THAT(table_.Covering(V6("2001:db8:1:ffff:ffff:ffff:ffff:ffff")),
              ElementsAre(Pair(48, 48), Pair(32, 32), Pair(0, 0)));
  EXPECT_THAT(table_.Covering(V6("2001:db8:2::")), ElementsAre(Pair(32, 32), Pair(0, 0)));
  // Just before and just after the /32.
  EXPECT_THAT(table_.Covering(V6("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff")),
              ElementsAre(Pair(0, 0)));
  EXPECT_THAT(table_.Covering(V6("2001:db9::")), ElementsAre(Pair(0, 0)));
}

}  // namespace
}  // namespace iocd
