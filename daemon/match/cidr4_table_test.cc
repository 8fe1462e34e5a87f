#include "match/cidr4_table.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <span>
#include <utility>
#include <vector>

namespace iocd {
namespace {

std::vector<std::pair<int, uint32_t>> Covering(const Cidr4Table& t, uint32_t address) {
  std::vector<std::pair<int, uint32_t>> out;
  t.ForEachCovering(address, [&out](int length, uint32_t value) { out.emplace_back(length, value); });
  return out;
}

using Got = std::vector<std::pair<int, uint32_t>>;

TEST(Cidr4TableTest, EdgesOfTheAddressSpace) {
  Cidr4Table t;
  EXPECT_TRUE(Covering(t, 0).empty());
  t.Build({{0, 0, 1}, {0xFFFFFFFFu, 32, 2}, {0xFFFFFF00u, 24, 3}, {0, 32, 4}, {0x80000000u, 1, 5}});
  EXPECT_EQ(t.size(), 5u);
  EXPECT_EQ(Covering(t, 0), (Got{{32, 4}, {0, 1}}));
  EXPECT_EQ(Covering(t, 1), (Got{{0, 1}}));
  EXPECT_EQ(Covering(t, 0x7FFFFFFFu), (Got{{0, 1}}));
  EXPECT_EQ(Covering(t, 0x80000000u), (Got{{1, 5}, {0, 1}}));
  EXPECT_EQ(Covering(t, 0xFFFFFFFEu), (Got{{24, 3}, {1, 5}, {0, 1}}));
  EXPECT_EQ(Covering(t, 0xFFFFFFFFu), (Got{{32, 2}, {24, 3}, {1, 5}, {0, 1}}));
}

TEST(Cidr4TableTest, AdjacentAndNestedRanges) {
  Cidr4Table t;
  // 10.0.0.0/24 and 10.0.1.0/24 are adjacent; 10.0.0.128/25 nests; 11.0.0.0/8 is apart.
  t.Build({{0x0A000000u, 24, 1}, {0x0A000100u, 24, 2}, {0x0A000080u, 25, 3}, {0x0B000000u, 8, 4}});
  EXPECT_EQ(Covering(t, 0x0A00007Fu), (Got{{24, 1}}));
  EXPECT_EQ(Covering(t, 0x0A000080u), (Got{{25, 3}, {24, 1}}));
  EXPECT_EQ(Covering(t, 0x0A0000FFu), (Got{{25, 3}, {24, 1}}));
  EXPECT_EQ(Covering(t, 0x0A000100u), (Got{{24, 2}}));
  EXPECT_EQ(Covering(t, 0x0A000200u), (Got{}));
  EXPECT_EQ(Covering(t, 0x09FFFFFFu), (Got{}));
  EXPECT_EQ(Covering(t, 0x0BFFFFFFu), (Got{{8, 4}}));
  EXPECT_EQ(Covering(t, 0x0C000000u), (Got{}));
}

TEST(Cidr4TableTest, CoveringIsOneSpanOfValuesLongestFirst) {
  Cidr4Table t;
  EXPECT_TRUE(t.Covering(0x0A000001u).empty());  // empty table
  // 10/8 > 10.1/16 > 10.1.2/24, and 10.2/16 beside 10.1/16.
  t.Build({{0x0A010200u, 24, 30}, {0x0A000000u, 8, 10}, {0x0A010000u, 16, 20}, {0x0A020000u, 16, 21}});
  const auto values = [&t](uint32_t a) {
    const std::span<const uint32_t> s = t.Covering(a);
    return std::vector<uint32_t>(s.begin(), s.end());
  };
  EXPECT_EQ(values(0x0A010203u), (std::vector<uint32_t>{30, 20, 10}));
  EXPECT_EQ(values(0x0A0103FFu), (std::vector<uint32_t>{20, 10}));
  EXPECT_EQ(values(0x0A020000u), (std::vector<uint32_t>{21, 10}));
  EXPECT_EQ(values(0x0A030000u), (std::vector<uint32_t>{10}));
  EXPECT_EQ(values(0x0B000000u), (std::vector<uint32_t>{}));
  EXPECT_EQ(values(0), (std::vector<uint32_t>{}));
}

TEST(Cidr4TableTest, MatchesLinearScanOnRandomNestedSets) {
  std::mt19937 rng(5);
  for (int round = 0; round < 20; ++round) {
    std::set<std::pair<uint32_t, int>> distinct;
    std::vector<Cidr4Table::Prefix> prefixes;
    const uint32_t base = static_cast<uint32_t>(rng());
    for (int i = 0; i < 300; ++i) {
      const int len = static_cast<int>(rng() % 33);
      const uint32_t a = base ^ (static_cast<uint32_t>(rng()) & ((1u << (rng() % 24)) - 1));
      const uint32_t masked = len == 0 ? 0 : a & (~0u << (32 - len));
      if (distinct.insert({masked, len}).second) {
        prefixes.push_back({masked, static_cast<uint8_t>(len), static_cast<uint32_t>(i)});
      }
    }
    Cidr4Table t;
    t.Build(prefixes);
    for (int i = 0; i < 2000; ++i) {
      const uint32_t addr = i % 2 == 0 ? base ^ (static_cast<uint32_t>(rng()) & 0xFFFFFF) : static_cast<uint32_t>(rng());
      Got want;
      for (const auto& p : prefixes) {
        const uint32_t mask = p.length == 0 ? 0 : ~0u << (32 - p.length);
        if ((addr & mask) == p.address) want.emplace_back(p.length, p.value);
      }
      std::sort(want.begin(), want.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
      ASSERT_EQ(Covering(t, addr), want) << round << " " << addr;
      // The span form: the same values, same order.
      const std::span<const uint32_t> values = t.Covering(addr);
      ASSERT_EQ(values.size(), want.size());
      for (size_t k = 0; k < want.size(); ++k) ASSERT_EQ(values[k], want[k].second) << round << " " << addr;
    }
  }
}

}  // namespace
}  // namespace iocd
