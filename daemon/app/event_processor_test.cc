#include "app/event_processor.h"

#include "app/collecting_output_for_test.h"

#include "app/feed_sync.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

namespace iocd {
namespace {

namespace fs = std::filesystem;


FeedContribution Entry(std::string_view value, std::string_view threat) {
  FeedContribution c{*ParseIndicator(value), {}};
  c.entry.set_value(std::string(value));
  auto* f = c.entry.add_context();
  f->set_key("threat");
  f->set_value(std::string(threat));
  return c;
}

class EventProcessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "iocd-proc-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    store_ = std::move(IndicatorStore::Open({dir_}).value());
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  void Replace(const std::string& feed, std::vector<FeedContribution> entries) {
    iocd::store::FeedState state;
    state.set_name(feed);
    ASSERT_TRUE(store_->ReplaceFeed(state, std::move(entries)).ok());
    auto built = BuildSnapshot(*store_, {}, AllowlistBuilder().Build(), *AllowlistBuilder().Build(), counters_,
                               FeedSync::SystemNowMs());
    ASSERT_TRUE(built.ok()) << built.status().ToString();
    holder_.Publish(built->snapshot);
  }

  std::string dir_;
  std::unique_ptr<IndicatorStore> store_;
  SnapshotHolder holder_;
  SuppressionCounters counters_;
  CollectingOutput out_;
};

TEST_F(EventProcessorTest, OneHitPerMatchedObservableWithEveryIndicator) {
  Replace("a", {Entry("10.0.0.0/8", "range a"), Entry("evil.com", "dom a")});
  Replace("b", {Entry("10.1.2.3", "exact b"), Entry("evil.com", "dom b")});
  EventProcessor proc(store_.get(), &holder_, {&out_});

  proc.Process({"siem", "127.0.0.1:5000", "conn 10.1.2.3 -> x.evil.com and 8.8.8.8"});
  auto hits = out_.hits();
  ASSERT_EQ(hits.size(), 2u);

  const auto& ip = *hits[0];
  EXPECT_EQ(ip.input(), "siem");
  EXPECT_EQ(ip.sender(), "127.0.0.1:5000");
  EXPECT_EQ(ip.raw_event(), "conn 10.1.2.3 -> x.evil.com and 8.8.8.8");
  EXPECT_EQ(ip.observable(), "10.1.2.3");
  EXPECT_EQ(ip.observable_type(), "ipv4");
  EXPECT_EQ(ip.field(), "message");
  ASSERT_EQ(ip.enrichments_size(), 2);
  EXPECT_EQ(ip.enrichments(0).feed(), "b");  // exact address first
  EXPECT_EQ(ip.enrichments(0).indicator(), "10.1.2.3");
  EXPECT_EQ(ip.enrichments(0).context(0).value(), "exact b");
  EXPECT_EQ(ip.enrichments(1).feed(), "a");
  EXPECT_EQ(ip.enrichments(1).indicator(), "10.0.0.0/8");
  EXPECT_EQ(ip.enrichments(1).indicator_type(), "cidr4");

  const auto& dom = *hits[1];
  EXPECT_EQ(dom.observable(), "x.evil.com");
  ASSERT_EQ(dom.enrichments_size(), 2);
  EXPECT_EQ(dom.enrichments(0).feed(), "a");
  EXPECT_EQ(dom.enrichments(1).feed(), "b");
  EXPECT_EQ(dom.enrichments(1).context(0).value(), "dom b");
  EXPECT_NE(ip.id(), dom.id());

  ProcessorStats stats = proc.stats();
  EXPECT_EQ(stats.events, 1u);
  EXPECT_EQ(stats.observables, 3u);
  EXPECT_EQ(stats.hits, 2u);
}

TEST_F(EventProcessorTest, NoIndicatorsNoHits) {
  EventProcessor proc(store_.get(), &holder_, {&out_});
  proc.Process({"siem", "127.0.0.1:5000", "conn 10.1.2.3 -> x.evil.com"});
  EXPECT_TRUE(out_.hits().empty());
}

TEST_F(EventProcessorTest, NewSnapshotTakesEffectForTheNextEvent) {
  Replace("a", {Entry("evil.com", "v1")});
  EventProcessor proc(store_.get(), &holder_, {&out_});
  proc.Process({"siem", "p", "evil.com"});
  Replace("a", {Entry("other.org", "v2")});
  proc.Process({"siem", "p", "evil.com other.org"});
  auto hits = out_.hits();
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0]->observable(), "evil.com");
  EXPECT_EQ(hits[1]->observable(), "other.org");
  EXPECT_EQ(hits[1]->enrichments(0).context(0).value(), "v2");
}

}  // namespace
}  // namespace iocd
