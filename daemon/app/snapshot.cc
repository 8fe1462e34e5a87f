#include "app/snapshot.h"

#include <algorithm>
#include <limits>


namespace iocd {

std::shared_ptr<Counter> SuppressionCounters::Get(Map* map, const std::string& name) {
  std::lock_guard lock(mu_);
  auto& slot = (*map)[name];
  if (!slot) slot = std::make_shared<Counter>(0);
  return slot;
}

std::map<std::string, uint64_t> SuppressionCounters::Read(const Map& map) const {
  std::lock_guard lock(mu_);
  std::map<std::string, uint64_t> out;
  for (const auto& [name, counter] : map) out[name] = counter->load(std::memory_order_relaxed);
  return out;
}

SnapshotHolder::SnapshotHolder() {
  auto empty = std::make_shared<MatchSnapshot>();
  empty->index = IndexBuilder().Build();
  empty->allowlist = AllowlistBuilder().Build();
  current_.store(std::move(empty));
}

Result<BuiltSnapshot> BuildSnapshot(IndicatorStore& store,
                                    const google::protobuf::RepeatedPtrField<iocd::config::Feed>& feeds,
                                    std::shared_ptr<const Allowlist> allowlist, const Allowlist& drop,
                                    SuppressionCounters& counters, int64_t now_unix_ms,
                                    std::span<const ImportedFeed* const> imported) {
  BuiltSnapshot built;
  auto snapshot = std::make_shared<MatchSnapshot>();

  auto states = store.ListFeeds();
  if (!states.ok()) return states.status();
  struct Expiry {
    bool read_entries = false;  // some entry carries its own expiry
    bool stale = false;         // the feed has not been seen within its ttl
    int64_t stale_at = 0;
  };
  std::map<FeedId, Expiry> expiry;
  std::map<FeedId, std::string> names;
  // Feeds taken from memory, and the stored ids (old and new generations) the scan skips.
  std::vector<const ImportedFeed*> in_memory;
  std::vector<FeedId> in_memory_ids;
  for (const ImportedFeed* feed : imported) {
    if (feed == nullptr || feed->entries == nullptr) continue;
    auto listed = std::find_if(states->begin(), states->end(),
                               [&](const iocd::store::FeedState& s) { return s.name() == feed->state.name(); });
    if (!feed->pending && (listed == states->end() || listed->id() != feed->state.id())) continue;  // stale
    if (listed != states->end()) {
      in_memory_ids.push_back(listed->id());
      *listed = feed->state;
    } else {
      states->push_back(feed->state);
    }
    in_memory.push_back(feed);
    in_memory_ids.push_back(feed->state.id());
  }
  for (const auto& state : *states) {
    FeedInfo info;
    info.name = state.name();
    for (const auto& f : feeds) {
      if (f.name() != state.name()) continue;
      if (f.has_confidence()) info.confidence = f.confidence();
      info.tags.assign(f.tags().begin(), f.tags().end());
    }
    info.suppressed = counters.ForFeed(state.name());
    snapshot->feeds.emplace(state.id(), std::move(info));
    names[state.id()] = state.name();
    Expiry e;
    e.read_entries = state.has_entry_expiry();
    if (state.ttl_ms() > 0) {
      e.stale_at = state.last_checked_unix_ms() + state.ttl_ms();
      e.stale = e.stale_at <= now_unix_ms;
    }
    expiry[state.id()] = e;
  }

  int64_t next_expiry = std::numeric_limits<int64_t>::max();
  for (const auto& [id, e] : expiry) {
    if (e.stale_at > now_unix_ms) next_expiry = std::min(next_expiry, e.stale_at);
  }

  IndexBuilder builder;
  Status add_error;
  iocd::store::FeedEntry entry;
  // One entry of a feed, from the store or from memory.
  auto add = [&](const Indicator& indicator, FeedId feed, const Expiry& e, int64_t expires) {
    if (expires == 0 && e.stale) {
      built.expired[names[feed]].push_back(indicator);
      return;
    }
    if (expires != 0) {
      if (expires <= now_unix_ms) {
        built.expired[names[feed]].push_back(indicator);
        return;
      }
      next_expiry = std::min(next_expiry, expires);
    }
    if (!drop.empty() && indicator.type != IndicatorType::kCidr4 && indicator.type != IndicatorType::kCidr6 &&
        drop.Match(indicator)) {
      ++built.dropped_by_allowlist;
      return;
    }
    Status added = builder.Add(indicator, feed);
    if (!added.ok() && add_error.ok()) add_error = added;
  };
  for (const ImportedFeed* feed : in_memory) {
    const FeedId id = feed->state.id();
    const Expiry& e = expiry[id];
    const std::vector<FeedContribution>& entries = *feed->entries;
    const std::vector<int64_t>* own_expiry = feed->expires_unix_ms.get();
    if (own_expiry != nullptr && own_expiry->size() != entries.size()) own_expiry = nullptr;
    for (size_t i = 0; i < entries.size(); ++i) {
      add(entries[i].indicator, id, e, own_expiry != nullptr ? (*own_expiry)[i] : 0);
    }
  }
  Status scan = store.ForEachStoredFeedEntry(
      [&](const Indicator& indicator, FeedId feed, std::string_view value) {
        const Expiry& e = expiry[feed];
        int64_t expires = 0;
        if (e.read_entries && entry.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          expires = entry.expires_unix_ms();
        }
        add(indicator, feed, e, expires);
      },
      in_memory_ids);
  if (!scan.ok()) return scan;
  if (!add_error.ok()) return add_error;

  snapshot->index = std::move(builder).Build();
  snapshot->allowlist = std::move(allowlist);
  for (uint32_t i = 0; i < snapshot->allowlist->lists(); ++i) {
    snapshot->allowlist_suppressed.push_back(counters.ForAllowlist(snapshot->allowlist->name(i)));
  }
  snapshot->next_expiry_unix_ms = next_expiry == std::numeric_limits<int64_t>::max() ? 0 : next_expiry;
  built.snapshot = std::move(snapshot);
  return built;
}

SnapshotPrebuilder::~SnapshotPrebuilder() {
  if (ahead_.valid()) ahead_.wait();
}

void SnapshotPrebuilder::Pending(std::shared_ptr<const ImportedFeed> pending) {
  if (pending == nullptr || pending->entries == nullptr || pending->entries->size() < kMinEntries) return;
  if (ahead_.valid()) ahead_.wait();  // one build ahead at a time; the newer one covers more
  ahead_committed_ = committed_.size();
  ahead_pending_ = pending;
  std::vector<std::shared_ptr<const ImportedFeed>> feeds = committed_;
  feeds.push_back(std::move(pending));
  ahead_ = std::async(std::launch::async, [this, feeds = std::move(feeds)] {
    std::vector<const ImportedFeed*> raw;
    for (const auto& f : feeds) raw.push_back(f.get());
    return build_(raw);
  });
}

void SnapshotPrebuilder::Committed(std::shared_ptr<const ImportedFeed> imported) {
  if (imported != nullptr) committed_.push_back(std::move(imported));
}

Result<BuiltSnapshot> SnapshotPrebuilder::Finish(bool invalidate) {
  used_prebuilt_ = false;
  if (ahead_.valid()) {
    Result<BuiltSnapshot> ahead = ahead_.get();
    // Good only if the pending import committed as planned and nothing came after it.
    const bool covers = !invalidate && ahead.ok() && ahead_committed_ + 1 == committed_.size() &&
                        committed_.back()->state.name() == ahead_pending_->state.name() &&
                        committed_.back()->state.id() == ahead_pending_->state.id();
    ahead_pending_.reset();
    if (covers) {
      used_prebuilt_ = true;
      committed_.clear();
      return ahead;
    }
  }
  std::vector<const ImportedFeed*> raw;
  for (const auto& f : committed_) raw.push_back(f.get());
  Result<BuiltSnapshot> built = build_(raw);
  committed_.clear();
  return built;
}

}  // namespace iocd
