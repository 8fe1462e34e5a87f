// iocscan: offline matching. Loads threat feeds (from an iocd config or named on the
// command line) into an in-memory index and scans log files line by line, producing the
// same hits the daemon would for the same lines, as the daemon's JSON (docs/hits.md).
// Analysts use it to hunt archived logs for a new report's indicators; we use it to
// measure the matching engine (docs/PERFORMANCE.md, "Matching"). docs/iocscan.md is the
// user's guide.
//
// Pieces, all reused from the daemon: feeds are read and parsed with ReadFeedSource /
// ParseFeedDocuments (app/feed_source.h), indicators indexed with IndexBuilder, lines
// split into observables with ExtractObservables, matched with IndicatorIndex::Lookup,
// allowlists applied with the daemon's Allowlist, enrichments completed with
// DeriveEnrichmentFields as the daemon's EventProcessor does, and hits rendered with
// FormatHitJson. A line is not read as a syslog message: the hit's syslog header fields
// stay empty. Before any of that, a LinePrefilter (prefilter.h) built from the indexed
// indicators skips the lines that cannot produce a hit (ScanOptions::prefilter); the
// hits are the same with and without it.
// What differs from the daemon:
//   - no store: each (indicator, feed) entry's listed value, context and exact-domain flag
//     are kept in memory (ScanIndex), sorted, and looked up only for matches;
//   - an event is one line of a file; a hit's input is "iocscan" and its sender
//     (log.source.address) is "PATH:LINE" (1-based; "-" for stdin);
//   - expiry is ignored: a record whose valid_until has passed still matches, because
//     archived logs are hunted for what was malicious then.
//
// Ownership: ScanIndex owns everything it loaded; a Scanner borrows the ScanIndex, which
// must outlive it.
// Thread safety: ScanIndex is immutable after Load and may be shared by any number of
// threads. A Scanner is used from one thread at a time; with threads > 1 it runs its own
// worker threads inside Scan(), and its output is identical to a 1-thread run's.
// Errors: Load returns InvalidArgument or IoError naming the feed (a file that cannot be
// read, a whole-feed parse failure, a feed in which no record holds a valid indicator);
// malformed records are counted in the FeedLoadReport and the feed still loads. Scan
// returns IoError when the input cannot be read or the output cannot be written.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "feeds/feed_parser.h"
#include "match/allowlist.h"
#include "match/indicator_index.h"
#include "proto/config.pb.h"
#include "proto/hit.pb.h"
#include "prefilter.h"

namespace iocd::scan {

// What loading one feed or allowlist found.
struct FeedLoadReport {
  std::string name;
  bool allowlist = false;
  uint64_t indicators = 0;  // distinct indicators loaded
  uint64_t rejected = 0;    // indicators the index refused (InvalidArgument from Add)
  uint64_t dropped_by_allowlist = 0;
  std::vector<FeedError> errors;  // malformed records, in file order
  uint64_t unsupported = 0;       // records the format can express but iocd cannot match
  uint64_t skipped = 0;           // records skipped by the format's rules
};

class ScanIndex {
 public:
  // Loads every enabled feed and allowlist of `config` (a loaded iocd config: defaults
  // applied). Feeds are numbered in config order. `reports`, if not null, receives one
  // report per feed and allowlist.
  static Result<std::unique_ptr<const ScanIndex>> Load(const iocd::config::Config& config,
                                                       std::vector<FeedLoadReport>* reports);

  struct Entry {
    std::string encoded;  // Indicator::Encoded()
    FeedId feed;
    std::string value;  // as listed, refanged
    std::vector<iocd::store::ContextField> context;
    bool exact_domain;
  };
  struct Feed {
    std::string name;
    std::optional<uint32_t> confidence;
    std::vector<std::string> tags;
  };

  const IndicatorIndex& index() const { return *index_; }
  const Allowlist& allowlist() const { return *allowlist_; }
  const Feed& feed(FeedId id) const { return feeds_[id]; }
  // Built from every indexed indicator (prefilter.h).
  const LinePrefilter& prefilter() const { return *prefilter_; }
  // The entry of (indicator, feed), or nullptr.
  const Entry* Find(FeedId feed, std::string_view encoded) const;

 private:
  ScanIndex() = default;

  std::shared_ptr<const IndicatorIndex> index_;
  std::shared_ptr<const Allowlist> allowlist_;
  std::vector<Feed> feeds_;
  std::vector<Entry> entries_;  // in load order; (encoded, feed) is unique
  // Open addressing over entries_ (linear probing, at most half full): for each distinct
  // encoded indicator, the index of one of its entries, kNoEntry in empty slots. Find
  // costs a probe or two instead of a binary search's ~20 cache misses over 1M entries,
  // and loading sorts nothing.
  static constexpr uint32_t kNoEntry = ~uint32_t{0};
  std::vector<uint32_t> slots_;
  // next_[i]: the next entry with entries_[i]'s indicator (another feed), or kNoEntry.
  std::vector<uint32_t> next_;
  std::unique_ptr<const LinePrefilter> prefilter_;
};

struct ScanOptions {
  // Worker threads. Default: 1 (the calling thread only).
  int threads = 1;
  // Bytes of input per work unit (rounded to whole lines). Default: 4 MiB.
  size_t chunk_bytes = size_t{4} << 20;
  // The time written into hits (detected_unix_us) and hit ids, in microseconds since the
  // epoch; unset = the current time. Setting it makes the output reproducible.
  std::optional<int64_t> now_unix_us;
  // Measure CPU time spent extracting and matching (adds two thread-CPU-clock reads, a
  // few hundred ns, per line).
  bool profile = false;
  // Skip lines the LinePrefilter proves cannot produce a hit (prefilter.h): they are not
  // extracted, so ScanStats::observables counts the observables of the other lines only.
  // The hits are the same either way. Default: on.
  bool prefilter = true;
  // Render and write each hit (JSON, one per line). Off (iocscan --count), hits are found
  // and counted exactly the same way but not rendered, and nothing is written. Default: on.
  bool write_hits = true;
};

struct ScanStats {
  uint64_t lines = 0;
  uint64_t bytes = 0;
  // Observables extracted, from the lines that were extracted (every line without the
  // prefilter; lines - prefiltered with it).
  uint64_t observables = 0;
  uint64_t prefiltered = 0;  // lines the prefilter skipped: no hit possible, not extracted
  uint64_t hits = 0;        // hit records written (one per matching observable)
  uint64_t hit_lines = 0;   // lines with at least one hit
  uint64_t suppressed = 0;  // matching observables an allowlist suppressed
  // With ScanOptions::profile: thread CPU seconds in ExtractObservables and in matching
  // (Lookup, allowlist, building hits), summed over workers.
  double extract_seconds = 0;
  double match_seconds = 0;
};

class Scanner {
 public:
  Scanner(const ScanIndex* index, ScanOptions options);

  // Scans the text read from fd until end of file, writing one JSON hit per line to out,
  // in input order. `name` is the input's name in hits ("PATH:LINE"). A last line without a
  // newline is scanned; a trailing CR is not part of the line.
  Status ScanFd(int fd, std::string_view name, std::ostream& out);
  // The same for text in memory (tests).
  Status ScanText(std::string_view text, std::string_view name, std::ostream& out);

  // Totals over every Scan call so far.
  const ScanStats& stats() const { return stats_; }

 private:
  struct Chunk;
  // Reads up to n bytes into buf: the count, 0 at end of input, -1 (errno set) on error.
  using ReadFn = std::function<ssize_t(char* buf, size_t n)>;
  // Reads `threads` chunks of whole lines, scans them in parallel, emits them in order.
  Status Scan(const ReadFn& read, std::string_view name, std::ostream& out);
  void ProcessChunk(Chunk* chunk) const;
  // Adds to chunk->hits the hit of one observable with index matches, unless the allowlist
  // suppresses it or every match is an exact-only domain's parent. Returns whether it did.
  bool AddHit(std::string_view line, uint64_t line_no, std::string_view text,
              const Indicator& observable, std::span<const IndexMatch> matches,
              Chunk* chunk) const;
  Status Emit(Chunk* chunk, std::string_view name, std::ostream& out);

  const ScanIndex* index_;
  ScanOptions options_;
  uint32_t instance_;
  uint64_t hit_counter_ = 0;
  uint64_t line_base_ = 0;  // lines of the current input before the chunk being emitted
  ScanStats stats_;
};

}  // namespace iocd::scan
