#include "match/indicator_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "match/match_test_util.h"
#include "match/prefix_table.h"

namespace iocd {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// --- Helpers -------------------------------------------------------------------------

Indicator Parse(std::string_view text) {
  Result<Indicator> r = ParseIndicator(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : Indicator{IndicatorType::kDomain, "parse.failed"};
}

std::string Ipv4Key(uint32_t address) {
  std::string key(4, '\0');
  for (int i = 0; i < 4; ++i) key[i] = static_cast<char>(address >> (24 - 8 * i));
  return key;
}

Indicator MakeIpv4(uint32_t address) { return {IndicatorType::kIpv4, Ipv4Key(address)}; }

Indicator MakeCidr4(uint32_t address, int length) {
  std::string key = Ipv4Key(PrefixTraits<uint32_t>::Mask(address, length));
  key.push_back(static_cast<char>(length));
  return {IndicatorType::kCidr4, key};
}

Indicator MakeIpv6(const Ipv6Address& address) {
  return {IndicatorType::kIpv6, std::string(address.begin(), address.end())};
}

Indicator MakeCidr6(const Ipv6Address& address, int length) {
  const Ipv6Address masked = PrefixTraits<Ipv6Address>::Mask(address, length);
  std::string key(masked.begin(), masked.end());
  key.push_back(static_cast<char>(length));
  return {IndicatorType::kCidr6, key};
}

Indicator MakeDomain(std::string name) { return {IndicatorType::kDomain, std::move(name)}; }

// "type display [feed,feed]" per match. The observable goes through ParseIndicator only
// (not testutil::Observe), so this file tests the index on exactly what a feed would list.
std::vector<std::string> LookupText(const IndicatorIndex& index, std::string_view observable) {
  return testutil::LookupText(index, Parse(observable));
}

// An owning, comparable form of one match, for the reference comparisons.
struct Flat {
  IndicatorType type;
  std::string key;
  std::vector<FeedId> feeds;
  bool operator==(const Flat&) const = default;
  friend std::ostream& operator<<(std::ostream& os, const Flat& f) {
    os << TypeName(f.type) << " " << Indicator{f.type, f.key}.Display() << " [";
    for (FeedId id : f.feeds) os << id << " ";
    return os << "]";
  }
};

std::vector<Flat> Flatten(const std::vector<IndexMatch>& matches) {
  std::vector<Flat> out;
  for (const IndexMatch& m : matches) {
    out.push_back(Flat{m.type, std::string(m.key), {m.feeds.begin(), m.feeds.end()}});
  }
  return out;
}

std::vector<Flat> LookupFlat(const IndicatorIndex& index, const Indicator& observable) {
  std::vector<IndexMatch> out;
  index.Lookup(observable, &out);
  return Flatten(out);
}

// Every indicator added, with its feeds: the brute-force reference's data.
using Truth =
    std::map<Indicator, std::set<FeedId>, decltype([](const Indicator& a, const Indicator& b) {
               return a.Encoded() < b.Encoded();
             })>;

std::shared_ptr<const IndicatorIndex> BuildFrom(const Truth& truth) {
  IndexBuilder builder;
  for (const auto& [indicator, feeds] : truth) {
    for (FeedId feed : feeds) EXPECT_TRUE(builder.Add(indicator, feed).ok());
  }
  return std::move(builder).Build();
}

Flat FlatOf(const Indicator& indicator, const std::set<FeedId>& feeds) {
  return Flat{indicator.type, indicator.key, {feeds.begin(), feeds.end()}};
}

// --- Exact matches ---------------------------------------------------------------------

constexpr char kMd5[] = "d41d8cd98f00b204e9800998ecf8427e";
constexpr char kSha1[] = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
constexpr char kSha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(IndicatorIndexTest, ParseIndicatorAgreesWithTestHelpers) {
  EXPECT_EQ(Parse("10.1.2.0/24"), MakeCidr4(0x0A010200, 24));
  EXPECT_EQ(Parse("10.1.2.3"), MakeIpv4(0x0A010203));
  EXPECT_EQ(Parse("2001:db8::/32"), MakeCidr6(*ParseIpv6("2001:db8::"), 32));
  EXPECT_EQ(Parse("evil.com"), MakeDomain("evil.com"));
}

TEST(IndicatorIndexTest, ExactMatchForEachType) {
  IndexBuilder builder;
  ASSERT_TRUE(builder.Add(Parse("1.2.3.4"), 1).ok());
  ASSERT_TRUE(builder.Add(Parse("2001:db8::1"), 2).ok());
  ASSERT_TRUE(builder.Add(Parse("evil.com"), 3).ok());
  ASSERT_TRUE(builder.Add(Parse("http://evil.com/gate.php"), 4).ok());
  ASSERT_TRUE(builder.Add(Parse(kMd5), 5).ok());
  ASSERT_TRUE(builder.Add(Parse(kSha1), 6).ok());
  ASSERT_TRUE(builder.Add(Parse(kSha256), 7).ok());
  EXPECT_EQ(builder.size(), 7u);
  auto index = std::move(builder).Build();

  EXPECT_EQ(index->size(), 7u);
  for (IndicatorType type : kAllIndicatorTypes) {
    const bool absent = type == IndicatorType::kCidr4 || type == IndicatorType::kCidr6 ||
                        type == IndicatorType::kUrlMask || type == IndicatorType::kSha512;
    EXPECT_EQ(index->CountByType(type), absent ? 0u : 1u) << TypeName(type);
  }
  EXPECT_THAT(LookupText(*index, "1.2.3.4"), ElementsAre("ipv4 1.2.3.4 [1]"));
  EXPECT_THAT(LookupText(*index, "2001:db8::1"), ElementsAre("ipv6 2001:db8::1 [2]"));
  EXPECT_THAT(LookupText(*index, "evil.com"), ElementsAre("domain evil.com [3]"));
  EXPECT_THAT(LookupText(*index, "http://evil.com/gate.php"),
              ElementsAre("url evil.com/gate.php [4]"));
  EXPECT_THAT(LookupText(*index, kMd5), ElementsAre(std::string("md5 ") + kMd5 + " [5]"));
  EXPECT_THAT(LookupText(*index, kSha1), ElementsAre(std::string("sha1 ") + kSha1 + " [6]"));
  EXPECT_THAT(LookupText(*index, kSha256), ElementsAre(std::string("sha256 ") + kSha256 + " [7]"));

  // Near misses.
  EXPECT_THAT(LookupText(*index, "1.2.3.5"), IsEmpty());
  EXPECT_THAT(LookupText(*index, "2001:db8::2"), IsEmpty());
  EXPECT_THAT(LookupText(*index, "evil.co"), IsEmpty());
  EXPECT_THAT(LookupText(*index, "d41d8cd98f00b204e9800998ecf8427f"), IsEmpty());
}

TEST(IndicatorIndexTest, MatchKeyAndFeedsPointIntoIndexAndRoundTrip) {
  IndexBuilder builder;
  ASSERT_TRUE(builder.Add(Parse("10.0.0.0/8"), 4).ok());
  auto index = std::move(builder).Build();
  std::vector<IndexMatch> out;
  index->Lookup(Parse("10.9.8.7"), &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, IndicatorType::kCidr4);
  EXPECT_EQ(out[0].key, Parse("10.0.0.0/8").key);
  EXPECT_THAT(out[0].feeds, ElementsAre(4u));
  EXPECT_EQ(out[0].ToIndicator(), Parse("10.0.0.0/8"));
}

TEST(IndicatorIndexTest, LookupAppendsToExistingResults) {
  IndexBuilder builder;
  ASSERT_TRUE(builder.Add(Parse("evil.com"), 1).ok());
  auto index = std::move(builder).Build();
  std::vector<IndexMatch> out;
  index->Lookup(Parse("evil.com"), &out);
  index->Lookup(Parse("www.evil.com"), &out);
  EXPECT_THAT(testutil::Describe(out), ElementsAre("domain evil.com [1]", "domain evil.com [1]"));
}

// --- IP ranges -------------------------------------------------------------------------

TEST(IndicatorIndexTest, Ipv4ExactThenCoveringRangesLongestFirst) {
  IndexBuilder builder;
  ASSERT_TRUE(builder.Add(Parse("10.0.0.0/8"), 3).ok());
  ASSERT_TRUE(builder.Add(Parse("10.1.2.3"), 1).ok());
  ASSERT_TRUE(builder.Add(Parse("10.1.2.0/24"), 2).ok());
  ASSERT_TRUE(builder.Add(Parse("192.168.0.0/16"), 2).ok());
  auto index = std::move(builder).Build();
  EXPECT_EQ(index->CountByType(IndicatorType::kIpv4), 1u);
  EXPECT_EQ(index->CountByType(IndicatorType::kCidr4), 3u);

  EXPECT_THAT(LookupText(*index, "10.1.2.3"),
              ElementsAre("ipv4 10.1.2.3 [1]", "cidr4 10.1.2.0/24 [2]", "cidr4 10.0.0.0/8 [3]"));
  EXPECT_THAT(LookupText(*index, "10.1.2.4"),
              ElementsAre("cidr4 10.1.2.0/24 [2]", "cidr4 10.0.0.0/8 [3]"));
  EXPECT_THAT(LookupText(*index, "10.1.3.0"), ElementsAre("cidr4 10.0.0.0/8 [3]"));
  EXPECT_THAT(LookupText(*index, "10.255.255.255"), ElementsAre("cidr4 10.0.0.0/8 [3]"));
  EXPECT_THAT(LookupText(*index, "11.0.0.0"), IsEmpty());
  EXPECT_THAT(LookupText(*index, "9.255.255.255"), IsEmpty());
  EXPECT_THAT(LookupText(*index, "192.168.255.255"), ElementsAre("cidr4 192.168.0.0/16 [2]"));
}

TEST(IndicatorIndexTest, Ipv6ExactThenCoveringRangesLongestFirst) {
  IndexBuilder builder;
  ASSERT_TRUE(builder.Add(Parse("2001:db8::/32"), 3).ok());
  ASSERT_TRUE(builder.Add(Parse("2001:db8::/64"), 2).ok());
  ASSERT_TRUE(builder.Add(Parse("2001:db8::1"), 1).ok());
  auto index = std::move(builder).Build();
  EXPECT_THAT(
      LookupText(*index, "2001:db8::1"),
      ElementsAre("ipv6 2001:db8::1 [1]", "cidr6 2001:db8::/64 [2]", "cidr6 2001:db8::/32 [3]"));
  EXPECT_THAT(LookupText(*index, "2001:db8:0:1::1"), ElementsAre("cidr6 2001:db8::/32 [3]"));
  EXPECT_THAT(LookupText(*index, "2001:db9::1"), IsEmpty());
}

TEST(IndicatorIndexTest, RangesAreNotObservables) {
  IndexBuilder builder;
  ASSERT_TRUE(builder.Add(Parse("10.0.0.0/8"), 1).ok());
  ASSERT_TRUE(builder.Add(Parse("2001:db8::/32"), 1).ok());
  auto index = std::move(builder).Build();
  EXPECT_THAT(LookupText(*index, "10.0.0.0/8"), IsEmpty());
  EXPECT_THAT(LookupText(*index, "10.1.0.0/16"), IsEmpty());
  EXPECT_THAT(LookupText(*index, "2001:db8::/32"), IsEmpty());
}

// --- Feeds -----------------------------------------------------------------------------

TEST(IndicatorIndexTest, SameIndicatorFromSeveralFeedsIsOneMatch) {
  IndexBuilder builder;
  ASSERT_TRUE(builder.Add(Parse("evil.com"), 7).ok());
  ASSERT_TRUE(builder.Add(Parse("EVIL.com."), 3).ok());  // same canonical key
  ASSERT_TRUE(builder.Add(Parse("evil.com"), 7).ok());   // duplicate pair
  ASSERT_TRUE(builder.Add(Parse("10.0.0.0/8"), 1).ok());
  ASSERT_TRUE(builder.Add(Parse("evil.com"), 3).ok());  // duplicate pair, not adjacent
  EXPECT_EQ(builder.size(), 2u);
  auto index = std::move(builder).Build();
  EXPECT_EQ(index->size(), 2u);
  EXPECT_EQ(index->CountByType(IndicatorType::kDomain), 1u);
  EXPECT_THAT(LookupText(*index, "evil.com"), ElementsAre("domain evil.com [3,7]"));
}

// --- Domains ---------------------------------------------------------------------------

TEST(IndicatorIndexTest, DomainMatchesItselfAndEveryParentThatIsListed) {
  IndexBuilder builder;
  ASSERT_TRUE(builder.Add(Parse("evil.com"), 1).ok());
  ASSERT_TRUE(builder.Add(Parse("b.evil.com"), 2).ok());
  // A bare TLD is not something ParseIndicator accepts, but the index handles one.
  ASSERT_TRUE(builder.Add(MakeDomain("com"), 9).ok());
  ASSERT_TRUE(builder.Add(Parse("attacker.org"), 4).ok());
  auto index = std::move(builder).Build();

  EXPECT_THAT(LookupText(*index, "a.b.evil.com"),
              ElementsAre("domain b.evil.com [2]", "domain evil.com [1]", "domain com [9]"));
  EXPECT_THAT(LookupText(*index, "b.evil.com"),
              ElementsAre("domain b.evil.com [2]", "domain evil.com [1]", "domain com [9]"));
  EXPECT_THAT(LookupText(*index, "x.evil.com"),
              ElementsAre("domain evil.com [1]", "domain com [9]"));
  EXPECT_THAT(LookupText(*index, "evil.com"), ElementsAre("domain evil.com [1]", "domain com [9]"));
  // Label boundaries only.
  EXPECT_THAT(LookupText(*index, "notevil.com"), ElementsAre("domain com [9]"));
  EXPECT_THAT(LookupText(*index, "ab.evil.com"),
              ElementsAre("domain evil.com [1]", "domain com [9]"));
  EXPECT_THAT(LookupText(*index, "evil.com.attacker.net"), IsEmpty());
  EXPECT_THAT(LookupText(*index, "evil.community.org"), IsEmpty());
  EXPECT_THAT(LookupText(*index, "www.attacker.org"), ElementsAre("domain attacker.org [4]"));
  EXPECT_THAT(LookupText(*index, "attacker.org.evil.com"),
              ElementsAre("domain evil.com [1]", "domain com [9]"));
}

TEST(IndicatorIndexTest, DomainObservableWithOddDotsDoesNotCrash) {
  IndexBuilder builder;
  ASSERT_TRUE(builder.Add(MakeDomain("com"), 1).ok());
  auto index = std::move(builder).Build();
  for (std::string name : {"", ".", "..", "com.", ".com", "a..com", "com..", "..com"}) {
    std::vector<IndexMatch> out;
    index->Lookup(MakeDomain(name), &out);
    const bool expect_match = name == ".com" || name == "a..com" || name == "..com";
    EXPECT_EQ(out.size(), expect_match ? 1u : 0u) << "'" << name << "'";
  }
}

// --- URLs and hashes -------------------------------------------------------------------

TEST(IndicatorIndexTest, UrlMatchesExactNormalisedKeyOnly) {
  IndexBuilder builder;
  ASSERT_TRUE(builder.Add(Parse("http://evil.com/gate.php"), 1).ok());
  auto index = std::move(builder).Build();
  EXPECT_THAT(LookupText(*index, "http://evil.com/gate.php"),
              ElementsAre("url evil.com/gate.php [1]"));
  EXPECT_THAT(LookupText(*index, "https://www.EVIL.com:8443/gate.php#top"),
              ElementsAre("url evil.com/gate.php [1]"));
  EXPECT_THAT(LookupText(*index, "http://evil.com/gate.php?id=1"), IsEmpty());
  EXPECT_THAT(LookupText(*index, "http://evil.com/gate.phpx"), IsEmpty());
  EXPECT_THAT(LookupText(*index, "http://evil.com/"), IsEmpty());
  EXPECT_THAT(LookupText(*index, "http://sub.evil.com/gate.php"), IsEmpty());
  EXPECT_THAT(LookupText(*index, "evil.com"), IsEmpty());
}

TEST(IndicatorIndexTest, SameKeyBytesOfDifferentTypesDoNotMatch) {
  IndexBuilder builder;
  // NormalizeUrl("http://evil.com/") is "evil.com": the same bytes as the domain's key.
  const Indicator url = Parse("http://evil.com/");
  ASSERT_EQ(url.type, IndicatorType::kUrl);
  ASSERT_EQ(url.key, "evil.com");
  ASSERT_TRUE(builder.Add(url, 1).ok());
  auto index = std::move(builder).Build();
  EXPECT_THAT(LookupText(*index, "evil.com"), IsEmpty());
  EXPECT_THAT(LookupText(*index, "http://evil.com"), ElementsAre("url evil.com [1]"));
}

TEST(IndicatorIndexTest, HashesMatchByTypeAndDigest) {
  IndexBuilder builder;
  ASSERT_TRUE(builder.Add(Parse(kMd5), 1).ok());
  ASSERT_TRUE(builder.Add(Parse(kSha1), 2).ok());
  ASSERT_TRUE(builder.Add(Parse(kSha256), 3).ok());
  ASSERT_TRUE(builder.Add(Parse(kSha256), 1).ok());
  auto index = std::move(builder).Build();
  EXPECT_EQ(index->CountByType(IndicatorType::kMd5), 1u);
  EXPECT_EQ(index->CountByType(IndicatorType::kSha1), 1u);
  EXPECT_EQ(index->CountByType(IndicatorType::kSha256), 1u);
  // Upper-case hex is the same digest.
  EXPECT_THAT(LookupText(*index, "D41D8CD98F00B204E9800998ECF8427E"),
              ElementsAre(std::string("md5 ") + kMd5 + " [1]"));
  EXPECT_THAT(LookupText(*index, kSha256),
              ElementsAre(std::string("sha256 ") + kSha256 + " [1,3]"));
  EXPECT_THAT(LookupText(*index, "0000000000000000000000000000000000000000"), IsEmpty());
  // Same leading bytes, different type: no match.
  std::vector<IndexMatch> out;
  index->Lookup(Indicator{IndicatorType::kMd5, Parse(kSha256).key.substr(0, 16)}, &out);
  EXPECT_THAT(out, IsEmpty());
}

TEST(IndicatorIndexTest, ObservableTypesWithoutIndicatorsMatchNothing) {
  IndexBuilder builder;
  ASSERT_TRUE(builder.Add(Parse("evil.com"), 1).ok());
  auto index = std::move(builder).Build();
  EXPECT_EQ(index->CountByType(IndicatorType::kIpv4), 0u);
  for (const char* text : {"1.2.3.4", "::1", "http://evil.com/a", kMd5, kSha1, kSha256}) {
    EXPECT_THAT(LookupText(*index, text), IsEmpty()) << text;
  }
}

TEST(IndicatorIndexTest, EmptyIndexMatchesNothing) {
  auto index = IndexBuilder().Build();
  EXPECT_EQ(index->size(), 0u);
  for (const char* text :
       {"1.2.3.4", "::1", "evil.com", "http://evil.com/a", kMd5, kSha1, kSha256, "10.0.0.0/8"}) {
    EXPECT_THAT(LookupText(*index, text), IsEmpty()) << text;
  }
}

TEST(IndicatorIndexTest, MalformedObservableKeysMatchNothing) {
  IndexBuilder builder;
  ASSERT_TRUE(builder.Add(Parse("0.0.0.0/0"), 1).ok());
  ASSERT_TRUE(builder.Add(Parse("::/0"), 1).ok());
  auto index = std::move(builder).Build();
  std::vector<IndexMatch> out;
  index->Lookup(Indicator{IndicatorType::kIpv4, "abc"}, &out);
  index->Lookup(Indicator{IndicatorType::kIpv4, ""}, &out);
  index->Lookup(Indicator{IndicatorType::kIpv6, "0123456789abcde"}, &out);
  index->Lookup(Indicator{static_cast<IndicatorType>(0), "x"}, &out);
  index->Lookup(Indicator{static_cast<IndicatorType>(200), "x"}, &out);
  EXPECT_THAT(out, IsEmpty());
}

// --- Builder ---------------------------------------------------------------------------

TEST(IndexBuilderTest, RejectsNonCanonicalKeysAndStaysUsable) {
  struct Case {
    const char* name;
    Indicator indicator;
  };
  const Case cases[] = {
      {"short ipv4", {IndicatorType::kIpv4, std::string("\x01\x02\x03", 3)}},
      {"long ipv6", {IndicatorType::kIpv6, std::string(17, '\0')}},
      {"cidr4 host bits", {IndicatorType::kCidr4, std::string("\x0a\x00\x00\x01\x08", 5)}},
      {"cidr4 /32", {IndicatorType::kCidr4, std::string("\x0a\x00\x00\x01\x20", 5)}},
      {"cidr4 /33", {IndicatorType::kCidr4, std::string("\x0a\x00\x00\x00\x21", 5)}},
      {"cidr6 /128", {IndicatorType::kCidr6, std::string(16, '\0') + '\x80'}},
      {"cidr6 host bits", {IndicatorType::kCidr6, std::string(15, '\0') + "\x01\x40"}},
      {"empty domain", {IndicatorType::kDomain, ""}},
      {"empty url", {IndicatorType::kUrl, ""}},
      {"short md5", {IndicatorType::kMd5, std::string(15, 'x')}},
      {"sha1 as sha256", {IndicatorType::kSha256, std::string(20, 'x')}},
      {"type 0", {static_cast<IndicatorType>(0), "x"}},
      {"type 10", {static_cast<IndicatorType>(10), "x"}},
  };
  IndexBuilder builder;
  ASSERT_TRUE(builder.Add(Parse("10.0.0.0/8"), 1).ok());
  for (const Case& c : cases) {
    Status s = builder.Add(c.indicator, 1);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(s.message(), ::testing::StartsWith("index: ")) << c.name;
  }
  EXPECT_EQ(builder.size(), 1u);
  auto index = std::move(builder).Build();
  EXPECT_EQ(index->size(), 1u);
  EXPECT_THAT(LookupText(*index, "10.0.0.1"), ElementsAre("cidr4 10.0.0.0/8 [1]"));
}

TEST(IndexBuilderTest, DeferredAddsCountAndMergeFeedsAsTheyCome) {
  // Add queues a few calls before probing (to prefetch); size() and the index must not
  // show it: every distinct indicator counts at once, duplicates (also inside the queue)
  // merge their feeds, and a type's order of arrival does not matter.
  IndexBuilder builder;
  std::set<std::string> distinct;
  std::map<std::string, std::set<FeedId>> feeds_of;
  const char* kTexts[] = {"evil.com", "1.2.3.4", "http://x.example/a", "10.0.0.0/8",
                          "d41d8cd98f00b204e9800998ecf8427e", "a.evil.com"};
  for (int round = 0; round < 40; ++round) {
    for (size_t t = 0; t < std::size(kTexts); ++t) {
      // The same six indicators each round, plus one new domain: a duplicate is added
      // while its first copy may still be queued.
      const std::string text = round % 2 == 0 ? kTexts[t] : "n" + std::to_string(round) + "x" + std::to_string(t) + ".org";
      const auto feed = static_cast<FeedId>(round % 3);
      ASSERT_TRUE(builder.Add(Parse(text), feed).ok()) << text;
      distinct.insert(text);
      feeds_of[text].insert(feed);
    }
    // Not after every Add: size() runs the queue, and the duplicates should meet in it.
    if (round % 5 == 4) {
      ASSERT_EQ(builder.size(), distinct.size()) << "round " << round;
    }
  }
  const auto index = std::move(builder).Build();
  EXPECT_EQ(index->size(), distinct.size());
  for (const auto& [text, feeds] : feeds_of) {
    if (text == "10.0.0.0/8") continue;  // a range, not an observable
    std::vector<IndexMatch> out;
    index->Lookup(Parse(text), &out);
    ASSERT_FALSE(out.empty()) << text;
    EXPECT_EQ(std::set<FeedId>(out[0].feeds.begin(), out[0].feeds.end()), feeds) << text;
    EXPECT_EQ(out[0].feeds.size(), feeds.size()) << text;
  }
}

TEST(IndexBuilderTest, BuilderIsEmptyAfterBuild) {
  IndexBuilder builder;
  ASSERT_TRUE(builder.Add(Parse("evil.com"), 1).ok());
  auto first = std::move(builder).Build();
  EXPECT_EQ(builder.size(), 0u);  // NOLINT(bugprone-use-after-move): documented as reset
  ASSERT_TRUE(builder.Add(Parse("good.com"), 2).ok());
  auto second = std::move(builder).Build();
  EXPECT_THAT(LookupText(*first, "evil.com"), ElementsAre("domain evil.com [1]"));
  EXPECT_THAT(LookupText(*first, "good.com"), IsEmpty());
  EXPECT_THAT(LookupText(*second, "good.com"), ElementsAre("domain good.com [2]"));
  EXPECT_THAT(LookupText(*second, "evil.com"), IsEmpty());
}

// --- Property tests against brute-force references -------------------------------------

// Brute force: the exact address, then every range whose masked form equals the masked
// address, sorted by length descending.
template <typename Address>
std::vector<Flat> ReferenceIpLookup(const Truth& truth, const Address& address) {
  constexpr bool kV4 = std::is_same_v<Address, uint32_t>;
  const Indicator exact = [&] {
    if constexpr (kV4)
      return MakeIpv4(address);
    else
      return MakeIpv6(address);
  }();
  std::vector<Flat> out;
  if (auto it = truth.find(exact); it != truth.end()) out.push_back(FlatOf(it->first, it->second));
  std::vector<std::pair<int, Flat>> ranges;
  for (const auto& [indicator, feeds] : truth) {
    if (indicator.type != (kV4 ? IndicatorType::kCidr4 : IndicatorType::kCidr6)) continue;
    const int length = static_cast<uint8_t>(indicator.key.back());
    const Indicator covering = [&] {
      if constexpr (kV4)
        return MakeCidr4(address, length);
      else
        return MakeCidr6(address, length);
    }();
    if (covering == indicator) ranges.emplace_back(length, FlatOf(indicator, feeds));
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  for (auto& [length, flat] : ranges) out.push_back(std::move(flat));
  return out;
}

TEST(IndicatorIndexPropertyTest, Ipv4MatchesLinearScan) {
  std::mt19937 rng(20240601);
  // A few base addresses so that random prefixes nest and overlap often.
  const uint32_t bases[] = {0x0A000000, 0x0A010203, 0xC0A80101, 0xAC100000,
                            0x7F000001, 0xFFFFFFFF, 0x00000000, 0x08080808};
  auto random_near_base = [&] {
    const uint32_t base = bases[rng() % std::size(bases)];
    const int flip_bits = static_cast<int>(rng() % 33);  // how many low bits to randomise
    const uint32_t noise = flip_bits == 0 ? 0 : rng() & (~uint32_t{0} >> (32 - flip_bits));
    return base ^ noise;
  };
  Truth truth;
  for (int i = 0; i < 1500; ++i) {
    const FeedId feed = rng() % 4;
    if (rng() % 4 == 0) {
      truth[MakeIpv4(random_near_base())].insert(feed);
    } else {
      truth[MakeCidr4(random_near_base(), static_cast<int>(rng() % 32))].insert(feed);
    }
  }
  auto index = BuildFrom(truth);
  ASSERT_EQ(index->size(), truth.size());

  size_t total_matches = 0;
  for (int i = 0; i < 3000; ++i) {
    const uint32_t address = i % 2 == 0 ? random_near_base() : static_cast<uint32_t>(rng());
    const std::vector<Flat> want = ReferenceIpLookup(truth, address);
    total_matches += want.size();
    ASSERT_EQ(LookupFlat(*index, MakeIpv4(address)), want) << "address " << address;
  }
  EXPECT_GT(total_matches, 3000u);  // the test exercises nesting, not only misses
}

TEST(IndicatorIndexPropertyTest, Ipv6MatchesLinearScan) {
  std::mt19937 rng(777);
  const Ipv6Address bases[] = {*ParseIpv6("2001:db8::"), *ParseIpv6("2001:db8:1:2:3:4:5:6"),
                               *ParseIpv6("fe80::1"), *ParseIpv6("::"),
                               *ParseIpv6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")};
  auto random_near_base = [&] {
    Ipv6Address a = bases[rng() % std::size(bases)];
    const int flip_bits = static_cast<int>(rng() % 129);
    for (int bit = 128 - flip_bits; bit < 128; ++bit) {
      if (rng() & 1) a[bit / 8] ^= static_cast<uint8_t>(0x80 >> (bit % 8));
    }
    return a;
  };
  Truth truth;
  for (int i = 0; i < 1500; ++i) {
    const FeedId feed = rng() % 4;
    if (rng() % 4 == 0) {
      truth[MakeIpv6(random_near_base())].insert(feed);
    } else {
      truth[MakeCidr6(random_near_base(), static_cast<int>(rng() % 128))].insert(feed);
    }
  }
  auto index = BuildFrom(truth);
  ASSERT_EQ(index->size(), truth.size());

  size_t total_matches = 0;
  for (int i = 0; i < 2000; ++i) {
    Ipv6Address address = random_near_base();
    if (i % 2 == 1) {
      for (uint8_t& byte : address) byte = static_cast<uint8_t>(rng());
    }
    const std::vector<Flat> want = ReferenceIpLookup(truth, address);
    total_matches += want.size();
    ASSERT_EQ(LookupFlat(*index, MakeIpv6(address)), want);
  }
  EXPECT_GT(total_matches, 2000u);
}

std::string RandomDomain(std::mt19937& rng) {
  static const char* const kLabels[] = {"a", "b", "ab", "evil", "com", "x-y", "notevil", "0"};
  std::string name;
  const int labels = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < labels; ++i) {
    if (i > 0) name += '.';
    name += kLabels[rng() % std::size(kLabels)];
  }
  return name;
}

// Brute force: every listed domain equal to the name or a dot-separated suffix of it,
// longest (most specific) first.
std::vector<Flat> ReferenceDomainLookup(const Truth& truth, const std::string& name) {
  std::vector<Flat> out;
  for (const auto& [indicator, feeds] : truth) {
    const std::string& d = indicator.key;
    const bool match = name == d || (name.size() > d.size() && name.ends_with(d) &&
                                     name[name.size() - d.size() - 1] == '.');
    if (match) out.push_back(FlatOf(indicator, feeds));
  }
  std::sort(out.begin(), out.end(),
            [](const Flat& a, const Flat& b) { return a.key.size() > b.key.size(); });
  return out;
}

TEST(IndicatorIndexPropertyTest, DomainsMatchSuffixReference) {
  std::mt19937 rng(4242);
  Truth truth;
  for (int i = 0; i < 300; ++i) truth[MakeDomain(RandomDomain(rng))].insert(rng() % 3);
  auto index = BuildFrom(truth);
  ASSERT_EQ(index->size(), truth.size());
  size_t total_matches = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string name = RandomDomain(rng) + (i % 3 == 0 ? "" : "." + RandomDomain(rng));
    const std::vector<Flat> want = ReferenceDomainLookup(truth, name);
    total_matches += want.size();
    ASSERT_EQ(LookupFlat(*index, MakeDomain(name)), want) << name;
  }
  EXPECT_GT(total_matches, 1000u);
}

// --- Concurrency -----------------------------------------------------------------------

TEST(IndicatorIndexConcurrencyTest, FourReadersSeeTheSingleThreadedAnswers) {
  std::mt19937 rng(99);
  IndexBuilder builder;
  for (int i = 0; i < 2000; ++i) {
    const uint32_t a = 0x0A000000 | (rng() & 0x00FFFFFF);
    ASSERT_TRUE(builder.Add(MakeCidr4(a, 8 + static_cast<int>(rng() % 24)), rng() % 5).ok());
    ASSERT_TRUE(builder.Add(MakeIpv4(a), rng() % 5).ok());
    ASSERT_TRUE(builder.Add(MakeDomain(RandomDomain(rng)), rng() % 5).ok());
    Ipv6Address v6 = *ParseIpv6("2001:db8::");
    v6[15] = static_cast<uint8_t>(rng());
    ASSERT_TRUE(builder.Add(MakeCidr6(v6, 120 + static_cast<int>(rng() % 8)), rng() % 5).ok());
  }
  const std::shared_ptr<const IndicatorIndex> index = std::move(builder).Build();

  std::vector<Indicator> queries;
  for (int i = 0; i < 2000; ++i) {
    queries.push_back(MakeIpv4(0x0A000000 | (rng() & 0x00FFFFFF)));
    queries.push_back(MakeDomain(RandomDomain(rng) + "." + RandomDomain(rng)));
    Ipv6Address v6 = *ParseIpv6("2001:db8::");
    v6[15] = static_cast<uint8_t>(rng());
    queries.push_back(MakeIpv6(v6));
  }
  std::vector<std::vector<Flat>> expected;
  size_t total_matches = 0;
  for (const Indicator& q : queries) {
    expected.push_back(LookupFlat(*index, q));
    total_matches += expected.back().size();
  }
  ASSERT_GT(total_matches, queries.size());

  constexpr int kThreads = 4;
  std::vector<size_t> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<IndexMatch> out;
      for (int round = 0; round < 3; ++round) {
        // Each thread walks the queries from a different starting point.
        for (size_t i = 0; i < queries.size(); ++i) {
          const size_t q =
              (i + static_cast<size_t>(t) * queries.size() / kThreads) % queries.size();
          out.clear();
          index->Lookup(queries[q], &out);
          if (Flatten(out) != expected[q]) ++mismatches[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(mismatches, ElementsAre(0u, 0u, 0u, 0u));
}

}  // namespace
}  // namespace iocd
