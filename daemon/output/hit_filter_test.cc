#include "output/hit_filter.h"

#include <gtest/gtest.h>

namespace iocd {
namespace {

iocd::hit::Hit TwoEnrichments() {
  iocd::hit::Hit hit;
  auto* a = hit.add_enrichments();
  a->set_feed("abuse");
  a->set_indicator_type("ipv4");
  a->set_confidence(40);
  a->add_tags("scanner");
  auto* b = hit.add_enrichments();
  b->set_feed("c2");
  b->set_indicator_type("cidr4");
  b->set_confidence(90);
  b->add_tags("botnet");
  return hit;
}

TEST(HitFilterTest, EmptyFilterPassesEverything) {
  EXPECT_TRUE(PassesFilter(TwoEnrichments(), {}));
  EXPECT_TRUE(PassesFilter(iocd::hit::Hit(), {}));
}

TEST(HitFilterTest, EachConditionOnAnyEnrichment) {
  iocd::config::OutputFilter f;
  f.set_min_confidence(90);
  EXPECT_TRUE(PassesFilter(TwoEnrichments(), f));
  f.set_min_confidence(91);
  EXPECT_FALSE(PassesFilter(TwoEnrichments(), f));
  f.Clear();
  f.add_indicator_types("cidr4");
  EXPECT_TRUE(PassesFilter(TwoEnrichments(), f));
  f.set_indicator_types(0, "domain");
  EXPECT_FALSE(PassesFilter(TwoEnrichments(), f));
  f.Clear();
  f.add_feeds("abuse");
  EXPECT_TRUE(PassesFilter(TwoEnrichments(), f));
  f.set_feeds(0, "other");
  EXPECT_FALSE(PassesFilter(TwoEnrichments(), f));
  f.Clear();
  f.add_tags("botnet");
  EXPECT_TRUE(PassesFilter(TwoEnrichments(), f));
  f.set_tags(0, "phishing");
  EXPECT_FALSE(PassesFilter(TwoEnrichments(), f));
}

TEST(HitFilterTest, AllConditionsMustHold) {
  iocd::config::OutputFilter f;
  f.set_min_confidence(50);
  f.add_feeds("abuse");  // abuse has 40, c2 has 90: both conditions hold, on different enrichments
  EXPECT_TRUE(PassesFilter(TwoEnrichments(), f));
  f.add_tags("phishing");
  EXPECT_FALSE(PassesFilter(TwoEnrichments(), f));
  iocd::hit::Hit no_confidence;
  no_confidence.add_enrichments()->set_feed("abuse");
  iocd::config::OutputFilter c;
  c.set_min_confidence(1);
  EXPECT_FALSE(PassesFilter(no_confidence, c));
}

}  // namespace
}  // namespace iocd
