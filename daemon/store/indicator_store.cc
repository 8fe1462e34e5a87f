#include "store/indicator_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <shared_mutex>

namespace iocd {
namespace {

// Column families; see docs/store-format.md.
constexpr char kFeedsCf[] = "feeds";
constexpr char kEntriesCf[] = "feed_entries";
constexpr char kMetaKey[] = "meta";

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

class RocksIndicatorStore final : public IndicatorStore {
 public:
  RocksIndicatorStore(std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> cfs)
      : db_(std::move(db)), default_cf_(cfs[0]), feeds_cf_(cfs[1]), entries_cf_(cfs[2]) {}

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
    return Status::Ok();
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
      value.clear();
      c.entry.SerializeToString(&value);
      batch.Put(entries_cf_, key, value).PermitUncheckedError();
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
        value.clear();
        entries[wanted[w].index].entry.SerializeToString(&value);
        if (value == ToView(it->value())) {
          ++stats.unchanged;
        } else {
          batch.Put(entries_cf_, it->key(), value).PermitUncheckedError();
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
  static rocksdb::WriteOptions SyncWrite() {
    rocksdb::WriteOptions wo;
    wo.sync = true;  // a finished feed import survives a power cut
    return wo;
  }

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
  auto store = std::make_unique<RocksIndicatorStore>(std::unique_ptr<rocksdb::DB>(raw), handles);
  Status init = store->Init();
  if (!init.ok()) return init;
  return std::unique_ptr<IndicatorStore>(std::move(store));
}

}  // namespace iocd
