#include "store/indicator_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>

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

// The stored value of a contribution: its pre-encoded bytes, or the serialised entry.
const std::string& Serialized(const FeedContribution& c, std::string* scratch) {
  if (!c.encoded.empty()) return c.encoded;
  scratch->clear();
  c.entry.SerializeToString(scratch);
  return *scratch;
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

  Result<ReplaceStats> ReplaceFeed(iocd::store::FeedState state, std::vector<FeedContribution> entries,
                                   iocd::store::FeedState* stored) override {
    std::lock_guard write_lock(write_mu_);
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
    wanted.reserve(entries.size());
    for (uint32_t i = 0; i < entries.size(); ++i) wanted.push_back({SortPrefix(entries[i].indicator), i});
    std::sort(wanted.begin(), wanted.end(), [&](const SortItem& a, const SortItem& b) {
      if (a.prefix != b.prefix) return a.prefix < b.prefix;
      int c = CompareEncoded(entries[a.index].indicator, entries[b.index].indicator);
      return c != 0 ? c < 0 : a.index < b.index;
    });
    wanted.erase(std::unique(wanted.begin(), wanted.end(),
                             [&](const SortItem& a, const SortItem& b) {
                               return a.prefix == b.prefix && entries[a.index].indicator == entries[b.index].indicator;
                             }),
                 wanted.end());

    // A large feed that is mostly new is written as a new generation (see
    // ReplaceByIngestion); otherwise only the differences go into one write batch.
    if (options_.ingest_min_entries > 0 && wanted.size() >= options_.ingest_min_entries) {
      ReplaceStats diff;
      diff.added = wanted.size();
      if (existing.ok()) {
        auto counted = CountChanges(id, entries, wanted);
        if (!counted.ok()) return counted.status();
        diff = *counted;
      }
      if (diff.changed + diff.unchanged < wanted.size() / 2) {
        return ReplaceByIngestion(std::move(state), existing.ok() ? std::optional<FeedId>(id) : std::nullopt,
                                  entries, wanted, diff, stored);
      }
    }

    // Merge with what is stored: only differences go into the batch.
    rocksdb::WriteBatch batch(wanted.size() * 64);
    if (!existing.ok()) {
      iocd::store::StoreMeta next = meta_;
      next.set_next_feed_id(id + 1);
      batch.Put(default_cf_, kMetaKey, next.SerializeAsString()).PermitUncheckedError();
    }
    ReplaceStats stats;
    const std::string prefix = FeedPrefix(id);
    std::string key = prefix;
    std::string value;
    auto put = [&](const FeedContribution& c) {
      key.resize(prefix.size());
      key.push_back(static_cast<char>(c.indicator.type));
      key.append(c.indicator.key);
      batch.Put(entries_cf_, key, Serialized(c, &value)).PermitUncheckedError();
    };
    rocksdb::ReadOptions ro;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, entries_cf_));
    it->Seek(prefix);
    size_t w = 0;
    while (it->Valid() && it->key().starts_with(prefix)) {
      std::string_view stored_key = ToView(it->key()).substr(prefix.size());
      int c = 1;
      while (w < wanted.size() && (c = CompareEncoded(entries[wanted[w].index].indicator, stored_key)) < 0) {
        put(entries[wanted[w].index]);
        ++stats.added;
        ++w;
      }
      if (w < wanted.size() && c == 0) {
        const std::string& serialized = Serialized(entries[wanted[w].index], &value);
        if (serialized == ToView(it->value())) {
          ++stats.unchanged;
        } else {
          batch.Put(entries_cf_, it->key(), serialized).PermitUncheckedError();
          ++stats.changed;
        }
        ++w;
      } else {
        batch.Delete(entries_cf_, it->key()).PermitUncheckedError();
        ++stats.removed;
      }
      it->Next();
    }
    if (!it->status().ok()) return FromRocks(it->status(), "reading feed '" + state.name() + "'");
    for (; w < wanted.size(); ++w) {
      put(entries[wanted[w].index]);
      ++stats.added;
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
    if (!existing.ok()) meta_.set_next_feed_id(id + 1);
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
  Status ForEachStoredFeedEntry(
      const std::function<void(const Indicator&, FeedId, std::string_view)>& fn) override {
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
        live.insert(state.id());
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
    std::string raw;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), entries_cf_, EntryKey(feed, indicator), &raw);
    if (s.IsNotFound()) return Status::NotFound("feed does not list the indicator");
    if (!s.ok()) return FromRocks(s, "reading indicator context");
    iocd::store::FeedEntry entry;
    if (!entry.ParseFromString(raw)) return Status::Corruption("indicator context does not decode");
    return entry;
  }

 private:
  // Exact ReplaceFeed statistics for replacing feed `id`'s stored entries by `wanted`,
  // without writing anything. Values are compared only for indicators present in both.
  Result<ReplaceStats> CountChanges(FeedId id, const std::vector<FeedContribution>& entries,
                                    const std::vector<SortItem>& wanted) {
    ReplaceStats stats;
    const std::string prefix = FeedPrefix(id);
    std::string value;
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, entries_cf_));
    size_t w = 0;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      std::string_view stored_key = ToView(it->key()).substr(prefix.size());
      int c = 1;
      while (w < wanted.size() && (c = CompareEncoded(entries[wanted[w].index].indicator, stored_key)) < 0) {
        ++stats.added;
        ++w;
      }
      if (w < wanted.size() && c == 0) {
        ++(Serialized(entries[wanted[w].index], &value) == ToView(it->value()) ? stats.unchanged : stats.changed);
        ++w;
      } else {
        ++stats.removed;
      }
    }
    if (!it->status().ok()) return FromRocks(it->status(), "reading feed entries");
    stats.added += wanted.size() - w;
    return stats;
  }

  // Writes `wanted` as a new generation of the feed: a fresh feed id, its entries in one
  // sorted SST file ingested into feed_entries (no memtable, no WAL), then one synced batch
  // that commits it: the FeedState with the new id, and a DeleteRange of the previous
  // generation. Until that batch the new entries are invisible (no FeedState names their
  // id); an interruption leaves them behind under the id recorded in kIngestPendingKey,
  // which the next ReplaceFeed or Open deletes.
  Result<ReplaceStats> ReplaceByIngestion(iocd::store::FeedState state, std::optional<FeedId> previous,
                                          const std::vector<FeedContribution>& entries,
                                          const std::vector<SortItem>& wanted, const ReplaceStats& stats,
                                          iocd::store::FeedState* stored) {
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
    Status written = IngestGeneration(id, entries, wanted, state.name());
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
    return stats;
  }

  Status IngestGeneration(FeedId id, const std::vector<FeedContribution>& entries,
                          const std::vector<SortItem>& wanted, const std::string& feed) {
    const std::string dir = options_.path + "/" + kIngestDir;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::IoError("cannot create " + dir + ": " + ec.message());
    const std::string file = dir + "/" + std::to_string(id) + ".sst";
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), rocks_options_, entries_cf_);
    Status s = FromRocks(writer.Open(file), "creating " + file);
    if (!s.ok()) return s;
    const std::string prefix = FeedPrefix(id);
    std::string key = prefix;
    std::string value;
    for (const SortItem& item : wanted) {
      const FeedContribution& c = entries[item.index];
      key.resize(prefix.size());
      key.push_back(static_cast<char>(c.indicator.type));
      key.append(c.indicator.key);
      s = FromRocks(writer.Put(key, Serialized(c, &value)), "writing " + file);
      if (!s.ok()) break;
    }
    if (s.ok()) s = FromRocks(writer.Finish(), "writing " + file);
    if (s.ok()) {
      rocksdb::IngestExternalFileOptions ingest;
      ingest.move_files = true;
      s = FromRocks(db_->IngestExternalFile(entries_cf_, {file}, ingest), "ingesting feed '" + feed + "'");
    }
    std::filesystem::remove(file, ec);  // moved (hard-linked) into the store, or failed
    return s;
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
