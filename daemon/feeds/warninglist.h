// MISP warninglists: the JSON allowlists of MISP/misp-warninglists -> allowlist entries.
//
// Format: one JSON object {"name": ..., "description": ..., "type": "string" | "hostname"
// | "cidr" | "substring" | "regex", "list": [...], "matching_attributes": [...],
// "version": N}. Only "type" and "list" are required.
//
// Entries (Warninglist::entries.indicators, line = 1-based index into "list", value = the
// entry as listed), by the list's type:
//   cidr      -> cidr4/cidr6 ranges; single addresses (and /32, /128) as ipv4/ipv6.
//   string    -> each value as ParseIndicator reads it (addresses, CIDR ranges, hashes,
//                URLs, domains); a value with '/' is tried as a CIDR range first. Domains
//                get subdomains=false: a string list names exact values.
//   hostname  -> domains with subdomains=true (a leading "." or "*." is dropped);
//                addresses (and anything else ParseIndicator reads) as themselves.
//   substring -> Warninglist::substrings: the entries lower-cased, in list order,
//                duplicates removed; the caller matches them against observables.
//   regex     -> nothing: every entry counts in unsupported["warninglist type regex"].
// Entries carry no context: the caller knows which list they came from.
//
// Errors: the Status is InvalidArgument only when the document is not a warninglist at
// all: invalid JSON, not an object, no "list" array, or a missing or unknown "type".
// Inside the list, an entry that is not a string is an error (entries.errors, line =
// index); an entry that iocd cannot read as an indicator ("localhost", the TLD "com", an
// empty string) is counted in entries.unsupported["not an indicator"] instead of being an
// error: an allowlist entry iocd cannot express is not a mistake of the list. Duplicates
// (same canonical indicator) keep the first entry. entries.lines is the physical line
// count of the document.
//
// Thread safety: pure and thread-safe; never crashes on any input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "feeds/feed_parser.h"

namespace iocd {

struct Warninglist {
  std::string name;                     // the list's "name" ("" when absent)
  std::string type;                     // "string", "hostname", "cidr", "substring" or "regex"
  std::string description;              // the list's "description" ("" when absent)
  int64_t version = 0;                  // the list's "version" (0 when absent or not an integer)
  FeedParseResult entries;              // see the contract above
  std::vector<std::string> substrings;  // type "substring": lower-cased patterns
};

Result<Warninglist> ParseWarninglist(std::string_view content);

}  // namespace iocd
