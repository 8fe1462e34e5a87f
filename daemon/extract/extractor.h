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
//        - IPv6: at least two ':' and inet_pton accepts it ("::" alone and eight groups
//          of two hex digits, a certificate serial, are ignored); an IPv4-mapped address
//          ("::ffff:1.2.3.4") is reported as ipv4;
//        - hash: exactly 32/40/64 hex digits with at least one letter (md5/sha1/sha256);
//        - IPv4, optionally with ":port" (the observable's text is the address only);
//        - "host/path" without a scheme, when host is an IPv4 address or passes
//          LooksLikeDomainName(): url + host;  "a.b.c.d/24" is not a URL, nor is a
//          path holding '=' before any '?' ("CN=x.com/OU=y/O=z": only the host);
//        - "user@host": the host;  "host:port": the host;
//        - a domain: NormalizeDomain() accepts it and LooksLikeDomainName() says it is one.
//      Other pieces are split on '/' and ':' and the parts classified again (so Squid's
//      "HIER_DIRECT/1.2.3.4" yields the address), which is how bare numbers, versions
//      (1.2.3), timestamps (12:34:56) and words are dropped.
//      Only a token holding '.' or ':' or a run of 32+ hex digits can yield anything, so
//      a first pass classifies the text 64 bytes at a time into bit masks (token bytes,
//      '.'/':', hex digits, the bytes pieces are split at; AVX-512BW, AVX2 or SSE2 chosen
//      at run time, extract/chunk_classifier.h), delimits only the tokens around those
//      bytes with bit operations, and skips every other token; the result is the same as
//      classifying them all, on every path. The same masks find each "://" of step 1.
//
// Ownership: Observable::text points into the input; it is valid as long as the input is.
// Thread safety: pure functions; thread-safe (LooksLikeDomainName keeps a per-thread cache
// of its answers, about 1 MB per thread that uses it).
// Errors: none. Anything unrecognised is skipped; invalid UTF-8 and binary bytes are
// separators. Work is linear in the input size.
#pragma once

#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

#include "indicator/indicator.h"

namespace iocd {

struct Observable {
  Observable() = default;
  // So that a vector of observables can be grown in place (emplace_back).
  Observable(Indicator indicator_value, std::string_view text_value, size_t offset_value)
      : indicator(std::move(indicator_value)), text(text_value), offset(offset_value) {}

  Indicator indicator;    // canonical: ipv4, ipv6, domain, url, md5, sha1 or sha256
  std::string_view text;  // as written in the input (points into the input)
  size_t offset;          // byte offset of text in the input
};

// Appends every observable in text to *out, in order of appearance (a URL comes before its
// host). An indicator seen twice in one text is reported once, at its first occurrence.
// Entries already in *out are left alone and do not take part in that deduplication.
void ExtractObservables(std::string_view text, std::vector<Observable>* out);

// Whether a dotted name written in a log is worth reporting as a domain:
//   * its last label is a TLD listed in the public suffix list (libpsl's built-in list;
//     the implicit "*" rule does not count, so "file.unknowntld" and "a.b" are not domains),
//   * it has a registrable part below its public suffix ("co.uk", "github.io" alone are
//     not domains; "evil.co.uk", "x.github.io" are),
//   * its last label is not mixed-case ("java.lang.String" is code), and
//   * its last label is not one of a few real TLDs that are mostly file extensions in log
//     text: cab data java md mov pf pid pm properties ps pub py sh so zip ("setup.py",
//     "invoice.zip"). Inside a URL with a scheme the host is taken without this check.
// File extensions that are not TLDs ("index.html", "chrome.exe") fail the PSL check.
// The caller still validates the name with NormalizeDomain().
bool LooksLikeDomainName(std::string_view name);

}  // namespace iocd
