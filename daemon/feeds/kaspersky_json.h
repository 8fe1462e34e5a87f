// Kaspersky Threat Data Feed JSON -> indicators with the record's fields as context.
//
// Format: a top-level JSON array of record objects (the layout of Kaspersky's feeds and
// demo feeds). Also accepted: {"records": [...]}, a single record object, and NDJSON (one
// record object per line), detected when the whole document is not one JSON value but its
// first non-blank line is an object.
//
// Positions: FeedError::line is the 1-based record number (for NDJSON the physical line),
// and the message starts with the record's JSON path with a 0-based index:
// "records[12].ip: not a valid ipv4: 'x'" is line 13.
//
// Indicator: the first present (non-null) of the keys "mask", "url", "domain", "ip",
// "md5", "sha1", "sha256" (the hash keys also as "MD5", "SHA1", "SHA256", as Kaspersky's
// hash feeds write them). Values are refanged and trimmed.
//   mask / url: without '*' -> ParseIndicator ("evil.com" -> a domain, "evil.com/x" -> a
//     url, "1.2.3.4" -> an address); a mask naming a bare host matches that host only
//     (subdomains=false), a url key's bare host keeps the default. "*.evil.com" (a leading
//     "*." and no other '*' or '/') -> the domain evil.com with subdomains=true (which also
//     covers evil.com itself). Any other '*' -> unsupported["url mask with wildcard"].
//   domain -> domain; ip -> ipv4/ipv6; md5/sha1/sha256 -> that hash type.
// Files: "files" (an array of objects) is not context. Every md5/sha1/sha256 (or
//   MD5/SHA1/SHA256) string in a file object is one more indicator of that type, with the
//   record's context followed by the file object's other fields as "file.<key>". A record
//   whose only indicators are in files[] is fine.
// Context: every other field of the record, in the record's order, as strings: strings
//   as they are; integers in decimal; other numbers in their shortest round-trip form
//   (1.50 -> "1.5"); booleans "true"/"false"; null and "" are left out. Objects are
//   flattened to "parent.child"; arrays join their scalar elements with ", " under the
//   array's key (an array of objects joins each child key's values likewise).
// Dates: "first_seen"/"last_seen" as "dd.MM.yyyy HH:mm" (UTC; ":ss" accepted) stay context
//   strings; "last_seen" also sets last_seen_unix_ms. A date that does not parse stays
//   context and leaves last_seen_unix_ms 0 (not an error).
//
// Errors: invalid JSON (or a top level that is not an array/object) -> one error at line
// 0, "invalid JSON: <simdjson's message>", and no indicators, so the loader keeps the
// previous version; an empty document is such an error too ("[]" is the empty feed). A
// record that is not an object, has no indicator at all ("records[N]: no indicator field
// (mask, url, domain, ip, md5, sha1, sha256)"), or an indicator value that is not a string
// or does not parse -> an error with the record's line; the other records still load.
// For NDJSON, a line that is not valid JSON is an error of that line only.
// Duplicates (same canonical indicator) keep the first record's.
//
// Thread safety: pure and thread-safe; never crashes on any input.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "feeds/feed_parser.h"

namespace iocd {

FeedParseResult ParseKasperskyJsonFeed(std::string_view content);

// "dd.MM.yyyy HH:mm" or "dd.MM.yyyy HH:mm:ss", UTC -> ms since the epoch; nullopt for
// anything else (including impossible dates such as 31.02.2024).
std::optional<int64_t> ParseKasperskyTime(std::string_view text);

}  // namespace iocd
