#include "extract/chunk_classifier.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace iocd {
namespace {

constexpr ChunkIsa kAllIsas[] = {ChunkIsa::kPortable, ChunkIsa::kSse2, ChunkIsa::kSsse3,
                                 ChunkIsa::kAvx2, ChunkIsa::kAvx512};

// Restores the implementation a test switched away from.
class IsaGuard {
 public:
  IsaGuard() : saved_(ActiveChunkIsa()) {}
  ~IsaGuard() { EXPECT_TRUE(SetChunkIsaForTesting(saved_)); }

 private:
  ChunkIsa saved_;
};

ChunkMasks Classify(ChunkIsa isa, std::string_view bytes) {
  IsaGuard guard;
  EXPECT_TRUE(SetChunkIsaForTesting(isa));
  ChunkMasks m;
  ClassifyChunk(bytes.data(), bytes.size(), &m);
  return m;
}

TEST(ChunkClassifierTest, TokenBytesAreTheDocumentedOnes) {
  const std::string_view separators = "\"'()<>[]{},;|\\^` \t\r\n";
  for (int c = 0; c < 256; ++c) {
    auto u = static_cast<unsigned char>(c);
    bool want = u > 0x20 && u < 0x7f && separators.find(static_cast<char>(u)) == std::string_view::npos;
    EXPECT_EQ(IsExtractTokenByte(u), want) << c;
  }
}

TEST(ChunkClassifierTest, PortableMasksByHand) {
  //                       0123456789
  const std::string text = "a.b:c=/?#@ 0fF\xff";
  ChunkMasks m = Classify(ChunkIsa::kPortable, text);
  EXPECT_EQ(m.nontoken, (uint64_t{1} << 10) | (uint64_t{1} << 14) | (~uint64_t{0} << 15));
  EXPECT_EQ(m.dotcolon, 0b1010u);
  EXPECT_EQ(m.hex, (1u << 0) | (1u << 2) | (1u << 4) | (1u << 11) | (1u << 12) | (1u << 13));
  EXPECT_EQ(m.equals, 1u << 5);
  EXPECT_EQ(m.pathstart, (1u << 6) | (1u << 7));
  EXPECT_EQ(m.hash, 1u << 8);
  EXPECT_EQ(m.colonat, (1u << 3) | (1u << 9));
  EXPECT_EQ(m.digit, 1u << 11);
}

TEST(ChunkClassifierTest, EveryIsaGivesThePortableMasks) {
  std::vector<ChunkIsa> isas;
  for (ChunkIsa isa : kAllIsas) {
    if (ChunkIsaAvailable(isa)) isas.push_back(isa);
  }
#if defined(__x86_64__)
  ASSERT_GE(isas.size(), 2u);  // SSE2 is the x86-64 baseline
#endif
  // Every byte value at every position, then random chunks of every length.
  std::string filler(kChunk, 'x');
  for (int c = 0; c < 256; ++c) {
    for (size_t at = 0; at < kChunk; ++at) {
      std::string bytes = filler;
      bytes[at] = static_cast<char>(c);
      ChunkMasks want = Classify(ChunkIsa::kPortable, bytes);
      for (ChunkIsa isa : isas) {
        ASSERT_TRUE(Classify(isa, bytes) == want) << "isa " << static_cast<int>(isa) << " byte " << c;
      }
    }
  }
  std::mt19937 rng(7);
  const std::string_view likely = "..::==//??##@@0fFaz \t\"\xff";
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<size_t> pick(0, likely.size() - 1);
  for (int round = 0; round < 3000; ++round) {
    // A buffer with bytes on both sides of the chunk: they must not count.
    std::string buffer(kChunk + 2, '\0');
    for (char& ch : buffer) ch = (byte(rng) & 1) ? static_cast<char>(byte(rng)) : likely[pick(rng)];
    for (size_t n = 0; n <= kChunk; ++n) {
      std::string_view chunk = std::string_view(buffer).substr(1, n);
      ChunkMasks want = Classify(ChunkIsa::kPortable, chunk);
      if (n < kChunk) {
        ASSERT_EQ(want.nontoken >> n, ~uint64_t{0} >> n);
      }
      for (ChunkIsa isa : isas) {
        ASSERT_TRUE(Classify(isa, chunk) == want) << "isa " << static_cast<int>(isa) << " n " << n;
      }
    }
  }
}

TEST(ChunkClassifierTest, StartsWithTheBestAvailable) {
  EXPECT_TRUE(ChunkIsaAvailable(BestChunkIsa()));
  EXPECT_TRUE(ChunkIsaAvailable(ActiveChunkIsa()));
  EXPECT_FALSE(SetChunkIsaForTesting(static_cast<ChunkIsa>(99)));
}

}  // namespace
}  // namespace iocd
