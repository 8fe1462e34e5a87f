#include "output/hit_filter.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

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

iocd::hit::Hit ServiceEvent() {
  iocd::hit::Hit hit;
  hit.mutable_service_event()->set_kind("feed_failed");
  hit.mutable_service_event()->set_subject("abuse");
  return hit;
}

TEST(OutputAcceptsTest, EventsRouteHitsAndServiceEvents) {
  iocd::config::Output o;
  // Unspecified means hits.
  EXPECT_TRUE(OutputAccepts(TwoEnrichments(), o));
  EXPECT_FALSE(OutputAccepts(ServiceEvent(), o));
  o.set_events(iocd::config::OUTPUT_EVENTS_HITS);
  EXPECT_TRUE(OutputAccepts(TwoEnrichments(), o));
  EXPECT_FALSE(OutputAccepts(ServiceEvent(), o));
  o.set_events(iocd::config::OUTPUT_EVENTS_SERVICE);
  EXPECT_FALSE(OutputAccepts(TwoEnrichments(), o));
  EXPECT_TRUE(OutputAccepts(ServiceEvent(), o));
  o.set_events(iocd::config::OUTPUT_EVENTS_ALL);
  EXPECT_TRUE(OutputAccepts(TwoEnrichments(), o));
  EXPECT_TRUE(OutputAccepts(ServiceEvent(), o));
}

TEST(OutputAcceptsTest, FilterAppliesToHitsOnly) {
  iocd::config::Output o;
  o.set_events(iocd::config::OUTPUT_EVENTS_ALL);
  o.mutable_filter()->add_feeds("nosuchfeed");
  o.mutable_filter()->set_min_confidence(99);
  EXPECT_FALSE(OutputAccepts(TwoEnrichments(), o));
  EXPECT_TRUE(OutputAccepts(ServiceEvent(), o));  // no enrichments, still delivered
  EXPECT_TRUE(IsServiceEvent(ServiceEvent()));
  EXPECT_FALSE(IsServiceEvent(TwoEnrichments()));
}

// Records what reaches it.
class RecordingOutput final : public HitOutput {
 public:
  const std::string& name() const override { return name_; }
  void Submit(std::shared_ptr<const iocd::hit::Hit> hit) override { kinds.push_back(hit->service_event().kind()); }
  void Shutdown(std::chrono::steady_clock::time_point) override {}
  OutputStats stats() const override {
    OutputStats s;
    s.submitted = s.delivered = kinds.size();
    return s;
  }
  std::vector<std::string> kinds;

 private:
  std::string name_ = "rec";
};

TEST(RoutedHitOutputTest, PassesOnlyWhatTheOutputTakesAndCountsTheRest) {
  auto inner = std::make_unique<RecordingOutput>();
  RecordingOutput* rec = inner.get();
  iocd::config::Output o;
  o.set_events(iocd::config::OUTPUT_EVENTS_SERVICE);
  auto routed = NewRoutedHitOutput(std::move(inner), o);
  routed->Submit(std::make_shared<iocd::hit::Hit>(TwoEnrichments()));
  routed->Submit(std::make_shared<iocd::hit::Hit>(ServiceEvent()));
  routed->Submit(std::make_shared<iocd::hit::Hit>(TwoEnrichments()));
  EXPECT_EQ(rec->kinds, (std::vector<std::string>{"feed_failed"}));
  EXPECT_EQ(routed->name(), "rec");
  OutputStats s = routed->stats();
  EXPECT_EQ(s.submitted, 3u);
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.filtered, 2u);
}

}  // namespace
}  // namespace iocd
