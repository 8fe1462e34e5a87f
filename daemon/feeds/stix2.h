// STIX 2.1 feed parser: a bundle of STIX objects -> the indicators its "indicator" objects
// describe, with their context.
//
// Input: {"type": "bundle", "objects": [...]}; a bare JSON array of objects and a single
// object ({"type": "indicator", ...}) are accepted too. STIX 2.0 bundles read the same way
// (no pattern_type, "labels" instead of "indicator_types"). A UTF-8 byte order mark is
// skipped. All objects are collected before any indicator is read, so relationships may come
// before or after the indicator they point at.
//
// What becomes an indicator: every object of type "indicator" whose pattern_type is "stix"
// (or absent) and whose pattern ParseStixPattern() reports as supported. Each comparison of
// the pattern yields one indicator ("[a = 'x' OR b = 'y']" yields two):
//   ipv4-addr:value        an IPv4 address or CIDR (a value with ':' is an error)
//   ipv6-addr:value        an IPv6 address or CIDR (a value without ':' is an error)
//   domain-name:value      a domain
//   url:value              a URL
//   file:hashes.MD5 / SHA1 / SHA256, the hash name quoted or not, in any case, with or
//                          without the dash ('SHA-256')
// Values are taken as written (not refanged) and must parse as their type
// (ParseIndicatorAs); one value that does not makes the whole indicator an error, so an
// indicator is either loaded completely or not at all. ParsedIndicator::value is the
// string literal of the comparison, ParsedIndicator::line the 1-based index of the
// indicator object in the bundle's "objects" (1 for a single object).
//
// Context, in this order, each only when present and non-empty:
//   name, description (cut to 512 bytes on a UTF-8 boundary), indicator_types, labels
//   (each joined ", "), kill_chain_phases ("kill_chain_name:phase_name" joined ", "),
//   confidence, created, modified, valid_from, valid_until (timestamps as written),
//   stix_id, then the names of the objects the indicator "indicates": for every
//   relationship {relationship_type: "indicates", source_ref: <this indicator>} whose
//   target_ref is a malware / threat-actor / intrusion-set / campaign / attack-pattern /
//   tool object of the bundle with a name: malware, threat_actor, intrusion_set, campaign,
//   attack_pattern, tool (names in relationship order, repeated names once, joined ", ").
//   Only direct "indicates" relationships count; revoked relationships are ignored.
// valid_until -> ParsedIndicator::valid_until_unix_ms and modified -> last_seen_unix_ms
// (RFC 3339, e.g. "2015-05-15T09:12:16.432Z").
//
// Outcomes other than indicators, counted per indicator object (one reason each):
//   skipped["revoked"]                         "revoked": true
//   unsupported["stix pattern_type sigma"]     a pattern_type other than "stix"
//   unsupported[<ParseStixPattern reason>]     a well-formed pattern iocd cannot match,
//                                              e.g. "stix pattern: AND"
//   errors                                     no pattern, a pattern syntax error (with the
//                                              position), a value that is not valid for its
//                                              type, a malformed valid_until or modified;
//                                              the message starts with the indicator's id.
// An element of "objects" that is not a JSON object is an error too. Objects of other types
// are read for relationships and names only and never counted. A document that is not
// JSON, or not a bundle / array / object, is one error with line 0.
// FeedParseResult::lines is the number of objects read.
//
// Duplicates (same canonical indicator) anywhere in the bundle are returned once: the first
// wins, with its indicator's context.
//
// Thread safety: all functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "feeds/feed_parser.h"
#include "indicator/indicator.h"

namespace iocd {

// One "object-path = 'value'" comparison of a supported STIX pattern.
struct StixComparison {
  // The indicator family the object path asks for: kIpv4 / kIpv6 for ipv4-addr:value /
  // ipv6-addr:value (the value may be an address or a CIDR), kDomain, kUrl, kMd5, kSha1,
  // kSha256. The value is not validated here.
  IndicatorType type;
  std::string value;  // the string literal, escapes resolved
  std::string path;   // the object path, normalised: "file:hashes.SHA-256", "url:value"
  size_t offset = 0;  // 0-based byte offset of the comparison in the pattern

  bool operator==(const StixComparison&) const = default;
};

// A well-formed STIX pattern. Exactly one of the members is non-empty.
struct StixPattern {
  // The comparisons, in pattern order, when every part of the pattern is supported.
  std::vector<StixComparison> comparisons;
  // Why iocd cannot match the pattern, when some part is not supported. The whole pattern
  // is then unsupported: an indicator is never loaded partially. When several parts are
  // unsupported, the reason is chosen in this order (the first of a kind in the pattern):
  //   "stix pattern: FOLLOWEDBY"
  //   "stix qualifier WITHIN" / "stix qualifier START/STOP" / "stix qualifier REPEATS"
  //   "stix pattern: AND"
  //   "stix pattern: EXISTS"
  //   "stix operator LIKE" (also MATCHES, IN, ISSUBSET, ISSUPERSET, !=, <>, <, <=, >, >=,
  //                         and "NOT =" etc. for a negated comparison)
  //   "stix object x509-certificate"   an object type other than the five above
  //   "stix property file:name"        another property of a supported object type
  //   "stix value integer"             = with a non-string literal (integer, float,
  //                                    boolean, timestamp, binary, hex)
  std::string unsupported;
};

// Parses a STIX 2.x pattern (the full patterning grammar: observation expressions with
// AND / OR / FOLLOWEDBY and qualifiers, comparison expressions with AND / OR / NOT, all
// operators, set and typed literals). String literals are '...' with \' and \\ as the only
// escapes. Keywords are matched case-insensitively.
// Returns InvalidArgument for a syntax error: "at character N: <what was expected>", N
// being the 1-based byte position in the pattern. Parentheses nest at most 64 deep.
Result<StixPattern> ParseStixPattern(std::string_view pattern);

// RFC 3339 timestamp -> ms since the epoch: "2016-04-06T20:03:48.000Z",
// "2019-06-17T09:58:38.123456+00:00", "+0200" offsets and a space or lower-case 't' / 'z'
// are accepted, fractions beyond milliseconds are truncated. nullopt if malformed. Used by
// the STIX and MISP parsers.
std::optional<int64_t> ParseRfc3339UnixMs(std::string_view text);

// Parses a STIX bundle as described at the top of this file. Never fails as a whole: a bad
// document is one error with line 0.
FeedParseResult ParseStix2Bundle(std::string_view content);

}  // namespace iocd
