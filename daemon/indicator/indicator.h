// Indicator types, parsing and normalisation: the one place that decides what an
// indicator or observable *is* and what its canonical matching key looks like.
//
// Feed parsers call ParseIndicator on what a feed lists; the extractor and matcher call
// the same normalisers on what an event contains, so a value is normalised the same way on
// insert and on lookup (the Zeek intel framework's rule).
//
// Canonical keys (Indicator::key), by type:
//   ipv4    4 bytes, network order            ipv6    16 bytes, network order (never an
//                                             IPv4-mapped address: that is an ipv4)
//   cidr4   4 bytes masked + 1 byte length    cidr6   16 bytes masked + 1 byte length
//           (length 0..31)                            (length 0..127)
//   domain  NormalizeDomain's output: lower-case ASCII, IDN labels in punycode ("xn--"),
//           no trailing dot
//   url     NormalizeUrl's output (host + path + query, no scheme/port/userinfo/fragment)
//   url-mask NormalizeUrlMask's output: a url key in which '*' stands for any run of
//           characters (see NormalizeUrlMask)
//   md5/sha1/sha256/sha512  the raw digest bytes (16/20/32/64)
// Indicator::Encoded() prefixes the key with the type byte; that string is the indicator's
// identity in the store and in the index.
//
// Indicators versus observables: ParseIndicator / ParseIndicatorAs are for what a feed
// lists and reject what must never be an indicator (a public suffix such as "com" or
// "co.uk": IsPublicSuffix). The normalisers (NormalizeDomain, NormalizeUrl, ParseIpv4/6) accept
// anything well-formed and are what observables go through.
//
// Thread safety: all functions are pure and thread-safe.
// Errors: ParseIndicator returns InvalidArgument with a short reason a person can act on.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace iocd {

enum class IndicatorType : uint8_t {
  kIpv4 = 1,
  kIpv6 = 2,
  kCidr4 = 3,
  kCidr6 = 4,
  kDomain = 5,
  kUrl = 6,
  kMd5 = 7,
  kSha1 = 8,
  kSha256 = 9,
  kUrlMask = 10,
  kSha512 = 11,
};
inline constexpr IndicatorType kAllIndicatorTypes[] = {
    IndicatorType::kIpv4,   IndicatorType::kIpv6, IndicatorType::kCidr4,
    IndicatorType::kCidr6,  IndicatorType::kDomain, IndicatorType::kUrl,
    IndicatorType::kMd5,    IndicatorType::kSha1, IndicatorType::kSha256,
    IndicatorType::kUrlMask, IndicatorType::kSha512};

// "ipv4", "ipv6", "cidr4", "cidr6", "domain", "url", "md5", "sha1", "sha256", "url-mask",
// "sha512".
std::string_view TypeName(IndicatorType type);
// The names above, case-insensitively, plus common aliases from feeds ("ip", "ipv4-addr",
// "domain-name", "hostname", "fqdn", "cidr", "subnet", "sha-1", "sha-256", "sha-512", "uri", "mask", "url_mask").
// "ip" and "cidr" mean "detect v4 or v6": ParseIndicatorAs accepts either family for them.
std::optional<IndicatorType> ParseTypeName(std::string_view name);

struct Indicator {
  IndicatorType type;
  std::string key;  // canonical bytes, see above

  // Type byte followed by key: the indicator's identity in the store and the index.
  std::string Encoded() const;
  static std::optional<Indicator> Decode(std::string_view encoded);
  // Human form: "1.2.3.4", "10.0.0.0/8", "evil.com", "evil.com/gate.php", lower-case hex.
  std::string Display() const;

  bool operator==(const Indicator&) const = default;
};

// Undoes common defanging: "[.]" "(.)" "{.}" "[dot]" "(dot)" "\." -> ".", "[:]" -> ":",
// "[://]" -> "://", "[@]" -> "@", and a leading "hxxp"/"hxxps"/"fxp" scheme.
std::string Refang(std::string_view text);

// Detects the type of one indicator as feeds list it (already refanged, surrounding
// whitespace ignored) and normalises it. Accepted: IPv4, IPv6 (an IPv4-mapped address
// becomes ipv4), either with a ":port" ("1.2.3.4:443", "[::1]:443"; the port is dropped),
// CIDR (host bits are cleared; /32 and /128 become exact addresses), MD5/SHA1/SHA256/SHA512
// in hex, URLs with a scheme, "host/path" without one, URL masks (any of those forms with a
// '*' in the host or path: "*.evil.com/gate/*", "evil.com/*.php"), and domain names
// (Unicode names are converted to punycode).
// Rejected with a reason: a domain that is a public suffix ("com", "co.uk": it would match
// a whole registry) and a URL mask whose host, apart from '*' labels, is one ("*.com/x").
Result<Indicator> ParseIndicator(std::string_view text);
// Like ParseIndicator, but the value must be of the given type.
Result<Indicator> ParseIndicatorAs(IndicatorType type, std::string_view text);

// Strict dotted quad ("1.2.3.4"), host byte order. Inline: the extractor calls it on
// most dotted tokens of every log line.
inline std::optional<uint32_t> ParseIpv4(std::string_view text) {
  // Called on every dotted token of every log line: one pass, at most three digits per
  // octet, no leading zeros ("01.2.3.4" is refused, it reads as octal elsewhere).
  if (text.size() < 7 || text.size() > 15) return std::nullopt;
  const char* p = text.data();
  const char* const end = p + text.size();
  auto digit = [&](const char* q) -> unsigned {
    return q < end ? static_cast<unsigned>(static_cast<unsigned char>(*q)) - '0' : 10u;
  };
  uint32_t addr = 0;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (p == end || *p != '.') return std::nullopt;
      ++p;
    }
    unsigned value = digit(p);
    if (value > 9) return std::nullopt;
    ++p;
    unsigned d = digit(p);
    if (d <= 9) {
      if (value == 0) return std::nullopt;
      value = value * 10 + d;
      ++p;
      d = digit(p);
      if (d <= 9) {
        value = value * 10 + d;
        ++p;
        if (value > 255 || digit(p) <= 9) return std::nullopt;
      }
    }
    addr = (addr << 8) | value;
  }
  if (p != end) return std::nullopt;
  return addr;
}
// Any RFC 4291 text form.
std::optional<std::array<uint8_t, 16>> ParseIpv6(std::string_view text);
// Lower-cases and validates a DNS name: 2+ labels of [a-z0-9_-], 1-63 chars each, 253 at
// most, the last label not all digits; one trailing dot is dropped. A name with non-ASCII
// (UTF-8) bytes is first converted with IDNA 2008 / UTS #46 non-transitional processing
// (libidn2: "Bücher.de" -> "xn--bcher-kva.de", "faß.de" -> "xn--fa-hia.de"); nullopt when
// that fails. Accepts public suffixes: callers on the indicator side check IsPublicSuffix.
std::optional<std::string> NormalizeDomain(std::string_view text);
// NormalizeDomain(text).has_value(), without building the result for an ASCII name (no
// allocation: the extractor asks this for every new name it sees).
bool IsNormalizableDomain(std::string_view text);
// Whether a normalised domain is itself a public suffix ("com", "co.uk", "xn--p1ai") per
// the ICANN section of the Public Suffix List (libpsl: the newer of its built-in list and
// the system's /usr/share/publicsuffix; an unlisted TLD is not a suffix: no "*" rule).
// The private section ("github.io", "ddns.net", "blogspot.com") is deliberately left out:
// those are services that suspicious-domain feeds list on purpose (dynamic DNS) and that
// allowlists of top sites list too.
bool IsPublicSuffix(std::string_view normalized_domain);
// Canonical URL key: scheme, userinfo, port, fragment and a leading "www." dropped; host
// lower-cased with repeated dots collapsed and numeric IPv4 forms (hex, octal, integer)
// turned into a dotted quad; '\' read as '/', "//" collapsed and dot segments resolved in
// the path; path and query percent-decoded once and lower-cased; a bare "/" path dropped.
// "https://www.Example.com:443/?q=hello%20world#f" -> "example.com/?q=hello world".
// In detail: surrounding whitespace trimmed; "scheme://" or a leading "//" dropped; the
// fragment ('#' onwards) dropped; the authority ends at the first '/', '?' or ''; userinfo
// (up to the last '@') and ":port" dropped; the host percent-decoded, lower-cased, repeated
// dots collapsed and dots at its ends trimmed; a host inet_aton reads as a number ("0x7f.1",
// "017700000001", "2130706433") becomes a dotted quad; "[v6]" stays bracketed in its
// canonical text form ("[::ffff:1.2.3.4]" becomes "1.2.3.4"); otherwise one leading "www."
// is dropped (unless only one label would be left) and the rest must pass NormalizeDomain
// (so IDN hosts become punycode). In the path '' becomes '/', then it is percent-decoded
// once and lower-cased, then "." and ".." segments are resolved and empty segments ("//")
// dropped, keeping a trailing '/'; the query is percent-decoded once and lower-cased; a
// path of just "/" with no query, and an empty query, are dropped.
// nullopt when there is no valid host.
std::optional<std::string> NormalizeUrl(std::string_view text);
// What NormalizeUrl learnt about a URL's host, for a caller that reports the host beside
// the URL (the extractor) without reading the URL again.
struct UrlHostParts {
  // UrlHost(text), as written; empty when NormalizeUrl did not establish it (no scheme, or
  // a host that took its general path: userinfo, port, brackets, escapes, an address...).
  std::string_view host;
  // NormalizeDomain(host) when host is set: host is then a plain ASCII DNS name.
  std::string domain_key;
};
// NormalizeUrl(text), also filling *host_parts (left empty when the host is not plain).
std::optional<std::string> NormalizeUrl(std::string_view text, UrlHostParts* host_parts);
// Canonical key of a URL mask: NormalizeUrl's rules, except that '*' is allowed in host
// labels, where it stands for any run of host characters (possibly empty, '.' included),
// and in the path and query, where it stands for any run of characters ('/' included);
// runs of '*' collapse to one. The host must have at least
// one label without '*' (so "*" or "*/x" are rejected); a host with '*' is lower-cased,
// dot-collapsed and loses a leading "www." like any other, but is never read as a number;
// its labels without '*' go through IDN conversion. nullopt when the text has no '*' or no
// valid host.
std::optional<std::string> NormalizeUrlMask(std::string_view text);
// The fixed part of a url-mask key's host: its longest suffix of whole labels without '*'
// ("*.evil.com/x" -> "evil.com", "a*b.c.evil.com" -> "c.evil.com", "evil*.com" -> "com",
// "evil.com/*" -> "evil.com"). Every host the mask matches ends with it on a label boundary
// (or equals it), which is how the index finds the masks to try for a host.
std::string_view UrlMaskFixedHost(std::string_view mask_key);
// The host of a url or url-mask key (up to the first '/' or '?').
std::string_view HostOfUrlKey(std::string_view key);
// Whether a url key (NormalizeUrl's output) matches a url-mask key (NormalizeUrlMask's
// output). Host and the rest (path and query) are matched separately, so a '*' in the host
// never reaches into the path. A mask without '/' or '?' names hosts: it matches every URL
// on a matching host, whatever its path ("*.evil.com" matches "a.evil.com/x?y", not
// "evil.com"). Otherwise the rest must match too ("evil.com/gate/*" matches
// "evil.com/gate/a.php", not "evil.com/gate"); a url key without a path is matched as if
// its path were "/" (so "evil.com/*" matches "evil.com", the key of "http://evil.com/").
// Case-sensitive: both keys are already lower-case.
bool UrlMaskMatches(std::string_view mask_key, std::string_view url_key);

// Glob match where '*' stands for any run of characters (possibly empty); linear in
// practice (backtracks only to the last '*'). Used for URL masks and source hostnames.
bool GlobMatch(std::string_view pattern, std::string_view text, bool ignore_ascii_case = false);
// The host part of a URL (after scheme and userinfo, before port/path), as written.
std::string_view UrlHost(std::string_view url);
// Hex digest of 32/40/64/128 hex digits -> raw bytes; nullopt for anything else.
std::optional<std::string> DecodeHexDigest(std::string_view hex);

}  // namespace iocd
