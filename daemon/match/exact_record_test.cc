// The layout edges of the domain/url exact table (indicator_index.cc ExactRecord: a slot
// points at a record holding type, feeds and key bytes together): every key length mod the
// word and line sizes, feed lists of several sizes, records beyond the first 2 MiB huge page,
// indexes where the records or the entries are empty, and the short/in-place/long name
// paths of the domain hash. Checked through the public API only: Lookup answers exactly,
// LookupBatch answers as Lookup does.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <ostream>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "match/indicator_index.h"
#include "match/match_test_util.h"

namespace iocd {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct Answer {
  IndicatorType type;
  std::string key;
  std::vector<FeedId> feeds;
  bool operator==(const Answer&) const = default;
};

void PrintTo(const Answer& a, std::ostream* os) {
  *os << TypeName(a.type) << " " << a.key << " [";
  for (FeedId f : a.feeds) *os << f << ",";
  *os << "]";
}

std::vector<Answer> Answers(std::span<const IndexMatch> matches) {
  std::vector<Answer> out;
  for (const IndexMatch& m : matches) {
    out.push_back(Answer{m.type, std::string(m.key), std::vector<FeedId>(m.feeds.begin(), m.feeds.end())});
  }
  return out;
}

std::vector<Answer> LookupAnswers(const IndicatorIndex& index, const Indicator& observable) {
  std::vector<IndexMatch> out;
  index.Lookup(observable, &out);
  return Answers(out);
}

// LookupBatch over all of `observables` equals Lookup of each; returns the batch answers.
std::vector<std::vector<Answer>> BatchEqualsLookup(const IndicatorIndex& index,
                                                   const std::vector<Indicator>& observables) {
  std::vector<IndexMatch> batch;
  std::vector<size_t> ends;
  index.LookupBatch(observables, &batch, &ends);
  EXPECT_EQ(ends.size(), observables.size());
  std::vector<std::vector<Answer>> answers;
  for (size_t i = 0, begin = 0; i < ends.size(); begin = ends[i], ++i) {
    answers.push_back(Answers(std::span<const IndexMatch>(batch).subspan(begin, ends[i] - begin)));
    EXPECT_EQ(answers.back(), LookupAnswers(index, observables[i])) << observables[i].key;
  }
  return answers;
}

// A url key of exactly `length` bytes, distinct per (length, salt).
std::string UrlKey(size_t length, size_t salt) {
  std::string key = "h" + std::to_string(salt) + ".example/";
  while (key.size() < length) key += static_cast<char>('a' + key.size() % 26);
  key.resize(length);
  return key;
}

TEST(ExactRecordTest, EveryKeyLengthAndFeedCountAnswersExactly) {
  // Keys of 1..140 bytes (every padding and every offset against a 64-byte line), each as
  // a url and as a domain, listed by 1, 2, 3 or 17 feeds (given unsorted and repeated:
  // answered ascending without duplicates), next to entries of the other types.
  IndexBuilder builder;
  std::vector<Indicator> observables;
  std::vector<std::vector<Answer>> want;
  for (size_t length = 1; length <= 140; ++length) {
    const std::vector<FeedId> feed_counts[] = {{7}, {9, 2}, {5, 1, 3}, {}};
    std::vector<FeedId> feeds = feed_counts[length % 4];
    if (feeds.empty()) {
      for (FeedId f = 40; f > 23; --f) feeds.push_back(f);
    }
    std::vector<FeedId> sorted = feeds;
    std::sort(sorted.begin(), sorted.end());
    const std::string url = UrlKey(length, 0);
    const std::string domain = std::string(length, 'd');  // one label: no parent to match
    for (FeedId f : feeds) {
      ASSERT_TRUE(builder.Add(Indicator{IndicatorType::kUrl, url}, f).ok());
      ASSERT_TRUE(builder.Add(Indicator{IndicatorType::kDomain, domain}, f).ok());
      ASSERT_TRUE(builder.Add(Indicator{IndicatorType::kUrl, url}, f).ok());  // a repeat
    }
    observables.push_back(Indicator{IndicatorType::kUrl, url});
    want.push_back({Answer{IndicatorType::kUrl, url, sorted}});
    observables.push_back(Indicator{IndicatorType::kDomain, domain});
    want.push_back({Answer{IndicatorType::kDomain, domain, sorted}});
    // One byte short and one byte more never match (the record's length is compared).
    observables.push_back(Indicator{IndicatorType::kUrl, url.substr(0, length - 1) + "#"});
    want.push_back({});
    observables.push_back(Indicator{IndicatorType::kUrl, url + "#"});
    want.push_back({});
    observables.push_back(Indicator{IndicatorType::kDomain, domain + "e"});
    want.push_back({});
  }
  ASSERT_TRUE(builder.Add(testutil::Observe("10.0.0.0/8"), 1).ok());
  ASSERT_TRUE(builder.Add(testutil::Observe("2001:db8::/32"), 1).ok());
  ASSERT_TRUE(builder.Add(testutil::Observe("1.2.3.4"), 1).ok());
  ASSERT_TRUE(builder.Add(Indicator{IndicatorType::kUrlMask, "*.mask.example/x"}, 4).ok());
  const auto index = std::move(builder).Build();
  EXPECT_EQ(index->size(), 2 * 140u + 4);
  EXPECT_EQ(index->CountByType(IndicatorType::kUrl), 140u);
  EXPECT_EQ(index->CountByType(IndicatorType::kDomain), 140u);

  ASSERT_EQ(BatchEqualsLookup(*index, observables), want);
  // The other types still answer from their entries.
  EXPECT_THAT(testutil::LookupText(*index, "10.1.2.3"), ElementsAre("cidr4 10.0.0.0/8 [1]"));
  EXPECT_THAT(testutil::LookupText(*index, "2001:db8::1"), ElementsAre("cidr6 2001:db8::/32 [1]"));
  EXPECT_THAT(LookupAnswers(*index, Indicator{IndicatorType::kUrl, "a.mask.example/x"}),
              ElementsAre(Answer{IndicatorType::kUrlMask, "*.mask.example/x", {4}}));
}

TEST(ExactRecordTest, RecordsBeyondTheFirstHugePageAllAnswer) {
  // ~4.5 MiB of records (keys of 40..199 bytes, so records straddle every line and page
  // offset, including the 2 MiB huge-page boundaries); every key is found, by both paths.
  IndexBuilder builder;
  std::vector<Indicator> observables;
  size_t bytes = 0;
  for (size_t i = 0; bytes < (size_t{9} << 19); ++i) {
    const std::string key = UrlKey(40 + i % 160, i);
    bytes += key.size() + 12;
    ASSERT_TRUE(builder.Add(Indicator{IndicatorType::kUrl, key}, static_cast<FeedId>(i % 5)).ok());
    observables.push_back(Indicator{IndicatorType::kUrl, key});
  }
  // And one key longer than a huge page by itself.
  const std::string huge = UrlKey(size_t{3} << 20, 999999);
  ASSERT_TRUE(builder.Add(Indicator{IndicatorType::kUrl, huge}, 0).ok());
  const auto index = std::move(builder).Build();
  ASSERT_EQ(index->size(), observables.size() + 1);
  EXPECT_GT(index->ApproximateMemoryUsage(), bytes + huge.size());
  EXPECT_EQ(LookupAnswers(*index, Indicator{IndicatorType::kUrl, huge}),
            (std::vector<Answer>{{IndicatorType::kUrl, huge, {0}}}));
  EXPECT_THAT(LookupAnswers(*index, Indicator{IndicatorType::kUrl, huge.substr(0, huge.size() - 1)}), IsEmpty());
  const auto answers = BatchEqualsLookup(*index, observables);
  for (size_t i = 0; i < answers.size(); ++i) {
    ASSERT_EQ(answers[i], (std::vector<Answer>{{IndicatorType::kUrl, observables[i].key, {static_cast<FeedId>(i % 5)}}}))
        << i;
  }
}

TEST(ExactRecordTest, IndexesWithoutRecordsOrWithoutEntriesAnswer) {
  const std::vector<Indicator> observables = {
      {IndicatorType::kDomain, "a.evil.com"}, {IndicatorType::kUrl, "evil.com/x"},
      testutil::Observe("10.1.2.3"), {IndicatorType::kDomain, ""}, {IndicatorType::kUrl, ""}};
  {
    const auto none = IndexBuilder().Build();
    for (const auto& a : BatchEqualsLookup(*none, observables)) EXPECT_THAT(a, IsEmpty());
  }
  {
    IndexBuilder builder;  // entries only (a range): no records, no exact slots
    ASSERT_TRUE(builder.Add(testutil::Observe("10.0.0.0/8"), 2).ok());
    const auto index = std::move(builder).Build();
    const auto answers = BatchEqualsLookup(*index, observables);
    EXPECT_THAT(answers[0], IsEmpty());
    EXPECT_THAT(answers[1], IsEmpty());
    EXPECT_EQ(answers[2].size(), 1u);
  }
  {
    IndexBuilder builder;  // records only
    ASSERT_TRUE(builder.Add(Indicator{IndicatorType::kDomain, "evil.com"}, 3).ok());
    ASSERT_TRUE(builder.Add(Indicator{IndicatorType::kUrl, "evil.com/x"}, 4).ok());
    const auto index = std::move(builder).Build();
    EXPECT_EQ(index->size(), 2u);
    const auto answers = BatchEqualsLookup(*index, observables);
    EXPECT_EQ(answers[0], (std::vector<Answer>{{IndicatorType::kDomain, "evil.com", {3}}}));
    EXPECT_EQ(answers[1], (std::vector<Answer>{{IndicatorType::kUrl, "evil.com/x", {4}}}));
    EXPECT_THAT(answers[2], IsEmpty());
    EXPECT_THAT(answers[3], IsEmpty());
    EXPECT_THAT(answers[4], IsEmpty());
  }
}

TEST(ExactRecordTest, DomainNamesOfEveryLengthMatchTheirListedSuffixes) {
  // Names of 1..100 bytes (short names are hashed from one padded word, 8..64 bytes in
  // place, longer ones with a byte loop: all must hash alike), random labels of 1..12
  // bytes; every third suffix is listed. Compared with a reference built from the listed
  // set, longest suffix first.
  std::mt19937_64 rng(4242);
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-";
  std::vector<std::string> names;
  for (size_t length = 1; length <= 100; ++length) {
    std::string name;
    while (name.size() < length) {
      if (!name.empty()) name += '.';
      const size_t label = 1 + rng() % 12;
      for (size_t k = 0; k < label && name.size() < length; ++k) name += alphabet[rng() % alphabet.size()];
    }
    if (name.back() == '.') name.back() = 'z';
    names.push_back(name);
  }
  std::set<std::string> listed;
  IndexBuilder builder;
  size_t n = 0;
  for (const std::string& name : names) {
    for (size_t start = 0;; ++n) {
      if (n % 3 == 0 && listed.insert(name.substr(start)).second) {
        EXPECT_TRUE(builder.Add(Indicator{IndicatorType::kDomain, name.substr(start)}, 1).ok());
      }
      const size_t dot = name.find('.', start);
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
  }
  const auto index = std::move(builder).Build();
  std::vector<Indicator> observables;
  for (const std::string& name : names) {
    observables.push_back(Indicator{IndicatorType::kDomain, name});
    std::vector<Answer> want;
    for (size_t start = 0;;) {
      if (listed.contains(name.substr(start))) want.push_back({IndicatorType::kDomain, name.substr(start), {1}});
      const size_t dot = name.find('.', start);
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    EXPECT_EQ(LookupAnswers(*index, observables.back()), want) << name;
  }
  BatchEqualsLookup(*index, observables);
}

}  // namespace
}  // namespace iocd
