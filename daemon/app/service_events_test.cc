#include "app/service_events.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/collecting_output_for_test.h"

namespace iocd {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr int64_t kSecond = 1000000;
constexpr int64_t kT0 = 1700000000 * kSecond;

// "kind subject severity | key=value ..." for one service event hit.
std::string Describe(const iocd::hit::Hit& hit) {
  const auto& e = hit.service_event();
  std::string out = e.kind() + " " + e.subject() + " " + e.severity() + " |";
  for (const auto& d : e.details()) out += " " + d.key() + "=" + d.value();
  return out;
}

class ServiceEventsTest : public ::testing::Test {
 protected:
  ServiceEvents Make(ServiceEventsOptions options = {}) {
    return ServiceEvents(options, {&out_, &out2_}, nullptr, [this] { return now_; });
  }
  std::vector<std::string> Take() {
    std::vector<std::string> out;
    for (const auto& hit : out_.Take()) out.push_back(Describe(*hit));
    out2_.Take();
    return out;
  }

  int64_t now_ = kT0;
  CollectingOutput out_;
  CollectingOutput out2_;
};

TEST_F(ServiceEventsTest, StartedAndStoppedGoToEveryOutputWithUniqueIds) {
  ServiceEvents events = Make();
  events.Started("0.1.0", 2, 12);
  now_ += kSecond;
  events.Stopped("SIGTERM");
  auto hits = out_.hits();
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(out2_.hits().size(), 2u);
  EXPECT_EQ(out2_.hits()[0], hits[0]);  // one shared record, not a copy per output
  EXPECT_EQ(Describe(*hits[0]), "started  info | version=0.1.0 feeds=2 indicators=12");
  EXPECT_EQ(hits[0]->service_event().message(), "iocd 0.1.0 started: 12 indicators from 2 feeds");
  EXPECT_EQ(hits[0]->detected_unix_us(), kT0);
  EXPECT_EQ(Describe(*hits[1]), "stopped  info | reason=SIGTERM");
  EXPECT_EQ(hits[1]->detected_unix_us(), kT0 + kSecond);
  EXPECT_EQ(hits[0]->id().size(), 32u);
  EXPECT_LT(hits[0]->id(), hits[1]->id());  // time-ordered
  EXPECT_TRUE(hits[0]->observable().empty());
  EXPECT_THAT(events.counts(), ElementsAre(std::pair<const std::string, uint64_t>("started", 1),
                                           std::pair<const std::string, uint64_t>("stopped", 1)));
}

TEST_F(ServiceEventsTest, DisabledSendsNothing) {
  ServiceEvents events = Make({.enabled = false, .backlog_high = 1});
  events.Started("0.1.0", 0, 0);
  events.Check(kT0, {{"f", 1, 1}}, {{"o", 5, 5}});
  EXPECT_THAT(Take(), IsEmpty());
  EXPECT_THAT(events.counts(), IsEmpty());
}

TEST_F(ServiceEventsTest, FeedReports) {
  ServiceEvents events = Make();
  FeedSyncReport imported;
  imported.feed = "abuse";
  imported.outcome = FeedSyncReport::Outcome::kImported;
  imported.changes = {.added = 3, .removed = 1, .changed = 0, .unchanged = 2};
  imported.indicators = 5;
  imported.version = "00112233aabbccdd";
  events.FeedSynced(imported, "/feeds/abuse.txt");

  FeedSyncReport failed;
  failed.feed = "abuse";
  failed.outcome = FeedSyncReport::Outcome::kFailed;
  failed.indicators = 5;
  failed.version = "00112233aabbccdd";
  failed.error =
      "no record of /feeds/abuse.txt holds a valid indicator (2 malformed); is the format right?";
  failed.errors = {{3, "not a recognised indicator: 'garbage'"},
                   {4, "not a recognised indicator: 'x'"}};
  events.FeedSynced(failed, "/feeds/abuse.txt");

  FeedSyncReport unreadable;
  unreadable.feed = "new";
  unreadable.outcome = FeedSyncReport::Outcome::kFailed;
  unreadable.error = "cannot open /feeds/new.txt: No such file or directory";
  events.FeedSynced(unreadable, "/feeds/new.txt");

  FeedSyncReport unchanged;
  unchanged.feed = "abuse";
  unchanged.outcome = FeedSyncReport::Outcome::kUnchanged;
  events.FeedSynced(unchanged, "/feeds/abuse.txt");  // nothing to say

  FeedSyncReport removed;
  removed.feed = "old";
  removed.outcome = FeedSyncReport::Outcome::kRemoved;
  removed.changes.removed = 7;
  events.FeedSynced(removed, "(no longer configured)");

  auto hits = out_.hits();
  ASSERT_EQ(hits.size(), 4u);
  EXPECT_EQ(Describe(*hits[0]),
            "feed_updated abuse info | source=/feeds/abuse.txt indicators=5 added=3 removed=1 "
            "changed=0 malformed=0 "
            "version=00112233aabbccdd");
  EXPECT_EQ(Describe(*hits[1]),
            "feed_failed abuse error | source=/feeds/abuse.txt reason=" + failed.error +
                " line=3 line_error=not a recognised indicator: 'garbage' "
                "previous_version_kept=true indicators=5 "
                "version=00112233aabbccdd");
  EXPECT_EQ(hits[1]->service_event().message(),
            "feed 'abuse' failed: " + failed.error +
                " (first bad record: line 3: not a recognised indicator: 'garbage'); keeping the "
                "previous version (5 "
                "indicators)");
  EXPECT_EQ(Describe(*hits[2]), "feed_failed new error | source=/feeds/new.txt reason=" +
                                    unreadable.error + " previous_version_kept=false indicators=0");
  EXPECT_EQ(hits[2]->service_event().message(),
            "feed 'new' failed: " + unreadable.error + "; no previous version to keep");
  EXPECT_EQ(Describe(*hits[3]), "feed_removed old info | removed=7");
  EXPECT_EQ(hits[3]->service_event().message(),
            "feed 'old' removed: no longer configured or disabled; its 7 indicators no longer "
            "match");
}

TEST_F(ServiceEventsTest, FeedOutdatedOncePerStalePeriod) {
  ServiceEvents events = Make();
  const int64_t hour = 3600 * kSecond;
  std::vector<FeedAge> feeds = {{"stale", kT0, 2 * hour}, {"never", kT0 - 100 * hour, 0}};
  events.Check(kT0 + 2 * hour, feeds, {});  // exactly outdated_after: not yet
  EXPECT_THAT(Take(), IsEmpty());
  events.Check(kT0 + 2 * hour + 1, feeds, {});
  EXPECT_THAT(Take(),
              ElementsAre("feed_outdated stale warning | updated_unix_ms=" +
                          std::to_string(kT0 / 1000) + " age_s=7200 outdated_after_s=7200"));
  events.Check(kT0 + 5 * hour, feeds, {});  // still the same stale period
  EXPECT_THAT(Take(), IsEmpty());

  feeds[0].updated_unix_us = kT0 + 6 * hour;  // recovered...
  events.Check(kT0 + 6 * hour, feeds, {});
  EXPECT_THAT(Take(), IsEmpty());
  events.Check(kT0 + 9 * hour, feeds, {});  // ...and stale again
  EXPECT_THAT(Take(), ElementsAre("feed_outdated stale warning | updated_unix_ms=" +
                                  std::to_string((kT0 + 6 * hour) / 1000) +
                                  " age_s=10800 outdated_after_s=7200"));
  EXPECT_EQ(events.counts()["feed_outdated"], 2u);
}

TEST_F(ServiceEventsTest, AFeedThatNeverLoadedAgesFromItsFirstCheck) {
  ServiceEvents events = Make();
  std::vector<FeedAge> feeds = {{"broken", 0, 60 * kSecond}};
  events.Check(kT0, feeds, {});
  events.Check(kT0 + 60 * kSecond, feeds, {});
  EXPECT_THAT(Take(), IsEmpty());
  events.Check(kT0 + 61 * kSecond, feeds, {});
  EXPECT_THAT(
      Take(),
      ElementsAre("feed_outdated broken warning | updated_unix_ms=0 age_s=61 outdated_after_s=60"));
}

TEST_F(ServiceEventsTest, BacklogHighOncePerCrossingWithHysteresis) {
  ServiceEvents events = Make({.enabled = true, .backlog_high = 100});
  events.Check(kT0, {}, {{"siem", 99, 0}});
  EXPECT_THAT(Take(), IsEmpty());
  events.Check(kT0, {}, {{"siem", 100, 0}, {"file", 3, 0}});
  EXPECT_THAT(Take(),
              ElementsAre("output_backlog_high siem warning | pending=100 backlog_high=100"));
  events.Check(kT0, {}, {{"siem", 500, 0}});
  events.Check(kT0, {}, {{"siem", 60, 0}});  // below the threshold, not yet below half
  events.Check(kT0, {}, {{"siem", 120, 0}});
  EXPECT_THAT(Take(), IsEmpty());
  events.Check(kT0, {}, {{"siem", 49, 0}});  // recovered (logged only)
  EXPECT_THAT(Take(), IsEmpty());
  events.Check(kT0, {}, {{"siem", 100, 0}});
  EXPECT_THAT(Take(),
              ElementsAre("output_backlog_high siem warning | pending=100 backlog_high=100"));
}

TEST_F(ServiceEventsTest, SpoolOverflowReportsHowManyWereDropped) {
  ServiceEvents events = Make();
  events.Check(kT0, {}, {{"siem", 0, 0}});
  EXPECT_THAT(Take(), IsEmpty());
  events.Check(kT0, {}, {{"siem", 0, 15}});
  EXPECT_THAT(Take(), ElementsAre("spool_overflow siem error | dropped=15 dropped_total=15"));
  events.Check(kT0, {}, {{"siem", 0, 15}});
  EXPECT_THAT(Take(), IsEmpty());
  events.Check(kT0, {}, {{"siem", 0, 40}});
  EXPECT_THAT(Take(), ElementsAre("spool_overflow siem error | dropped=25 dropped_total=40"));
}

TEST(HitIdGeneratorTest, IdsAreUniqueAndTimeOrdered) {
  HitIdGenerator ids;
  std::string a = ids.Next(kT0);
  std::string b = ids.Next(kT0);
  std::string c = ids.Next(kT0 + 1);
  EXPECT_NE(a, b);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(a.substr(0, 14), fmt::format("{:014x}", static_cast<uint64_t>(kT0)));
}

}  // namespace
}  // namespace iocd
