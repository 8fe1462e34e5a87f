// FeedSync: brings the indicator store in line with the configured feeds.
//
// For each enabled feed it reads the file, fingerprints it (SHA-256 over the feed's parsing
// options and content) and, when the fingerprint differs from the stored one, parses it and
// replaces the feed's contribution in the store (IndicatorStore::ReplaceFeed: one atomic
// batch holding only what changed). An unchanged feed is not parsed again. Stored feeds
// that are no longer configured, or are disabled, are removed.
//
// A feed that cannot be read, or whose every non-comment line is malformed, keeps its
// previous stored version; the report says why. Malformed lines are skipped (the rest
// loads) and reported with file:line, the first few per feed logged individually.
//
// Ownership: borrows the store. Thread safety: Sync() must not run concurrently with
// itself (the daemon runs it on one reload thread); the store may be read meanwhile.
#pragma once

#include <string>
#include <vector>

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
  std::vector<FeedError> errors;  // kImported/kFailed: malformed lines (all of them)
  std::string error;              // kFailed: why the previous version was kept
};

class FeedSync {
 public:
  explicit FeedSync(IndicatorStore* store) : store_(store) {}

  std::vector<FeedSyncReport> Sync(const google::protobuf::RepeatedPtrField<iocd::config::Feed>& feeds);

  // Logs a report the way the daemon does: one line per feed, plus the first malformed
  // lines as "path:line: message".
  static void Log(const iocd::config::Feed* feed, const FeedSyncReport& report);

 private:
  FeedSyncReport SyncOne(const iocd::config::Feed& feed);

  IndicatorStore* store_;
};

const char* OutcomeName(FeedSyncReport::Outcome outcome);

}  // namespace iocd
