// Hash matching semantics, table-driven: MD5, SHA1, SHA256, SHA512, case-insensitive hex,
// matched on the binary digest and the type (same bytes of another type never match).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "match/match_test_util.h"

namespace iocd {
namespace {

using testutil::BuildIndex;
using testutil::LookupText;
using testutil::MatchCase;

const std::string kMd5 = "d41d8cd98f00b204e9800998ecf8427e";
const std::string kSha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
const std::string kSha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const std::string kSha512 =
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
const std::string kUpperSha512 =
    "CF83E1357EEFB8BDF1542850D66D8007D620E4050B5715DC83F4A921D36CE9CE"
    "47D0D13C5D85F2B0FF8318D2877EEC2F63B931BD47417A81A538327AF927DA3E";

class HashMatchTest : public testing::TestWithParam<MatchCase> {};

TEST_P(HashMatchTest, MatchesDigestOfSameType) {
  static const auto index = BuildIndex({{kMd5, 1}, {kSha1, 2}, {kSha256, 3}, {kUpperSha512, 4},
                                        {kSha512, 5}, {"00000000000000000000000000000000", 6}});
  EXPECT_EQ(LookupText(*index, GetParam().observable), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, HashMatchTest,
    testing::Values(MatchCase{kMd5, {"md5 " + kMd5 + " [1]"}},
                    MatchCase{"D41D8CD98F00B204E9800998ECF8427E", {"md5 " + kMd5 + " [1]"}},
                    MatchCase{kSha1, {"sha1 " + kSha1 + " [2]"}},
                    MatchCase{kSha256, {"sha256 " + kSha256 + " [3]"}},
                    MatchCase{kSha512, {"sha512 " + kSha512 + " [4,5]"}},
                    MatchCase{kUpperSha512, {"sha512 " + kSha512 + " [4,5]"}},
                    MatchCase{"00000000000000000000000000000000", {"md5 00000000000000000000000000000000 [6]"}},
                    MatchCase{"d41d8cd98f00b204e9800998ecf8427f", {}},
                    MatchCase{"da39a3ee5e6b4b0d3255bfef95601890afd80708", {}}));

TEST(HashMatchTest, SameBytesOfAnotherTypeDoNotMatch) {
  // A SHA256 digest whose first 16 bytes equal an indexed MD5: no cross-type match.
  const auto index = BuildIndex({{kMd5, 1}});
  std::string key = ParseIndicator(kMd5)->key;
  EXPECT_TRUE(LookupText(*index, Indicator{IndicatorType::kSha1, key + "0000"}).empty());
  EXPECT_TRUE(LookupText(*index, Indicator{IndicatorType::kSha256, key + key}).empty());
  EXPECT_TRUE(LookupText(*index, Indicator{IndicatorType::kSha512, key + key + key + key}).empty());
  // A key of the wrong size matches nothing and does not crash.
  EXPECT_TRUE(LookupText(*index, Indicator{IndicatorType::kMd5, key.substr(0, 15)}).empty());
}

TEST(HashMatchTest, DigestSharingAPrefixWithAnIndicatorDoesNotMatch) {
  // Observables equal to an indexed digest in all but one byte (the first, one in the
  // middle, the last): a table keyed or bucketed by a prefix (a fingerprint) must still
  // compare whole digests. Checked with Lookup and LookupBatch, beside a true hit.
  const std::string want = "sha512 " + kSha512 + " [5]";
  std::vector<std::string> indexed = {kSha512};
  for (int i = 0; i < 2000; ++i) {  // neighbours in a large table, same first 32 bytes
    char tail[33];
    std::snprintf(tail, sizeof(tail), "%032x", i * 7919);
    indexed.push_back(kSha512.substr(0, 96) + tail);
  }
  std::vector<testutil::Listed> listed;
  for (size_t i = 0; i < indexed.size(); ++i) listed.push_back({indexed[i], i == 0 ? 5u : 6u});
  const auto index = BuildIndex(listed);
  const std::string key = ParseIndicator(kSha512)->key;
  std::vector<Indicator> observables = {Indicator{IndicatorType::kSha512, key}};
  for (const size_t at : {size_t{0}, size_t{31}, size_t{32}, size_t{63}}) {
    std::string near = key;
    near[at] = static_cast<char>(near[at] ^ 0x01);
    observables.push_back(Indicator{IndicatorType::kSha512, near});
  }
  EXPECT_EQ(LookupText(*index, observables[0]), std::vector<std::string>{want});
  for (size_t i = 1; i < observables.size(); ++i) {
    EXPECT_TRUE(LookupText(*index, observables[i]).empty()) << "byte flipped: observable " << i;
  }
  std::vector<IndexMatch> out;
  std::vector<size_t> ends;
  index->LookupBatch(observables, &out, &ends);
  ASSERT_EQ(ends, (std::vector<size_t>{1, 1, 1, 1, 1}));
  EXPECT_EQ(testutil::Describe(out), std::vector<std::string>{want});
}

}  // namespace
}  // namespace iocd
