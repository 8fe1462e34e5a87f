// Reading a feed's source: a local file, a MISP feed directory, or an http(s) URL.
//
// ReadFeedSource returns the feed's documents (one for a file or URL; the events of a MISP
// feed directory, in manifest order) or kNotModified when an HTTP server answered 304 to
// the validators of the previous fetch. FormatOf/ParseFeedDocuments turn documents into
// indicators with the parser for the feed's format. Both are used by FeedSync; neither
// touches the store.
//
// Thread safety: stateless functions; safe from any thread. Errors: IoError naming the
// path or (credential-free) URL and what failed.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "feeds/feed_parser.h"
#include "proto/config.pb.h"

namespace iocd {

struct FeedSource {
  bool not_modified = false;
  std::vector<std::string> documents;
  std::string etag;           // HTTP validators to keep for the next fetch
  std::string last_modified;
};

// `etag`/`last_modified` come from the previous successful fetch (ignored for files).
Result<FeedSource> ReadFeedSource(const iocd::config::Feed& feed, const std::string& etag,
                                  const std::string& last_modified);

// Parses every document with the feed's format and merges the results (a value listed in
// two documents is kept once, first wins). Applies the feed's `type` (plain) and
// `subdomains` options. Error only for a whole-feed problem (bad csv options, not a
// warninglist); malformed records are in the result's errors.
Result<FeedParseResult> ParseFeedDocuments(const iocd::config::Feed& feed,
                                           const std::vector<std::string>& documents);

// A warninglist's or plain allowlist's entries, for the allowlist matcher.
struct AllowlistContent {
  FeedParseResult entries;
  std::vector<std::string> substrings;
};
Result<AllowlistContent> ParseAllowlistDocuments(const iocd::config::Feed& feed,
                                                 const std::vector<std::string>& documents);

// "plain", "csv", "kaspersky-json", ... as written in config.
std::string FormatName(iocd::config::FeedFormat format);

}  // namespace iocd
