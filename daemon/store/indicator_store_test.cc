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
  iocd::store::FeedEntry entry;
  entry.set_value(std::string(value));
  for (const auto& [k, v] : context) {
    auto* f = entry.add_context();
    f->set_key(k);
    f->set_value(v);
  }
  return FeedContribution::Of(*indicator, entry);
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

// ingest_min_entries 0: the default.
std::unique_ptr<IndicatorStore> OpenStore(const std::string& path, uint64_t ingest_min_entries = 0) {
  StoreOptions options{path};
  if (ingest_min_entries > 0) options.ingest_min_entries = ingest_min_entries;
  auto store = IndicatorStore::Open(options);
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

namespace iocd {
namespace {

// Keys stored under feed id `id`, read from the RocksDB directory itself (the store closed),
// so entries the store hides (uncommitted generations) are counted too.
size_t RawEntriesUnder(const std::string& path, FeedId id) {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, {}}, {"feeds", {}}, {"feed_entries", {}}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, cfs, &handles, &raw);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return 0;
  std::unique_ptr<rocksdb::DB> db(raw);
  const std::string prefix = {static_cast<char>(id >> 24), static_cast<char>(id >> 16), static_cast<char>(id >> 8),
                              static_cast<char>(id)};
  size_t count = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[2]));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) ++count;
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  return count;
}

std::vector<FeedContribution> Entries(std::initializer_list<const char*> values) {
  std::vector<FeedContribution> out;
  for (const char* v : values) out.push_back(Entry(v));
  return out;
}

TEST(IndicatorStoreTest, LargeMostlyNewFeedIsIngestedAsANewGeneration) {
  TempDir dir;
  auto store = OpenStore(dir.path(), /*ingest_min_entries=*/4);  // updates of 4+ entries ingested
  ASSERT_NE(store, nullptr);

  iocd::store::FeedState stored;
  auto first = store->ReplaceFeed(State("a"), Entries({"1.1.1.1", "2.2.2.2", "evil.com", "3.3.3.3", "1.1.1.1"}),
                                  &stored);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->added, 4u);
  EXPECT_EQ(stored.id(), 1u);
  EXPECT_EQ(stored.indicator_count(), 4u);
  ASSERT_TRUE(store->ReplaceFeed(State("b"), Entries({"evil.com"})).ok());  // below the threshold: a batch
  EXPECT_EQ(store->GetFeed("b")->id(), 2u);

  // 1 of 5 kept: a new generation under id 3; the old one is gone, feed b untouched.
  auto second = store->ReplaceFeed(State("a", "fp2"),
                                   Entries({"1.1.1.1", "4.4.4.4", "5.5.5.5", "bad.org", "6.6.6.6"}), &stored);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->added, 4u);
  EXPECT_EQ(second->removed, 3u);
  EXPECT_EQ(second->unchanged, 1u);
  EXPECT_EQ(second->changed, 0u);
  EXPECT_EQ(stored.id(), 3u);
  EXPECT_EQ(store->GetFeed("a")->id(), 3u);
  EXPECT_EQ(store->GetFeed("a")->fingerprint(), "fp2");
  EXPECT_EQ(store->FeedName(1), "");
  EXPECT_EQ(store->FeedName(3), "a");
  EXPECT_EQ(AllEntries(*store), (std::set<std::pair<std::string, std::string>>{{"1.1.1.1", "a"},
                                                                                 {"4.4.4.4", "a"},
                                                                                 {"5.5.5.5", "a"},
                                                                                 {"bad.org", "a"},
                                                                                 {"6.6.6.6", "a"},
                                                                                 {"evil.com", "b"}}));
  size_t stored_feed_entries = 0;
  ASSERT_TRUE(store
                  ->ForEachStoredFeedEntry([&](const Indicator&, FeedId feed, std::string_view) {
                    EXPECT_TRUE(feed == 2 || feed == 3) << feed;
                    ++stored_feed_entries;
                  })
                  .ok());
  EXPECT_EQ(stored_feed_entries, 6u);
  auto entry = store->GetEntry(3, *ParseIndicator("bad.org"));
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry->value(), "bad.org");
  EXPECT_EQ(store->GetEntry(1, *ParseIndicator("1.1.1.1")).status().code(), StatusCode::kNotFound);

  // Mostly the same entries: back to a diffed batch, the id stays.
  std::vector<FeedContribution> third = Entries({"1.1.1.1", "4.4.4.4", "5.5.5.5", "bad.org", "7.7.7.7"});
  third[0] = Entry("1.1.1.1", {{"threat", "x"}});
  auto diffed = store->ReplaceFeed(State("a", "fp3"), std::move(third), &stored);
  ASSERT_TRUE(diffed.ok());
  EXPECT_EQ(diffed->added, 1u);
  EXPECT_EQ(diffed->removed, 1u);
  EXPECT_EQ(diffed->changed, 1u);
  EXPECT_EQ(diffed->unchanged, 3u);
  EXPECT_EQ(stored.id(), 3u);
  store.reset();
  EXPECT_EQ(RawEntriesUnder(dir.path(), 1), 0u);
  EXPECT_EQ(RawEntriesUnder(dir.path(), 3), 5u);
}

// Imports of 200k entries or more sort on two threads and write two SST files; the
// statistics of a replacement that the sample calls mostly new are counted meanwhile.
TEST(IndicatorStoreTest, LargeImportsWrittenInParallelAreCompleteAndExact) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  auto address = [](uint32_t i) {
    return std::to_string(10 + (i >> 16)) + "." + std::to_string((i >> 8) & 255) + "." + std::to_string(i & 255) +
           ".1";
  };
  constexpr uint32_t kCount = 250000;
  auto make = [&](uint32_t first) {
    std::vector<FeedContribution> out;
    // Descending, so the sort has work to do; the first value repeats at the end.
    for (uint32_t i = kCount; i-- > 0;) out.push_back(Entry(address(first + i)));
    out.push_back(Entry(address(first + kCount - 1), {{"threat", "duplicate"}}));
    return out;
  };
  iocd::store::FeedState stored;
  auto first = store->ReplaceFeed(State("a"), make(0), &stored);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->added, kCount);
  EXPECT_EQ(stored.indicator_count(), kCount);
  const FeedId first_id = stored.id();

  // 90% new, 10% (25000 entries) kept: the sample says "mostly new", a new generation is
  // written while the changes are counted.
  auto second = store->ReplaceFeed(State("a", "fp2"), make(kCount * 9 / 10), &stored);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->added, kCount * 9 / 10);
  EXPECT_EQ(second->removed, kCount * 9 / 10);
  EXPECT_EQ(second->unchanged, kCount / 10);
  EXPECT_EQ(second->changed, 0u);
  EXPECT_NE(stored.id(), first_id);

  size_t seen = 0;
  std::string previous;
  ASSERT_TRUE(store
                  ->ForEachStoredFeedEntry([&](const Indicator& ind, FeedId feed, std::string_view) {
                    EXPECT_EQ(feed, stored.id());
                    EXPECT_LT(previous, ind.Encoded());  // ascending and unique across both files
                    previous = ind.Encoded();
                    ++seen;
                  })
                  .ok());
  EXPECT_EQ(seen, kCount);
  for (uint32_t i : {kCount * 9 / 10, kCount, kCount + kCount * 9 / 10 - 1}) {
    auto entry = store->GetEntry(stored.id(), *ParseIndicator(address(i)));
    ASSERT_TRUE(entry.ok()) << address(i);
    EXPECT_EQ(entry->value(), address(i));
    EXPECT_EQ(entry->context_size(), 0);  // the first of the duplicates was kept
  }
  EXPECT_EQ(store->GetEntry(stored.id(), *ParseIndicator(address(0))).status().code(), StatusCode::kNotFound);

  // Skipping a feed leaves its entries out of the scan.
  const FeedId skip[] = {stored.id()};
  seen = 0;
  ASSERT_TRUE(store->ForEachStoredFeedEntry([&](const Indicator&, FeedId, std::string_view) { ++seen; }, skip).ok());
  EXPECT_EQ(seen, 0u);
}

// PrepareReplace fixes the id before anything is written; with DeferExactStats a new
// generation commits first and its changes are counted afterwards, against the version it
// replaced, exactly as ReplaceFeed counts them.
TEST(IndicatorStoreTest, PreparedReplacementWithDeferredStatistics) {
  TempDir dir;
  auto store = OpenStore(dir.path(), /*ingest_min_entries=*/4);  // updates of 4+ entries ingested
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->ReplaceFeed(State("a"), Entries({"1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"})).ok());
  const FeedId old_id = store->GetFeed("a")->id();

  std::vector<FeedContribution> next = Entries({"1.1.1.1", "5.5.5.5", "6.6.6.6", "7.7.7.7", "8.8.8.8"});
  next[0] = Entry("1.1.1.1", {{"threat", "x"}});  // present, changed
  auto prepared = store->PrepareReplace(State("a", "fp2"), next);
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  const FeedId new_id = (*prepared)->id();
  EXPECT_NE(new_id, old_id);                        // 1 of 5 present: a new generation
  EXPECT_EQ(store->GetFeed("a")->id(), old_id);     // nothing written yet
  (*prepared)->DeferExactStats();
  iocd::store::FeedState stored;
  auto committed = (*prepared)->Commit(&stored);
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_EQ(stored.id(), new_id);
  EXPECT_EQ(store->GetFeed("a")->id(), new_id);
  EXPECT_EQ(committed->added, 5u);  // provisional
  EXPECT_EQ(committed->removed, 0u);
  auto exact = (*prepared)->ExactStats();
  ASSERT_TRUE(exact.ok()) << exact.status().ToString();
  EXPECT_EQ(exact->added, 4u);
  EXPECT_EQ(exact->removed, 3u);
  EXPECT_EQ(exact->changed, 1u);
  EXPECT_EQ(exact->unchanged, 0u);
  EXPECT_EQ(store->GetEntry(old_id, *ParseIndicator("2.2.2.2")).status().code(), StatusCode::kNotFound);

  // Abandoned: nothing changes, and the store is writable again.
  {
    auto dropped = store->PrepareReplace(State("a", "fp3"), Entries({"9.9.9.9"}));
    ASSERT_TRUE(dropped.ok());
  }
  EXPECT_EQ(store->GetFeed("a")->fingerprint(), "fp2");
  ASSERT_TRUE(store->ReplaceFeed(State("b"), Entries({"9.9.9.9"})).ok());
}

TEST(IndicatorStoreTest, FailedIngestionKeepsThePreviousVersionAndIsDroppedAtOpen) {
  TempDir dir;
  StoreOptions options{dir.path()};
  options.ingest_min_entries = 2;
  {
    auto store = IndicatorStore::Open(options);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->ReplaceFeed(State("a"), Entries({"1.1.1.1"})).ok());  // id 1, a batch
  }
  options.fail_before_commit_for_test = true;
  {
    auto store = IndicatorStore::Open(options);
    ASSERT_TRUE(store.ok());
    auto failed = (*store)->ReplaceFeed(State("a", "fp2"), Entries({"2.2.2.2", "3.3.3.3"}));
    ASSERT_FALSE(failed.ok());
    EXPECT_NE(failed.status().message().find("injected"), std::string::npos) << failed.status().message();
    EXPECT_EQ((*store)->GetFeed("a")->id(), 1u);
    EXPECT_EQ((*store)->GetFeed("a")->fingerprint(), "fp");
    EXPECT_EQ(AllEntries(**store), (std::set<std::pair<std::string, std::string>>{{"1.1.1.1", "a"}}));
  }
  EXPECT_EQ(RawEntriesUnder(dir.path(), 2), 0u);  // dropped right after the failure

  options.fail_before_commit_for_test = false;
  auto store = IndicatorStore::Open(options);
  ASSERT_TRUE(store.ok());
  iocd::store::FeedState stored;
  ASSERT_TRUE((*store)->ReplaceFeed(State("a", "fp2"), Entries({"2.2.2.2", "3.3.3.3"}), &stored).ok());
  EXPECT_EQ(stored.id(), 3u);  // id 2 was spent by the failed attempt and is not reused
  EXPECT_EQ(AllEntries(**store),
            (std::set<std::pair<std::string, std::string>>{{"2.2.2.2", "a"}, {"3.3.3.3", "a"}}));
}

}  // namespace
}  // namespace iocd

namespace iocd {
namespace {

// GetEntry reads an entry as it is now: one read from an ingested SST file (and so from
// RocksDB's block cache on the second read), then changed, purged or removed by later
// writes, is read as changed, purged or removed.
TEST(IndicatorStoreTest, GetEntryReadsTheCurrentEntryAfterEveryKindOfWrite) {
  TempDir dir;
  StoreOptions options{dir.path()};
  options.ingest_min_entries = 4;  // the first import is ingested: its entries sit in an SST file
  auto opened = IndicatorStore::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<IndicatorStore> store = std::move(opened).value();
  auto threat = [&](FeedId feed, std::string_view value) -> std::string {
    auto entry = store->GetEntry(feed, *ParseIndicator(value));
    if (!entry.ok()) return entry.status().code() == StatusCode::kNotFound ? "NOT_FOUND" : entry.status().ToString();
    return entry->context_size() == 1 ? entry->context(0).value() : "(" + std::to_string(entry->context_size()) + ")";
  };

  iocd::store::FeedState stored;
  ASSERT_TRUE(store
                  ->ReplaceFeed(State("a"),
                                {Entry("1.1.1.1", {{"threat", "v1"}}), Entry("2.2.2.2", {{"threat", "v1"}}),
                                 Entry("evil.com", {{"threat", "v1"}}), Entry("3.3.3.3", {{"threat", "v1"}})},
                                &stored)
                  .ok());
  const FeedId id = stored.id();
  for (int read = 0; read < 2; ++read) {  // the second read finds them cached
    EXPECT_EQ(threat(id, "1.1.1.1"), "v1");
    EXPECT_EQ(threat(id, "evil.com"), "v1");
    EXPECT_EQ(threat(id, "2.2.2.2"), "v1");
  }

  // One changed context: a diffed batch under the same id.
  ASSERT_TRUE(store
                  ->ReplaceFeed(State("a", "fp2"),
                                {Entry("1.1.1.1", {{"threat", "v2"}}), Entry("2.2.2.2", {{"threat", "v1"}}),
                                 Entry("evil.com", {{"threat", "v1"}}), Entry("3.3.3.3", {{"threat", "v1"}})},
                                &stored)
                  .ok());
  ASSERT_EQ(stored.id(), id);
  EXPECT_EQ(threat(id, "1.1.1.1"), "v2");
  EXPECT_EQ(threat(id, "evil.com"), "v1");

  auto purged = store->PurgeEntries("a", {*ParseIndicator("evil.com")});
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1u);
  EXPECT_EQ(threat(id, "evil.com"), "NOT_FOUND");
  EXPECT_EQ(threat(id, "2.2.2.2"), "v1");

  ASSERT_TRUE(store->RemoveFeed("a").ok());
  EXPECT_EQ(threat(id, "1.1.1.1"), "NOT_FOUND");
  EXPECT_EQ(threat(id, "2.2.2.2"), "NOT_FOUND");
}

// AppendFeedEntry must give protobuf's own bytes: the diff compares them with stored values.
TEST(AppendFeedEntryTest, MatchesProtobufSerialisation) {
  struct Case {
    std::string value;
    std::vector<std::pair<std::string, std::string>> context, extra;
    int64_t expires;
    bool exact;
  };
  const std::string long_text(300, 'x');
  std::vector<Case> cases = {
      {"1.2.3.4", {}, {}, 0, false},
      {"evil.com", {{"threat", "Emotet"}}, {{"source", "abuse"}, {"", "v"}, {"k", ""}}, 1767225600000, true},
      {long_text, {{long_text, long_text}}, {}, -5, false},
      {"", {}, {}, 0, false},
      {"", {}, {{"k", "v"}}, 1, true},
  };
  for (const Case& c : cases) {
    iocd::store::FeedEntry entry;
    entry.set_value(c.value);
    std::vector<iocd::store::ContextField> context;
    for (const auto& [k, v] : c.context) {
      context.emplace_back();
      context.back().set_key(k);
      context.back().set_value(v);
      *entry.add_context() = context.back();
    }
    for (const auto& [k, v] : c.extra) {
      auto* f = entry.add_context();
      f->set_key(k);
      f->set_value(v);
    }
    entry.set_expires_unix_ms(c.expires);
    entry.set_exact_domain(c.exact);
    std::string encoded = "prefix";
    AppendFeedEntry(c.value, context, c.extra, c.expires, c.exact, &encoded);
    EXPECT_EQ(encoded, "prefix" + entry.SerializeAsString()) << c.value.substr(0, 20);
  }
}

TEST(IndicatorStoreTest, PreEncodedEntriesAreStoredAndDiffedLikeMessages) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->ReplaceFeed(State("a"), {Entry("evil.com", {{"threat", "x"}}), Entry("1.2.3.4")}).ok());
  std::vector<FeedContribution> encoded;
  for (const char* v : {"evil.com", "1.2.3.4"}) {
    FeedContribution c{*ParseIndicator(v), {}};
    std::vector<std::pair<std::string, std::string>> context;
    if (std::string_view(v) == "evil.com") context = {{"threat", "x"}};
    AppendFeedEntry(v, {}, context, 0, false, &c.encoded);
    encoded.push_back(std::move(c));
  }
  auto again = store->ReplaceFeed(State("a"), std::move(encoded));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->unchanged, 2u);
  EXPECT_EQ(again->changed + again->added + again->removed, 0u);
  auto entry = store->GetEntry(store->GetFeed("a")->id(), *ParseIndicator("evil.com"));
  ASSERT_TRUE(entry.ok());
  ASSERT_EQ(entry->context_size(), 1);
  EXPECT_EQ(entry->context(0).value(), "x");
}

}  // namespace
}  // namespace iocd
