// MatchSnapshot: everything an event is matched against, as one immutable value.
//
// A snapshot holds the threat index, the allowlist, and per-feed facts hits need
// (name, confidence, tags). SnapshotHolder publishes it: readers take the current
// snapshot with one atomic load and use it for a whole event, so a reload that swaps in a
// new one never pauses matching and an event sees one version only. The previous snapshot
// is freed when its last reader is done.
//
// BuildSnapshot scans the store once (off the hot path) and leaves out entries that have
// expired (returned for purging) and entries a drop_indicators allowlist matches.
//
// Suppression counters live in SuppressionCounters, which outlives snapshots, so counts
// survive reloads; a snapshot points at the counters of its feeds and allowlists.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "match/allowlist.h"
#include "match/indicator_index.h"
#include "proto/config.pb.h"
#include "store/indicator_store.h"

namespace iocd {

using Counter = std::atomic<uint64_t>;

// Named counters that persist across snapshots. Thread-safe.
class SuppressionCounters {
 public:
  std::shared_ptr<Counter> ForFeed(const std::string& name) { return Get(&feeds_, name); }
  std::shared_ptr<Counter> ForAllowlist(const std::string& name) { return Get(&allowlists_, name); }
  std::map<std::string, uint64_t> FeedCounts() const { return Read(feeds_); }
  std::map<std::string, uint64_t> AllowlistCounts() const { return Read(allowlists_); }

 private:
  using Map = std::map<std::string, std::shared_ptr<Counter>>;
  std::shared_ptr<Counter> Get(Map* map, const std::string& name);
  std::map<std::string, uint64_t> Read(const Map& map) const;

  mutable std::mutex mu_;
  Map feeds_;
  Map allowlists_;
};

struct FeedInfo {
  std::string name;
  std::optional<uint32_t> confidence;
  std::vector<std::string> tags;
  std::shared_ptr<Counter> suppressed;  // hits this feed would have produced, allowlisted
};

struct MatchSnapshot {
  std::shared_ptr<const IndicatorIndex> index;
  std::shared_ptr<const Allowlist> allowlist;
  std::vector<std::shared_ptr<Counter>> allowlist_suppressed;  // by allowlist id
  std::map<FeedId, FeedInfo> feeds;
  // Earliest expiry among the indexed entries (ms since the epoch), 0 if none: the daemon
  // rebuilds the snapshot then.
  int64_t next_expiry_unix_ms = 0;

  const FeedInfo* feed(FeedId id) const {
    auto it = feeds.find(id);
    return it == feeds.end() ? nullptr : &it->second;
  }
};

class SnapshotHolder {
 public:
  SnapshotHolder();
  std::shared_ptr<const MatchSnapshot> Current() const { return current_.load(std::memory_order_acquire); }
  void Publish(std::shared_ptr<const MatchSnapshot> snapshot) {
    current_.store(std::move(snapshot), std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<const MatchSnapshot>> current_;
};

struct BuiltSnapshot {
  std::shared_ptr<const MatchSnapshot> snapshot;
  // Expired entries still in the store, by feed name, for IndicatorStore::PurgeEntries.
  std::map<std::string, std::vector<Indicator>> expired;
  uint64_t dropped_by_allowlist = 0;
};

// `allowlist` suppresses hits; `drop` (may be empty) removes matching threat indicators
// from the index. `feeds` gives confidence and tags by feed name.
Result<BuiltSnapshot> BuildSnapshot(IndicatorStore& store,
                                    const google::protobuf::RepeatedPtrField<iocd::config::Feed>& feeds,
                                    std::shared_ptr<const Allowlist> allowlist, const Allowlist& drop,
                                    SuppressionCounters& counters, int64_t now_unix_ms);

}  // namespace iocd
