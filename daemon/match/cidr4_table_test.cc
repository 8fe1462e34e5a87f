#include "match/cidr4_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
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

// The batch form answers ChainOf for every address, whatever the count (shorter and longer
// than its pipeline, so every step's start and end), calling `found` once per address, in
// order, with the same chain.
void ExpectFindChainsEqualsChainOf(const Cidr4Table& t, const std::vector<uint32_t>& addresses) {
  for (const size_t n : {size_t{0}, size_t{1}, size_t{5}, size_t{17}, size_t{40}, addresses.size()}) {
    const std::span<const uint32_t> some = std::span<const uint32_t>(addresses).first(std::min(n, addresses.size()));
    std::vector<uint32_t> chains(some.size(), 0xDEADBEEF);
    std::vector<std::pair<size_t, uint32_t>> found;
    t.FindChains(some, chains.data(), [&found](size_t j, uint32_t chain) { found.emplace_back(j, chain); });
    ASSERT_EQ(found.size(), some.size());
    for (size_t j = 0; j < some.size(); ++j) {
      ASSERT_EQ(chains[j], t.ChainOf(some[j])) << j << " of " << some.size();
      ASSERT_EQ(found[j], std::make_pair(j, chains[j]));
    }
  }
}

// The reference: every prefix covering `addr`, longest first.
Got LinearScan(const std::vector<Cidr4Table::Prefix>& prefixes, uint32_t addr) {
  Got want;
  for (const auto& p : prefixes) {
    const uint32_t mask = p.length == 0 ? 0 : ~0u << (32 - p.length);
    if ((addr & mask) == p.address) want.emplace_back(p.length, p.value);
  }
  std::sort(want.begin(), want.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  return want;
}

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
    std::vector<uint32_t> addresses;
    for (int i = 0; i < 2000; ++i) {
      const uint32_t addr = i % 2 == 0 ? base ^ (static_cast<uint32_t>(rng()) & 0xFFFFFF) : static_cast<uint32_t>(rng());
      addresses.push_back(addr);
      const Got want = LinearScan(prefixes, addr);
      ASSERT_EQ(Covering(t, addr), want) << round << " " << addr;
      // The span form: the same values, same order.
      const std::span<const uint32_t> values = t.Covering(addr);
      ASSERT_EQ(values.size(), want.size());
      for (size_t k = 0; k < want.size(); ++k) ASSERT_EQ(values[k], want[k].second) << round << " " << addr;
    }
    ExpectFindChainsEqualsChainOf(t, addresses);
  }
}

TEST(Cidr4TableTest, EmptyTableCoversNothing) {
  Cidr4Table t;
  t.Build({});
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.ApproximateMemoryUsage(), sizeof(uint32_t) + 1);  // the shared empty chain
  for (const uint32_t a : {0u, 1u, 0x7FFFFFFFu, 0xFFFFFFFFu}) {
    EXPECT_TRUE(Covering(t, a).empty());
    EXPECT_TRUE(t.Covering(a).empty());
    EXPECT_EQ(t.ChainOf(a), 0u);
  }
  ExpectFindChainsEqualsChainOf(t, {0u, 1u, 0x7FFFFFFFu, 0xFFFFFFFFu});
}

TEST(Cidr4TableTest, SlashZeroAloneCoversEveryAddress) {
  Cidr4Table t;
  t.Build({{0, 0, 7}});
  for (const uint32_t a : {0u, 0xFFFFu, 0x10000u, 0x7FFFFFFFu, 0xFFFF0000u, 0xFFFFFFFFu}) {
    EXPECT_EQ(Covering(t, a), (Got{{0, 7}})) << a;
  }
}

TEST(Cidr4TableTest, BlockBoundariesAndSlashThirtyTwos) {
  Cidr4Table t;
  // 10.1/16 (the base chain of four /18 blocks) with a /17 in its upper half and /32s at
  // both of its ends; 10.2.255.255/32 at the very end of a block; 0.0.0.0/32 and
  // 255.255.255.255/32 at the ends of the address space.
  t.Build({{0x0A010000u, 16, 1},
           {0x0A018000u, 17, 2},
           {0x0A010000u, 32, 3},
           {0x0A01FFFFu, 32, 4},
           {0x0A02FFFFu, 32, 5},
           {0x00000000u, 32, 6},
           {0xFFFFFFFFu, 32, 7}});
  EXPECT_EQ(Covering(t, 0x0A00FFFFu), (Got{}));
  EXPECT_EQ(Covering(t, 0x0A010000u), (Got{{32, 3}, {16, 1}}));
  EXPECT_EQ(Covering(t, 0x0A010001u), (Got{{16, 1}}));
  EXPECT_EQ(Covering(t, 0x0A017FFFu), (Got{{16, 1}}));
  EXPECT_EQ(Covering(t, 0x0A018000u), (Got{{17, 2}, {16, 1}}));
  EXPECT_EQ(Covering(t, 0x0A01FFFEu), (Got{{17, 2}, {16, 1}}));
  EXPECT_EQ(Covering(t, 0x0A01FFFFu), (Got{{32, 4}, {17, 2}, {16, 1}}));
  EXPECT_EQ(Covering(t, 0x0A020000u), (Got{}));
  EXPECT_EQ(Covering(t, 0x0A02FFFEu), (Got{}));
  EXPECT_EQ(Covering(t, 0x0A02FFFFu), (Got{{32, 5}}));
  EXPECT_EQ(Covering(t, 0x0A030000u), (Got{}));
  EXPECT_EQ(Covering(t, 0u), (Got{{32, 6}}));
  EXPECT_EQ(Covering(t, 1u), (Got{}));
  EXPECT_EQ(Covering(t, 0xFFFFFFFEu), (Got{}));
  EXPECT_EQ(Covering(t, 0xFFFFFFFFu), (Got{{32, 7}}));
}

TEST(Cidr4TableTest, ShortPrefixesSpanningManyBlocks) {
  Cidr4Table t;
  // 10/8 covers 256 blocks; 10.128/9 nests; a /15 and a /24 inside it.
  t.Build({{0x0A000000u, 8, 1}, {0x0A800000u, 9, 2}, {0x0A820000u, 15, 3}, {0x0A830500u, 24, 4}});
  EXPECT_EQ(Covering(t, 0x09FFFFFFu), (Got{}));
  EXPECT_EQ(Covering(t, 0x0A000000u), (Got{{8, 1}}));
  EXPECT_EQ(Covering(t, 0x0A7FFFFFu), (Got{{8, 1}}));
  EXPECT_EQ(Covering(t, 0x0A800000u), (Got{{9, 2}, {8, 1}}));
  EXPECT_EQ(Covering(t, 0x0A81FFFFu), (Got{{9, 2}, {8, 1}}));
  EXPECT_EQ(Covering(t, 0x0A820000u), (Got{{15, 3}, {9, 2}, {8, 1}}));
  EXPECT_EQ(Covering(t, 0x0A830500u), (Got{{24, 4}, {15, 3}, {9, 2}, {8, 1}}));
  EXPECT_EQ(Covering(t, 0x0A8305FFu), (Got{{24, 4}, {15, 3}, {9, 2}, {8, 1}}));
  EXPECT_EQ(Covering(t, 0x0A830600u), (Got{{15, 3}, {9, 2}, {8, 1}}));
  EXPECT_EQ(Covering(t, 0x0A840000u), (Got{{9, 2}, {8, 1}}));
  EXPECT_EQ(Covering(t, 0x0AFFFFFFu), (Got{{9, 2}, {8, 1}}));
  EXPECT_EQ(Covering(t, 0x0B000000u), (Got{}));
}

TEST(Cidr4TableTest, FullyCrowdedBlockStillMatches) {
  // Every /19 to /32 inside 10.1.0.0/18 (32,766 prefixes), the /18 itself and a /24 beside
  // it: all inner prefixes of one /16 block, the most crowded run a table can have.
  std::vector<Cidr4Table::Prefix> prefixes = {{0x0A010000u, 18, 18}, {0x0A014100u, 24, 9}};
  for (int len = 19; len <= 32; ++len) {
    for (uint32_t low = 0; low < (1u << 14); low += 1u << (32 - len)) {
      prefixes.push_back({0x0A010000u | low, static_cast<uint8_t>(len), static_cast<uint32_t>(len)});
    }
  }
  Cidr4Table t;
  t.Build(prefixes);
  EXPECT_EQ(t.size(), 32768u);
  Got all;
  for (int len = 32; len >= 18; --len) all.emplace_back(len, static_cast<uint32_t>(len));
  for (const uint32_t a : {0x0A010000u, 0x0A010001u, 0x0A011234u, 0x0A013FFEu, 0x0A013FFFu}) {
    EXPECT_EQ(Covering(t, a), all) << a;
  }
  EXPECT_EQ(Covering(t, 0x0A00FFFFu), (Got{}));
  EXPECT_EQ(Covering(t, 0x0A014000u), (Got{}));
  EXPECT_EQ(Covering(t, 0x0A014100u), (Got{{24, 9}}));
}

TEST(Cidr4TableTest, MatchesLinearScanAcrossBlockBoundaries) {
  // Random prefixes of every length around a few block boundaries (multiples of 2^16: a
  // table this small has /16 blocks), checked at and next to every prefix's first and last
  // address. The blocks near the centre hold far more prefixes than a line, so their runs
  // are searched.
  std::mt19937 rng(11);
  for (int round = 0; round < 10; ++round) {
    std::set<std::pair<uint32_t, int>> distinct;
    std::vector<Cidr4Table::Prefix> prefixes;
    const uint32_t centre = (static_cast<uint32_t>(rng()) & ~0xFFFFu) | (round % 2 == 0 ? 0 : 0xFFFFu);
    for (int i = 0; i < 400; ++i) {
      const int len = static_cast<int>(rng() % 33);
      const uint32_t a = centre + (static_cast<uint32_t>(rng()) % 0x20000u) - 0x10000u;
      const uint32_t masked = len == 0 ? 0 : a & (~0u << (32 - len));
      if (distinct.insert({masked, len}).second) {
        prefixes.push_back({masked, static_cast<uint8_t>(len), static_cast<uint32_t>(i)});
      }
    }
    Cidr4Table t;
    t.Build(prefixes);
    std::vector<uint32_t> probes;
    for (const auto& p : prefixes) {
      const uint32_t last = p.length >= 32 ? p.address : p.address | (0xFFFFFFFFu >> p.length);
      for (const uint32_t a : {p.address - 1, p.address, p.address + 1, last - 1, last, last + 1}) probes.push_back(a);
    }
    for (const uint32_t addr : probes) {
      const Got want = LinearScan(prefixes, addr);
      ASSERT_EQ(Covering(t, addr), want) << round << " " << addr;
    }
  }
}
TEST(Cidr4TableTest, LargeTablesUseSmallerBlocksMostFittingTheirLine) {
  // 400k prefixes with the benchmark's length mix (75% /24, 15% /25-/31, 9% /16-/23, 1%
  // /8-/15): /17 blocks, about three inner prefixes each, so most blocks fit their line
  // and some overflow. Checked against a per-length set at random addresses and at the
  // first and last address of every 100th prefix.
  std::mt19937 rng(3);
  std::set<std::pair<uint32_t, int>> distinct;
  std::vector<Cidr4Table::Prefix> prefixes;
  while (prefixes.size() < 400000) {
    const uint32_t r = rng() % 100;
    const int len = r < 75 ? 24 : r < 90 ? 25 + static_cast<int>(rng() % 7)
                           : r < 99 ? 16 + static_cast<int>(rng() % 8) : 8 + static_cast<int>(rng() % 8);
    const uint32_t masked = static_cast<uint32_t>(rng()) & (~0u << (32 - len));
    if (distinct.insert({masked, len}).second) {
      prefixes.push_back({masked, static_cast<uint8_t>(len), static_cast<uint32_t>(prefixes.size())});
    }
  }
  std::map<std::pair<uint32_t, int>, uint32_t> value_of;
  for (const auto& p : prefixes) value_of[{p.address, p.length}] = p.value;
  const auto reference = [&value_of](uint32_t addr) {
    Got want;
    for (int len = 32; len >= 0; --len) {
      const uint32_t masked = len == 0 ? 0 : addr & (~0u << (32 - len));
      if (const auto it = value_of.find({masked, len}); it != value_of.end()) want.emplace_back(len, it->second);
    }
    return want;
  };
  Cidr4Table t;
  t.Build(prefixes);
  EXPECT_EQ(t.blocks(), size_t{1} << 17);
  EXPECT_GT(t.overflowing_blocks(), 0u);
  EXPECT_LT(t.overflowing_blocks(), t.blocks() / 10);
  std::vector<uint32_t> addresses;
  for (int i = 0; i < 20000; ++i) addresses.push_back(static_cast<uint32_t>(rng()));
  for (size_t i = 0; i < prefixes.size(); i += 100) {
    const Cidr4Table::Prefix& p = prefixes[i];
    addresses.push_back(p.address);
    addresses.push_back(p.length >= 32 ? p.address : p.address | (0xFFFFFFFFu >> p.length));
  }
  size_t covered = 0;
  for (const uint32_t addr : addresses) {
    const Got want = reference(addr);
    ASSERT_EQ(Covering(t, addr), want) << addr;
    if (!want.empty()) ++covered;
  }
  EXPECT_GT(covered, addresses.size() / 2);
  ExpectFindChainsEqualsChainOf(t, addresses);
}

}  // namespace
}  // namespace iocd
