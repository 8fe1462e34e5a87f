#include "store/indicator_store.h"

#include <gtest/gtest.h>

#include <rocksdb/db.h>

#include <filesystem>
#include <map>
#include <set>

#include "common/temp_dir.h"

namespace iocd {
namespace {

FeedContribution Entry(std::string_view value, std::map<std::string, std::string> context = {}) {
  auto indicator = ParseIndicator(value);
  EXPECT_TRUE(indicator.ok()) << value;
  FeedContribution c{*indicator, {}};
  c.entry.set_value(std::string(value));
  for (const auto& [k, v] : context) {
    auto* f = c.entry.add_context();
    f->set_key(k);
    f->set_value(v);
  }
  return c;
}

iocd::store::FeedState State(std::string name, std::string fingerprint = "fp") {
  iocd::store::FeedState s;
  s.set_name(std::move(name));
  s.set_source("feeds/" + s.name() + ".txt");
  s.set_format("plain");
  s.set_fingerprint(std::move(fingerprint));
  return s;
}

// Every (display value, feed name) pair in the store.
std::set<std::pair<std::string, std::string>> AllEntries(IndicatorStore& store) {
  std::set<std::pair<std::string, std::string>> out;
  Status s = store.ForEachEntry([&](const Indicator& ind, FeedId feed) {
    out.emplace(ind.Display(), store.FeedName(feed));
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

std::unique_ptr<IndicatorStore> OpenStore(const std::string& path) {
  auto store = IndicatorStore::Open({path});
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

TEST(IndicatorStoreTest, ReplaceFeedWritesOnlyDifferences) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);

  iocd::store::FeedState stored;
  auto first = store->ReplaceFeed(State("a"), {Entry("1.2.3.4"), Entry("evil.com", {{"threat", "x"}}),
                                               Entry("10.0.0.0/8")},
                                  &stored);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->added, 3u);
  EXPECT_EQ(first->removed + first->changed + first->unchanged, 0u);
  EXPECT_EQ(stored.id(), 1u);
  EXPECT_EQ(stored.indicator_count(), 3u);

  auto second = store->ReplaceFeed(
      State("a", "fp2"), {Entry("1.2.3.4"), Entry("evil.com", {{"threat", "y"}}), Entry("5.6.7.8")});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->added, 1u);      // 5.6.7.8
  EXPECT_EQ(second->removed, 1u);    // 10.0.0.0/8
  EXPECT_EQ(second->changed, 1u);    // evil.com context
  EXPECT_EQ(second->unchanged, 1u);  // 1.2.3.4

  EXPECT_EQ(AllEntries(*store), (std::set<std::pair<std::string, std::string>>{
                                    {"1.2.3.4", "a"}, {"evil.com", "a"}, {"5.6.7.8", "a"}}));
  auto entry = store->GetEntry(1, *ParseIndicator("evil.com"));
  ASSERT_TRUE(entry.ok());
  ASSERT_EQ(entry->context_size(), 1);
  EXPECT_EQ(entry->context(0).value(), "y");
  EXPECT_EQ(store->GetFeed("a")->fingerprint(), "fp2");
}

TEST(IndicatorStoreTest, FeedsKeepTheirOwnContributions) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->ReplaceFeed(State("a"), {Entry("evil.com", {{"src", "a"}})}).ok());
  ASSERT_TRUE(store->ReplaceFeed(State("b"), {Entry("evil.com", {{"src", "b"}}), Entry("1.1.1.1")}).ok());
  EXPECT_EQ(AllEntries(*store), (std::set<std::pair<std::string, std::string>>{
                                    {"evil.com", "a"}, {"evil.com", "b"}, {"1.1.1.1", "b"}}));

  // Replacing b with nothing removes only b's part.
  auto emptied = store->ReplaceFeed(State("b"), {});
  ASSERT_TRUE(emptied.ok());
  EXPECT_EQ(emptied->removed, 2u);
  EXPECT_EQ(AllEntries(*store), (std::set<std::pair<std::string, std::string>>{{"evil.com", "a"}}));

  ASSERT_TRUE(store->RemoveFeed("a").ok());
  EXPECT_TRUE(AllEntries(*store).empty());
  EXPECT_EQ(store->GetFeed("a").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store->RemoveFeed("never-there").ok());
}

TEST(IndicatorStoreTest, DuplicateIndicatorsInOneFeedKeepTheFirst) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  auto stats = store->ReplaceFeed(State("a"), {Entry("1.2.3.4", {{"n", "first"}}),
                                               Entry("1.2.3.4", {{"n", "second"}})});
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->added, 1u);
  EXPECT_EQ(store->GetEntry(1, *ParseIndicator("1.2.3.4"))->context(0).value(), "first");
}

TEST(IndicatorStoreTest, SurvivesReopenAndKeepsIds) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->ReplaceFeed(State("a"), {Entry("1.2.3.4")}).ok());
    ASSERT_TRUE(store->ReplaceFeed(State("b"), {Entry("2001:db8::/32")}).ok());
    ASSERT_TRUE(store->RemoveFeed("a").ok());
  }
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  auto feeds = store->ListFeeds();
  ASSERT_TRUE(feeds.ok());
  ASSERT_EQ(feeds->size(), 1u);
  EXPECT_EQ((*feeds)[0].name(), "b");
  EXPECT_EQ((*feeds)[0].id(), 2u);
  EXPECT_EQ(store->FeedName(2), "b");
  // Ids are never reused: a new feed after a removal gets 3.
  iocd::store::FeedState stored;
  ASSERT_TRUE(store->ReplaceFeed(State("c"), {}, &stored).ok());
  EXPECT_EQ(stored.id(), 3u);
  EXPECT_EQ(AllEntries(*store), (std::set<std::pair<std::string, std::string>>{{"2001:db8::/32", "b"}}));
}

TEST(IndicatorStoreTest, SecondOpenOfTheSameDirectoryFailsClearly) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  auto second = IndicatorStore::Open({dir.path()});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kIoError);
  EXPECT_NE(second.status().message().find("another iocd"), std::string::npos)
      << second.status().message();
}

TEST(IndicatorStoreTest, RefusesUnknownFormatVersion) {
  TempDir dir;
  {
    // A store written by a hypothetical later version.
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir.path(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    iocd::store::StoreMeta meta;
    meta.set_format_version(99);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "meta", meta.SerializeAsString()).ok());
    ASSERT_TRUE(db->Close().ok());
  }
  auto store = IndicatorStore::Open({dir.path()});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kCorruption);
  EXPECT_NE(store.status().message().find("format version 99"), std::string::npos);
}

}  // namespace
}  // namespace iocd

namespace iocd {
namespace {

TEST(IndicatorStoreTest, PurgeEntriesDeletesAndRecounts) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->ReplaceFeed(State("a"), {Entry("1.2.3.4"), Entry("evil.com"), Entry("5.6.7.8")}).ok());
  auto purged = store->PurgeEntries("a", {*ParseIndicator("evil.com"), *ParseIndicator("9.9.9.9")});
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  EXPECT_EQ(*purged, 1u);
  EXPECT_EQ(store->GetFeed("a")->indicator_count(), 2u);
  EXPECT_EQ(AllEntries(*store), (std::set<std::pair<std::string, std::string>>{{"1.2.3.4", "a"}, {"5.6.7.8", "a"}}));
  EXPECT_EQ(store->PurgeEntries("nope", {}).status().code(), StatusCode::kNotFound);
}

TEST(IndicatorStoreTest, PutFeedStateRewritesStateOnly) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  iocd::store::FeedState stored;
  ASSERT_TRUE(store->ReplaceFeed(State("a"), {Entry("1.2.3.4")}, &stored).ok());
  stored.set_last_checked_unix_ms(12345);
  ASSERT_TRUE(store->PutFeedState(stored).ok());
  EXPECT_EQ(store->GetFeed("a")->last_checked_unix_ms(), 12345);
  EXPECT_EQ(store->GetFeed("a")->indicator_count(), 1u);
  stored.set_id(99);
  EXPECT_EQ(store->PutFeedState(stored).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace iocd
