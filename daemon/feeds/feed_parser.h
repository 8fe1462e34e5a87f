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

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

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
