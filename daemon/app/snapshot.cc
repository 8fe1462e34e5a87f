#include "app/snapshot.h"

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
                                    SuppressionCounters& counters, int64_t now_unix_ms) {
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
  Status scan = store.ForEachStoredFeedEntry([&](const Indicator& indicator, FeedId feed, std::string_view value) {
    const Expiry& e = expiry[feed];
    int64_t expires = 0;
    if (e.read_entries && entry.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      expires = entry.expires_unix_ms();
    }
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
  });
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

}  // namespace iocd
