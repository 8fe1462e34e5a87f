// Helpers shared by the match tests: build an index from indicator texts and describe
// lookups as readable strings ("cidr4 10.0.0.0/8 [1,2]") that do not depend on pointers.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "indicator/indicator.h"
#include "match/indicator_index.h"

namespace iocd::testutil {

struct Listed {
  std::string_view text;  // as a feed lists it (ParseIndicator)
  FeedId feed;
};

inline std::shared_ptr<const IndicatorIndex> BuildIndex(const std::vector<Listed>& listed) {
  IndexBuilder builder;
  for (const Listed& l : listed) {
    Result<Indicator> ind = ParseIndicator(l.text);
    EXPECT_TRUE(ind.ok()) << l.text << ": " << ind.status().ToString();
    if (!ind.ok()) continue;
    Status st = builder.Add(*ind, l.feed);
    EXPECT_TRUE(st.ok()) << l.text << ": " << st.ToString();
  }
  return std::move(builder).Build();
}

// An observable as the extractor would produce it: URLs with a scheme through
// NormalizeUrl, other text through ParseIndicator, and names ParseIndicator refuses as
// indicators (public suffixes) through NormalizeDomain.
inline Indicator Observe(std::string_view text) {
  if (text.find("://") != std::string_view::npos) {
    auto url = NormalizeUrl(text);
    EXPECT_TRUE(url.has_value()) << text;
    return Indicator{IndicatorType::kUrl, url.value_or("bad.url")};
  }
  Result<Indicator> ind = ParseIndicator(text);
  if (ind.ok()) return *ind;
  auto domain = NormalizeDomain(text);
  EXPECT_TRUE(domain.has_value()) << text;
  return Indicator{IndicatorType::kDomain, domain.value_or("bad.domain")};
}

inline std::vector<std::string> Describe(const std::vector<IndexMatch>& matches) {
  std::vector<std::string> out;
  for (const IndexMatch& m : matches) {
    std::string s = std::string(TypeName(m.type)) + " " + m.ToIndicator().Display() + " [";
    for (size_t i = 0; i < m.feeds.size(); ++i) {
      if (i > 0) s += ",";
      s += std::to_string(m.feeds[i]);
    }
    out.push_back(s + "]");
  }
  return out;
}

inline std::vector<std::string> LookupText(const IndicatorIndex& index, const Indicator& observable) {
  std::vector<IndexMatch> out;
  index.Lookup(observable, &out);
  return Describe(out);
}

inline std::vector<std::string> LookupText(const IndicatorIndex& index, std::string_view observable) {
  return LookupText(index, Observe(observable));
}

// One row of a table test: an observable and exactly what it must match, in order.
struct MatchCase {
  std::string_view observable;
  std::vector<std::string> want;
};

inline std::ostream& operator<<(std::ostream& os, const MatchCase& c) { return os << c.observable; }

}  // namespace iocd::testutil
