// FeedSync: brings the indicator store in line with the configured feeds.
//
// For one feed (SyncOne) it reads the source (file, MISP directory, or URL with conditional
// GET), fingerprints it (SHA-256 over the options that shape the parsed content and the
// documents) and, when the fingerprint differs from the stored one, parses it and replaces
// the feed's contribution in the store (IndicatorStore::ReplaceFeed: one atomic batch
// holding only what changed, or, for a large update that is mostly new, an ingested new
// generation switched in atomically). Entries are serialised straight from the parsed
// records (AppendFeedEntry). An unchanged source is not parsed again; its check time is
// recorded (it drives ttl-based expiry).
//
// At import: the feed's static `context` is added to each entry; each entry's expiry is
// set from the record's valid_until and last_seen + ttl; records already expired are not
// written. A source that cannot be read, whose every record is malformed, or that would
// shrink the feed by more than `max_shrink` keeps the previous stored version and the
// report says why. Malformed records are skipped (the rest loads) and reported with their
// line; records the format has but iocd cannot match are counted as unsupported.
//
// The report of an import carries the written indicators (ImportedFeed) so the caller can
// build the next index from memory (BuildSnapshot) rather than from a store scan.
//
// Ownership: borrows the store. Thread safety: one FeedSync at a time per store (the
// daemon runs it on its reload thread); the store may be read meanwhile.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "app/snapshot.h"
#include "feeds/feed_parser.h"
#include "proto/config.pb.h"
#include "store/indicator_store.h"

namespace iocd {

struct FeedSyncReport {
  enum class Outcome { kImported, kUnchanged, kFailed, kRemoved };
  std::string feed;
  Outcome outcome = Outcome::kUnchanged;
  ReplaceStats changes;      // kImported: what the import changed in the store
  uint64_t indicators = 0;   // indicators the feed now contributes
  uint64_t rejected_lines = 0;
  uint64_t expired = 0;      // records skipped at import because already expired
  std::map<std::string, uint64_t> unsupported;
  std::map<std::string, uint64_t> skipped;
  std::vector<FeedError> errors;  // kImported/kFailed: malformed records (all of them)
  std::string error;              // kFailed: why the previous version was kept
  // The feed version now in use: the first 16 hex digits of its stored fingerprint (for
  // kFailed the kept previous version; empty if there is none).
  std::string version;
  // Wall time of the phases: reading and fingerprinting the source, parsing it into
  // entries, writing the store (0 for phases not reached).
  std::chrono::milliseconds read_time{0}, parse_time{0}, store_time{0};
  // kImported: what was written, for BuildSnapshot to index without reading it back.
  std::shared_ptr<const ImportedFeed> imported;

  // With SyncOne's defer_stats, an import written as a new generation reports every entry
  // as added until this counts what really changed (against the replaced version); a
  // no-op otherwise. Call it once the new index is published.
  void CompleteStats();
  std::function<Result<ReplaceStats>()> exact_stats_;  // set while CompleteStats has work
};

class FeedSync {
 public:
  // Current time in ms since the epoch; injectable for tests of expiry.
  using Clock = std::function<int64_t()>;
  static int64_t SystemNowMs();

  explicit FeedSync(IndicatorStore* store, Clock now = SystemNowMs) : store_(store), now_(std::move(now)) {}

  // Called, when set, once an import's entries and the feed id they will be stored under
  // are known and before they are written (ImportedFeed::pending), so the caller can build
  // the next index while the store is written. The import may still fail afterwards (the
  // report says so); an index built from a pending feed is only good if it did not.
  using BeforeCommit = std::function<void(std::shared_ptr<const ImportedFeed> pending)>;

  // defer_stats: see FeedSyncReport::CompleteStats.
  FeedSyncReport SyncOne(const iocd::config::Feed& feed, const BeforeCommit& before_commit = {},
                         bool defer_stats = false);
  // Removes every stored feed whose name is not in `keep`.
  std::vector<FeedSyncReport> RemoveOthers(const std::set<std::string>& keep);
  // SyncOne for every enabled feed, then RemoveOthers for the rest.
  std::vector<FeedSyncReport> Sync(const google::protobuf::RepeatedPtrField<iocd::config::Feed>& feeds);

  // Logs a report: one line per feed, plus the first malformed records as
  // "source:line: message".
  static void Log(const iocd::config::Feed* feed, const FeedSyncReport& report);

 private:
  IndicatorStore* store_;
  Clock now_;
};

const char* OutcomeName(FeedSyncReport::Outcome outcome);
// Path or URL (without credentials) of a feed, for messages.
std::string FeedSourceName(const iocd::config::Feed& feed);

}  // namespace iocd
