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

// Domain names are hashed label by label, 8 bytes at a time, through a padded copy when
// they are at most 64 bytes long and in place when longer; LookupBatch probes up to 8
// label suffixes per name itself and leaves longer names to Lookup. Names around each of
// those limits must match exactly their listed suffixes, by Lookup and by LookupBatch.
TEST(DomainMatchLimitsTest, LongNamesManyLabelsAndWordBoundariesMatchTheirListedSuffixes) {
  const std::string long_name = std::string(50, 'l') + "." + std::string(20, 'm') + ".evil-example.com";
  const std::string nine_labels = "b1234567.c.d.e.f.g.h.i.evil-example.com";
  const auto index = BuildIndex({{"evil-example.com", 1},
                                 {"abcdefgh.evil-example.com", 2},  // an 8-byte label
                                 {nine_labels, 3},
                                 {long_name, 4},
                                 {"x2345678901234567.evil-example.com", 5}});  // 17 bytes
  const std::string evil = "domain evil-example.com [1]";
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"evil-example.com", {evil}},
      {long_name, {"domain " + long_name + " [4]", evil}},
      {"w." + long_name, {"domain " + long_name + " [4]", evil}},
      {std::string(100, 'w') + "." + long_name, {"domain " + long_name + " [4]", evil}},
      {"q.abcdefgh.evil-example.com", {"domain abcdefgh.evil-example.com [2]", evil}},
      {"bcdefgh.evil-example.com", {evil}},
      {"aabcdefgh.evil-example.com", {evil}},
      {"z.y." + nine_labels, {"domain " + nine_labels + " [3]", evil}},  // 11 labels
      {nine_labels, {"domain " + nine_labels + " [3]", evil}},
      {"c.d.e.f.g.h.i.evil-example.com", {evil}},  // 8 labels
      {"x2345678901234567.evil-example.com", {"domain x2345678901234567.evil-example.com [5]", evil}},
      {"x234567890123456.evil-example.com", {evil}},
      {std::string(47, 'a') + ".evil-example.com", {evil}},  // 64 bytes
      {std::string(48, 'a') + ".evil-example.com", {evil}},  // 65 bytes
      {std::string(63, 'a') + ".evil-example.com", {evil}},
      {"x..evil-example.com", {evil}},
      {".evil-example.com", {evil}},
      {"evil-example.co", {}},
      {"vil-example.com", {}},
      {"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.0.1.2.3.4.5.6.7.8.9.evil-example.com", {evil}},
  };
  std::vector<Indicator> observables;
  for (const auto& [name, want] : cases) {
    observables.push_back(Indicator{IndicatorType::kDomain, name});
    EXPECT_EQ(LookupText(*index, observables.back()), want) << name;
  }
  // Twice over, so the batch holds more probes than one group takes.
  observables.insert(observables.end(), observables.begin(), observables.end());
  std::vector<IndexMatch> batch;
  std::vector<size_t> ends;
  index->LookupBatch(observables, &batch, &ends);
  ASSERT_EQ(ends.size(), observables.size());
  for (size_t i = 0, begin = 0; i < observables.size(); begin = ends[i], ++i) {
    const std::vector<IndexMatch> slice(batch.begin() + static_cast<std::ptrdiff_t>(begin),
                                        batch.begin() + static_cast<std::ptrdiff_t>(ends[i]));
    EXPECT_EQ(testutil::Describe(slice), LookupText(*index, observables[i])) << observables[i].key;
  }
}

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
