#include "match/fixed_key_table.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace iocd {
namespace {

std::string Key4(uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }

std::vector<uint32_t> FeedsOf(const FixedKeyTable& t, const std::string& key) {
  FixedKeyTable::Hit hit;
  if (!t.Find(key, &hit)) return {};
  EXPECT_EQ(hit.key, key);
  return std::vector<uint32_t>(hit.feeds.begin(), hit.feeds.end());
}

TEST(FixedKeyTableTest, AddMergesDuplicatesAndSortsFeedLists) {
  FixedKeyTable t;
  t.SetKeySize(4);
  EXPECT_TRUE(t.Add(Key4(1), 5));
  EXPECT_FALSE(t.Add(Key4(1), 5));
  EXPECT_FALSE(t.Add(Key4(1), 3));
  EXPECT_FALSE(t.Add(Key4(1), 5));  // not adjacent to the first 5: Finish removes it
  EXPECT_TRUE(t.Add(Key4(2), 0x80000001u));  // too big to sit inline
  EXPECT_TRUE(t.Add(Key4(3), 7));
  t.Finish();
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(FeedsOf(t, Key4(1)), (std::vector<uint32_t>{3, 5}));
  EXPECT_EQ(FeedsOf(t, Key4(2)), (std::vector<uint32_t>{0x80000001u}));
  EXPECT_EQ(FeedsOf(t, Key4(3)), (std::vector<uint32_t>{7}));
  EXPECT_EQ(FeedsOf(t, Key4(4)), (std::vector<uint32_t>{}));
  EXPECT_EQ(FeedsOf(t, "12345"), (std::vector<uint32_t>{}));  // wrong size
}

TEST(FixedKeyTableTest, EmptyTableFindsNothing) {
  FixedKeyTable t;
  t.SetKeySize(16);
  t.Finish();
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.Home(std::string(16, 'a')), nullptr);
  EXPECT_FALSE(t.searchable(std::string(16, 'a')));
  EXPECT_EQ(FeedsOf(t, std::string(16, 'a')), (std::vector<uint32_t>{}));
}

// Many keys through several growth steps: every key keeps exactly its feeds, and the
// finished table is sized for the final count (load <= 0.7), not for the growth steps.
TEST(FixedKeyTableTest, GrowthKeepsEveryKeyAndItsFeeds) {
  std::mt19937 rng(11);
  std::map<std::string, std::set<uint32_t>> truth;
  FixedKeyTable t;
  t.SetKeySize(20);
  for (int i = 0; i < 20000; ++i) {
    std::string key(20, '\0');
    const uint32_t k = rng() % 5000;  // about four pairs per key
    std::memcpy(key.data(), &k, 4);
    const uint32_t feed = rng() % 4;
    t.Add(key, feed);
    truth[key].insert(feed);
  }
  t.Finish();
  ASSERT_EQ(t.size(), truth.size());
  for (const auto& [key, feeds] : truth) {
    ASSERT_EQ(FeedsOf(t, key), std::vector<uint32_t>(feeds.begin(), feeds.end()));
  }
  // Slots: n + 3n/7 + 1 of 24 bytes (20 key bytes and a feed reference) and a 2-byte tag
  // each; lists: [count, feeds...] per key with several feeds, in a vector grown by
  // push_back (at most 2x).
  const size_t n = truth.size();
  const size_t slots = (n + n * 3 / 7 + 1) * (24 + 2);
  size_t list_words = 0;
  for (const auto& [key, feeds] : truth) list_words += feeds.size() > 1 ? 1 + feeds.size() : 0;
  EXPECT_GE(t.ApproximateMemoryUsage(), slots + list_words * 4);
  EXPECT_LE(t.ApproximateMemoryUsage(), slots + 2 * list_words * 4);
}

// The stepwise lookup (HashOf, FirstTagMatch, FindHashed) agrees with Find for present
// keys, absent keys and keys whose 16-bit tags collide with present ones.
TEST(FixedKeyTableTest, StepwiseFindAgreesWithFind) {
  FixedKeyTable t;
  t.SetKeySize(4);
  std::vector<std::string> keys;
  for (uint32_t k = 0; k < 3000; ++k) {
    std::string key(4, '\0');
    std::memcpy(key.data(), &k, 4);
    t.Add(key, k % 3);
    keys.push_back(key);
  }
  t.Finish();
  size_t found = 0;
  for (uint32_t k = 0; k < 200000; ++k) {  // 3000 present, the rest absent
    std::string key(4, '\0');
    std::memcpy(key.data(), &k, 4);
    ASSERT_TRUE(t.searchable(key));
    const uint64_t h = t.HashOf(key);
    FixedKeyTable::Hit a, b;
    const bool in_a = t.Find(key, &a);
    const bool in_b = t.FindHashed(key, h, &b);
    ASSERT_EQ(in_a, k < 3000) << k;
    ASSERT_EQ(in_b, in_a) << k;
    if (in_a) {
      ++found;
      ASSERT_EQ(a.key, key);
      ASSERT_EQ(b.key, key);
      ASSERT_EQ(std::vector<uint32_t>(b.feeds.begin(), b.feeds.end()), std::vector<uint32_t>{k % 3});
      ASSERT_NE(t.FirstTagMatch(h), FixedKeyTable::kNoSlot);
    }
  }
  EXPECT_EQ(found, 3000u);
}

}  // namespace
}  // namespace iocd
