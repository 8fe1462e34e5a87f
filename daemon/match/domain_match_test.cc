// Domain matching semantics, table-driven: case, trailing dot, IDN on both sides, whole-label
// subdomains, public suffixes refused as indicators but fine as observables.
#include <gtest/gtest.h>

#include "match/match_test_util.h"

namespace iocd {
namespace {

using testutil::BuildIndex;
using testutil::LookupText;
using testutil::MatchCase;

const std::vector<testutil::Listed> kDomainIndicators = {
    {"evil.com", 1},        {"EVIL.com.", 2},  // one indicator, two feeds
    {"a.b.evil.com", 3},    {"evil.co.uk", 4}, {"bücher.de", 5},
    {"xn--e1afmkfd.xn--p1ai", 6},  // пример.рф, listed in punycode
    {"sub.dyn.example", 7},
};

class DomainMatchTest : public testing::TestWithParam<MatchCase> {};

TEST_P(DomainMatchTest, MatchesNameAndParentsOnLabelBoundaries) {
  static const auto index = BuildIndex(kDomainIndicators);
  EXPECT_EQ(LookupText(*index, GetParam().observable), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, DomainMatchTest,
    testing::Values(MatchCase{"evil.com", {"domain evil.com [1,2]"}},
                    MatchCase{"EVIL.COM.", {"domain evil.com [1,2]"}},
                    MatchCase{"x.evil.com", {"domain evil.com [1,2]"}},
                    MatchCase{"a.b.evil.com", {"domain a.b.evil.com [3]", "domain evil.com [1,2]"}},
                    MatchCase{"z.A.B.Evil.Com", {"domain a.b.evil.com [3]", "domain evil.com [1,2]"}},
                    MatchCase{"b.evil.com", {"domain evil.com [1,2]"}},
                    MatchCase{"notevil.com", {}},
                    MatchCase{"evil.com.au", {}},
                    MatchCase{"evil.co", {}},
                    MatchCase{"co.uk", {}},  // a public suffix as an observable: no match
                    MatchCase{"www.evil.co.uk", {"domain evil.co.uk [4]"}},
                    MatchCase{"xn--bcher-kva.de", {"domain xn--bcher-kva.de [5]"}},
                    MatchCase{"shop.BÜCHER.de", {"domain xn--bcher-kva.de [5]"}},
                    MatchCase{"buecher.de", {}},
                    MatchCase{"пример.рф", {"domain xn--e1afmkfd.xn--p1ai [6]"}},
                    MatchCase{"www.ПРИМЕР.рф", {"domain xn--e1afmkfd.xn--p1ai [6]"}},
                    MatchCase{"dyn.example", {}},
                    MatchCase{"x.sub.dyn.example", {"domain sub.dyn.example [7]"}}));

TEST(DomainIndicatorTest, PublicSuffixesAreRefusedAtLoad) {
  for (std::string_view suffix : {"com", "co.uk", "uk", "com.au", "xn--p1ai", "рф"}) {
    Result<Indicator> got = ParseIndicator(suffix);
    EXPECT_FALSE(got.ok()) << suffix;
  }
  Result<Indicator> got = ParseIndicator("co.uk");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message(), "a public suffix (would match a whole registry): 'co.uk'");
}

}  // namespace
}  // namespace iocd
