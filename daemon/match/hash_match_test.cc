// Hash matching semantics, table-driven: MD5, SHA1, SHA256, SHA512, case-insensitive hex,
// matched on the binary digest and the type (same bytes of another type never match).
#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace iocd
