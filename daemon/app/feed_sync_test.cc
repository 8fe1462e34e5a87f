#include "app/feed_sync.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <fstream>
#include <set>

namespace iocd {
namespace {

namespace fs = std::filesystem;
using Outcome = FeedSyncReport::Outcome;

class FeedSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "iocd-sync-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    auto store = IndicatorStore::Open({dir_ + "/store"});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  std::string Write(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::trunc) << content;
    return path;
  }

  iocd::config::Feed* AddFeed(const std::string& name, const std::string& path,
                              iocd::config::FeedFormat format = iocd::config::FEED_FORMAT_PLAIN) {
    auto* f = feeds_.Add();
    f->set_name(name);
    f->set_path(path);
    f->set_format(format);
    return f;
  }

  std::set<std::string> Stored(const std::string& feed) {
    std::set<std::string> out;
    auto state = store_->GetFeed(feed);
    Status s = store_->ForEachEntry([&](const Indicator& ind, FeedId id) {
      if (state.ok() && id == state->id()) out.insert(ind.Display());
    });
    EXPECT_TRUE(s.ok());
    return out;
  }

  std::string dir_;
  std::unique_ptr<IndicatorStore> store_;
  google::protobuf::RepeatedPtrField<iocd::config::Feed> feeds_;
};

TEST_F(FeedSyncTest, ImportsOnceThenSkipsUnchangedFeeds) {
  AddFeed("a", Write("a.txt", "1.2.3.4\nevil.com\nnot an indicator\n"));
  FeedSync sync(store_.get());
  auto first = sync.Sync(feeds_);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].outcome, Outcome::kImported);
  EXPECT_EQ(first[0].indicators, 2u);
  EXPECT_EQ(first[0].rejected_lines, 1u);
  ASSERT_EQ(first[0].errors.size(), 1u);
  EXPECT_EQ(first[0].errors[0].line, 3u);

  auto second = sync.Sync(feeds_);
  EXPECT_EQ(second[0].outcome, Outcome::kUnchanged);
  EXPECT_EQ(second[0].indicators, 2u);
}

TEST_F(FeedSyncTest, ChangedOptionsReimportEvenWithTheSameFile) {
  std::string path = Write("a.csv", "x;1.2.3.4\n");
  auto* feed = AddFeed("a", path, iocd::config::FEED_FORMAT_CSV);
  feed->mutable_csv()->set_delimiter(";");
  feed->mutable_csv()->set_value_column("2");
  FeedSync sync(store_.get());
  EXPECT_EQ(sync.Sync(feeds_)[0].outcome, Outcome::kImported);
  feed->mutable_csv()->set_value_column("1");  // now every row is malformed
  auto report = sync.Sync(feeds_);
  EXPECT_EQ(report[0].outcome, Outcome::kFailed);
  EXPECT_EQ(Stored("a"), std::set<std::string>{"1.2.3.4"});
}

TEST_F(FeedSyncTest, ChangedFeedReplacesOnlyItsOwnContribution) {
  std::string a = Write("a.txt", "1.2.3.4\nevil.com\n");
  AddFeed("a", a);
  AddFeed("b", Write("b.txt", "evil.com\n"));
  FeedSync sync(store_.get());
  ASSERT_EQ(sync.Sync(feeds_).size(), 2u);

  Write("a.txt", "evil.com\n5.6.7.8\n");
  auto reports = sync.Sync(feeds_);
  EXPECT_EQ(reports[0].outcome, Outcome::kImported);
  EXPECT_EQ(reports[0].changes.added, 1u);
  EXPECT_EQ(reports[0].changes.removed, 1u);
  EXPECT_EQ(reports[0].changes.unchanged, 1u);
  EXPECT_EQ(reports[1].outcome, Outcome::kUnchanged);
  EXPECT_EQ(Stored("a"), (std::set<std::string>{"evil.com", "5.6.7.8"}));
  EXPECT_EQ(Stored("b"), std::set<std::string>{"evil.com"});
}

TEST_F(FeedSyncTest, UnreadableFeedKeepsItsPreviousVersion) {
  std::string path = Write("a.txt", "1.2.3.4\n");
  AddFeed("a", path);
  FeedSync sync(store_.get());
  ASSERT_EQ(sync.Sync(feeds_)[0].outcome, Outcome::kImported);
  fs::remove(path);
  auto report = sync.Sync(feeds_);
  EXPECT_EQ(report[0].outcome, Outcome::kFailed);
  EXPECT_NE(report[0].error.find("cannot open " + path), std::string::npos) << report[0].error;
  EXPECT_EQ(report[0].indicators, 1u);
  EXPECT_EQ(Stored("a"), std::set<std::string>{"1.2.3.4"});
}

TEST_F(FeedSyncTest, WhollyMalformedFeedKeepsItsPreviousVersion) {
  std::string path = Write("a.txt", "1.2.3.4\n");
  AddFeed("a", path);
  FeedSync sync(store_.get());
  ASSERT_EQ(sync.Sync(feeds_)[0].outcome, Outcome::kImported);
  Write("a.txt", "<html>oops, an error page</html>\n<body>\n");
  auto report = sync.Sync(feeds_);
  EXPECT_EQ(report[0].outcome, Outcome::kFailed);
  EXPECT_EQ(report[0].errors.size(), 2u);
  EXPECT_EQ(Stored("a"), std::set<std::string>{"1.2.3.4"});
}

TEST_F(FeedSyncTest, RemovesFeedsNoLongerConfiguredOrDisabled) {
  AddFeed("a", Write("a.txt", "1.2.3.4\n"));
  AddFeed("b", Write("b.txt", "5.6.7.8\n"));
  FeedSync sync(store_.get());
  ASSERT_EQ(sync.Sync(feeds_).size(), 2u);

  feeds_.Mutable(1)->set_enabled(false);
  auto reports = sync.Sync(feeds_);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1].feed, "b");
  EXPECT_EQ(reports[1].outcome, Outcome::kRemoved);
  EXPECT_EQ(reports[1].changes.removed, 1u);
  EXPECT_EQ(reports[1].indicators, 0u);
  EXPECT_EQ(store_->GetFeed("b").status().code(), StatusCode::kNotFound);

  feeds_.Clear();
  reports = sync.Sync(feeds_);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].feed, "a");
  EXPECT_EQ(reports[0].outcome, Outcome::kRemoved);
  EXPECT_TRUE(store_->ListFeeds()->empty());
}

}  // namespace
}  // namespace iocd

#include "fetch/test_http_server.h"

namespace iocd {
namespace {

// A URL feed: fetched with conditional GET; an unchanged server answer (304) re-imports
// nothing; a gzip body loads; a server error keeps the previous version.
TEST_F(FeedSyncTest, UrlFeedUsesConditionalGetAndKeepsVersionOnErrors) {
  std::mutex mu;
  std::string body = "1.2.3.4\nevil.com\n";
  std::string etag = "\"v1\"";
  int status = 200;
  testing::TestHttpServer server([&](const testing::TestRequest& req) {
    std::lock_guard lock(mu);
    testing::TestResponse resp;
    if (status != 200) {
      resp.status = status;
      return resp;
    }
    if (req.Header("if-none-match") == etag) {
      resp.status = 304;
      return resp;
    }
    resp.headers.emplace_back("ETag", etag);
    resp.headers.emplace_back("Content-Encoding", "gzip");
    resp.body = testing::GzipForTest(body);
    return resp;
  });
  auto* feed = feeds_.Add();
  feed->set_name("remote");
  feed->set_url(server.Url("/feed.txt"));
  feed->set_format(iocd::config::FEED_FORMAT_PLAIN);

  FeedSync sync(store_.get());
  auto first = sync.SyncOne(*feed);
  ASSERT_EQ(first.outcome, Outcome::kImported) << first.error;
  EXPECT_EQ(first.indicators, 2u);
  EXPECT_EQ(store_->GetFeed("remote")->etag(), "\"v1\"");

  auto second = sync.SyncOne(*feed);
  EXPECT_EQ(second.outcome, Outcome::kUnchanged);
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[1].Header("if-none-match"), "\"v1\"");

  {
    std::lock_guard lock(mu);
    body = "5.6.7.8\nevil.com\n";
    etag = "\"v2\"";
  }
  auto third = sync.SyncOne(*feed);
  ASSERT_EQ(third.outcome, Outcome::kImported) << third.error;
  EXPECT_EQ(Stored("remote"), (std::set<std::string>{"5.6.7.8", "evil.com"}));

  {
    std::lock_guard lock(mu);
    status = 500;
  }
  auto fourth = sync.SyncOne(*feed);
  EXPECT_EQ(fourth.outcome, Outcome::kFailed);
  EXPECT_NE(fourth.error.find("500"), std::string::npos) << fourth.error;
  EXPECT_EQ(Stored("remote"), (std::set<std::string>{"5.6.7.8", "evil.com"}));
}

TEST_F(FeedSyncTest, ShrinkBeyondMaxShrinkKeepsThePreviousVersion) {
  std::string many;
  for (int i = 1; i <= 10; ++i) many += "10.0.0." + std::to_string(i) + "\n";
  std::string path = Write("a.txt", many);
  auto* feed = AddFeed("a", path);
  FeedSync sync(store_.get());
  ASSERT_EQ(sync.SyncOne(*feed).outcome, Outcome::kImported);
  Write("a.txt", "10.0.0.1\n10.0.0.2\n10.0.0.3\n10.0.0.4\n");  // 60% smaller; default max_shrink 0.5
  auto report = sync.SyncOne(*feed);
  EXPECT_EQ(report.outcome, Outcome::kFailed);
  EXPECT_NE(report.error.find("shrink the feed from 10 to 4"), std::string::npos) << report.error;
  EXPECT_EQ(Stored("a").size(), 10u);
  feed->set_max_shrink(1.0);  // the operator accepts it
  EXPECT_EQ(sync.SyncOne(*feed).outcome, Outcome::kImported);
  EXPECT_EQ(Stored("a").size(), 4u);
}

TEST_F(FeedSyncTest, TtlAndStaticContextAndExactDomains) {
  int64_t now = 1'800'000'000'000;
  std::string path = Write("a.txt", "evil.com\n");
  auto* feed = AddFeed("a", path);
  feed->set_ttl("1h");
  feed->set_subdomains(false);
  (*feed->mutable_context())["threat"] = "Emotet";
  FeedSync sync(store_.get(), [&] { return now; });
  ASSERT_EQ(sync.SyncOne(*feed).outcome, Outcome::kImported);
  auto state = store_->GetFeed("a");
  EXPECT_EQ(state->ttl_ms(), 3600000);
  EXPECT_EQ(state->last_checked_unix_ms(), now);
  auto entry = store_->GetEntry(state->id(), *ParseIndicator("evil.com"));
  ASSERT_TRUE(entry.ok());
  EXPECT_TRUE(entry->exact_domain());
  ASSERT_EQ(entry->context_size(), 1);
  EXPECT_EQ(entry->context(0).key(), "threat");
  EXPECT_EQ(entry->context(0).value(), "Emotet");

  // Checked again, unchanged, 30 minutes later: the check time moves on.
  now += 30 * 60 * 1000;
  EXPECT_EQ(sync.SyncOne(*feed).outcome, Outcome::kUnchanged);
  EXPECT_EQ(store_->GetFeed("a")->last_checked_unix_ms(), now);
}

// With defer_stats, an import written as a new generation reports every entry as added
// until CompleteStats() counts the real changes; BeforeCommit sees the pending import
// under the id it is then stored under.
TEST_F(FeedSyncTest, DeferredStatisticsAreCompletedAfterTheCommit) {
  store_.reset();
  StoreOptions options{dir_ + "/store"};
  options.ingest_min_entries = 4;
  store_ = std::move(IndicatorStore::Open(options)).value();
  auto* feed = AddFeed("a", Write("a.txt", "10.0.0.1\n10.0.0.2\n10.0.0.3\n10.0.0.4\n"));
  ASSERT_EQ(FeedSync(store_.get()).SyncOne(*feed).outcome, Outcome::kImported);

  Write("a.txt", "10.0.0.1\n10.0.0.5\n10.0.0.6\n10.0.0.7\n10.0.0.8\n");
  std::shared_ptr<const ImportedFeed> pending;
  FeedSyncReport report = FeedSync(store_.get()).SyncOne(
      *feed, [&](std::shared_ptr<const ImportedFeed> p) { pending = std::move(p); }, /*defer_stats=*/true);
  ASSERT_EQ(report.outcome, Outcome::kImported) << report.error;
  ASSERT_NE(pending, nullptr);
  EXPECT_TRUE(pending->pending);
  EXPECT_EQ(pending->state.id(), store_->GetFeed("a")->id());
  EXPECT_EQ(pending->entries->size(), 5u);
  EXPECT_EQ(report.changes.added, 5u);  // provisional
  EXPECT_EQ(report.indicators, 5u);
  report.CompleteStats();
  EXPECT_EQ(report.changes.added, 4u);
  EXPECT_EQ(report.changes.removed, 3u);
  EXPECT_EQ(report.changes.unchanged, 1u);
  EXPECT_EQ(report.changes.changed, 0u);
  report.CompleteStats();  // a second call changes nothing
  EXPECT_EQ(report.changes.added, 4u);
}

// A plain feed large enough to be parsed on several threads (over 4 MiB) is stored
// exactly as the one-thread parser reads it: the same entries byte for byte (comments as
// context, defanged values refanged, the first of duplicates kept even when the copies are
// in different stretches), the same errors at the same lines.
TEST_F(FeedSyncTest, LargePlainFeedIsStoredExactlyAsParsed) {
  std::string content = "# header\n";
  for (uint32_t i = 0; i < 400000; ++i) {
    const std::string address =
        std::to_string(20 + (i >> 16)) + "." + std::to_string((i >> 8) & 255) + "." + std::to_string(i & 255) + ".7";
    if (i % 50000 == 3) {
      content += "not an indicator " + std::to_string(i) + "\n";
    } else if (i % 1000 == 5) {
      content += "  hxxp://site" + std::to_string(i) + "[.]example[.]org/x   # seen " + std::to_string(i) + "\n";
    } else if (i == 399990) {
      content += "EVIL-dup.example.com\n";  // the same indicator as line 3, in the last stretch
    } else {
      content += address + "\n";
    }
    if (i == 0) content += "evil-dup.example.com # first\n";
  }
  ASSERT_GT(content.size(), size_t{4} << 20);
  auto* feed = AddFeed("big", Write("big.txt", content));
  (*feed->mutable_context())["source"] = "test";

  FeedSyncReport report = FeedSync(store_.get()).SyncOne(*feed);
  ASSERT_EQ(report.outcome, Outcome::kImported) << report.error;

  const FeedParseResult expected = ParsePlainFeed(content);
  EXPECT_EQ(report.indicators, expected.indicators.size());
  EXPECT_EQ(report.errors, expected.errors);
  EXPECT_EQ(report.errors.size(), 8u);
  ASSERT_NE(report.imported, nullptr);
  EXPECT_EQ(report.imported->entries->size(), expected.indicators.size());

  std::map<std::string, std::string> want;
  const std::vector<std::pair<std::string, std::string>> static_context = {{"source", "test"}};
  for (const ParsedIndicator& p : expected.indicators) {
    std::string encoded;
    AppendFeedEntry(p.value, p.context, static_context, 0, false, &encoded);
    want[p.indicator.Encoded()] = encoded;
  }
  std::map<std::string, std::string> got;
  ASSERT_TRUE(store_
                  ->ForEachStoredFeedEntry([&](const Indicator& ind, FeedId, std::string_view entry) {
                    got[ind.Encoded()] = std::string(entry);
                  })
                  .ok());
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want);
  auto dup = store_->GetEntry(store_->GetFeed("big")->id(), *ParseIndicator("evil-dup.example.com"));
  ASSERT_TRUE(dup.ok());
  EXPECT_EQ(dup->value(), "evil-dup.example.com");
  ASSERT_EQ(dup->context_size(), 2);
  EXPECT_EQ(dup->context(0).key(), "comment");
  EXPECT_EQ(dup->context(0).value(), "first");
}

}  // namespace
}  // namespace iocd
