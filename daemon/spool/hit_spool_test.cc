#include "spool/hit_spool.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/temp_dir.h"

namespace iocd {
namespace {

std::vector<std::string> Values(const std::vector<SpoolRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.value);
  return out;
}

class HitSpoolTest : public ::testing::Test {
 protected:
  std::unique_ptr<HitSpool> OpenSpool(std::vector<std::string> consumers = {"a"}, uint64_t max_records = 0,
                                      uint64_t max_bytes = 0) {
    SpoolOptions o;
    o.path = dir_.path() + "/spool";
    o.consumers = std::move(consumers);
    o.max_records = max_records;
    o.max_bytes = max_bytes;
    auto s = HitSpool::Open(o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  std::vector<std::string> Pending(HitSpool& spool, const std::string& consumer) {
    std::vector<SpoolRecord> records;
    EXPECT_TRUE(spool.Read(*spool.Cursor(consumer), 1000, 1 << 20, &records).ok());
    return Values(records);
  }

  TempDir dir_;
};

TEST_F(HitSpoolTest, AppendReadAckInOrder) {
  auto spool = OpenSpool();
  EXPECT_EQ(*spool->Append("one"), 0u);
  EXPECT_EQ(*spool->Append("two"), 1u);
  EXPECT_EQ(*spool->Append("three"), 2u);
  EXPECT_EQ(Pending(*spool, "a"), (std::vector<std::string>{"one", "two", "three"}));
  std::vector<SpoolRecord> two;
  ASSERT_TRUE(spool->Read(1, 1, 1 << 20, &two).ok());
  ASSERT_EQ(two.size(), 1u);
  EXPECT_EQ(two[0].seq, 1u);
  EXPECT_EQ(two[0].value, "two");

  ASSERT_TRUE(spool->Ack("a", 2).ok());
  EXPECT_EQ(Pending(*spool, "a"), (std::vector<std::string>{"three"}));
  SpoolStats s = spool->stats();
  EXPECT_EQ(s.records, 1u);
  EXPECT_EQ(s.bytes, 5u);
  EXPECT_EQ(s.first_seq, 2u);
  EXPECT_EQ(s.next_seq, 3u);
  ASSERT_TRUE(spool->Ack("a", 1).ok());  // going back is ignored
  EXPECT_EQ(*spool->Cursor("a"), 2u);
  EXPECT_FALSE(spool->Ack("nobody", 1).ok());
}

TEST_F(HitSpoolTest, ReadStopsAtByteLimitButReturnsAtLeastOne) {
  auto spool = OpenSpool();
  ASSERT_TRUE(spool->Append(std::string(100, 'x')).ok());
  ASSERT_TRUE(spool->Append("y").ok());
  std::vector<SpoolRecord> r;
  ASSERT_TRUE(spool->Read(0, 10, 10, &r).ok());
  EXPECT_EQ(r.size(), 1u);
}

TEST_F(HitSpoolTest, RecordsStayUntilEveryConsumerAcked) {
  auto spool = OpenSpool({"fast", "slow"});
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(spool->Append("hit" + std::to_string(i)).ok());
  ASSERT_TRUE(spool->Ack("fast", 4).ok());
  EXPECT_EQ(spool->stats().records, 4u);
  EXPECT_TRUE(Pending(*spool, "fast").empty());
  EXPECT_EQ(Pending(*spool, "slow").size(), 4u);
  ASSERT_TRUE(spool->Ack("slow", 3).ok());
  EXPECT_EQ(spool->stats().records, 1u);
  EXPECT_EQ(Pending(*spool, "slow"), (std::vector<std::string>{"hit3"}));
}

TEST_F(HitSpoolTest, ReopenAfterCrashKeepsUnacknowledgedRecords) {
  {
    auto spool = OpenSpool({"a", "b"});
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(spool->Append("hit" + std::to_string(i)).ok());
    ASSERT_TRUE(spool->Ack("a", 2).ok());
    // Closed without acknowledging the rest (what a crash leaves behind).
  }
  auto spool = OpenSpool({"a", "b"});
  EXPECT_EQ(Pending(*spool, "a"), (std::vector<std::string>{"hit2", "hit3", "hit4"}));
  EXPECT_EQ(Pending(*spool, "b"), (std::vector<std::string>{"hit0", "hit1", "hit2", "hit3", "hit4"}));
  EXPECT_EQ(*spool->Append("hit5"), 5u);  // numbering continues
  SpoolStats s = spool->stats();
  EXPECT_EQ(s.records, 6u);
  EXPECT_EQ(s.bytes, 24u);
}

TEST_F(HitSpoolTest, AckOfABacklogFreesItAcrossDeleteBatches) {
  {
    auto spool = OpenSpool({"a"});
    std::vector<std::string> values;
    for (int i = 0; i < 1000; ++i) values.push_back("r" + std::to_string(i));
    const std::vector<std::string_view> views(values.begin(), values.end());
    ASSERT_TRUE(spool->AppendBatch(views).ok());
    ASSERT_TRUE(spool->Ack("a", 700).ok());  // 700 deletes: several batches of 256
    SpoolStats s = spool->stats();
    EXPECT_EQ(s.records, 300u);
    EXPECT_EQ(s.first_seq, 700u);
    EXPECT_EQ(s.bytes, 300u * 4);  // "r700".."r999"
    std::vector<SpoolRecord> r;
    ASSERT_TRUE(spool->Read(0, 1, 1 << 20, &r).ok());  // from 0: starts at the first kept
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].seq, 700u);
    EXPECT_EQ(r[0].value, "r700");
  }
  // Nothing below the cursor is left on disk: the reopened spool holds exactly the rest.
  size_t keys = 0;
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir_.path() + "/spool", &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++keys;
  }
  EXPECT_EQ(keys, 300u + 1);  // the records and the cursor
  auto spool = OpenSpool({"a"});
  EXPECT_EQ(spool->stats().records, 300u);
  EXPECT_EQ(Pending(*spool, "a").front(), "r700");
}

// What a crash between an Ack's cursor write and its deletes leaves: records below every
// cursor. Open deletes them, and numbering continues after the cursor (a new record must
// never get a number the consumer has already passed).
TEST_F(HitSpoolTest, RecordsLeftBelowEveryCursorAreDeletedAtOpen) {
  {
    auto spool = OpenSpool({"a", "b"});
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(spool->Append("hit" + std::to_string(i)).ok());
    ASSERT_TRUE(spool->Ack("a", 10).ok());
    ASSERT_TRUE(spool->Ack("b", 10).ok());
    EXPECT_EQ(spool->stats().records, 0u);
  }
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir_.path() + "/spool", &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    for (uint64_t seq : {3u, 5u, 6u}) {
      std::string key(1, 'h');
      for (int i = 7; i >= 0; --i) key.push_back(static_cast<char>((seq >> (8 * i)) & 0xFF));
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key, "stale").ok());
    }
  }
  auto spool = OpenSpool({"a", "b"});
  SpoolStats s = spool->stats();
  EXPECT_EQ(s.records, 0u);
  EXPECT_EQ(s.bytes, 0u);
  EXPECT_EQ(*spool->Append("hit10"), 10u);
  EXPECT_EQ(Pending(*spool, "a"), (std::vector<std::string>{"hit10"}));
  EXPECT_EQ(Pending(*spool, "b"), (std::vector<std::string>{"hit10"}));
  EXPECT_EQ(spool->stats().first_seq, 10u);
}

TEST_F(HitSpoolTest, SequenceNumbersNeverGoBackAfterEverythingWasDelivered) {
  {
    auto spool = OpenSpool();
    ASSERT_TRUE(spool->Append("x").ok());
    ASSERT_TRUE(spool->Append("y").ok());
    ASSERT_TRUE(spool->Ack("a", 2).ok());
  }
  auto spool = OpenSpool();
  EXPECT_EQ(spool->stats().records, 0u);
  EXPECT_EQ(*spool->Append("z"), 2u);
}

TEST_F(HitSpoolTest, NewConsumerStartsAtTheEndAndRemovedOnesStopPinning) {
  {
    auto spool = OpenSpool({"a", "gone"});
    ASSERT_TRUE(spool->Append("old").ok());
    ASSERT_TRUE(spool->Ack("a", 1).ok());
    EXPECT_EQ(spool->stats().records, 1u);  // "gone" still needs it
  }
  auto spool = OpenSpool({"a", "new"});
  EXPECT_EQ(spool->stats().records, 0u);
  EXPECT_TRUE(Pending(*spool, "new").empty());
  ASSERT_TRUE(spool->Append("fresh").ok());
  EXPECT_EQ(Pending(*spool, "new"), (std::vector<std::string>{"fresh"}));
}

TEST_F(HitSpoolTest, OverflowDropsOldestAndCountsPerConsumer) {
  auto spool = OpenSpool({"a", "b"}, /*max_records=*/3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(spool->Append("hit" + std::to_string(i)).ok());
  ASSERT_TRUE(spool->Ack("a", 2).ok());  // a has delivered hit0 and hit1
  for (int i = 3; i < 6; ++i) ASSERT_TRUE(spool->Append("hit" + std::to_string(i)).ok());
  // Six appended, three kept: hit0..hit2 deleted. b lost all three; a lost only hit2.
  EXPECT_EQ(Pending(*spool, "a"), (std::vector<std::string>{"hit3", "hit4", "hit5"}));
  EXPECT_EQ(Pending(*spool, "b"), (std::vector<std::string>{"hit3", "hit4", "hit5"}));
  EXPECT_EQ(spool->overflow_dropped("a"), 1u);
  EXPECT_EQ(spool->overflow_dropped("b"), 3u);
  EXPECT_EQ(spool->stats().overflow_records, 3u);
  EXPECT_EQ(spool->stats().records, 3u);
}

TEST_F(HitSpoolTest, ByteBoundDropsOldest) {
  auto spool = OpenSpool({"a"}, 0, /*max_bytes=*/10);
  ASSERT_TRUE(spool->Append("12345").ok());
  ASSERT_TRUE(spool->Append("67890").ok());
  ASSERT_TRUE(spool->Append("abc").ok());
  EXPECT_EQ(Pending(*spool, "a"), (std::vector<std::string>{"67890", "abc"}));
  EXPECT_EQ(spool->overflow_dropped("a"), 1u);
  EXPECT_EQ(spool->stats().bytes, 8u);
}

TEST_F(HitSpoolTest, ConcurrentAppendsAndAcksLoseNothing) {
  auto spool = OpenSpool({"a"});
  constexpr int kThreads = 4, kPerThread = 250;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) ASSERT_TRUE(spool->Append(std::to_string(t * kPerThread + i)).ok());
    });
  }
  uint64_t delivered = 0;
  std::vector<bool> seen(kThreads * kPerThread, false);
  while (delivered < kThreads * kPerThread) {
    std::vector<SpoolRecord> r;
    ASSERT_TRUE(spool->Read(*spool->Cursor("a"), 64, 1 << 20, &r).ok());
    for (const auto& rec : r) seen[std::stoul(rec.value)] = true;
    if (!r.empty()) {
      ASSERT_TRUE(spool->Ack("a", r.back().seq + 1).ok());
      delivered += r.size();
    } else {
      std::this_thread::yield();
    }
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(delivered, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), kThreads * kPerThread);
  EXPECT_EQ(spool->stats().records, 0u);
}

TEST_F(HitSpoolTest, AppendBatchStoresInOrderWithDenseSequenceNumbers) {
  auto spool = OpenSpool();
  ASSERT_TRUE(spool->Append("zero").ok());
  const std::vector<std::string_view> batch = {"one", "two", "three"};
  EXPECT_EQ(*spool->AppendBatch(batch), 1u);
  EXPECT_EQ(*spool->AppendBatch({}), 4u);  // empty: nothing stored
  EXPECT_EQ(*spool->Append("four"), 4u);
  EXPECT_EQ(Pending(*spool, "a"), (std::vector<std::string>{"zero", "one", "two", "three", "four"}));
  EXPECT_EQ(spool->stats().bytes, 19u);
}

TEST_F(HitSpoolTest, AppendBatchSurvivesReopen) {
  {
    auto spool = OpenSpool({"a"});
    const std::vector<std::string_view> batch = {"x", "y"};
    ASSERT_TRUE(spool->AppendBatch(batch).ok());
  }
  auto spool = OpenSpool({"a"});
  EXPECT_EQ(Pending(*spool, "a"), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(*spool->Append("z"), 2u);
}

TEST_F(HitSpoolTest, OverflowWithBatchesCountsEachDroppedRecordOncePerConsumer) {
  auto spool = OpenSpool({"a", "b"}, /*max_records=*/4);
  const std::vector<std::string_view> first = {"h0", "h1", "h2"};
  ASSERT_TRUE(spool->AppendBatch(first).ok());
  ASSERT_TRUE(spool->Ack("a", 2).ok());  // a delivered h0, h1
  // Three more: six in all, four kept, so h0 and h1 go. Only b had not passed them.
  const std::vector<std::string_view> second = {"h3", "h4", "h5"};
  EXPECT_EQ(*spool->AppendBatch(second), 3u);
  EXPECT_EQ(Pending(*spool, "a"), (std::vector<std::string>{"h2", "h3", "h4", "h5"}));
  EXPECT_EQ(Pending(*spool, "b"), (std::vector<std::string>{"h2", "h3", "h4", "h5"}));
  EXPECT_EQ(spool->overflow_dropped("a"), 0u);
  EXPECT_EQ(spool->overflow_dropped("b"), 2u);
  // A batch larger than the bound keeps only its newest records; the older part of the
  // batch and everything stored before count as dropped for both consumers.
  const std::vector<std::string_view> big = {"b0", "b1", "b2", "b3", "b4", "b5"};
  EXPECT_EQ(*spool->AppendBatch(big), 6u);
  EXPECT_EQ(Pending(*spool, "a"), (std::vector<std::string>{"b2", "b3", "b4", "b5"}));
  EXPECT_EQ(Pending(*spool, "b"), (std::vector<std::string>{"b2", "b3", "b4", "b5"}));
  EXPECT_EQ(spool->overflow_dropped("a"), 6u);  // h2..h5, b0, b1
  EXPECT_EQ(spool->overflow_dropped("b"), 8u);
  SpoolStats st = spool->stats();
  EXPECT_EQ(st.overflow_records, 8u);
  EXPECT_EQ(st.records, 4u);
  EXPECT_EQ(st.bytes, 8u);
  EXPECT_EQ(st.first_seq, 8u);
  EXPECT_EQ(st.next_seq, 12u);
}

TEST_F(HitSpoolTest, BatchAloneOverTheByteBoundKeepsWhatFits) {
  auto spool = OpenSpool({"a"}, 0, /*max_bytes=*/10);
  const std::vector<std::string_view> batch = {"123456", "7890", "abcdef"};
  EXPECT_EQ(*spool->AppendBatch(batch), 0u);
  EXPECT_EQ(Pending(*spool, "a"), (std::vector<std::string>{"7890", "abcdef"}));
  EXPECT_EQ(spool->overflow_dropped("a"), 1u);
  EXPECT_EQ(spool->stats().bytes, 10u);
}

TEST_F(HitSpoolTest, BadOptions) {
  SpoolOptions o;
  o.path = dir_.path() + "/x";
  EXPECT_FALSE(HitSpool::Open(o).ok());
  o.consumers = {"a", "a"};
  EXPECT_FALSE(HitSpool::Open(o).ok());
}

}  // namespace
}  // namespace iocd
