#include "common/huge_pages.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <vector>

namespace iocd {
namespace {

TEST(HugePagesTest, ReserveHugeReservesAndKeepsContentsUsable) {
  std::vector<uint64_t> v;
  ReserveHuge(&v, 1 << 20);  // 8 MiB: large enough to be advised
  ASSERT_GE(v.capacity(), size_t{1} << 20);
  const uint64_t* storage = v.data();
  v.resize(1 << 20);
  std::iota(v.begin(), v.end(), uint64_t{0});
  EXPECT_EQ(v.data(), storage);  // no reallocation
  EXPECT_EQ(v[12345], 12345u);
  EXPECT_EQ(v.back(), (uint64_t{1} << 20) - 1);
}

TEST(HugePagesTest, ReserveHugeOnANonEmptyVectorIsAPlainReserve) {
  std::vector<int> v = {1, 2, 3};
  ReserveHuge(&v, 100);
  EXPECT_GE(v.capacity(), 100u);
  EXPECT_EQ(v, (std::vector<int>{1, 2, 3}));
}

TEST(HugePagesTest, AdviceOnSmallOrNullRangesIsHarmless) {
  AdviseHugePages(nullptr, 1 << 30);
  int x = 7;
  AdviseHugePages(&x, sizeof(x));
  EXPECT_EQ(x, 7);
}

TEST(HugePageAllocatorTest, SmallAndLargeBuffersHoldTheirContents) {
  HugeVector<uint32_t> small(100);
  std::iota(small.begin(), small.end(), 0u);
  EXPECT_EQ(small[99], 99u);

  // 4 MiB: a huge-page candidate, aligned to 2 MiB.
  HugeVector<uint32_t> large(size_t{1} << 20);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(large.data()) % HugePageAllocator<uint32_t>::kHugePage, 0u);
  std::iota(large.begin(), large.end(), 7u);
  // Growth across the threshold copies everything.
  small.resize(size_t{1} << 20, 5u);
  EXPECT_EQ(small[99], 99u);
  EXPECT_EQ(small[100], 5u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small.data()) % HugePageAllocator<uint32_t>::kHugePage, 0u);
  large.resize(10);
  large.shrink_to_fit();
  EXPECT_EQ(large.size(), 10u);
  EXPECT_EQ(large[9], 16u);
}

TEST(HugePageAllocatorTest, SmallBuffersKeepTheElementsAlignment) {
  struct alignas(64) Line {
    uint32_t words[16];
  };
  for (const size_t n : {size_t{1}, size_t{3}, size_t{100}}) {
    HugeVector<Line> lines(n);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(lines.data()) % 64, 0u) << n;
    lines.back().words[15] = 9;
    EXPECT_EQ(lines[n - 1].words[15], 9u);
  }
}

}  // namespace
}  // namespace iocd
