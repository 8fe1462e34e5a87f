#include "app/snapshot.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace iocd {
namespace {

namespace fs = std::filesystem;

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "iocd-snap-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    store_ = std::move(IndicatorStore::Open({dir_}).value());
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  // Writes feed `name` with (value, expires) entries.
  void Put(const std::string& name, std::vector<std::pair<std::string, int64_t>> values, int64_t ttl_ms = 0,
           int64_t last_checked = 0) {
    iocd::store::FeedState state;
    state.set_name(name);
    state.set_ttl_ms(ttl_ms);
    state.set_last_checked_unix_ms(last_checked);
    std::vector<FeedContribution> entries;
    for (const auto& [v, expires] : values) {
      iocd::store::FeedEntry entry;
      entry.set_value(v);
      entry.set_expires_unix_ms(expires);
      if (expires != 0) state.set_has_entry_expiry(true);
      entries.push_back(FeedContribution::Of(*ParseIndicator(v), entry));
    }
    ASSERT_TRUE(store_->ReplaceFeed(state, std::move(entries)).ok());
  }

  Result<BuiltSnapshot> Build(int64_t now, const Allowlist* drop = nullptr) {
    auto empty = AllowlistBuilder().Build();
    return BuildSnapshot(*store_, feeds_, empty, drop != nullptr ? *drop : *empty, counters_, now);
  }

  static bool Matches(const MatchSnapshot& snap, std::string_view observable) {
    std::vector<IndexMatch> out;
    snap.index->Lookup(*ParseIndicator(observable), &out);
    return !out.empty();
  }

  std::string dir_;
  std::unique_ptr<IndicatorStore> store_;
  google::protobuf::RepeatedPtrField<iocd::config::Feed> feeds_;
  SuppressionCounters counters_;
};

TEST_F(SnapshotTest, ExpiredEntriesLeaveTheIndexAndAreReturnedForPurging) {
  const int64_t now = 1'000'000;
  Put("a", {{"1.1.1.1", 0}, {"2.2.2.2", now - 1}, {"3.3.3.3", now + 500}});
  auto built = Build(now);
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  EXPECT_TRUE(Matches(*built->snapshot, "1.1.1.1"));
  EXPECT_FALSE(Matches(*built->snapshot, "2.2.2.2"));
  EXPECT_TRUE(Matches(*built->snapshot, "3.3.3.3"));
  ASSERT_EQ(built->expired.size(), 1u);
  ASSERT_EQ(built->expired["a"].size(), 1u);
  EXPECT_EQ(built->expired["a"][0].Display(), "2.2.2.2");
  EXPECT_EQ(built->snapshot->next_expiry_unix_ms, now + 500);
}

TEST_F(SnapshotTest, StaleFeedExpiresAsAWhole) {
  const int64_t now = 10'000'000;
  Put("fresh", {{"1.1.1.1", 0}}, /*ttl_ms=*/1000, /*last_checked=*/now - 10);
  Put("stale", {{"2.2.2.2", 0}, {"3.3.3.3", 0}}, /*ttl_ms=*/1000, /*last_checked=*/now - 5000);
  auto built = Build(now);
  ASSERT_TRUE(built.ok());
  EXPECT_TRUE(Matches(*built->snapshot, "1.1.1.1"));
  EXPECT_FALSE(Matches(*built->snapshot, "2.2.2.2"));
  EXPECT_EQ(built->expired["stale"].size(), 2u);
  EXPECT_EQ(built->snapshot->next_expiry_unix_ms, now - 10 + 1000);
}

TEST_F(SnapshotTest, DropAllowlistLeavesIndicatorsOutAndFeedInfoIsCarried) {
  Put("a", {{"1.1.1.1", 0}, {"127.0.0.1", 0}, {"evil.com", 0}});
  auto* f = feeds_.Add();
  f->set_name("a");
  f->set_confidence(80);
  f->add_tags("tlp:green");
  AllowlistBuilder b;
  uint32_t id = b.AddList("loopback");
  ASSERT_TRUE(b.Add(id, *ParseIndicator("127.0.0.0/8"), true).ok());
  auto drop = std::move(b).Build();
  auto built = Build(1, drop.get());
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(built->dropped_by_allowlist, 1u);
  EXPECT_FALSE(Matches(*built->snapshot, "127.0.0.1"));
  EXPECT_TRUE(Matches(*built->snapshot, "evil.com"));
  const FeedInfo* info = built->snapshot->feed(store_->GetFeed("a")->id());
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->name, "a");
  EXPECT_EQ(info->confidence, 80u);
  EXPECT_EQ(info->tags, std::vector<std::string>{"tlp:green"});
}

// A feed rewritten as a new generation (store ingestion) is indexed under its new id only,
// with its expiry still honoured; the other feed is untouched.
TEST_F(SnapshotTest, IngestedGenerationIsIndexedUnderItsNewId) {
  store_.reset();
  StoreOptions options{dir_};
  options.ingest_min_entries = 2;
  store_ = std::move(IndicatorStore::Open(options).value());
  Put("a", {{"1.1.1.1", 0}, {"2.2.2.2", 0}});
  Put("b", {{"1.1.1.1", 0}});
  const FeedId old_a = store_->GetFeed("a")->id();
  Put("a", {{"3.3.3.3", 0}, {"4.4.4.4", 50}, {"old.example", 5}});
  const FeedId new_a = store_->GetFeed("a")->id();
  EXPECT_NE(new_a, old_a);
  auto built = Build(10);
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  const MatchSnapshot& snap = *built->snapshot;
  EXPECT_EQ(snap.index->size(), 3u);  // 1.1.1.1, 3.3.3.3, 4.4.4.4
  std::vector<IndexMatch> out;
  snap.index->Lookup(*ParseIndicator("1.1.1.1"), &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::vector<FeedId>(out[0].feeds.begin(), out[0].feeds.end()),
            std::vector<FeedId>{store_->GetFeed("b")->id()});
  out.clear();
  snap.index->Lookup(*ParseIndicator("4.4.4.4"), &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::vector<FeedId>(out[0].feeds.begin(), out[0].feeds.end()), std::vector<FeedId>{new_a});
  EXPECT_FALSE(Matches(snap, "2.2.2.2"));
  EXPECT_EQ(snap.next_expiry_unix_ms, 50);
  ASSERT_EQ(built->expired.size(), 1u);
  EXPECT_EQ(built->expired.at("a").size(), 1u);
  ASSERT_NE(snap.feed(new_a), nullptr);
  EXPECT_EQ(snap.feed(new_a)->name, "a");
  EXPECT_EQ(snap.feed(old_a), nullptr);
}

// A feed handed over in memory (what FeedSync imported) is indexed from there, with its
// expiry and the drop allowlist applied as for stored entries, and the store scan leaves it
// out; one whose id no longer matches the stored feed is ignored and the store is read.
TEST_F(SnapshotTest, ImportedFeedIsIndexedFromMemoryInsteadOfTheStore) {
  const int64_t now = 1'000'000;
  Put("a", {{"1.1.1.1", 0}, {"2.2.2.2", now + 500}, {"3.3.3.3", now - 1}, {"keep.example.com", 0}});
  Put("b", {{"9.9.9.9", 0}});
  const FeedId a = store_->GetFeed("a")->id();

  auto entries = std::make_shared<std::vector<FeedContribution>>();
  // Deliberately not what the store holds, to show which source was read.
  for (const char* v : {"1.1.1.1", "2.2.2.2", "3.3.3.3", "drop.example.com", "5.5.5.5"}) {
    entries->push_back({*ParseIndicator(v), {}});
  }
  ImportedFeed imported;
  imported.state = *store_->GetFeed("a");
  imported.entries = entries;
  imported.expires_unix_ms =
      std::make_shared<const std::vector<int64_t>>(std::vector<int64_t>{0, now + 500, now - 1, 0, now + 200});
  AllowlistBuilder drop_builder;
  const uint32_t list = drop_builder.AddList("drops");
  ASSERT_TRUE(drop_builder.Add(list, *ParseIndicator("drop.example.com"), false).ok());
  auto drop = std::move(drop_builder).Build();
  auto empty = AllowlistBuilder().Build();
  const ImportedFeed* in_memory[] = {&imported};

  auto built = BuildSnapshot(*store_, feeds_, empty, *drop, counters_, now, in_memory);
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  const MatchSnapshot& snap = *built->snapshot;
  EXPECT_TRUE(Matches(snap, "1.1.1.1"));
  EXPECT_TRUE(Matches(snap, "2.2.2.2"));
  EXPECT_TRUE(Matches(snap, "5.5.5.5"));           // only in memory: memory was read
  EXPECT_FALSE(Matches(snap, "keep.example.com"));  // only in the store: a's range was not scanned
  EXPECT_FALSE(Matches(snap, "3.3.3.3"));           // expired
  EXPECT_FALSE(Matches(snap, "drop.example.com"));  // dropped by the allowlist
  EXPECT_TRUE(Matches(snap, "9.9.9.9"));            // feed b still comes from the store
  EXPECT_EQ(snap.index->size(), 4u);
  EXPECT_EQ(built->dropped_by_allowlist, 1u);
  EXPECT_EQ(snap.next_expiry_unix_ms, now + 200);
  ASSERT_EQ(built->expired.count("a"), 1u);
  EXPECT_EQ(built->expired.at("a").size(), 1u);
  EXPECT_EQ(built->expired.at("a")[0].Display(), "3.3.3.3");

  imported.state.set_id(a + 100);  // stale: the store has moved on
  auto rebuilt = BuildSnapshot(*store_, feeds_, empty, *empty, counters_, now, in_memory);
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_TRUE(Matches(*rebuilt->snapshot, "keep.example.com"));
  EXPECT_FALSE(Matches(*rebuilt->snapshot, "5.5.5.5"));

  // Pending (not committed yet): it stands for feed a under its future id whatever the
  // store holds now, and a feed not stored yet is added.
  imported.pending = true;
  ImportedFeed fresh;
  fresh.state.set_name("c");
  fresh.state.set_id(a + 200);
  fresh.pending = true;
  fresh.entries = std::make_shared<const std::vector<FeedContribution>>(
      std::vector<FeedContribution>{{*ParseIndicator("7.7.7.7"), {}}});
  const ImportedFeed* pending[] = {&imported, &fresh};
  auto ahead = BuildSnapshot(*store_, feeds_, empty, *empty, counters_, now, pending);
  ASSERT_TRUE(ahead.ok());
  EXPECT_TRUE(Matches(*ahead->snapshot, "5.5.5.5"));
  EXPECT_FALSE(Matches(*ahead->snapshot, "keep.example.com"));
  EXPECT_TRUE(Matches(*ahead->snapshot, "7.7.7.7"));
  EXPECT_TRUE(Matches(*ahead->snapshot, "9.9.9.9"));
  ASSERT_NE(ahead->snapshot->feed(a + 100), nullptr);
  EXPECT_EQ(ahead->snapshot->feed(a + 100)->name, "a");
  EXPECT_EQ(ahead->snapshot->feed(a), nullptr);
  ASSERT_NE(ahead->snapshot->feed(a + 200), nullptr);
  EXPECT_EQ(ahead->snapshot->feed(a + 200)->name, "c");
}

// The prebuilder's snapshot built ahead is used only when the pending import committed as
// planned and nothing else changed in the round; otherwise Finish builds afresh.
TEST_F(SnapshotTest, PrebuiltSnapshotIsUsedOnlyWhenItCoversTheRound) {
  const int64_t now = 1'000'000;
  Put("a", {{"1.1.1.1", 0}});
  iocd::store::FeedState a = *store_->GetFeed("a");
  auto big = std::make_shared<std::vector<FeedContribution>>();
  for (uint32_t i = 0; i < SnapshotPrebuilder::kMinEntries; ++i) {
    big->push_back({Indicator{IndicatorType::kIpv4, std::string{char(10), char(i >> 16), char(i >> 8), char(i)}}, {}});
  }
  auto make = [&](FeedId id, bool pending) {
    auto f = std::make_shared<ImportedFeed>();
    f->state = a;
    f->state.set_id(id);
    f->pending = pending;
    f->entries = big;
    return f;
  };
  int builds = 0;
  auto empty = AllowlistBuilder().Build();
  SnapshotPrebuilder::Build build = [&](std::span<const ImportedFeed* const> imported) {
    ++builds;
    return BuildSnapshot(*store_, feeds_, empty, *empty, counters_, now, imported);
  };
  {
    SnapshotPrebuilder prebuilder(build);
    prebuilder.Pending(make(a.id(), true));
    prebuilder.Committed(make(a.id(), false));
    auto built = prebuilder.Finish(false);
    ASSERT_TRUE(built.ok());
    EXPECT_TRUE(prebuilder.used_prebuilt());
    EXPECT_EQ(builds, 1);
    EXPECT_EQ(built->snapshot->index->size(), SnapshotPrebuilder::kMinEntries);
  }
  {
    builds = 0;
    SnapshotPrebuilder prebuilder(build);
    prebuilder.Pending(make(a.id(), true));
    prebuilder.Committed(nullptr);  // the import failed: the store still has the old version
    auto built = prebuilder.Finish(false);
    ASSERT_TRUE(built.ok());
    EXPECT_FALSE(prebuilder.used_prebuilt());
    EXPECT_EQ(builds, 2);
    EXPECT_EQ(built->snapshot->index->size(), 1u);
    EXPECT_TRUE(Matches(*built->snapshot, "1.1.1.1"));
  }
  {
    builds = 0;
    SnapshotPrebuilder prebuilder(build);
    prebuilder.Pending(make(a.id(), true));
    prebuilder.Committed(make(a.id(), false));
    auto built = prebuilder.Finish(true);  // e.g. a feed was removed as well
    ASSERT_TRUE(built.ok());
    EXPECT_FALSE(prebuilder.used_prebuilt());
    EXPECT_EQ(builds, 2);
  }
}

}  // namespace
}  // namespace iocd
