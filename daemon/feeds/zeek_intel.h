// Zeek intel files: the tab-separated input of Zeek's intel framework -> indicators.
//
// Format: a "#fields" line names the columns (indicator, indicator_type, meta.source,
// meta.desc, meta.url, meta.do_notice, meta.if_in, or any other meta.* column); each
// other line is one row with the columns in that order. Other '#' lines are comments,
// except the directives "#separator \xNN" (the column separator, by default a tab; a
// literal character is accepted too) and "#unset_field X" / "#empty_field X" (cells
// equal to X count as empty). Data rows before any #fields line are read with the
// default columns "indicator indicator_type meta.source". A later #fields line replaces
// the columns for the rows below it.
//
// Indicator: the indicator column, refanged and trimmed, read as its declared type:
//   Intel::ADDR -> ipv4/ipv6, Intel::SUBNET -> cidr4/cidr6 (a /32 or /128, or a bare
//   address, becomes an address), Intel::DOMAIN -> domain, Intel::URL -> url (Zeek writes
//   URLs without a scheme, "evil.com/gate.php"; a scheme is accepted), Intel::FILE_HASH
//   -> md5/sha1/sha256 by the digest's length.
// Context: every meta.* column whose cell is not empty, "-" or the #unset_field /
//   #empty_field value, keyed without "meta." (source, desc, url, do_notice, ...), in
//   column order. Domains keep the default subdomains=true (the feed's `subdomains: false`
//   gives Zeek's own exact-name semantics).
//
// Errors (FeedParseResult::errors, 1-based line): a row with fewer cells than the #fields
// line names (without a #fields line: fewer than indicator and indicator_type), an empty
// indicator or indicator_type, an indicator_type that is not "Intel::<NAME>", a value
// that does not parse as its declared type (a FILE_HASH that is not 32, 40 or 64 hex
// digits), a #fields line without an "indicator" or "indicator_type" column, and a
// #separator directive that is not one character or \xNN. Rows under an unusable #fields
// line are not errors each: they are counted in skipped["row under an unusable #fields
// line"] (the header's error names the problem once).
// Unsupported (counted by reason, not errors): the Zeek types iocd cannot match
//   (Intel::EMAIL, USER_NAME, SOFTWARE, CERT_HASH, PUBKEY_HASH, FILE_NAME, JA3, any other
//   Intel::X) -> unsupported["zeek type Intel::X"].
// Also: a UTF-8 BOM, CRLF line ends, blank lines and a missing final newline are
// accepted. Duplicates (same canonical indicator) keep the first row.
//
// Thread safety: pure and thread-safe; never fails as a whole, never crashes on any input.
#pragma once

#include <string_view>

#include "feeds/feed_parser.h"

namespace iocd {

FeedParseResult ParseZeekIntelFeed(std::string_view content);

}  // namespace iocd
