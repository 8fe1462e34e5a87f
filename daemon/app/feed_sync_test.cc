#include "app/feed_sync.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
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
