// IP matching semantics, table-driven: exact addresses, CIDR /0../32 and /0../128, every
// covering indicator reported most specific first, IPv4-mapped IPv6 observables.
#include <gtest/gtest.h>

#include "match/match_test_util.h"

namespace iocd {
namespace {

using testutil::BuildIndex;
using testutil::LookupText;
using testutil::MatchCase;

const std::vector<testutil::Listed> kIpIndicators = {
    {"1.2.3.4", 1},         {"1.2.3.4", 2},  // one indicator, two feeds
    {"1.2.3.0/24", 1},      {"1.2.0.0/16", 2},      {"1.0.0.0/8", 3},
    {"0.0.0.0/0", 4},       {"1.2.3.4/31", 5},      {"1.2.3.5/32", 6},  // /32 is the address
    {"128.0.0.0/1", 7},     {"255.255.255.254/31", 8},
    {"2001:db8::1", 1},     {"2001:db8::/32", 2},   {"2001:db8::/64", 3},
    {"::/0", 4},            {"2001:db8::1/127", 5}, {"2001:db8::2/128", 6},
    {"8000::/1", 7},
};

class IpMatchTest : public testing::TestWithParam<MatchCase> {};

TEST_P(IpMatchTest, ReportsEveryCoveringIndicatorMostSpecificFirst) {
  static const auto index = BuildIndex(kIpIndicators);
  EXPECT_EQ(LookupText(*index, GetParam().observable), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, IpMatchTest,
    testing::Values(
        MatchCase{"1.2.3.4", {"ipv4 1.2.3.4 [1,2]", "cidr4 1.2.3.4/31 [5]", "cidr4 1.2.3.0/24 [1]",
                              "cidr4 1.2.0.0/16 [2]", "cidr4 1.0.0.0/8 [3]", "cidr4 0.0.0.0/0 [4]"}},
        MatchCase{"1.2.3.5", {"ipv4 1.2.3.5 [6]", "cidr4 1.2.3.4/31 [5]", "cidr4 1.2.3.0/24 [1]",
                              "cidr4 1.2.0.0/16 [2]", "cidr4 1.0.0.0/8 [3]", "cidr4 0.0.0.0/0 [4]"}},
        MatchCase{"1.2.3.6", {"cidr4 1.2.3.0/24 [1]", "cidr4 1.2.0.0/16 [2]", "cidr4 1.0.0.0/8 [3]",
                              "cidr4 0.0.0.0/0 [4]"}},
        MatchCase{"1.2.4.1", {"cidr4 1.2.0.0/16 [2]", "cidr4 1.0.0.0/8 [3]", "cidr4 0.0.0.0/0 [4]"}},
        MatchCase{"1.255.255.255", {"cidr4 1.0.0.0/8 [3]", "cidr4 0.0.0.0/0 [4]"}},
        MatchCase{"2.0.0.0", {"cidr4 0.0.0.0/0 [4]"}},
        MatchCase{"200.1.1.1", {"cidr4 128.0.0.0/1 [7]", "cidr4 0.0.0.0/0 [4]"}},
        MatchCase{"255.255.255.255", {"cidr4 255.255.255.254/31 [8]", "cidr4 128.0.0.0/1 [7]",
                                      "cidr4 0.0.0.0/0 [4]"}},
        // IPv4-mapped IPv6 observables are IPv4: they never match IPv6 ranges such as ::/0.
        MatchCase{"::ffff:1.2.3.4", {"ipv4 1.2.3.4 [1,2]", "cidr4 1.2.3.4/31 [5]", "cidr4 1.2.3.0/24 [1]",
                                     "cidr4 1.2.0.0/16 [2]", "cidr4 1.0.0.0/8 [3]", "cidr4 0.0.0.0/0 [4]"}},
        MatchCase{"[::ffff:1.2.4.1]:443", {"cidr4 1.2.0.0/16 [2]", "cidr4 1.0.0.0/8 [3]",
                                           "cidr4 0.0.0.0/0 [4]"}},
        MatchCase{"2001:db8::1", {"ipv6 2001:db8::1 [1]", "cidr6 2001:db8::/127 [5]", "cidr6 2001:db8::/64 [3]",
                                  "cidr6 2001:db8::/32 [2]", "cidr6 ::/0 [4]"}},
        MatchCase{"2001:DB8:0::2", {"ipv6 2001:db8::2 [6]", "cidr6 2001:db8::/64 [3]",
                                    "cidr6 2001:db8::/32 [2]", "cidr6 ::/0 [4]"}},
        MatchCase{"2001:db8:0:1::1", {"cidr6 2001:db8::/32 [2]", "cidr6 ::/0 [4]"}},
        MatchCase{"2001:db9::1", {"cidr6 ::/0 [4]"}},
        MatchCase{"ffff::1", {"cidr6 8000::/1 [7]", "cidr6 ::/0 [4]"}}));

TEST(IpMatchTest, Ipv4MappedKeyBuiltByHandMatchesIpv4Indicators) {
  const auto index = BuildIndex({{"9.9.9.9", 1}, {"9.9.0.0/16", 2}, {"::/0", 3}});
  std::string key(10, '\0');
  key += "\xff\xff\x09\x09\x09\x09";
  EXPECT_EQ(LookupText(*index, Indicator{IndicatorType::kIpv6, key}),
            (std::vector<std::string>{"ipv4 9.9.9.9 [1]", "cidr4 9.9.0.0/16 [2]"}));
}

TEST(IpMatchTest, EveryPrefixLengthMatchesItsAddress) {
  // One /L range per length around the same address: a lookup reports all, longest first.
  IndexBuilder builder;
  const uint32_t v4 = 0xC0A80101;  // 192.168.1.1
  for (int len = 0; len <= 32; ++len) {
    std::string key(4, '\0');
    const uint32_t masked = len == 0 ? 0 : v4 & (~uint32_t{0} << (32 - len));
    for (int i = 0; i < 4; ++i) key[i] = static_cast<char>(masked >> (24 - 8 * i));
    if (len == 32) {
      ASSERT_TRUE(builder.Add({IndicatorType::kIpv4, key}, 1).ok());
    } else {
      key.push_back(static_cast<char>(len));
      ASSERT_TRUE(builder.Add({IndicatorType::kCidr4, key}, 1).ok());
    }
  }
  for (int len = 0; len <= 128; ++len) {
    Result<Indicator> ind = ParseIndicator("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff/" + std::to_string(len));
    ASSERT_TRUE(ind.ok()) << len;
    ASSERT_TRUE(builder.Add(*ind, 2).ok()) << len;
  }
  const auto index = std::move(builder).Build();
  std::vector<IndexMatch> out;
  index->Lookup(testutil::Observe("192.168.1.1"), &out);
  ASSERT_EQ(out.size(), 33u);
  EXPECT_EQ(out.front().type, IndicatorType::kIpv4);
  for (size_t i = 1; i < out.size(); ++i) {
    EXPECT_EQ(static_cast<int>(static_cast<uint8_t>(out[i].key[4])), static_cast<int>(32 - i));
  }
  out.clear();
  index->Lookup(testutil::Observe("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff"), &out);
  ASSERT_EQ(out.size(), 129u);
  EXPECT_EQ(out.front().type, IndicatorType::kIpv6);
  for (size_t i = 1; i < out.size(); ++i) {
    EXPECT_EQ(static_cast<int>(static_cast<uint8_t>(out[i].key[16])), static_cast<int>(128 - i));
  }
  out.clear();
  index->Lookup(testutil::Observe("192.168.1.0"), &out);
  EXPECT_EQ(out.size(), 32u);  // every range down from /31, not the address
}

}  // namespace
}  // namespace iocd
