#include "iocgen.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "extract/extractor.h"
#include "feeds/feed_parser.h"
#include "match/indicator_index.h"

namespace iocd::iocgen {
namespace {

std::string Indicators(uint64_t count, uint64_t seed) {
  IndicatorGenOptions options;
  options.count = count;
  options.seed = seed;
  std::ostringstream out;
  EXPECT_TRUE(GenerateIndicators(options, out).ok());
  return out.str();
}

std::vector<Indicator> Parse(const std::string& feed) {
  FeedParseResult parsed = ParsePlainFeed(feed);
  EXPECT_THAT(parsed.errors, ::testing::IsEmpty());
  std::vector<Indicator> out;
  for (auto& p : parsed.indicators) out.push_back(p.indicator);
  return out;
}

std::string Logs(const std::vector<Indicator>& set, uint64_t lines, double hit_rate, uint64_t seed,
                 LogGenStats* stats) {
  auto gen = LogGenerator::Create(set, seed);
  EXPECT_TRUE(gen.ok()) << gen.status().message();
  LogGenOptions options;
  options.lines = lines;
  options.hit_rate = hit_rate;
  options.seed = seed;
  std::ostringstream out;
  auto got = (*gen)->Generate(options, out);
  EXPECT_TRUE(got.ok());
  *stats = *got;
  return out.str();
}

TEST(Rng, SameSeedSameSequenceAndBelowInRange) {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs |= x != c.Next();
    EXPECT_LT(a.Below(7), 7u);
    b.Below(7);
    c.Below(7);
  }
  EXPECT_TRUE(differs);
}

TEST(IndicatorMix, ParsesWeightsAndRejectsUnknownTypes) {
  auto mix = IndicatorMix::Parse("ipv4=40,domain=60");
  ASSERT_TRUE(mix.ok());
  EXPECT_EQ(mix->weight[static_cast<size_t>(IndicatorType::kIpv4)], 40);
  EXPECT_EQ(mix->weight[static_cast<size_t>(IndicatorType::kDomain)], 60);
  EXPECT_EQ(mix->weight[static_cast<size_t>(IndicatorType::kUrl)], 0);
  EXPECT_FALSE(IndicatorMix::Parse("email=5").ok());
  EXPECT_FALSE(IndicatorMix::Parse("ipv4").ok());
  EXPECT_FALSE(IndicatorMix::Parse("ipv4=x").ok());
  EXPECT_FALSE(IndicatorMix::Parse("ipv4=0").ok());
}

TEST(GenerateIndicators, DeterministicForASeedAndEveryLineParses) {
  const std::string a = Indicators(5000, 7);
  EXPECT_EQ(a, Indicators(5000, 7));
  EXPECT_NE(a, Indicators(5000, 8));
  EXPECT_EQ(std::count(a.begin(), a.end(), '\n'), 5000);
  FeedParseResult parsed = ParsePlainFeed(a);
  EXPECT_THAT(parsed.errors, ::testing::IsEmpty());
  // IPv4, domains and URLs are distinct by construction; random /16s may repeat.
  EXPECT_GE(parsed.indicators.size(), 4990u);
  std::array<size_t, kTypeSlots> by_type{};
  for (const auto& p : parsed.indicators) ++by_type[static_cast<size_t>(p.indicator.type)];
  for (IndicatorType t : {IndicatorType::kIpv4, IndicatorType::kIpv6, IndicatorType::kCidr4,
                          IndicatorType::kCidr6, IndicatorType::kDomain, IndicatorType::kUrl,
                          IndicatorType::kMd5, IndicatorType::kSha1, IndicatorType::kSha256}) {
    EXPECT_GT(by_type[static_cast<size_t>(t)], 0u) << TypeName(t);
  }
  // 30% ipv4 of 5000 lines: binomial sd ~32.
  EXPECT_NEAR(static_cast<double>(by_type[static_cast<size_t>(IndicatorType::kIpv4)]), 1500, 150);
}

TEST(GenerateIndicators, MixRestrictsTypes) {
  IndicatorGenOptions options;
  options.count = 1000;
  options.mix = *IndicatorMix::Parse("sha256=1");
  std::ostringstream out;
  ASSERT_TRUE(GenerateIndicators(options, out).ok());
  for (const auto& ind : Parse(out.str())) EXPECT_EQ(ind.type, IndicatorType::kSha256);
}

// Counts the lines on which the daemon's extractor + index find a match.
uint64_t MatchingLines(const std::vector<Indicator>& set, const std::string& logs) {
  IndexBuilder builder;
  for (const auto& ind : set) builder.Add(ind, 0).IgnoreError();
  auto index = std::move(builder).Build();
  uint64_t hits = 0;
  std::vector<Observable> obs;
  std::vector<IndexMatch> matches;
  size_t pos = 0;
  while (pos < logs.size()) {
    size_t end = logs.find('\n', pos);
    std::string_view line(logs.data() + pos, end - pos);
    pos = end + 1;
    obs.clear();
    ExtractObservables(line, &obs);
    bool hit = false;
    for (const auto& o : obs) {
      matches.clear();
      index->Lookup(o.indicator, &matches);
      hit |= !matches.empty();
    }
    hits += hit;
  }
  return hits;
}

TEST(LogGenerator, HitLinesAreExactlyTheLinesThatMatch) {
  const auto set = Parse(Indicators(3000, 11));
  LogGenStats stats;
  const std::string logs = Logs(set, 4000, 0.05, 3, &stats);
  EXPECT_EQ(stats.lines, 4000u);
  EXPECT_EQ(stats.bytes, logs.size());
  // 5% of 4000 = 200, binomial sd ~14.
  EXPECT_NEAR(static_cast<double>(stats.hit_lines), 200, 45);
  EXPECT_EQ(MatchingLines(set, logs), stats.hit_lines);
  // Every planted type occurs.
  for (IndicatorType t : {IndicatorType::kIpv4, IndicatorType::kCidr4, IndicatorType::kDomain,
                          IndicatorType::kUrl, IndicatorType::kSha256}) {
    EXPECT_GT(stats.hits_by_type[static_cast<size_t>(t)], 0u) << TypeName(t);
  }
  // Lines average about 300 bytes.
  EXPECT_NEAR(static_cast<double>(logs.size()) / 4000, 300, 60);
}

TEST(LogGenerator, ZeroAndFullHitRate) {
  const auto set = Parse(Indicators(500, 5));
  LogGenStats stats;
  std::string logs = Logs(set, 500, 0.0, 1, &stats);
  EXPECT_EQ(stats.hit_lines, 0u);
  EXPECT_EQ(MatchingLines(set, logs), 0u);
  logs = Logs(set, 500, 1.0, 1, &stats);
  EXPECT_EQ(stats.hit_lines, 500u);
  EXPECT_EQ(MatchingLines(set, logs), 500u);
}

TEST(LogGenerator, DeterministicForASeed) {
  const auto set = Parse(Indicators(1000, 2));
  LogGenStats a, b, c;
  const std::string first = Logs(set, 1000, 0.1, 9, &a);
  EXPECT_EQ(first, Logs(set, 1000, 0.1, 9, &b));
  EXPECT_NE(first, Logs(set, 1000, 0.1, 10, &c));
  EXPECT_EQ(a.hit_lines, b.hit_lines);
}

TEST(LogGenerator, StopsAtByteBudgetAndRejectsBadOptions) {
  const auto set = Parse(Indicators(200, 2));
  auto gen = LogGenerator::Create(set, 1);
  ASSERT_TRUE(gen.ok());
  std::ostringstream out;
  LogGenOptions options;
  options.bytes = 100000;
  auto stats = (*gen)->Generate(options, out);
  ASSERT_TRUE(stats.ok());
  EXPECT_GE(stats->bytes, 100000u);
  EXPECT_LT(stats->bytes, 100000u + 1000);
  options.hit_rate = 1.5;
  EXPECT_FALSE((*gen)->Generate(options, out).ok());
  options.hit_rate = 0.1;
  options.bytes = 0;
  EXPECT_FALSE((*gen)->Generate(options, out).ok());
  auto empty = LogGenerator::Create({}, 1);
  ASSERT_TRUE(empty.ok());
  options.lines = 10;
  EXPECT_FALSE((*empty)->Generate(options, out).ok());  // nothing to plant
}

// The BIND query names of a log ("query: NAME IN"), counted.
std::map<std::string, size_t> QueryNames(const std::string& log) {
  std::map<std::string, size_t> names;
  for (size_t at = log.find("query: "); at != std::string::npos; at = log.find("query: ", at)) {
    at += 7;
    names[log.substr(at, log.find(' ', at) - at)]++;
  }
  return names;
}

TEST(LogGenerator, NamePoolLimitsAndSkewsMissNames) {
  const auto set = Parse(Indicators(200, 2));
  auto generate = [&set](uint64_t pool, double zipf) {
    auto gen = LogGenerator::Create(set, 3);
    EXPECT_TRUE(gen.ok());
    LogGenOptions options;
    options.lines = 12000;
    options.hit_rate = 0;
    options.name_pool = pool;
    options.name_zipf = zipf;
    std::ostringstream out;
    EXPECT_TRUE((*gen)->Generate(options, out).ok());
    return out.str();
  };
  const auto uniform = QueryNames(generate(0, 0));
  EXPECT_GT(uniform.size(), 3000u);  // of about 3 600 BIND lines, nearly all distinct
  const auto pool = QueryNames(generate(50, 0));
  EXPECT_EQ(pool.size(), 50u);
  const auto zipf = QueryNames(generate(1000, 1.2));
  EXPECT_LE(zipf.size(), 1000u);
  size_t top = 0;
  size_t total = 0;
  for (const auto& [name, count] : zipf) {
    top = std::max(top, count);
    total += count;
  }
  // Rank 1 has weight 1 / H(1000, 1.2), about 0.26 of the draws.
  EXPECT_GT(top, total / 5);
  EXPECT_LT(top, total / 3);
  // Squid URLs come from the pool too: with one entry, one URL.
  const std::string single = generate(1, 0);
  std::set<std::string> urls;
  for (size_t at = single.find(" http://"); at != std::string::npos;
       at = single.find(" http://", at + 1)) {
    urls.insert(single.substr(at + 1, single.find(' ', at + 1) - at - 1));
  }
  EXPECT_EQ(urls.size(), 1u);
  EXPECT_EQ(QueryNames(single).size(), 1u);

  auto gen = LogGenerator::Create(set, 3);
  ASSERT_TRUE(gen.ok());
  std::ostringstream out;
  LogGenOptions options;
  options.lines = 10;
  options.name_pool = 65537;
  EXPECT_FALSE((*gen)->Generate(options, out).ok());
  options.name_pool = 10;
  options.name_zipf = -1;
  EXPECT_FALSE((*gen)->Generate(options, out).ok());
}

}  // namespace
}  // namespace iocd::iocgen
