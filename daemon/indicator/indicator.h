// Indicator types, parsing and normalisation: the one place that decides what an
// indicator or observable *is* and what its canonical matching key looks like.
//
// Feed parsers call ParseIndicator on what a feed lists; the extractor and matcher call
// the same normalisers on what an event contains, so a value is normalised the same way on
// insert and on lookup (the Zeek intel framework's rule).
//
// Canonical keys (Indicator::key), by type:
//   ipv4    4 bytes, network order            ipv6    16 bytes, network order
//   cidr4   4 bytes masked + 1 byte length    cidr6   16 bytes masked + 1 byte length
//   domain  lower-case ASCII, no trailing dot
//   url     NormalizeUrl's output (host + path + query, no scheme/port/userinfo/fragment)
//   md5/sha1/sha256  the raw digest bytes (16/20/32)
// Indicator::Encoded() prefixes the key with the type byte; that string is the indicator's
// identity in the store and in the index.
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
};
inline constexpr IndicatorType kAllIndicatorTypes[] = {
    IndicatorType::kIpv4,   IndicatorType::kIpv6, IndicatorType::kCidr4,
    IndicatorType::kCidr6,  IndicatorType::kDomain, IndicatorType::kUrl,
    IndicatorType::kMd5,    IndicatorType::kSha1, IndicatorType::kSha256};

// "ipv4", "ipv6", "cidr4", "cidr6", "domain", "url", "md5", "sha1", "sha256".
std::string_view TypeName(IndicatorType type);
// The names above, case-insensitively, plus common aliases from feeds ("ip", "ipv4-addr",
// "domain-name", "hostname", "fqdn", "cidr", "subnet", "sha-1", "sha-256", "uri").
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
// CIDR (host bits are cleared; /32 and /128 become exact addresses), MD5/SHA1/SHA256 in hex,
// URLs with a scheme, "host/path" without one, and domain names.
Result<Indicator> ParseIndicator(std::string_view text);
// Like ParseIndicator, but the value must be of the given type.
Result<Indicator> ParseIndicatorAs(IndicatorType type, std::string_view text);

// Strict dotted quad ("1.2.3.4"), host byte order.
std::optional<uint32_t> ParseIpv4(std::string_view text);
// Any RFC 4291 text form.
std::optional<std::array<uint8_t, 16>> ParseIpv6(std::string_view text);
// Lower-cases and validates a DNS name: 2+ labels of [a-z0-9_-], 1-63 chars each, 253 at
// most, the last label not all digits; one trailing dot is dropped.
std::optional<std::string> NormalizeDomain(std::string_view text);
// Canonical URL key: scheme, userinfo, port, fragment and a leading "www." dropped; host
// lower-cased with repeated dots collapsed and numeric IPv4 forms (hex, octal, integer)
// turned into a dotted quad; '\' read as '/', "//" collapsed and dot segments resolved in
// the path; path and query percent-decoded once and lower-cased; a bare "/" path dropped.
// "https://www.Example.com:443/?q=hello%20world#f" -> "example.com/?q=hello world".
// nullopt when there is no valid host.
std::optional<std::string> NormalizeUrl(std::string_view text);
// The host part of a URL (after scheme and userinfo, before port/path), as written.
std::string_view UrlHost(std::string_view url);
// Hex digest of 32/40/64 hex digits -> raw bytes; nullopt for anything else.
std::optional<std::string> DecodeHexDigest(std::string_view hex);

}  // namespace iocd
