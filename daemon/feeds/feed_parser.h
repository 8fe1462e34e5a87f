// Feed parsers: the bytes of one feed file -> the indicators it lists, plus an error for
// every line that could not be read, each with the 1-based line number a person can fix.
//
// The parsers are pure: no file or socket I/O, no logging, no clock. The caller (the feed
// loader) reads the file, calls a parser, stores the indicators and counts/logs the errors.
//
// Common rules for both formats:
//   - A UTF-8 byte order mark at the very start is skipped; LF and CRLF line endings are
//     accepted; the last line need not end in a newline.
//   - Blank lines (only whitespace) are skipped. A line whose first non-blank character
//     is '#' is a comment and skipped.
//   - Every value goes through Refang() and then ParseIndicator() (or ParseIndicatorAs()
//     when a CSV type column names the type), so "hxxp://evil[.]com" loads as a URL.
//   - A malformed line is reported in FeedParseResult::errors and skipped; the rest of the
//     feed still loads. Parsing never stops early and never crashes on any input.
//   - An indicator listed twice in one feed (same canonical type and key, e.g.
//     "1.2.3.4:443" and "1.2.3.4:80", or "Evil.com" and "evil.com") is returned once: the
//     first line wins, and the later line's context is ignored.
//
// Plain format (FEED_FORMAT_PLAIN): one indicator per line. A trailing comment, i.e.
// whitespace then '#' then text ("evil.com  # dropper C2"), is kept as the context field
// "comment". Section comments on their own line (maltrail's "# Reference: ...") are not
// attached to the entries below them. A plain feed over 4 MiB is parsed by up to one
// thread per core (stretches of whole lines, merged in file order), with exactly the
// result a single pass would give.
//
// CSV format (FEED_FORMAT_CSV): RFC 4180 records (quoted fields, "" for a quote inside
// quotes, delimiters and newlines inside quotes) with the options of
// iocd::config::CsvOptions. Unquoted fields are trimmed of surrounding whitespace. A row
// without the value column (or the type column, when set) is an error; a context column
// missing from a short row is simply absent, as are empty context cells. Context fields
// are returned in column order (ties by field name), since the proto map has no order.
//
// Thread safety: all functions are pure and thread-safe (ParsePlainFeed may start and
// join threads of its own).
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/huge_pages.h"
#include "common/prefetch.h"
#include "common/status.h"
#include "indicator/indicator.h"
#include "proto/config.pb.h"
#include "proto/store.pb.h"

namespace iocd {

// One indicator a feed lists.
struct ParsedIndicator {
  Indicator indicator;  // canonical type and key
  // The value as listed, after Refang() and trimming ("107.148.149.156:443",
  // "http://evil.com/x").
  std::string value;
  uint32_t line = 0;  // 1-based line of the feed (where the record starts, for CSV)
  std::vector<iocd::store::ContextField> context;
  // When the source says so (STIX valid_until, a record's last_seen...), in ms since the
  // epoch; 0 when the feed does not say. The loader derives expiry from them and the
  // feed's ttl.
  int64_t valid_until_unix_ms = 0;
  int64_t last_seen_unix_ms = 0;
  // For domain indicators: whether subdomains match too. Formats that say per record
  // (a warninglist's "string" vs "hostname") set it; the feed's `subdomains` option
  // applies on top.
  bool subdomains = true;
};

// One line that was skipped.
struct FeedError {
  uint32_t line = 0;  // 1-based; for CSV the line where the record starts
  // What is wrong, with the offending text (truncated to about 80 characters, control
  // bytes escaped as \xNN): "not a recognised indicator: 'foo'".
  std::string message;

  bool operator==(const FeedError&) const = default;
};

struct FeedParseResult {
  std::vector<ParsedIndicator> indicators;  // in file order, duplicates removed
  std::vector<FeedError> errors;            // in file order
  uint64_t lines = 0;                       // physical lines in the content
  // Records the format can express but iocd cannot match, by reason ("stix pattern uses
  // AND", "zeek type Intel::EMAIL"): counted and reported, never silently dropped.
  std::map<std::string, uint64_t> unsupported;
  // Records skipped on purpose by the format's rules (MISP to_ids=false ...), by reason.
  std::map<std::string, uint64_t> skipped;
};

// Parses a plain one-indicator-per-line feed. Never fails as a whole: bad lines are errors.
FeedParseResult ParsePlainFeed(std::string_view content);

// Bulk import of plain feeds (app/feed_sync): the same parsing as ParsePlainFeed, split
// so that a caller can turn records into its own form on several threads, without a
// ParsedIndicator per record. Duplicates are not removed (IndicatorDedup does that).
struct PlainStretch {
  std::string_view text;  // whole lines
  uint32_t first_line = 1;
};
// content (a leading BOM dropped) as up to max_parts stretches of whole lines of about
// equal size, in order; content under 4 MiB stays one stretch.
std::vector<PlainStretch> SplitPlainFeed(std::string_view content, size_t max_parts);

struct PlainRecord {
  Indicator indicator;
  std::string value;         // after Refang() and trimming
  std::string_view comment;  // a trailing "# ..." comment, trimmed; empty if none
  uint32_t line = 0;
};
// Calls on_record for each valid record of the stretch, in order (`comment` is valid
// during the call only; the record may be moved from), and appends each malformed
// line to *errors, as ParsePlainFeed reports them.
void ParsePlainStretch(const PlainStretch& stretch, const std::function<void(PlainRecord&)>& on_record,
                       std::vector<FeedError>* errors);

// A set of the indicators of items[i].indicator (any vector of records with an
// `indicator` member), held as indices, so no key is copied: for removing duplicates while
// keeping the first. Open addressing with linear probing, at most half full.
class IndicatorDedup {
 public:
  explicit IndicatorDedup(size_t expected) { Resize(std::max<size_t>(16, std::bit_ceil(expected * 2 + 1))); }

  // Inserts items[i] unless an equal indicator is already in; returns whether it was added.
  template <typename Items>
  bool Insert(const Items& items, uint32_t i) {
    if ((size_ + 1) * 2 > slots_.size()) Grow(items);
    const Indicator& wanted = items[i].indicator;
    const size_t h = Hash(wanted);
    const uint64_t tag = h >> 32 << 32;
    for (size_t s = h & mask_;; s = (s + 1) & mask_) {
      if (slots_[s] == 0) {
        slots_[s] = tag | (i + 1);
        ++size_;
        return true;
      }
      if ((slots_[s] >> 32 << 32) == tag && items[(slots_[s] & 0xffffffffu) - 1].indicator == wanted) return false;
    }
  }

  // Starts loading the slot `ind` would probe first, so a later Insert of it does not
  // wait for memory (the set is far larger than the caches for big feeds).
  void Prefetch(const Indicator& ind) const { iocd::Prefetch(&slots_[Hash(ind) & mask_]); }

 private:
  static size_t Hash(const Indicator& ind) {
    // std::hash's low and high bits both vary; the high 32 are kept in the slot as a tag so
    // most mismatches are rejected without touching the item.
    return std::hash<std::string_view>{}(ind.key) ^ (static_cast<size_t>(ind.type) * 0x9e3779b97f4a7c15ull);
  }
  void Resize(size_t n) {
    slots_ = {};
    ReserveHuge(&slots_, n);
    slots_.assign(n, 0);
    mask_ = n - 1;
    size_ = 0;
  }
  template <typename Items>
  void Grow(const Items& items) {
    std::vector<uint64_t> old = std::move(slots_);
    Resize(old.size() * 2);
    for (uint64_t v : old) {
      if (v == 0) continue;
      size_t s = Hash(items[(v & 0xffffffffu) - 1].indicator) & mask_;
      while (slots_[s] != 0) s = (s + 1) & mask_;
      slots_[s] = v;
      ++size_;
    }
  }

  std::vector<uint64_t> slots_;  // high 32 bits: hash tag; low 32: index + 1; 0 is empty
  size_t mask_ = 0;
  size_t size_ = 0;
};

// Parses a delimited feed. Empty option fields take their defaults (delimiter ",",
// value_column "1"). The returned Status is InvalidArgument only when the feed cannot be
// read at all with these options: a delimiter that is not one character (or "\t"/"tab"),
// or is '"', '#', CR or LF; a column that is neither a number >= 1 nor (with header: true)
// a name in the header row; or, with header: true, a header row that is itself malformed.
// A feed with header: true but no rows at all parses to an empty result. Bad data rows go
// into FeedParseResult::errors.
Result<FeedParseResult> ParseCsvFeed(std::string_view content,
                                     const iocd::config::CsvOptions& options);

}  // namespace iocd
