// Observable extraction: finds IP addresses, domains, URLs and file hashes in free text
// (a syslog message, a CEF/LEEF extension, a JSON blob) so they can be matched against
// the indicator index.
//
// One left-to-right pass, no regular expressions:
//   1. URLs with a scheme (http, https, ftp; case-insensitive) are found first and end at
//      whitespace, a quote, '<', '>', '\', '|', '{', '}', '^' or a non-ASCII byte; trailing
//      punctuation and an unbalanced ')' or ']' are dropped. A URL yields a url observable
//      and one for its host (domain, ipv4 or ipv6).
//   2. The text between URLs is split on separators (whitespace, control and non-ASCII
//      bytes, quotes, <>()[]{}, ',', ';', '|', '\'), then each piece on '=' (so src=1.2.3.4
//      and Hashes=SHA1=...,MD5=... work), and classified after trimming punctuation at its
//      ends:
//        - IPv6: at least two ':' and inet_pton accepts it ("::" alone is ignored); an
//          IPv4-mapped address ("::ffff:1.2.3.4") is reported as ipv4;
//        - hash: exactly 32/40/64 hex digits with at least one letter (md5/sha1/sha256);
//        - IPv4, optionally with ":port" (the observable's text is the address only);
//        - "host/path" without a scheme, when host is an IPv4 address or passes
//          LooksLikeDomainName(): url + host;  "a.b.c.d/24" is not a URL;
//        - "user@host": the host;  "host:port": the host;
//        - a domain: NormalizeDomain() accepts it and LooksLikeDomainName() says it is one.
//      Other pieces are split on '/' and ':' and the parts classified again (so Squid's
//      "HIER_DIRECT/1.2.3.4" yields the address), which is how bare numbers, versions
//      (1.2.3), timestamps (12:34:56) and words are dropped.
//
// Ownership: Observable::text points into the input; it is valid as long as the input is.
// Thread safety: pure functions; thread-safe.
// Errors: none. Anything unrecognised is skipped; invalid UTF-8 and binary bytes are
// separators. Work is linear in the input size.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "indicator/indicator.h"

namespace iocd {

struct Observable {
  Indicator indicator;    // canonical: ipv4, ipv6, domain, url, md5, sha1 or sha256
  std::string_view text;  // as written in the input (points into the input)
  size_t offset;          // byte offset of text in the input
};

// Appends every observable in text to *out, in order of appearance (a URL comes before its
// host). An indicator seen twice in one text is reported once, at its first occurrence.
// Entries already in *out are left alone and do not take part in that deduplication.
void ExtractObservables(std::string_view text, std::vector<Observable>* out);

// Whether a dotted name written in a log is worth reporting as a domain: its last label
// is 2-63 letters (or an "xn--" IDN label), not mixed-case ("java.lang.String" is code)
// and not a common file extension or code-ish suffix ("file.txt", "index.html",
// "java.lang"). A heuristic: a public-suffix-list check is meant to replace it, which is
// why it is one function. The caller still validates the name with NormalizeDomain().
bool LooksLikeDomainName(std::string_view name);

}  // namespace iocd
