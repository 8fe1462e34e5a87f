#include "app/event_processor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

#include "app/collecting_output_for_test.h"
#include "app/feed_sync.h"

namespace iocd {
namespace {

namespace fs = std::filesystem;

FeedContribution Entry(std::string_view value, std::string_view threat) {
  iocd::store::FeedEntry entry;
  entry.set_value(std::string(value));
  auto* f = entry.add_context();
  f->set_key("threat");
  f->set_value(std::string(threat));
  return FeedContribution::Of(*ParseIndicator(value), entry);
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

  void Replace(const std::string& feed, std::vector<FeedContribution> entries,
               std::shared_ptr<const Allowlist> allowlist = AllowlistBuilder().Build()) {
    iocd::store::FeedState state;
    state.set_name(feed);
    ASSERT_TRUE(store_->ReplaceFeed(state, std::move(entries)).ok());
    auto built = BuildSnapshot(*store_, {}, std::move(allowlist), *AllowlistBuilder().Build(), counters_,
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

// Repeated hits on one indicator take its enrichment from the per-snapshot cache: the same
// enrichment every time, a changed context as soon as a snapshot with it is published, and
// an exact_domain entry still matches only its own name whichever event came first.
TEST_F(EventProcessorTest, RepeatedHitsReadTheContextOfTheirSnapshot) {
  iocd::store::FeedEntry exact;
  exact.set_value("exact.net");
  exact.set_exact_domain(true);
  exact.add_context()->set_key("threat");
  exact.mutable_context(0)->set_value("only exact");
  Replace("a", {Entry("evil.com", "v1"), FeedContribution::Of(*ParseIndicator("exact.net"), exact)});
  EventProcessor proc(store_.get(), &holder_, {&out_});
  proc.Process({"siem", "p", "evil.com x.exact.net"});
  proc.Process({"siem", "p", "a.evil.com exact.net"});
  proc.Process({"siem", "p", "evil.com y.exact.net"});
  Replace("a", {Entry("evil.com", "v2")});
  proc.Process({"siem", "p", "b.evil.com exact.net"});
  auto hits = out_.hits();
  ASSERT_EQ(hits.size(), 5u);
  const std::vector<std::pair<std::string, std::string>> want = {
      {"evil.com", "v1"}, {"a.evil.com", "v1"}, {"exact.net", "only exact"}, {"evil.com", "v1"}, {"b.evil.com", "v2"}};
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(hits[i]->observable(), want[i].first);
    ASSERT_EQ(hits[i]->enrichments_size(), 1);
    EXPECT_EQ(hits[i]->enrichments(0).feed(), "a");
    EXPECT_EQ(hits[i]->enrichments(0).indicator(), want[i].first == "exact.net" ? "exact.net" : "evil.com");
    ASSERT_EQ(hits[i]->enrichments(0).context_size(), 1);
    EXPECT_EQ(hits[i]->enrichments(0).context(0).value(), want[i].second);
  }
  EXPECT_EQ(proc.stats().missing_context, 0u);
  EXPECT_EQ(proc.stats().hits, 5u);
}

// Stands in for a ReplyBack connection (ingest/received_event.h).
class CollectingReplies : public ReplyChannel {
 public:
  virtual ~CollectingReplies() = default;
  void Send(std::string_view line) override { lines.emplace_back(line); }
  std::vector<std::string> lines;
};

ReceivedEvent ReplyEvent(std::string_view input, std::string_view message, ReplyChannel* reply) {
  ReceivedEvent e;
  e.input = input;
  e.sender = "127.0.0.1:5000";
  e.message = message;
  e.reply = reply;
  return e;
}

TEST_F(EventProcessorTest, ReplyBackSendsEachHitInTheDefaultFormat) {
  Replace("a", {Entry("evil.com", "dom a"), Entry("10.1.2.3", "ip a")});
  EventProcessor proc(store_.get(), &holder_, {&out_});
  CollectingReplies replies;
  proc.Process(ReplyEvent("siem", "x.evil.com then 10.1.2.3 and 8.8.8.8", &replies));
  EXPECT_EQ(replies.lines,
            (std::vector<std::string>{
                R"(Category=a|MatchedIndicator=x.evil.com|IndicatorType=domain|SourceId=127.0.0.1:5000|RecordContext={"threat":"dom a"})",
                R"(Category=a|MatchedIndicator=10.1.2.3|IndicatorType=ipv4|SourceId=127.0.0.1:5000|RecordContext={"threat":"ip a"})"}));
  EXPECT_EQ(out_.hits().size(), 2u);  // the outputs get them too

  // No reply channel (normal mode): nothing is rendered.
  proc.Process(ReplyEvent("siem", "evil.com", nullptr));
  EXPECT_EQ(replies.lines.size(), 2u);
  EXPECT_EQ(out_.hits().size(), 3u);
}

TEST_F(EventProcessorTest, ReplyBackUsesTheInputsFormat) {
  Replace("a", {Entry("evil.com", "dom a")});
  EventProcessor proc(store_.get(), &holder_, {&out_});
  iocd::config::Input json_in;
  json_in.set_name("json-in");
  json_in.mutable_reply_back()->set_format(iocd::config::OUTPUT_FORMAT_JSON);
  ASSERT_TRUE(proc.ConfigureReplyBack(json_in).ok());
  iocd::config::Input tmpl_in;
  tmpl_in.set_name("tmpl-in");
  tmpl_in.mutable_reply_back()->set_line_template("hit %HitId% from %Feed% for %Input%");
  ASSERT_TRUE(proc.ConfigureReplyBack(tmpl_in).ok());

  CollectingReplies json_replies, tmpl_replies;
  proc.Process(ReplyEvent("json-in", "evil.com", &json_replies));
  proc.Process(ReplyEvent("tmpl-in", "evil.com", &tmpl_replies));
  auto hits = out_.hits();
  ASSERT_EQ(hits.size(), 2u);

  // The very hit the outputs got, rendered as an output with that format would.
  iocd::config::Output json_out;
  json_out.set_format(iocd::config::OUTPUT_FORMAT_JSON);
  std::string expected;
  (*MakeHitFormatter(json_out))->Format(*hits[0], &expected);
  EXPECT_EQ(json_replies.lines, (std::vector<std::string>{expected}));
  EXPECT_EQ(tmpl_replies.lines, (std::vector<std::string>{"hit " + hits[1]->id() + " from a for tmpl-in"}));
}

TEST_F(EventProcessorTest, BadReplyFormatIsAnError) {
  EventProcessor proc(store_.get(), &holder_, {&out_});
  iocd::config::Input in;
  in.set_name("siem");
  in.mutable_reply_back()->set_line_template("%Date");
  Status s = proc.ConfigureReplyBack(in);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "input siem: reply_back: line_template: '%' at offset 0 has no closing '%' (write %% for a literal %)");
  in.mutable_reply_back()->set_format(iocd::config::OUTPUT_FORMAT_LEEF);
  in.mutable_reply_back()->set_leef_delimiter("=");
  EXPECT_EQ(proc.ConfigureReplyBack(in).code(), StatusCode::kInvalidArgument);
}

std::shared_ptr<const SourceRules> FirewallSource() {
  google::protobuf::RepeatedPtrField<iocd::config::Source> sources;
  iocd::config::Source* fw = sources.Add();
  fw->set_name("fw");
  fw->add_senders("127.0.0.0/8");
  auto* target = fw->add_rules();
  target->set_name("target");
  target->set_regex(R"(dst=([a-z.]+))");
  target->set_type("domain");
  auto* user = fw->add_rules();
  user->set_name("user");
  user->set_regex(R"(user=([a-z]+))");
  user->set_type("context");
  fw->add_ignore("healthcheck");
  auto built = SourceRules::Build(sources);
  EXPECT_TRUE(built.ok()) << built.status().ToString();
  return built.ok() ? std::shared_ptr<const SourceRules>(std::move(built).value()) : nullptr;
}

TEST_F(EventProcessorTest, SourceRulesNameTheFieldAndAddContext) {
  Replace("a", {Entry("evil.com", "dom a"), Entry("10.1.2.3", "ip a")});
  EventProcessor proc(store_.get(), &holder_, {&out_});
  proc.SetSourceRules(FirewallSource());

  proc.Process({"siem", "127.0.0.1:5000", "deny dst=evil.com user=alice via 10.1.2.3"});
  auto hits = out_.Take();
  ASSERT_EQ(hits.size(), 2u);
  // The rule's observable first, under the rule's name; then what only the built-in
  // extraction found. Both carry the source and its context values.
  EXPECT_EQ(hits[0]->observable(), "evil.com");
  EXPECT_EQ(hits[0]->field(), "target");
  EXPECT_EQ(hits[1]->observable(), "10.1.2.3");
  EXPECT_NE(hits[1]->field(), "target");
  for (const auto& hit : hits) {
    EXPECT_EQ(hit->rule_set(), "fw");
    ASSERT_EQ(hit->event_context_size(), 1);
    EXPECT_EQ(hit->event_context(0).key(), "user");
    EXPECT_EQ(hit->event_context(0).value(), "alice");
  }

  // Another sender: no source applies, the built-in extraction alone.
  proc.Process({"siem", "10.9.9.9:5000", "deny dst=evil.com user=alice"});
  hits = out_.Take();
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->rule_set(), "");
  EXPECT_NE(hits[0]->field(), "target");
  EXPECT_EQ(hits[0]->event_context_size(), 0);

  // The ignore rule: nothing is looked up.
  proc.Process({"siem", "127.0.0.1:5000", "healthcheck dst=evil.com"});
  EXPECT_TRUE(out_.Take().empty());
  ProcessorStats s = proc.stats();
  EXPECT_EQ(s.events, 3u);
  EXPECT_EQ(s.ignored, 1u);
  EXPECT_EQ(s.hits, 3u);
}

// A hit without what differs from run to run (its id and detection time).
std::string Comparable(const iocd::hit::Hit& hit) {
  iocd::hit::Hit copy = hit;
  copy.clear_id();
  copy.clear_detected_unix_us();
  return copy.DebugString();
}

TEST_F(EventProcessorTest, ProcessBatchDoesWhatProcessDoesEventByEvent) {
  Replace("a", {Entry("10.0.0.0/8", "range a"), Entry("evil.com", "dom a"), Entry("10.1.2.3", "ip a"),
                Entry("10.1.2.4", "ip a")});
  Replace("b", {Entry("evil.com", "dom b")});
  const std::vector<ReceivedEvent> events = {
      {"siem", "127.0.0.1:5000", "deny dst=evil.com user=alice via 10.1.2.3"},  // source fw
      {"siem", "10.9.9.9:5000", "<13>Jan  1 00:00:00 host app: nothing here"},
      {"siem", "10.9.9.9:5000", "conn 10.1.2.3 -> x.evil.com and 8.8.8.8 10.1.2.4"},  // capped at 2
      {"siem", "127.0.0.1:5000", "healthcheck dst=evil.com"},                         // ignored
      {"siem", "10.9.9.9:5000", "CEF:0|v|p|1|1|n|5|src=10.200.0.1 request=http://evil.com/x"},
      {"siem", "10.9.9.9:5000", "CEF:0|broken"},
  };
  CollectingOutput one_by_one;
  EventProcessor single(store_.get(), &holder_, {&one_by_one}, EventProcessorOptions{nullptr, nullptr, 2});
  single.SetSourceRules(FirewallSource());
  for (const ReceivedEvent& e : events) single.Process(e);
  CollectingOutput batched;
  EventProcessor batch(store_.get(), &holder_, {&batched}, EventProcessorOptions{nullptr, nullptr, 2});
  batch.SetSourceRules(FirewallSource());
  batch.ProcessBatch(std::span<const ReceivedEvent>(events).first(3));
  batch.ProcessBatch(std::span<const ReceivedEvent>(events).subspan(3));
  batch.ProcessBatch({});

  auto expected = one_by_one.Take();
  auto got = batched.Take();
  ASSERT_EQ(expected.size(), 6u);  // 2 (source fw), 2 (capped), 2 (CEF)
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(Comparable(*got[i]), Comparable(*expected[i])) << i;
  const ProcessorStats a = single.stats();
  const ProcessorStats b = batch.stats();
  EXPECT_EQ(b.events, 6u);
  EXPECT_EQ(b.events, a.events);
  EXPECT_EQ(b.observables, a.observables);
  EXPECT_EQ(b.hits, a.hits);
  EXPECT_EQ(b.capped, a.capped);
  EXPECT_EQ(b.capped, 1u);
  EXPECT_EQ(b.ignored, 1u);
  EXPECT_EQ(b.malformed, a.malformed);
  EXPECT_EQ(b.malformed, 1u);
}

TEST_F(EventProcessorTest, DeferringBatchesLeaveTheWakeUpToTheOutputsAndIdle) {
  Replace("a", {Entry("evil.com", "dom a"), Entry("10.1.2.3", "ip a")});
  const std::vector<ReceivedEvent> events = {
      {"siem", "10.9.9.9:5000", "a 10.1.2.3 then evil.com"},
      {"siem", "10.9.9.9:5000", "nothing here"},
      {"siem", "10.9.9.9:5000", "c x.evil.com"},
  };
  CollectingOutput plain;
  EventProcessor reference(store_.get(), &holder_, {&plain});
  reference.ProcessBatch(events);
  reference.ProcessBatch(std::span<const ReceivedEvent>(events).subspan(1, 1));

  CollectingOutput out;
  EventProcessor processor(store_.get(), &holder_, {&out});
  processor.ProcessBatchDeferringWakeup(std::span<const ReceivedEvent>(events).first(1));
  processor.ProcessBatchDeferringWakeup(std::span<const ReceivedEvent>(events).subspan(2, 1));
  processor.ProcessBatchDeferringWakeup(std::span<const ReceivedEvent>(events).subspan(1, 1));  // no hit
  processor.ProcessBatchDeferringWakeup({});                                                     // nothing
  processor.InputIdle();
  // Hits are handed over (in the spool, for the real outputs) by the deferring call; a batch
  // without hits and InputIdle() let the outputs wake what is pending.
  EXPECT_EQ(out.calls(), (std::vector<std::string>{"deferred 2", "deferred 1", "wake", "wake", "wake"}));
  EXPECT_EQ(plain.calls(), (std::vector<std::string>{"batch 3"}));
  auto expected = plain.Take();
  auto got = out.Take();
  ASSERT_EQ(got.size(), 3u);
  ASSERT_EQ(expected.size(), 3u);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(Comparable(*got[i]), Comparable(*expected[i])) << i;
  EXPECT_EQ(processor.stats().hits, 3u);
  EXPECT_EQ(processor.stats().events, 3u);
}

TEST_F(EventProcessorTest, ProcessBatchSubmitsItsHitsWithOneSubmitBatchInEventOrder) {
  Replace("a", {Entry("evil.com", "dom a"), Entry("10.1.2.3", "ip a"), Entry("10.1.2.4", "ip a")});
  const std::vector<ReceivedEvent> events = {
      {"siem", "10.9.9.9:5000", "a 10.1.2.3 then evil.com"},
      {"siem", "10.9.9.9:5000", "nothing here"},
      {"siem", "10.9.9.9:5000", "b 10.1.2.4"},
      {"siem", "10.9.9.9:5000", "c x.evil.com 10.1.2.3"},
  };
  CollectingOutput one_by_one;
  EventProcessor single(store_.get(), &holder_, {&one_by_one});
  for (const ReceivedEvent& e : events) single.Process(e);
  CollectingOutput batched;
  EventProcessor batch(store_.get(), &holder_, {&batched});
  batch.ProcessBatch(events);
  batch.ProcessBatch(std::span<const ReceivedEvent>(events).subspan(1, 1));  // no hit: no call

  // Event by event: one call per event with hits; the batch: one call for all five.
  EXPECT_EQ(one_by_one.batch_sizes(), (std::vector<size_t>{2, 1, 2}));
  EXPECT_EQ(batched.batch_sizes(), (std::vector<size_t>{5}));
  auto expected = one_by_one.Take();
  auto got = batched.Take();
  ASSERT_EQ(got.size(), 5u);
  ASSERT_EQ(expected.size(), 5u);
  std::vector<std::string> observables;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(Comparable(*got[i]), Comparable(*expected[i])) << i;
    observables.push_back(got[i]->observable());
  }
  EXPECT_EQ(observables, (std::vector<std::string>{"10.1.2.3", "evil.com", "10.1.2.4", "x.evil.com", "10.1.2.3"}));
  EXPECT_EQ(batch.stats().hits, 5u);

  // ReplyBack events: each hit goes out with Submit as it is found, next to its reply.
  CollectingReplies replies;
  const std::vector<ReceivedEvent> replied = {ReplyEvent("siem", "a 10.1.2.3 then evil.com", &replies),
                                              ReplyEvent("siem", "b 10.1.2.4", &replies)};
  batch.ProcessBatch(replied);
  EXPECT_EQ(replies.lines.size(), 3u);
  EXPECT_EQ(batched.batch_sizes(), (std::vector<size_t>{5}));
  got = batched.Take();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0]->observable(), "10.1.2.3");
  EXPECT_EQ(got[1]->observable(), "evil.com");
  EXPECT_EQ(got[2]->observable(), "10.1.2.4");
}

TEST_F(EventProcessorTest, MaxHitsPerEventCapsAndCounts) {
  Replace("a", {Entry("evil.com", "d"), Entry("10.1.2.3", "i"), Entry("10.1.2.4", "i")});
  EventProcessor proc(store_.get(), &holder_, {&out_}, EventProcessorOptions{nullptr, nullptr, 2});
  proc.Process({"siem", "127.0.0.1:5000", "10.1.2.3 10.1.2.4 evil.com"});
  auto hits = out_.Take();
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0]->observable(), "10.1.2.3");
  EXPECT_EQ(hits[1]->observable(), "10.1.2.4");
  EXPECT_EQ(proc.stats().capped, 1u);
  EXPECT_EQ(proc.stats().hits, 2u);
}

TEST_F(EventProcessorTest, SuppressionWindowSendsTheFirstHitAndCountsRepeats) {
  Replace("a", {Entry("evil.com", "d")});
  HitSuppressor suppressor(HitSuppressorOptions{int64_t{3600} * 1000000, 1000, 4});
  EventProcessor proc(store_.get(), &holder_, {&out_}, EventProcessorOptions{&suppressor, nullptr, 0});
  for (int i = 0; i < 3; ++i) proc.Process({"siem", "127.0.0.1:5000", "get evil.com"});
  // Another source is its own window.
  proc.Process({"siem", "127.0.0.2:5000", "get evil.com"});
  auto hits = out_.Take();
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0]->count(), 1u);
  EXPECT_FALSE(hits[0]->summary());
  EXPECT_NE(hits[0]->window_start_unix_us(), 0);
  EXPECT_EQ(hits[1]->sender(), "127.0.0.2:5000");
  EXPECT_EQ(proc.stats().window_suppressed, 2u);

  // Closing the windows reports the one that saw repeats, with the first hit attached.
  std::vector<ClosedWindow> closed;
  suppressor.Expire(hits[0]->window_start_unix_us() + int64_t{7200} * 1000000,
                    [&](ClosedWindow&& w) { closed.push_back(std::move(w)); });
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].count, 3u);
  ASSERT_NE(closed[0].first, nullptr);
  EXPECT_EQ(closed[0].first->id(), hits[0]->id());
}

TEST_F(EventProcessorTest, AllowlistedObservablesSuppressedAfterLookupOrSkippedBefore) {
  auto internal = [] {
    AllowlistBuilder allow;
    uint32_t list = allow.AddList("internal");
    EXPECT_TRUE(allow.Add(list, *ParseIndicator("10.0.0.0/8"), true).ok());
    return std::move(allow).Build();
  };
  Replace("a", {Entry("10.1.2.3", "ip"), Entry("evil.com", "d")}, internal());
  const ReceivedEvent event{"siem", "127.0.0.1:5000", "10.1.2.3 10.9.9.9 evil.com"};

  // Default: looked up, the match is suppressed and counted for the allowlist and the feed.
  EventProcessor lookup_first(store_.get(), &holder_, {&out_});
  lookup_first.Process(event);
  auto hits = out_.Take();
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->observable(), "evil.com");
  EXPECT_EQ(lookup_first.stats().suppressed, 1u);
  EXPECT_EQ(lookup_first.stats().skipped, 0u);
  EXPECT_EQ(counters_.FeedCounts()["a"], 1u);

  // skip_allowlisted: both internal addresses are skipped before any lookup.
  EventProcessor skip_first(store_.get(), &holder_, {&out_}, EventProcessorOptions{nullptr, nullptr, 0, true});
  skip_first.Process(event);
  hits = out_.Take();
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->observable(), "evil.com");
  EXPECT_EQ(skip_first.stats().skipped, 2u);
  EXPECT_EQ(skip_first.stats().suppressed, 0u);
  EXPECT_EQ(counters_.FeedCounts()["a"], 1u);  // unchanged
}

}  // namespace
}  // namespace iocd
