// IndicatorStore: the persistent home of every feed's indicators and their context.
//
// What it is: a RocksDB database holding, per feed, the indicators it lists and the
// context it gives each one (store.proto FeedEntry), plus per-feed state (FeedState: id,
// source, fingerprint of the last import). One indicator listed by two feeds is stored
// twice, once under each feed, so removing or replacing one feed never touches another's
// contribution. The key layout is in docs/store-format.md.
//
// Ownership: Open() returns the only handle; closing it (destruction) closes the database.
// The in-memory match index is built from ForEachStoredFeedEntry() and lives
// elsewhere.
//
// Thread safety: all methods may be called concurrently. Writers (ReplaceFeed,
// RemoveFeed) are serialised internally; readers see either the state before or after a
// whole write, never a mix: a feed's replacement is one atomic RocksDB write batch.
//
// Errors: Open() fails with Corruption when the store was written by an unknown format
// version or does not decode, and IoError when RocksDB cannot open the directory (the
// message says which and what to do). Reads return NotFound for absent records.
//
// Feed ids: an id stands for one generation of a feed's contribution. A re-import that
// rewrites most of a large feed moves it to a new id (ReplaceFeed), so callers must take
// ids from the FeedState or ForEachEntry of the moment, not remember them across updates.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "indicator/indicator.h"
#include "proto/store.pb.h"

namespace iocd {

using FeedId = uint32_t;

struct StoreOptions {
  // Directory of the RocksDB database. Created (with parents) if missing.
  std::string path;
  // ReplaceFeed writes a feed of at least this many entries, of which fewer than half are
  // already stored unchanged or changed, as a new generation ingested as one SST file
  // instead of a write batch (see ReplaceFeed). 0 turns ingestion off. Default: 100000.
  uint64_t ingest_min_entries = 100000;
  // Tests only: ReplaceFeed fails after ingesting a generation and before committing it.
  bool fail_before_commit_for_test = false;
};

// One indicator of a feed, as written by ReplaceFeed: the indicator and its serialised
// FeedEntry (importers write it with AppendFeedEntry, without building the message).
struct FeedContribution {
  Indicator indicator;
  std::string encoded;

  static FeedContribution Of(Indicator indicator, const iocd::store::FeedEntry& entry) {
    return {std::move(indicator), entry.SerializeAsString()};
  }
};

// Appends to *out exactly the bytes FeedEntry::SerializeToString gives for an entry with
// this value, the `context` fields followed by the `extra_context` (key, value) pairs,
// expires_unix_ms and exact_domain, without building the message.
void AppendFeedEntry(std::string_view value, std::span<const iocd::store::ContextField> context,
                     std::span<const std::pair<std::string, std::string>> extra_context, int64_t expires_unix_ms,
                     bool exact_domain, std::string* out);

// What ReplaceFeed changed. Unchanged entries are not rewritten.
struct ReplaceStats {
  uint64_t added = 0;
  uint64_t removed = 0;
  uint64_t changed = 0;
  uint64_t unchanged = 0;
};

class IndicatorStore {
 public:
  // Layout version this build reads and writes.
  static constexpr uint32_t kFormatVersion = 1;

  static Result<std::unique_ptr<IndicatorStore>> Open(const StoreOptions& options);

  virtual ~IndicatorStore() = default;

  // State of the feed named `name`; NotFound if it was never imported.
  virtual Result<iocd::store::FeedState> GetFeed(std::string_view name) = 0;
  virtual Result<std::vector<iocd::store::FeedState>> ListFeeds() = 0;
  // Name of the feed with this id, "" if none (cached; cheap).
  virtual std::string FeedName(FeedId id) = 0;

  // Makes `entries` the feed's whole contribution, atomically: entries no longer listed are
  // removed, new and changed ones written, unchanged ones left as they are. A feed not seen
  // before gets a new id. From `state` the name, source, format, fingerprint and
  // rejected_lines are taken; id, indicator_count and updated_unix_ms are set here. If an
  // indicator appears twice in `entries` the first is kept. Returns the stored FeedState
  // through `stored` when not null.
  // Large, mostly new contributions (StoreOptions::ingest_min_entries) are written as a new
  // generation: the feed gets a new id, its entries go into the store as one ingested SST
  // file, and one synced batch switches the FeedState to the new id and deletes the old
  // generation. Either way readers see the old or the new version, never a mix, and a
  // failure leaves the old version in place.
  virtual Result<ReplaceStats> ReplaceFeed(iocd::store::FeedState state,
                                           const std::vector<FeedContribution>& entries,
                                           iocd::store::FeedState* stored = nullptr) = 0;
  // ReplaceFeed in two steps, for callers that want to work with the outcome's feed id
  // while the entries are written (the daemon builds the next match index meanwhile):
  // PrepareReplace sorts and plans the replacement and fixes the id its entries will be
  // stored under (PreparedReplace::id()); nothing is written and readers still see the old
  // version. Commit() then writes it exactly as ReplaceFeed would. The prepared
  // replacement holds the store's write lock until it is committed or destroyed (which
  // abandons it, writing nothing), and reads `entries` until then: keep them alive.
  // Commit's statistics are exact, except after DeferExactStats(): a new generation then
  // commits without waiting for its count of what changed (Commit says every entry was
  // added), and ExactStats() counts it afterwards, off the critical path, against a
  // snapshot of the replaced version (held until then).
  class PreparedReplace {
   public:
    virtual ~PreparedReplace() = default;
    virtual FeedId id() const = 0;
    virtual void DeferExactStats() = 0;
    virtual Result<ReplaceStats> Commit(iocd::store::FeedState* stored = nullptr) = 0;
    // After a successful Commit: the exact statistics.
    virtual Result<ReplaceStats> ExactStats() = 0;
  };
  virtual Result<std::unique_ptr<PreparedReplace>> PrepareReplace(
      iocd::store::FeedState state, const std::vector<FeedContribution>& entries) = 0;
  // Removes the feed and its whole contribution; OK if it does not exist.
  virtual Status RemoveFeed(std::string_view name) = 0;
  // Rewrites the feed's state only (e.g. last_checked_unix_ms after an unchanged check).
  // NotFound if the feed is not in the store; the id must match the stored one.
  virtual Status PutFeedState(const iocd::store::FeedState& state) = 0;
  // Deletes the listed entries of the feed (expired ones) and lowers its indicator_count,
  // in one atomic write. Entries not stored are ignored. Returns how many were deleted.
  virtual Result<uint64_t> PurgeEntries(std::string_view feed, const std::vector<Indicator>& indicators) = 0;

  // Calls fn for every (indicator, feed) pair in the store, feed by feed, including entries
  // under ids no FeedState names (which only a bug or a manual repair leaves: iocctl
  // store-info reports them). Reads a consistent snapshot.
  virtual Status ForEachEntry(const std::function<void(const Indicator&, FeedId)>& fn) = 0;
  // The same, also passing the serialized FeedEntry (valid during the call only), for
  // callers that need expiry or context while scanning.
  virtual Status ForEachEntryWithValue(
      const std::function<void(const Indicator&, FeedId, std::string_view entry)>& fn) = 0;
  // Like ForEachEntryWithValue, but only for feeds that have a FeedState (ascending ids),
  // seeking to each feed's range: the fast scan that builds the match index. Never visits
  // a replaced generation or an ingestion not yet committed. Feeds whose id is in `skip`
  // are left out (the caller has their entries in memory).
  virtual Status ForEachStoredFeedEntry(
      const std::function<void(const Indicator&, FeedId, std::string_view entry)>& fn,
      std::span<const FeedId> skip = {}) = 0;
  // What feed `feed` says about `indicator`; NotFound if the feed does not list it.
  virtual Result<iocd::store::FeedEntry> GetEntry(FeedId feed, const Indicator& indicator) = 0;
};

}  // namespace iocd
