// Property tests: on random indicator sets and random observables (seeded, deterministic),
// IndicatorIndex::Lookup answers exactly what a slow, obviously-correct reference matcher
// answers (a linear scan over every indicator), for every type, in the same order. The
// generators draw from small alphabets so that CIDR ranges nest and overlap, domains share
// suffixes and masks collide with URLs often.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "indicator/indicator.h"
#include "match/indicator_index.h"

namespace iocd {
namespace {

using Truth = std::map<Indicator, std::set<FeedId>, bool (*)(const Indicator&, const Indicator&)>;

bool IndicatorLess(const Indicator& a, const Indicator& b) {
  return std::tie(a.type, a.key) < std::tie(b.type, b.key);
}

// (type, key, feeds): an owning, comparable form of one match.
using Flat = std::tuple<IndicatorType, std::string, std::vector<FeedId>>;

std::vector<Flat> Flatten(const std::vector<IndexMatch>& matches) {
  std::vector<Flat> out;
  for (const IndexMatch& m : matches) {
    out.emplace_back(m.type, std::string(m.key), std::vector<FeedId>(m.feeds.begin(), m.feeds.end()));
  }
  return out;
}

std::string Describe(const std::vector<Flat>& flat) {
  std::string out;
  for (const auto& [type, key, feeds] : flat) {
    out += std::string(TypeName(type)) + " " + Indicator{type, key}.Display() + " x" +
           std::to_string(feeds.size()) + "; ";
  }
  return out;
}

uint32_t V4(std::string_view key) {
  return uint32_t{static_cast<uint8_t>(key[0])} << 24 | uint32_t{static_cast<uint8_t>(key[1])} << 16 |
         uint32_t{static_cast<uint8_t>(key[2])} << 8 | uint32_t{static_cast<uint8_t>(key[3])};
}

bool Covers6(std::string_view cidr, std::string_view address) {
  const int len = static_cast<uint8_t>(cidr[16]);
  for (int bit = 0; bit < len; ++bit) {
    const int byte = bit / 8, shift = 7 - bit % 8;
    if (((cidr[byte] >> shift) & 1) != ((address[byte] >> shift) & 1)) return false;
  }
  return true;
}

size_t Literal(std::string_view k) {
  return k.size() - static_cast<size_t>(std::count(k.begin(), k.end(), '*'));
}

// The reference: scan every indicator, keep those the header's table says match, order
// them as the header says.
std::vector<Flat> Reference(const Truth& truth, const Indicator& obs) {
  struct Hit {
    int rank;  // smaller first
    std::string tiebreak;
    Flat flat;
  };
  std::vector<Hit> hits;
  Indicator o = obs;
  if (o.type == IndicatorType::kIpv6 && o.key.size() == 16 &&
      o.key.compare(0, 12, std::string(10, '\0') + "\xff\xff") == 0) {
    o = Indicator{IndicatorType::kIpv4, o.key.substr(12)};
  }
  const bool host_only_obs = o.type == IndicatorType::kDomain;
  for (const auto& [ind, feeds] : truth) {
    const Flat flat{ind.type, ind.key, std::vector<FeedId>(feeds.begin(), feeds.end())};
    const std::string& k = ind.key;
    switch (ind.type) {
      case IndicatorType::kCidr4:
        if (o.type == IndicatorType::kIpv4 && o.key.size() == 4) {
          const int len = static_cast<uint8_t>(k[4]);
          const uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
          if ((V4(o.key) & mask) == V4(k)) hits.push_back({1 + (32 - len), "", flat});
        }
        break;
      case IndicatorType::kCidr6:
        if (o.type == IndicatorType::kIpv6 && o.key.size() == 16 && Covers6(k, o.key)) {
          hits.push_back({1 + (128 - static_cast<uint8_t>(k[16])), "", flat});
        }
        break;
      case IndicatorType::kDomain:
        if (o.type == IndicatorType::kDomain &&
            (o.key == k || (o.key.size() > k.size() && o.key.ends_with("." + k)))) {
          hits.push_back({-static_cast<int>(k.size()), "", flat});
        }
        break;
      case IndicatorType::kUrlMask: {
        const bool host_only_mask = k.find_first_of("/?") == std::string::npos;
        if ((o.type == IndicatorType::kUrl || (host_only_obs && host_only_mask)) &&
            UrlMaskMatches(k, o.key)) {
          hits.push_back({1000 - static_cast<int>(Literal(k)), k, flat});
        }
        break;
      }
      default:
        if (ind.type == o.type && k == o.key) hits.push_back({0, "", flat});
    }
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return std::tie(a.rank, a.tiebreak) < std::tie(b.rank, b.tiebreak);
  });
  std::vector<Flat> out;
  for (Hit& h : hits) out.push_back(std::move(h.flat));
  return out;
}

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  size_t Pick(size_t n) { return rng_() % n; }

  std::string Host() {
    static const char* kLabels[] = {"a", "b", "evil", "x", "www", "cdn", "bücher"};
    static const char* kTlds[] = {"com", "net", "co.uk", "example"};
    std::string host;
    const size_t depth = Pick(4);
    for (size_t i = 0; i < depth; ++i) host += std::string(kLabels[Pick(7)]) + ".";
    return host + kTlds[Pick(4)];
  }

  std::string Path() {
    static const char* kPaths[] = {"", "/", "/a", "/a/b", "/gate.php", "/a/gate.php", "/x?y=1",
                                   "/A/./B/../c", "/%41"};
    return kPaths[Pick(9)];
  }

  std::string Ipv4Text() {
    static const char* kBases[] = {"10.1.2.3", "10.1.200.7", "192.168.0.1", "8.8.8.8"};
    uint32_t a = *ParseIpv4(kBases[Pick(4)]);
    a ^= static_cast<uint32_t>(rng_()) & ((1u << Pick(20)) - 1);
    return Indicator{IndicatorType::kIpv4, {static_cast<char>(a >> 24), static_cast<char>(a >> 16),
                                            static_cast<char>(a >> 8), static_cast<char>(a)}}
        .Display();
  }

  std::string Ipv6Text() {
    static const char* kBases[] = {"2001:db8::", "2001:db8:0:1::", "fe80::"};
    return std::string(kBases[Pick(3)]) + std::to_string(Pick(20));
  }

  std::string Hash() {
    static const size_t kSizes[] = {32, 40, 64, 128};
    const size_t size = kSizes[Pick(4)];
    std::string hex(size, '0');
    hex[Pick(4)] = "0123456789abcdef"[Pick(16)];
    if (Pick(2) == 0) std::transform(hex.begin(), hex.end(), hex.begin(), ::toupper);
    return hex;
  }

  // Text as a feed lists it; may be refused by ParseIndicator (then it is skipped).
  std::string IndicatorText() {
    switch (Pick(9)) {
      case 0: return Ipv4Text();
      case 1: return Ipv4Text() + "/" + std::to_string(Pick(33));
      case 2: return Ipv6Text();
      case 3: return Ipv6Text() + "/" + std::to_string(Pick(129));
      case 4: return Host();
      case 5: return "http://" + Host() + Path();
      case 6: return Hash();
      case 7: return "::ffff:" + Ipv4Text() + "/" + std::to_string(96 + Pick(33));
      default: return Mask();
    }
  }

  std::string Mask() {
    std::string host = Host();
    // Replace a random label with "*" or "x*".
    std::vector<std::string> labels;
    for (size_t start = 0;;) {
      size_t dot = host.find('.', start);
      labels.push_back(host.substr(start, dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    labels[Pick(labels.size())] = Pick(2) == 0 ? "*" : labels[0].substr(0, 1) + "*";
    std::string out;
    for (size_t i = 0; i < labels.size(); ++i) out += (i ? "." : "") + labels[i];
    static const char* kTails[] = {"", "/*", "/a/*", "/*.php", "/gate.php", "/*?y=*"};
    return out + kTails[Pick(6)];
  }

  Indicator ObservableOf() {
    switch (Pick(6)) {
      case 0: return *ParseIndicator(Ipv4Text());
      case 1: return *ParseIndicator(Ipv6Text());
      case 2: {  // an IPv4-mapped IPv6 key, as a hand-built observable
        std::string key(10, '\0');
        key += "\xff\xff" + ParseIndicator(Ipv4Text())->key;
        return Indicator{IndicatorType::kIpv6, key};
      }
      case 3:
        while (true) {
          if (auto d = NormalizeDomain(Host())) return Indicator{IndicatorType::kDomain, *d};
        }
      case 4:
        while (true) {
          if (auto u = NormalizeUrl("http://" + Host() + Path())) return Indicator{IndicatorType::kUrl, *u};
        }
      default: return *ParseIndicator(Hash());
    }
  }

 private:
  std::mt19937 rng_;
};

class MatchPropertyTest : public testing::TestWithParam<uint32_t> {};

TEST_P(MatchPropertyTest, EngineEqualsLinearScan) {
  Generator gen(GetParam());
  Truth truth(IndicatorLess);
  IndexBuilder builder;
  size_t refused = 0;
  for (int i = 0; i < 400; ++i) {
    Result<Indicator> ind = ParseIndicator(gen.IndicatorText());
    if (!ind.ok()) {
      ++refused;
      continue;
    }
    const FeedId feed = static_cast<FeedId>(gen.Pick(3));
    ASSERT_TRUE(builder.Add(*ind, feed).ok()) << ind->Display();
    truth[*ind].insert(feed);
  }
  EXPECT_LT(refused, 200u);  // the generators mostly produce valid indicators
  const auto index = std::move(builder).Build();
  ASSERT_EQ(index->size(), truth.size());

  size_t nonempty = 0;
  // Every indicator's own value as an observable, then random observables.
  std::vector<Indicator> observables;
  for (const auto& [ind, feeds] : truth) {
    if (ind.type != IndicatorType::kCidr4 && ind.type != IndicatorType::kCidr6 &&
        ind.type != IndicatorType::kUrlMask) {
      observables.push_back(ind);
    }
  }
  for (int i = 0; i < 3000; ++i) observables.push_back(gen.ObservableOf());
  for (const Indicator& obs : observables) {
    std::vector<IndexMatch> got;
    index->Lookup(obs, &got);
    const std::vector<Flat> want = Reference(truth, obs);
    ASSERT_EQ(Flatten(got), want) << TypeName(obs.type) << " " << obs.Display() << "\n got: "
                                  << Describe(Flatten(got)) << "\nwant: " << Describe(want);
    if (!want.empty()) ++nonempty;
  }
  // LookupBatch answers exactly what Lookup answers, observable by observable.
  std::vector<IndexMatch> batch{IndexMatch{IndicatorType::kMd5, "kept", {}}};
  std::vector<size_t> ends;
  index->LookupBatch(observables, &batch, &ends);
  ASSERT_EQ(ends.size(), observables.size());
  size_t begin = 1;
  for (size_t i = 0; i < observables.size(); ++i) {
    std::vector<IndexMatch> one;
    index->Lookup(observables[i], &one);
    ASSERT_LE(begin, ends[i]);
    std::vector<IndexMatch> slice(batch.begin() + static_cast<std::ptrdiff_t>(begin),
                                  batch.begin() + static_cast<std::ptrdiff_t>(ends[i]));
    ASSERT_EQ(Flatten(slice), Flatten(one)) << observables[i].Display();
    begin = ends[i];
  }
  EXPECT_EQ(batch.front().key, "kept");
  // The sets overlap enough that a good share of lookups match something.
  EXPECT_GT(nonempty, observables.size() / 5);
}

INSTANTIATE_TEST_SUITE_P(Seeds, MatchPropertyTest, testing::Values(1u, 2u, 3u, 42u, 1234u, 99999u));

}  // namespace
}  // namespace iocd
