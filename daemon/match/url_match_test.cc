// URL matching semantics, table-driven: keys normalised on both sides, exact url indicators
// first, then url masks most specific first; host-only masks also match domain observables.
#include <gtest/gtest.h>

#include "match/match_test_util.h"

namespace iocd {
namespace {

using testutil::BuildIndex;
using testutil::LookupText;
using testutil::MatchCase;

const std::vector<testutil::Listed> kUrlIndicators = {
    {"http://evil.com/gate.php", 1},
    {"HTTPS://WWW.EVIL.COM:443/Gate.php#x", 2},  // the same url
    {"evil.com/a/b?x=1", 3},
    {"http://0x7f.1/payload", 4},
    {"*.evil.com/gate/*", 5},
    {"*.evil.com", 6},
    {"evil.com/*", 7},
    {"evil.com/*.php", 8},
    {"evil*.net/x", 9},
    {"1.2.3.*/drop/*", 10},
    {"http://Bücher.de/*", 11},
};

class UrlMatchTest : public testing::TestWithParam<MatchCase> {};

TEST_P(UrlMatchTest, MatchesNormalisedKeyThenMasks) {
  static const auto index = BuildIndex(kUrlIndicators);
  EXPECT_EQ(LookupText(*index, GetParam().observable), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, UrlMatchTest,
    testing::Values(
        MatchCase{"http://evil.com/gate.php",
                  {"url evil.com/gate.php [1,2]", "url-mask evil.com/*.php [8]", "url-mask evil.com/* [7]"}},
        MatchCase{"https://user@WWW.Evil.Com:8443/./x/../Gate.php#frag",
                  {"url evil.com/gate.php [1,2]", "url-mask evil.com/*.php [8]", "url-mask evil.com/* [7]"}},
        MatchCase{"http://evil.com/a/b?X=%31", {"url evil.com/a/b?x=1 [3]", "url-mask evil.com/* [7]"}},
        MatchCase{"http://evil.com/a/b", {"url-mask evil.com/* [7]"}},
        MatchCase{"http://evil.com/", {"url-mask evil.com/* [7]"}},
        MatchCase{"http://127.0.0.1/payload", {"url 127.0.0.1/payload [4]"}},
        MatchCase{"http://2130706433/payload", {"url 127.0.0.1/payload [4]"}},
        MatchCase{"http://x.evil.com/gate/a.php",
                  {"url-mask *.evil.com/gate/* [5]", "url-mask *.evil.com [6]"}},
        MatchCase{"http://a.b.evil.com/other", {"url-mask *.evil.com [6]"}},
        MatchCase{"http://notevil.com/gate/a.php", {}},
        MatchCase{"http://evil.com.example/gate/a", {}},
        MatchCase{"http://evil1.net/x", {"url-mask evil*.net/x [9]"}},
        MatchCase{"http://evil1.net/y", {}},
        MatchCase{"http://1.2.3.99/drop/a.exe", {"url-mask 1.2.3.*/drop/* [10]"}},
        MatchCase{"http://1.2.4.99/drop/a.exe", {}},
        MatchCase{"http://shop.bücher.de/a", {}},
        MatchCase{"http://BÜCHER.de/a", {"url-mask xn--bcher-kva.de/* [11]"}},
        // Domain observables (a DNS query, a URL's host) meet host-only masks.
        MatchCase{"x.evil.com", {"url-mask *.evil.com [6]"}},
        MatchCase{"evil.com", {}}));

TEST(UrlMatchTest, UrlObservableDoesNotMatchDomainIndicatorsByItself) {
  // The extractor emits a URL's host as its own observable (extractor.h); the index looks a
  // url observable up as a url only.
  const auto index = BuildIndex({{"evil.com", 1}, {"1.2.3.4", 2}});
  EXPECT_TRUE(LookupText(*index, "http://evil.com/a").empty());
  EXPECT_TRUE(LookupText(*index, "http://1.2.3.4/a").empty());
  EXPECT_EQ(LookupText(*index, "www.evil.com"), (std::vector<std::string>{"domain evil.com [1]"}));
}

TEST(UrlMatchTest, MasksAreNotObservables) {
  const auto index = BuildIndex({{"*.evil.com", 1}});
  EXPECT_TRUE(LookupText(*index, Indicator{IndicatorType::kUrlMask, "*.evil.com"}).empty());
}

TEST(UrlMatchTest, BuilderRejectsMaskKeyWithoutStar) {
  IndexBuilder builder;
  EXPECT_FALSE(builder.Add(Indicator{IndicatorType::kUrlMask, "evil.com/x"}, 1).ok());
  EXPECT_FALSE(builder.Add(Indicator{IndicatorType::kUrlMask, ""}, 1).ok());
  EXPECT_EQ(builder.size(), 0u);
}

}  // namespace
}  // namespace iocd
