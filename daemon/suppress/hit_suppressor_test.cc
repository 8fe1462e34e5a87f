#include "suppress/hit_suppressor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

namespace iocd {
namespace {

using ::testing::ElementsAre;

constexpr int64_t kSecond = 1000000;
constexpr int64_t kT0 = 1700000000 * kSecond;

HitSuppressor Make(int64_t window_us, uint64_t max_keys = 1000, uint32_t shards = 4) {
  return HitSuppressor(HitSuppressorOptions{window_us, max_keys, shards});
}

// "key count start_offset_seconds" for every window Expire reports.
std::vector<std::string> ExpireAll(HitSuppressor& s, int64_t now_us) {
  std::vector<std::string> out;
  s.Expire(now_us, [&](ClosedWindow&& w) {
    out.push_back(w.key + " " + std::to_string(w.count) + " " +
                  std::to_string((w.window_start_us - kT0) / kSecond));
  });
  return out;
}

TEST(HitSuppressorTest, OffEmitsEverythingAndTracksNothing) {
  HitSuppressor s = Make(0);
  EXPECT_FALSE(s.enabled());
  for (int i = 0; i < 3; ++i) {
    SuppressionDecision d = s.Admit("1.2.3.4|host", kT0 + i);
    EXPECT_TRUE(d.emit);
    EXPECT_EQ(d.count, 1u);
  }
  EXPECT_TRUE(ExpireAll(s, kT0 + 100 * kSecond).empty());
  EXPECT_EQ(s.stats().suppressed, 0u);
  EXPECT_EQ(s.stats().open_windows, 0u);
  EXPECT_EQ(s.stats().admitted, 3u);
}

TEST(HitSuppressorTest, FirstSightingEmitsLaterOnesCountUntilTheWindowEnds) {
  HitSuppressor s = Make(60 * kSecond);
  SuppressionDecision first = s.Admit("evil.com|fw1", kT0);
  EXPECT_TRUE(first.emit);
  EXPECT_EQ(first.count, 1u);
  EXPECT_EQ(first.window_start_us, kT0);
  for (int i = 1; i <= 4; ++i) {
    SuppressionDecision d = s.Admit("evil.com|fw1", kT0 + i * 10 * kSecond);
    EXPECT_FALSE(d.emit);
    EXPECT_EQ(d.count, static_cast<uint64_t>(i + 1));
    EXPECT_EQ(d.window_start_us, kT0);
  }
  // Another source or indicator is another key.
  EXPECT_TRUE(s.Admit("evil.com|fw2", kT0 + 5 * kSecond).emit);
  EXPECT_TRUE(s.Admit("bad.org|fw1", kT0 + 5 * kSecond).emit);

  EXPECT_TRUE(ExpireAll(s, kT0 + 60 * kSecond - 1).empty());  // nothing has ended yet
  // evil.com|fw1 ended at +60 s with 5 sightings; the single sightings are not reported.
  EXPECT_THAT(ExpireAll(s, kT0 + 65 * kSecond), ElementsAre("evil.com|fw1 5 0"));
  SuppressorStats st = s.stats();
  EXPECT_EQ(st.admitted, 7u);
  EXPECT_EQ(st.suppressed, 4u);
  EXPECT_EQ(st.summaries, 1u);
  EXPECT_EQ(st.open_windows, 0u);

  // After the window a sighting emits again and opens a new window.
  SuppressionDecision again = s.Admit("evil.com|fw1", kT0 + 70 * kSecond);
  EXPECT_TRUE(again.emit);
  EXPECT_EQ(again.window_start_us, kT0 + 70 * kSecond);
}

TEST(HitSuppressorTest, ASightingAfterTheWindowEmitsEvenBeforeExpireRuns) {
  HitSuppressor s = Make(10 * kSecond);
  EXPECT_TRUE(s.Admit("k", kT0).emit);
  EXPECT_FALSE(s.Admit("k", kT0 + 9 * kSecond).emit);
  SuppressionDecision d = s.Admit("k", kT0 + 10 * kSecond);  // the window is [t, t+10s)
  EXPECT_TRUE(d.emit);
  EXPECT_EQ(d.count, 1u);
  EXPECT_FALSE(s.Admit("k", kT0 + 11 * kSecond).emit);
  // The first window (2 sightings) was closed by Admit; the second is still open at +15 s.
  EXPECT_THAT(ExpireAll(s, kT0 + 15 * kSecond), ElementsAre("k 2 0"));
  EXPECT_THAT(ExpireAll(s, kT0 + 20 * kSecond), ElementsAre("k 2 10"));
}

TEST(HitSuppressorTest, AttachedFirstHitComesBackWithTheSummary) {
  HitSuppressor s = Make(10 * kSecond);
  SuppressionDecision d = s.Admit("k", kT0);
  auto hit = std::make_shared<iocd::hit::Hit>();
  hit->set_id("first");
  s.AttachFirst("k", d.window_start_us, hit);
  s.AttachFirst("k", d.window_start_us + 1,
                std::make_shared<iocd::hit::Hit>());  // not this window: ignored
  EXPECT_FALSE(s.Admit("k", kT0 + kSecond).emit);
  std::vector<ClosedWindow> closed;
  s.Expire(kT0 + 10 * kSecond, [&](ClosedWindow&& w) { closed.push_back(std::move(w)); });
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].count, 2u);
  ASSERT_NE(closed[0].first, nullptr);
  EXPECT_EQ(closed[0].first->id(), "first");
}

TEST(HitSuppressorTest, AFullTableClosesItsOldestWindowEarly) {
  // One shard of 3 keys, so which window is oldest is exact.
  HitSuppressor s = Make(60 * kSecond, /*max_keys=*/3, /*shards=*/1);
  s.Admit("a", kT0);
  EXPECT_FALSE(s.Admit("a", kT0 + 1).emit);
  s.Admit("b", kT0 + kSecond);
  s.Admit("c", kT0 + 2 * kSecond);
  EXPECT_EQ(s.stats().open_windows, 3u);
  EXPECT_TRUE(s.Admit("d", kT0 + 3 * kSecond).emit);  // evicts "a" (2 sightings)
  EXPECT_EQ(s.stats().open_windows, 3u);
  EXPECT_EQ(s.stats().evicted, 1u);
  EXPECT_TRUE(s.Admit("a", kT0 + 4 * kSecond).emit);  // a new window; evicts "b" (1 sighting)
  EXPECT_EQ(s.stats().evicted, 2u);
  // Only the evicted "a" window had more than one sighting; nothing else has ended.
  EXPECT_THAT(ExpireAll(s, kT0 + 5 * kSecond), ElementsAre("a 2 0"));
  EXPECT_EQ(s.stats().open_windows, 3u);  // c, d, a
}

TEST(HitSuppressorTest, ConcurrentAdmitsCountEverySightingOnce) {
  constexpr int kThreads = 4, kKeys = 50, kRounds = 200;
  HitSuppressor s = Make(3600 * kSecond, 100000, 8);
  std::atomic<int> emitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int r = 0; r < kRounds; ++r) {
        for (int k = 0; k < kKeys; ++k) {
          if (s.Admit("key" + std::to_string(k), kT0 + r).emit) emitted.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(emitted.load(), kKeys);
  SuppressorStats st = s.stats();
  EXPECT_EQ(st.admitted, uint64_t{kThreads * kKeys * kRounds});
  EXPECT_EQ(st.suppressed, uint64_t{kThreads * kKeys * kRounds - kKeys});
  std::map<std::string, uint64_t> counts;
  s.Expire(kT0 + 3601 * kSecond, [&](ClosedWindow&& w) { counts[w.key] = w.count; });
  ASSERT_EQ(counts.size(), size_t{kKeys});
  for (const auto& [key, n] : counts) EXPECT_EQ(n, uint64_t{kThreads * kRounds}) << key;
}

}  // namespace
}  // namespace iocd
