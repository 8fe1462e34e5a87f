// MatchSnapshot: everything an event is matched against, as one immutable value.
//
// A snapshot holds the threat index, the allowlist, and per-feed facts hits need
// (name, confidence, tags). SnapshotHolder publishes it: readers take the current
// snapshot with one atomic load and use it for a whole event, so a reload that swaps in a
// new one never pauses matching and an event sees one version only. The previous snapshot
// is freed when its last reader is done.
//
// BuildSnapshot scans the store once (off the hot path) and leaves out entries that have
// expired (returned for purging) and entries a drop_indicators allowlist matches. A feed
// just imported can be handed over in memory (ImportedFeed, from FeedSync): its entries are
// then taken from there instead of being read back from the store, which is most of a
// large reload's index build.
//
// Suppression counters live in SuppressionCounters, which outlives snapshots, so counts
// survive reloads; a snapshot points at the counters of its feeds and allowlists.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
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

// What an import wrote (or, pending, is about to write) for one feed, kept in memory for
// the next BuildSnapshot. Immutable once made; the vectors are shared with the importer.
struct ImportedFeed {
  // The feed's state as stored, or for a pending import as it will be stored (its id is
  // the generation the entries go under).
  iocd::store::FeedState state;
  bool pending = false;
  std::shared_ptr<const std::vector<FeedContribution>> entries;  // only the indicators are used here
  // Parallel to `entries` (ms since the epoch, 0: no expiry of its own); empty when no
  // entry has one.
  std::shared_ptr<const std::vector<int64_t>> expires_unix_ms;
};

// `allowlist` suppresses hits; `drop` (may be empty) removes matching threat indicators
// from the index. `feeds` gives confidence and tags by feed name. An `imported` feed whose
// name and id are still the stored ones is indexed from memory and not scanned; one that
// has changed since (or is gone) is ignored. A pending one stands for its feed whatever the
// store holds now (the old version, or already the new one): the snapshot is then built as
// it will be once the import commits.
Result<BuiltSnapshot> BuildSnapshot(IndicatorStore& store,
                                    const google::protobuf::RepeatedPtrField<iocd::config::Feed>& feeds,
                                    std::shared_ptr<const Allowlist> allowlist, const Allowlist& drop,
                                    SuppressionCounters& counters, int64_t now_unix_ms,
                                    std::span<const ImportedFeed* const> imported = {});

// Builds the next snapshot while a large import is still being written to the store, so
// that a reload's new index is ready about when the store is, instead of after it. One
// reload round: Pending() (FeedSync's BeforeCommit hook) for each import about to be
// written, Committed() with each import's outcome, then Finish(), which returns the
// snapshot built ahead if it covers exactly the imports that committed, and otherwise
// builds one now. `build` receives every import to index from memory and must be safe to
// run on another thread while the store is written (BuildSnapshot is).
//
// Thread safety: one round on one thread; the build ahead runs on its own thread.
class SnapshotPrebuilder {
 public:
  using Build = std::function<Result<BuiltSnapshot>(std::span<const ImportedFeed* const> imported)>;
  // Imports smaller than this are not worth a build ahead (their index share is small).
  static constexpr size_t kMinEntries = 100000;

  explicit SnapshotPrebuilder(Build build) : build_(std::move(build)) {}
  ~SnapshotPrebuilder();

  void Pending(std::shared_ptr<const ImportedFeed> pending);
  // `imported`: the report's ImportedFeed, null when the import failed or did not happen.
  void Committed(std::shared_ptr<const ImportedFeed> imported);
  // `invalidate`: something else changed in this round (a feed removed, allowlists).
  Result<BuiltSnapshot> Finish(bool invalidate);
  // Whether the last Finish() used the snapshot built ahead (for tests and logs).
  bool used_prebuilt() const { return used_prebuilt_; }

 private:
  Build build_;
  std::vector<std::shared_ptr<const ImportedFeed>> committed_;
  std::future<Result<BuiltSnapshot>> ahead_;
  // What the build ahead covers: the committed imports then, plus the pending one.
  size_t ahead_committed_ = 0;
  std::shared_ptr<const ImportedFeed> ahead_pending_;
  bool used_prebuilt_ = false;
};

}  // namespace iocd
