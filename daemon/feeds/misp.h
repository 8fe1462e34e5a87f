// MISP feed parser: one MISP event file (JSON) -> the indicators its attributes list, with
// the event's and attribute's context; and the manifest of a MISP feed directory.
//
// A MISP feed is a directory (or URL prefix) with manifest.json, an object keyed by event
// uuid, and one <uuid>.json per event. The loader calls ParseMispManifest, then reads each
// event file and calls ParseMispEvent on it. Both functions are pure.
//
// Event file: {"Event": {...}}, or the bare event object. A UTF-8 byte order mark is
// skipped. Attributes are read from Event.Attribute[] and then from every
// Event.Object[].Attribute[], in document order; "line" (in indicators and errors) is the
// 1-based position of the attribute in that order, and FeedParseResult::lines the number
// of attributes.
//
// Each attribute is decided in this order:
//   1. "deleted": true (on the attribute or its object)  -> skipped["deleted"]
//   2. "to_ids": false, unless include_non_ids            -> skipped["to_ids=false"]
//      (an absent to_ids counts as true)
//   3. its type:
//      ip-src, ip-dst             an IPv4/IPv6 address or CIDR
//      ip-src|port, ip-dst|port   "1.2.3.4|443": the address (the port must be 0-65535)
//      domain, hostname           a domain
//      domain|ip                  "evil.com|1.2.3.4": two indicators, domain and address
//      url                        a URL
//      md5, sha1, sha256          a hash
//      filename|md5, filename|sha1, filename|sha256
//                                 the hash; the file name becomes context "filename"
//      link                       -> skipped["misp type link"] (a reference, not an IOC)
//      anything else (sha512, uri, regkey, mutex, yara, email-src, filename, text, ...)
//                                 -> unsupported["misp type <type>"]
//   A value that does not parse as its type is an error ("Event.Attribute[3] (uuid ...):
//   ...") and none of the attribute's indicators load. Values are taken as written (not
//   refanged), trimmed of surrounding whitespace.
//
// Context, in this order, each only when present and non-empty:
//   event (Event.info), event_uuid, threat_level (threat_level_id 1 High, 2 Medium, 3 Low,
//   4 Undefined; another value as written), date (Event.date), category, comment,
//   attribute_uuid, object (the name of the MISP object the attribute belongs to),
//   filename (filename|hash types), tags (event tags, then attribute tags, each once,
//   joined ", "), tlp (the level of the TLP tag: "white", "green", "amber", "amber+strict",
//   "red", "clear"; the attribute's own TLP tag wins over the event's), mitre_attack (the
//   quoted values of misp-galaxy:mitre-*="..." tags, joined ", ").
// ParsedIndicator::last_seen_unix_ms is the attribute's "last_seen" (ISO 8601 with a
// zone), or else its "timestamp" (unix seconds); a malformed one is ignored, not an error.
//
// Duplicates (same canonical indicator) are returned once: the first attribute wins.
// A document that is not JSON or has no event object is one error with line 0.
//
// Thread safety: all functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "feeds/feed_parser.h"

namespace iocd {

struct MispOptions {
  // Also load attributes marked "to_ids": false (context, not detection, by the author's
  // judgement). Default: false.
  bool include_non_ids = false;
};

// Parses one MISP event file as described above. Never fails as a whole.
FeedParseResult ParseMispEvent(std::string_view content, const MispOptions& options);

// Parses a MISP feed's manifest.json: the event uuids (its keys) in document order,
// repeated keys once. The keys become file names, so each must be a UUID
// (8-4-4-4-12 hex digits); anything else makes the whole manifest InvalidArgument, as
// does a document that is not a JSON object. The uuids are returned as written.
Result<std::vector<std::string>> ParseMispManifest(std::string_view content);

}  // namespace iocd
