#include "store/indicator_store.h"
#include "common/huge_pages.h"
#include "common/prefetch.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <thread>

namespace iocd {
namespace {

// Column families; see docs/store-format.md.
constexpr char kFeedsCf[] = "feeds";
constexpr char kEntriesCf[] = "feed_entries";
constexpr char kMetaKey[] = "meta";
// Subdirectory of the store where SST files of large imports are written before ingestion.
constexpr char kIngestDir[] = "ingest";
// Default-CF key naming (4-byte feed id) an ingested generation not yet committed.
constexpr char kIngestPendingKey[] = "ingest_pending";

std::string FeedPrefix(FeedId id) {
  std::string out(4, '\0');
  out[0] = static_cast<char>(id >> 24);
  out[1] = static_cast<char>(id >> 16);
  out[2] = static_cast<char>(id >> 8);
  out[3] = static_cast<char>(id);
  return out;
}

FeedId DecodeFeedId(std::string_view key) {
  return (FeedId{static_cast<uint8_t>(key[0])} << 24) | (FeedId{static_cast<uint8_t>(key[1])} << 16) |
         (FeedId{static_cast<uint8_t>(key[2])} << 8) | FeedId{static_cast<uint8_t>(key[3])};
}

std::string EntryKey(FeedId id, const Indicator& indicator) {
  return FeedPrefix(id) + indicator.Encoded();
}

// Orders indicators as their Encoded() forms (type byte, then key bytes) order.
int CompareEncoded(const Indicator& a, const Indicator& b) {
  if (a.type != b.type) return a.type < b.type ? -1 : 1;
  return a.key.compare(b.key);
}
// The same against an encoded indicator as stored (the key after the feed id).
int CompareEncoded(const Indicator& a, std::string_view encoded) {
  if (encoded.empty()) return 1;
  const auto t = static_cast<uint8_t>(a.type), u = static_cast<uint8_t>(encoded[0]);
  if (t != u) return t < u ? -1 : 1;
  return std::string_view(a.key).compare(encoded.substr(1));
}

// The first 8 bytes of an Encoded() indicator as a big-endian number (zero-padded): the
// order of the prefixes agrees with the order of the encoded strings.
uint64_t SortPrefix(const Indicator& ind) {
  uint64_t p = static_cast<uint64_t>(ind.type) << 56;
  for (size_t i = 0; i < 7 && i < ind.key.size(); ++i) {
    p |= static_cast<uint64_t>(static_cast<uint8_t>(ind.key[i])) << (48 - 8 * i);
  }
  return p;
}
struct SortItem {
  uint64_t prefix;
  uint32_t index;
};

// Walking entries in key order visits them in random memory order: three cache misses
// each (the record, its key bytes, its value bytes). Called at step i, this loads the
// record of step i + 16 and the bytes of step i + 8, so the misses overlap.
template <typename Items>
void PrefetchAhead(const std::vector<FeedContribution>& entries, const Items& items, size_t i) {
  if (i + 16 < items.size()) Prefetch(&entries[items[i + 16].index]);
  if (i + 8 < items.size()) {
    const FeedContribution& c = entries[items[i + 8].index];
    Prefetch(c.indicator.key.data());
    Prefetch(c.encoded.data());
  }
}

// Imports at least this large sort and write on two threads.
constexpr size_t kParallelMinEntries = 200000;

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string msg = std::string(what) + ": " + s.ToString();
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsNotFound()) return Status::NotFound(msg);
  return Status::IoError(msg);
}

std::string_view ToView(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Protobuf wire format (proto3, fields in number order, defaults omitted), as FeedEntry
// and ContextField serialise.
void AppendVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
void AppendBytesField(uint32_t field, std::string_view bytes, std::string* out) {
  if (bytes.empty()) return;
  out->push_back(static_cast<char>(field << 3 | 2));
  AppendVarint(bytes.size(), out);
  out->append(bytes);
}
size_t VarintSize(uint64_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}
size_t BytesFieldSize(std::string_view bytes) {
  return bytes.empty() ? 0 : 1 + VarintSize(bytes.size()) + bytes.size();
}
void AppendContextField(std::string_view key, std::string_view value, std::string* out) {
  out->push_back(static_cast<char>(3 << 3 | 2));
  AppendVarint(BytesFieldSize(key) + BytesFieldSize(value), out);
  AppendBytesField(1, key, out);
  AppendBytesField(2, value, out);
}


class RocksIndicatorStore final : public IndicatorStore {
 public:
  RocksIndicatorStore(StoreOptions options, rocksdb::Options rocks_options, std::unique_ptr<rocksdb::DB> db,
                      std::vector<rocksdb::ColumnFamilyHandle*> cfs)
      : options_(std::move(options)),
        rocks_options_(std::move(rocks_options)),
        db_(std::move(db)),
        default_cf_(cfs[0]),
        feeds_cf_(cfs[1]),
        entries_cf_(cfs[2]) {}

  ~RocksIndicatorStore() override {
    for (auto* cf : {default_cf_, feeds_cf_, entries_cf_}) {
      db_->DestroyColumnFamilyHandle(cf).PermitUncheckedError();
    }
    db_->Close().PermitUncheckedError();
  }

  Status Init() {
    std::string raw;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), default_cf_, kMetaKey, &raw);
    if (s.IsNotFound()) {
      meta_.set_format_version(kFormatVersion);
      meta_.set_next_feed_id(1);
      return FromRocks(db_->Put(SyncWrite(), default_cf_, kMetaKey, meta_.SerializeAsString()),
                       "writing store metadata");
    }
    if (!s.ok()) return FromRocks(s, "reading store metadata");
    if (!meta_.ParseFromString(raw)) {
      return Status::Corruption("store metadata does not decode; the store is damaged");
    }
    if (meta_.format_version() != kFormatVersion) {
      return Status::Corruption("store format version " + std::to_string(meta_.format_version()) +
                                " is not supported by this iocd (it reads version " +
                                std::to_string(kFormatVersion) +
                                "); use the matching iocd version or move the state directory "
                                "aside so feeds are imported afresh");
    }
    auto feeds = ListFeeds();
    if (!feeds.ok()) return feeds.status();
    for (const auto& f : *feeds) feed_names_[f.id()] = f.name();
    return DropInterruptedIngestion();
  }

  Result<iocd::store::FeedState> GetFeed(std::string_view name) override {
    std::string raw;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), feeds_cf_, rocksdb::Slice(name.data(), name.size()), &raw);
    if (s.IsNotFound()) return Status::NotFound("feed '" + std::string(name) + "' is not in the store");
    if (!s.ok()) return FromRocks(s, "reading feed state");
    iocd::store::FeedState state;
    if (!state.ParseFromString(raw)) {
      return Status::Corruption("state of feed '" + std::string(name) + "' does not decode");
    }
    return state;
  }

  Result<std::vector<iocd::store::FeedState>> ListFeeds() override {
    std::vector<iocd::store::FeedState> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), feeds_cf_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      iocd::store::FeedState state;
      if (!state.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return Status::Corruption("state of feed '" + it->key().ToString() + "' does not decode");
      }
      out.push_back(std::move(state));
    }
    if (!it->status().ok()) return FromRocks(it->status(), "listing feeds");
    return out;
  }

  std::string FeedName(FeedId id) override {
    std::shared_lock lock(names_mu_);
    auto it = feed_names_.find(id);
    return it == feed_names_.end() ? std::string() : it->second;
  }

  Result<ReplaceStats> ReplaceFeed(iocd::store::FeedState state, const std::vector<FeedContribution>& entries,
                                   iocd::store::FeedState* stored) override {
    auto prepared = PrepareReplace(std::move(state), entries);
    if (!prepared.ok()) return prepared.status();
    auto committed = (*prepared)->Commit(stored);
    if (!committed.ok()) return committed;
    return (*prepared)->ExactStats();
  }

  // The plan of a replacement: which path writes it, under which id.
  struct Plan {
    bool ingest = false;
    std::optional<FeedId> previous;  // ingest: the generation replaced
    std::optional<ReplaceStats> known_stats;
    bool existing = false;           // diff: the feed is stored already
  };

  class Prepared final : public PreparedReplace {
   public:
    Prepared(RocksIndicatorStore* store, std::unique_lock<std::mutex> lock, iocd::store::FeedState state,
             const std::vector<FeedContribution>& entries, std::vector<SortItem> wanted, FeedId id, Plan plan)
        : store_(store), lock_(std::move(lock)), state_(std::move(state)), entries_(entries),
          wanted_(std::move(wanted)), id_(id), plan_(std::move(plan)) {}
    FeedId id() const override { return id_; }
    ~Prepared() override {
      if (count_later_ != nullptr) store_->db_->ReleaseSnapshot(count_later_);
    }
    void DeferExactStats() override { defer_ = true; }
    Result<ReplaceStats> Commit(iocd::store::FeedState* stored) override {
      if (!lock_.owns_lock()) return Status::Internal("replacement committed twice");
      Result<ReplaceStats> result =
          plan_.ingest ? store_->ReplaceByIngestion(std::move(state_), plan_.previous, entries_, wanted_,
                                                    plan_.known_stats, stored, defer_ ? &count_later_ : nullptr)
                       : store_->ReplaceByDiff(std::move(state_), plan_.existing, id_, entries_, wanted_, stored);
      lock_.unlock();
      if (result.ok()) committed_ = *result;
      return result;
    }
    Result<ReplaceStats> ExactStats() override {
      if (!committed_) return Status::Internal("statistics of a replacement not committed");
      if (count_later_ == nullptr) return *committed_;
      // The replaced generation, as the snapshot taken before the commit still shows it.
      auto counted = store_->CountChanges(*plan_.previous, entries_, wanted_, count_later_);
      store_->db_->ReleaseSnapshot(count_later_);
      count_later_ = nullptr;
      if (counted.ok()) committed_ = *counted;
      return counted;
    }

   private:
    RocksIndicatorStore* store_;
    std::unique_lock<std::mutex> lock_;
    iocd::store::FeedState state_;
    const std::vector<FeedContribution>& entries_;
    std::vector<SortItem> wanted_;
    FeedId id_;
    Plan plan_;
    bool defer_ = false;
    const rocksdb::Snapshot* count_later_ = nullptr;  // set when the count was deferred
    std::optional<ReplaceStats> committed_;
  };

  Result<std::unique_ptr<PreparedReplace>> PrepareReplace(iocd::store::FeedState state,
                                                          const std::vector<FeedContribution>& entries) override {
    std::unique_lock write_lock(write_mu_);
    auto existing = GetFeed(state.name());
    FeedId id;
    if (existing.ok()) {
      id = existing->id();
    } else if (existing.status().code() == StatusCode::kNotFound) {
      id = meta_.next_feed_id();
    } else {
      return existing.status();
    }

    // New contribution, sorted like the stored keys, first occurrence kept. Sorted as
    // indices with an 8-byte prefix of the encoded indicator, so no key is copied.
    std::vector<SortItem> wanted;
    ReserveHuge(&wanted, entries.size());
    for (uint32_t i = 0; i < entries.size(); ++i) wanted.push_back({SortPrefix(entries[i].indicator), i});
    auto less = [&](const SortItem& a, const SortItem& b) {
      if (a.prefix != b.prefix) return a.prefix < b.prefix;
      int c = CompareEncoded(entries[a.index].indicator, entries[b.index].indicator);
      return c != 0 ? c < 0 : a.index < b.index;
    };
    if (wanted.size() >= kParallelMinEntries) {
      // Two halves sorted on two threads, then merged (the order is total: ties break on
      // the index, so the result is the same as one sort).
      const auto mid = wanted.begin() + static_cast<std::ptrdiff_t>(wanted.size() / 2);
      std::jthread other([&] { std::sort(wanted.begin(), mid, less); });
      std::sort(mid, wanted.end(), less);
      other.join();
      std::inplace_merge(wanted.begin(), mid, wanted.end(), less);
    } else {
      std::sort(wanted.begin(), wanted.end(), less);
    }
    wanted.erase(std::unique(wanted.begin(), wanted.end(),
                             [&](const SortItem& a, const SortItem& b) {
                               return a.prefix == b.prefix && entries[a.index].indicator == entries[b.index].indicator;
                             }),
                 wanted.end());

    // A large feed that is mostly new is written as a new generation (see
    // ReplaceByIngestion); otherwise only the differences go into one write batch.
    // Whether most entries are already stored is first estimated from a sample; only an
    // unclear estimate costs an exact count up front. Either way the statistics returned
    // are exact (counted while the generation is written) and the choice only affects
    // speed: both paths store the same thing.
    auto prepared = [&](FeedId under, Plan plan) -> std::unique_ptr<PreparedReplace> {
      return std::make_unique<Prepared>(this, std::move(write_lock), std::move(state), entries, std::move(wanted),
                                        under, std::move(plan));
    };
    Plan plan;
    plan.existing = existing.ok();
    if (options_.ingest_min_entries > 0 && wanted.size() >= options_.ingest_min_entries) {
      Plan ingest;
      ingest.ingest = true;
      ingest.previous = existing.ok() ? std::optional<FeedId>(id) : std::nullopt;
      // A new generation is stored under the next id (reserved at commit; the write lock
      // keeps it free until then).
      const FeedId generation = meta_.next_feed_id();
      if (!ingest.previous) {
        ReplaceStats diff;
        diff.added = wanted.size();
        ingest.known_stats = diff;
        return prepared(generation, std::move(ingest));
      }
      auto present = SampledPresence(id, entries, wanted);
      if (!present.ok()) return present.status();
      if (*present < 0.25) return prepared(generation, std::move(ingest));
      if (*present <= 0.75) {
        auto counted = CountChanges(id, entries, wanted);
        if (!counted.ok()) return counted.status();
        if (counted->changed + counted->unchanged < wanted.size() / 2) {
          ingest.known_stats = *counted;
          return prepared(generation, std::move(ingest));
        }
      }
    }
    return prepared(id, std::move(plan));
  }

  // Merges `wanted` with what feed `id` stores: only the differences go into one batch.
  Result<ReplaceStats> ReplaceByDiff(iocd::store::FeedState state, bool existing, FeedId id,
                                     const std::vector<FeedContribution>& entries,
                                     const std::vector<SortItem>& wanted, iocd::store::FeedState* stored) {
    rocksdb::WriteBatch batch;
    if (!existing) {
      iocd::store::StoreMeta next = meta_;
      next.set_next_feed_id(id + 1);
      batch.Put(default_cf_, kMetaKey, next.SerializeAsString()).PermitUncheckedError();
    }
    // The merge runs over two key ranges on two threads for large feeds; the differences
    // come back as lists and go into the batch in key order.
    const std::string prefix = FeedPrefix(id);
    const size_t parts = wanted.size() >= kParallelMinEntries ? 2 : 1;
    std::vector<std::string> bounds = {prefix};
    for (size_t part = 1; part < parts; ++part) {
      bounds.push_back(prefix + entries[wanted[wanted.size() * part / parts].index].indicator.Encoded());
    }
    bounds.push_back(FeedPrefix(id + 1));
    std::vector<MergeResult> merged(parts);
    {
      std::vector<std::jthread> workers;
      auto merge = [&](size_t part) {
        merged[part] = MergeRange(entries,
                                  std::span(wanted).subspan(wanted.size() * part / parts,
                                                            wanted.size() * (part + 1) / parts -
                                                                wanted.size() * part / parts),
                                  bounds[part], bounds[part + 1], prefix.size());
      };
      for (size_t part = 1; part < parts; ++part) workers.emplace_back(merge, part);
      merge(0);
    }
    ReplaceStats stats;
    std::string key = prefix;
    for (const MergeResult& m : merged) {
      if (!m.status.ok()) return FromRocks(m.status, "reading feed '" + state.name() + "'");
      stats.added += m.stats.added;
      stats.removed += m.stats.removed;
      stats.changed += m.stats.changed;
      stats.unchanged += m.stats.unchanged;
      for (const MergeOp& op : m.ops) {
        if (op.entry == kDeleteOp) {
          batch.Delete(entries_cf_, op.stored_key).PermitUncheckedError();
          continue;
        }
        const FeedContribution& c = entries[op.entry];
        key.resize(prefix.size());
        key.push_back(static_cast<char>(c.indicator.type));
        key.append(c.indicator.key);
        batch.Put(entries_cf_, key, c.encoded).PermitUncheckedError();
      }
    }

    state.set_id(id);
    state.set_indicator_count(wanted.size());
    state.set_updated_unix_ms(NowUnixMs());
    batch.Put(feeds_cf_, state.name(), state.SerializeAsString()).PermitUncheckedError();

    // The batch's keys are in order: the memtable insert hint makes that cheap.
    rocksdb::WriteOptions wo = SyncWrite();
    wo.memtable_insert_hint_per_batch = true;
    Status s = FromRocks(db_->Write(wo, &batch), "writing feed '" + state.name() + "'");
    if (!s.ok()) return s;
    if (!existing) meta_.set_next_feed_id(id + 1);
    {
      std::unique_lock lock(names_mu_);
      feed_names_[id] = state.name();
    }
    if (stored != nullptr) *stored = std::move(state);
    return stats;
  }

  Status RemoveFeed(std::string_view name) override {
    std::lock_guard write_lock(write_mu_);
    auto existing = GetFeed(name);
    if (!existing.ok()) {
      return existing.status().code() == StatusCode::kNotFound ? Status::Ok() : existing.status();
    }
    const FeedId id = existing->id();
    rocksdb::WriteBatch batch;
    std::string begin = FeedPrefix(id);
    std::string end = FeedPrefix(id + 1);
    batch.DeleteRange(entries_cf_, begin, end).PermitUncheckedError();
    batch.Delete(feeds_cf_, rocksdb::Slice(name.data(), name.size())).PermitUncheckedError();
    Status s = FromRocks(db_->Write(SyncWrite(), &batch), "removing feed '" + std::string(name) + "'");
    if (!s.ok()) return s;
    std::unique_lock lock(names_mu_);
    feed_names_.erase(id);
    return Status::Ok();
  }

  Status ForEachEntry(const std::function<void(const Indicator&, FeedId)>& fn) override {
    return ForEachEntryWithValue([&](const Indicator& ind, FeedId feed, std::string_view) { fn(ind, feed); });
  }

  Status PutFeedState(const iocd::store::FeedState& state) override {
    std::lock_guard write_lock(write_mu_);
    auto existing = GetFeed(state.name());
    if (!existing.ok()) return existing.status();
    if (existing->id() != state.id()) {
      return Status::InvalidArgument("feed '" + state.name() + "' has id " + std::to_string(existing->id()) +
                                     ", not " + std::to_string(state.id()));
    }
    return FromRocks(db_->Put(SyncWrite(), feeds_cf_, state.name(), state.SerializeAsString()),
                     "writing state of feed '" + state.name() + "'");
  }

  Result<uint64_t> PurgeEntries(std::string_view feed, const std::vector<Indicator>& indicators) override {
    std::lock_guard write_lock(write_mu_);
    auto state = GetFeed(feed);
    if (!state.ok()) return state.status();
    rocksdb::WriteBatch batch;
    uint64_t deleted = 0;
    std::string ignored;
    for (const Indicator& ind : indicators) {
      std::string key = EntryKey(state->id(), ind);
      rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), entries_cf_, key, &ignored);
      if (s.IsNotFound()) continue;
      if (!s.ok()) return FromRocks(s, "reading feed '" + std::string(feed) + "'");
      batch.Delete(entries_cf_, key).PermitUncheckedError();
      ++deleted;
    }
    if (deleted == 0) return deleted;
    state->set_indicator_count(state->indicator_count() >= deleted ? state->indicator_count() - deleted : 0);
    batch.Put(feeds_cf_, state->name(), state->SerializeAsString()).PermitUncheckedError();
    Status s = FromRocks(db_->Write(SyncWrite(), &batch), "purging feed '" + std::string(feed) + "'");
    if (!s.ok()) return s;
    return deleted;
  }

  Status ForEachEntryWithValue(
      const std::function<void(const Indicator&, FeedId, std::string_view)>& fn) override {
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;  // a full scan would only evict what hits need
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, entries_cf_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view key = ToView(it->key());
      std::optional<Indicator> indicator;
      if (key.size() > 4) indicator = Indicator::Decode(key.substr(4));
      if (!indicator) return Status::Corruption("undecodable indicator key in the store");
      fn(*indicator, DecodeFeedId(key), ToView(it->value()));
    }
    return FromRocks(it->status(), "scanning indicators");
  }

  // Scans the ranges of the feeds a consistent snapshot lists, each from its first key:
  // entries of replaced generations and of an interrupted ingestion are never visited.
  Status ForEachStoredFeedEntry(const std::function<void(const Indicator&, FeedId, std::string_view)>& fn,
                                std::span<const FeedId> skip) override {
    const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
    struct Release {
      rocksdb::DB* db;
      const rocksdb::Snapshot* snapshot;
      ~Release() { db->ReleaseSnapshot(snapshot); }
    } release{db_.get(), snapshot};
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot;
    std::set<FeedId> live;
    {
      std::unique_ptr<rocksdb::Iterator> feeds(db_->NewIterator(ro, feeds_cf_));
      for (feeds->SeekToFirst(); feeds->Valid(); feeds->Next()) {
        iocd::store::FeedState state;
        if (!state.ParseFromArray(feeds->value().data(), static_cast<int>(feeds->value().size()))) {
          return Status::Corruption("state of feed '" + feeds->key().ToString() + "' does not decode");
        }
        if (std::find(skip.begin(), skip.end(), state.id()) == skip.end()) live.insert(state.id());
      }
      if (!feeds->status().ok()) return FromRocks(feeds->status(), "listing feeds");
    }
    ro.fill_cache = false;  // a full scan would only evict what hits need
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, entries_cf_));
    for (FeedId id : live) {
      const std::string prefix = FeedPrefix(id);
      for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        std::string_view key = ToView(it->key());
        std::optional<Indicator> indicator;
        if (key.size() > 4) indicator = Indicator::Decode(key.substr(4));
        if (!indicator) return Status::Corruption("undecodable indicator key in the store");
        fn(*indicator, id, ToView(it->value()));
      }
      if (!it->status().ok()) break;
    }
    return FromRocks(it->status(), "scanning indicators");
  }

  Result<iocd::store::FeedEntry> GetEntry(FeedId feed, const Indicator& indicator) override {
    // Pinned: the value is parsed where RocksDB holds it (a cached block) instead of being
    // copied first.
    rocksdb::PinnableSlice raw;
    rocksdb::Status s = db_->Get(read_options_, entries_cf_, EntryKey(feed, indicator), &raw);
    if (s.IsNotFound()) return Status::NotFound("feed does not list the indicator");
    if (!s.ok()) return FromRocks(s, "reading indicator context");
    iocd::store::FeedEntry entry;
    if (!entry.ParseFromArray(raw.data(), static_cast<int>(raw.size()))) {
      return Status::Corruption("indicator context does not decode");
    }
    return entry;
  }

 private:
  // One difference found by MergeRange: entries[entry] to write, or (kDeleteOp) the stored
  // key to delete.
  static constexpr uint32_t kDeleteOp = std::numeric_limits<uint32_t>::max();
  struct MergeOp {
    uint32_t entry;
    std::string stored_key;
  };
  struct MergeResult {
    rocksdb::Status status;
    ReplaceStats stats;
    std::vector<MergeOp> ops;  // in key order
  };

  // Compares `wanted` (sorted) with the stored keys in [lo, hi), which `wanted` covers the
  // same part of: what to add, rewrite and delete (the ops only when record_ops; the
  // statistics always), as of `as_of` when set. Read-only.
  MergeResult MergeRange(const std::vector<FeedContribution>& entries, std::span<const SortItem> wanted,
                         const std::string& lo, const std::string& hi, size_t prefix_size,
                         const rocksdb::Snapshot* as_of = nullptr, bool record_ops = true) {
    MergeResult out;
    auto op = [&](uint32_t entry, const rocksdb::Slice& stored_key) {
      if (record_ops) out.ops.push_back({entry, entry == kDeleteOp ? stored_key.ToString() : std::string()});
    };
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    ro.snapshot = as_of;
    const rocksdb::Slice upper(hi);
    ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, entries_cf_));
    size_t w = 0;
    for (it->Seek(lo); it->Valid(); it->Next()) {
      std::string_view stored_key = ToView(it->key()).substr(prefix_size);
      int c = 1;
      for (; w < wanted.size(); ++w) {
        PrefetchAhead(entries, wanted, w);
        c = CompareEncoded(entries[wanted[w].index].indicator, stored_key);
        if (c >= 0) break;
        op(wanted[w].index, {});
        ++out.stats.added;
      }
      if (w < wanted.size() && c == 0) {
        if (entries[wanted[w].index].encoded == ToView(it->value())) {
          ++out.stats.unchanged;
        } else {
          op(wanted[w].index, {});
          ++out.stats.changed;
        }
        ++w;
      } else {
        op(kDeleteOp, it->key());
        ++out.stats.removed;
      }
    }
    out.status = it->status();
    for (; w < wanted.size(); ++w) {
      op(wanted[w].index, {});
      ++out.stats.added;
    }
    return out;
  }

  // The fraction of an even sample of `wanted` that feed `id` already stores.
  Result<double> SampledPresence(FeedId id, const std::vector<FeedContribution>& entries,
                                 const std::vector<SortItem>& wanted) {
    constexpr size_t kSamples = 256;
    if (wanted.empty()) return 0.0;
    const size_t step = std::max<size_t>(1, wanted.size() / kSamples);
    size_t sampled = 0, present = 0;
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    rocksdb::PinnableSlice ignored;
    for (size_t w = 0; w < wanted.size(); w += step) {
      ++sampled;
      ignored.Reset();
      rocksdb::Status s = db_->Get(ro, entries_cf_, EntryKey(id, entries[wanted[w].index].indicator), &ignored);
      if (s.ok()) {
        ++present;
      } else if (!s.IsNotFound()) {
        return FromRocks(s, "reading feed entries");
      }
    }
    return static_cast<double>(present) / static_cast<double>(sampled);
  }

  // Exact ReplaceFeed statistics for replacing feed `id`'s stored entries by `wanted`,
  // without writing anything. Values are compared only for indicators present in both.
  Result<ReplaceStats> CountChanges(FeedId id, const std::vector<FeedContribution>& entries,
                                    const std::vector<SortItem>& wanted, const rocksdb::Snapshot* as_of = nullptr) {
    const std::string prefix = FeedPrefix(id);
    MergeResult merged = MergeRange(entries, wanted, prefix, FeedPrefix(id + 1), prefix.size(), as_of,
                                    /*record_ops=*/false);
    if (!merged.status.ok()) return FromRocks(merged.status, "reading feed entries");
    return merged.stats;
  }

  // Writes `wanted` as a new generation of the feed: a fresh feed id, its entries in one
  // sorted SST file ingested into feed_entries (no memtable, no WAL), then one synced batch
  // that commits it: the FeedState with the new id, and a DeleteRange of the previous
  // generation. Until that batch the new entries are invisible (no FeedState names their
  // id); an interruption leaves them behind under the id recorded in kIngestPendingKey,
  // which the next ReplaceFeed or Open deletes.
  Result<ReplaceStats> ReplaceByIngestion(iocd::store::FeedState state, std::optional<FeedId> previous,
                                          const std::vector<FeedContribution>& entries,
                                          const std::vector<SortItem>& wanted,
                                          std::optional<ReplaceStats> known_stats, iocd::store::FeedState* stored,
                                          const rocksdb::Snapshot** count_later) {
    const FeedId id = meta_.next_feed_id();
    iocd::store::StoreMeta next = meta_;
    next.set_next_feed_id(id + 1);
    {
      // The id is spent before anything is written under it, so it is never reused.
      rocksdb::WriteBatch reserve;
      reserve.Put(default_cf_, kMetaKey, next.SerializeAsString()).PermitUncheckedError();
      reserve.Put(default_cf_, kIngestPendingKey, FeedPrefix(id)).PermitUncheckedError();
      Status s = FromRocks(db_->Write(SyncWrite(), &reserve), "reserving a feed id");
      if (!s.ok()) return s;
      meta_ = next;
    }
    // The statistics, when not known yet, are counted against the previous generation
    // while the new one is written, or, deferred, later against a snapshot taken now
    // (until then: every entry added).
    Result<ReplaceStats> stats = known_stats ? Result<ReplaceStats>(*known_stats) : Result<ReplaceStats>(ReplaceStats());
    const bool defer = !known_stats && count_later != nullptr;
    if (defer) {
      ReplaceStats provisional;
      provisional.added = wanted.size();
      stats = provisional;
    }
    const rocksdb::Snapshot* before = defer ? db_->GetSnapshot() : nullptr;
    Status written;
    {
      std::jthread counter;
      if (!known_stats && !defer) counter = std::jthread([&] { stats = CountChanges(*previous, entries, wanted); });
      written = IngestGeneration(id, entries, wanted, state.name());
    }
    if (defer) {
      if (written.ok()) {
        *count_later = before;  // released by the caller
      } else {
        db_->ReleaseSnapshot(before);
      }
    }
    if (written.ok() && !stats.ok()) written = stats.status();
    if (written.ok() && options_.fail_before_commit_for_test) {
      written = Status::IoError("injected failure before commit");
    }
    if (written.ok()) {
      rocksdb::WriteBatch commit;
      state.set_id(id);
      state.set_indicator_count(wanted.size());
      state.set_updated_unix_ms(NowUnixMs());
      commit.Put(feeds_cf_, state.name(), state.SerializeAsString()).PermitUncheckedError();
      commit.Delete(default_cf_, kIngestPendingKey).PermitUncheckedError();
      if (previous) {
        commit.DeleteRange(entries_cf_, FeedPrefix(*previous), FeedPrefix(*previous + 1)).PermitUncheckedError();
      }
      written = FromRocks(db_->Write(SyncWrite(), &commit), "writing feed '" + state.name() + "'");
    }
    if (!written.ok()) {
      DropInterruptedIngestion().IgnoreError();  // else the next Open does it
      return written;
    }
    {
      std::unique_lock lock(names_mu_);
      if (previous) feed_names_.erase(*previous);
      feed_names_[id] = state.name();
    }
    if (stored != nullptr) *stored = std::move(state);
    return *stats;
  }

  Status IngestGeneration(FeedId id, const std::vector<FeedContribution>& entries,
                          const std::vector<SortItem>& wanted, const std::string& feed) {
    const std::string dir = options_.path + "/" + kIngestDir;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::IoError("cannot create " + dir + ": " + ec.message());
    // Large generations are written as two files of consecutive key ranges on two
    // threads; one IngestExternalFile call adds them atomically.
    const size_t parts = wanted.size() >= kParallelMinEntries ? 2 : 1;
    std::vector<std::string> files;
    for (size_t part = 0; part < parts; ++part) {
      files.push_back(dir + "/" + std::to_string(id) + "-" + std::to_string(part) + ".sst");
    }
    std::vector<Status> written(parts);
    auto write = [&](size_t part) {
      const size_t begin = wanted.size() * part / parts, end = wanted.size() * (part + 1) / parts;
      written[part] = WriteSst(files[part], id, entries, std::span(wanted).subspan(begin, end - begin));
    };
    {
      std::vector<std::jthread> writers;
      for (size_t part = 1; part < parts; ++part) writers.emplace_back(write, part);
      write(0);
    }
    Status s;
    for (const Status& w : written) {
      if (s.ok() && !w.ok()) s = w;
    }
    if (s.ok()) {
      rocksdb::IngestExternalFileOptions ingest;
      ingest.move_files = true;
      s = FromRocks(db_->IngestExternalFile(entries_cf_, files, ingest), "ingesting feed '" + feed + "'");
    }
    for (const std::string& file : files) std::filesystem::remove(file, ec);  // moved (hard-linked), or failed
    return s;
  }

  // One sorted SST file holding `items` under feed id `id`.
  Status WriteSst(const std::string& file, FeedId id, const std::vector<FeedContribution>& entries,
                  std::span<const SortItem> items) {
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), rocks_options_, entries_cf_);
    Status s = FromRocks(writer.Open(file), "creating " + file);
    if (!s.ok()) return s;
    const std::string prefix = FeedPrefix(id);
    std::string key = prefix;
    for (size_t i = 0; i < items.size(); ++i) {
      PrefetchAhead(entries, items, i);
      const FeedContribution& c = entries[items[i].index];
      key.resize(prefix.size());
      key.push_back(static_cast<char>(c.indicator.type));
      key.append(c.indicator.key);
      s = FromRocks(writer.Put(key, c.encoded), "writing " + file);
      if (!s.ok()) return s;
    }
    return FromRocks(writer.Finish(), "writing " + file);
  }

  // Deletes the entries of an ingestion that was not committed (kIngestPendingKey names
  // its feed id) unless a FeedState took them over.
  Status DropInterruptedIngestion() {
    std::error_code ec;
    std::filesystem::remove_all(options_.path + "/" + kIngestDir, ec);
    std::string raw;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), default_cf_, kIngestPendingKey, &raw);
    if (s.IsNotFound()) return Status::Ok();
    if (!s.ok()) return FromRocks(s, "reading store metadata");
    if (raw.size() != 4) return Status::Corruption("pending ingestion record is damaged");
    const FeedId id = DecodeFeedId(raw);
    rocksdb::WriteBatch batch;
    {
      std::shared_lock lock(names_mu_);
      if (feed_names_.count(id) == 0) {
        batch.DeleteRange(entries_cf_, FeedPrefix(id), FeedPrefix(id + 1)).PermitUncheckedError();
      }
    }
    batch.Delete(default_cf_, kIngestPendingKey).PermitUncheckedError();
    return FromRocks(db_->Write(SyncWrite(), &batch), "dropping an interrupted import");
  }

  static rocksdb::WriteOptions SyncWrite() {
    rocksdb::WriteOptions wo;
    wo.sync = true;  // a finished feed import survives a power cut
    return wo;
  }

  const StoreOptions options_;
  const rocksdb::ReadOptions read_options_;  // GetEntry's: built once, not per hit
  const rocksdb::Options rocks_options_;  // for SstFileWriter: must match entries_cf_'s
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* default_cf_;
  rocksdb::ColumnFamilyHandle* feeds_cf_;
  rocksdb::ColumnFamilyHandle* entries_cf_;

  std::mutex write_mu_;  // serialises writers; guards meta_
  iocd::store::StoreMeta meta_;

  std::shared_mutex names_mu_;
  std::map<FeedId, std::string> feed_names_;
};

}  // namespace

void AppendFeedEntry(std::string_view value, std::span<const iocd::store::ContextField> context,
                     std::span<const std::pair<std::string, std::string>> extra_context, int64_t expires_unix_ms,
                     bool exact_domain, std::string* out) {
  AppendBytesField(1, value, out);
  for (const auto& f : context) AppendContextField(f.key(), f.value(), out);
  for (const auto& [k, v] : extra_context) AppendContextField(k, v, out);
  if (expires_unix_ms != 0) {
    out->push_back(static_cast<char>(4 << 3));
    AppendVarint(static_cast<uint64_t>(expires_unix_ms), out);
  }
  if (exact_domain) {
    out->push_back(static_cast<char>(5 << 3));
    out->push_back(1);
  }
}

Result<std::unique_ptr<IndicatorStore>> IndicatorStore::Open(const StoreOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) {
    return Status::IoError("cannot create store directory " + options.path + ": " + ec.message());
  }
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 3;
  rocksdb::ColumnFamilyOptions cf_options;
  // LZ4: about as compact as the default Snappy on indicator data, and cheaper to write and
  // to scan (imports write and diff millions of entries). Existing files keep whatever
  // compression they were written with; RocksDB reads both.
  cf_options.compression = rocksdb::kLZ4Compression;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, cf_options},
      {kFeedsCf, cf_options},
      {kEntriesCf, cf_options},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &raw);
  if (!s.ok()) {
    std::string hint = s.IsIOError() && s.ToString().find("lock") != std::string::npos
                           ? " (is another iocd running with this state_dir?)"
                           : "";
    return FromRocks(s, "opening store " + options.path + hint);
  }
  auto store = std::make_unique<RocksIndicatorStore>(options, rocksdb::Options(db_options, cf_options),
                                                     std::unique_ptr<rocksdb::DB>(raw), handles);
  Status init = store->Init();
  if (!init.ok()) return init;
  return std::unique_ptr<IndicatorStore>(std::move(store));
}

}  // namespace iocd
