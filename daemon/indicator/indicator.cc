#include "indicator/indicator.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <libpsl.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace iocd {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsHexDigit(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// A table, not compares: digests mix digits and letters at random, and a branch per digit
// on which kind it is mispredicts about half the time.
constexpr std::array<int8_t, 256> kHexValue = [] {
  std::array<int8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[c] = c >= '0' && c <= '9'   ? static_cast<int8_t>(c - '0')
           : c >= 'a' && c <= 'f' ? static_cast<int8_t>(c - 'a' + 10)
           : c >= 'A' && c <= 'F' ? static_cast<int8_t>(c - 'A' + 10)
                                  : int8_t{-1};
  }
  return t;
}();

int HexValue(char c) { return kHexValue[static_cast<unsigned char>(c)]; }

// The first position in s of any of `chars`. std::string_view::find_first_of calls memchr
// once per byte of s, which dominates feed parsing; the needles here are a few bytes of a
// string literal, so the inner loop unrolls into compares.
template <size_t N>
size_t FindAny(std::string_view s, const char (&chars)[N], size_t from = 0) {
  for (size_t i = from; i < s.size(); ++i) {
    for (size_t k = 0; k + 1 < N; ++k) {
      if (s[i] == chars[k]) return i;
    }
  }
  return std::string_view::npos;
}

std::string_view Trim(std::string_view s) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (Lower(s[i]) != prefix[i]) return false;
  }
  return true;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

std::string Quoted(std::string_view text) {
  constexpr size_t kMax = 80;
  std::string out = "'";
  out.append(text.substr(0, kMax));
  if (text.size() > kMax) out += "...";
  out += "'";
  return out;
}

void AppendBigEndian32(uint32_t v, std::string* out) {
  out->push_back(static_cast<char>(v >> 24));
  out->push_back(static_cast<char>(v >> 16));
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

uint32_t ReadBigEndian32(std::string_view s) {
  return (uint32_t{static_cast<uint8_t>(s[0])} << 24) | (uint32_t{static_cast<uint8_t>(s[1])} << 16) |
         (uint32_t{static_cast<uint8_t>(s[2])} << 8) | uint32_t{static_cast<uint8_t>(s[3])};
}

std::string Ipv4Text(uint32_t addr) {
  char buf[INET_ADDRSTRLEN];
  uint32_t be = htonl(addr);
  inet_ntop(AF_INET, &be, buf, sizeof(buf));
  return buf;
}

std::string Ipv6Text(std::string_view bytes16) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, bytes16.data(), buf, sizeof(buf));
  return buf;
}

bool IsV4Mapped(const std::array<uint8_t, 16>& a) {
  for (int i = 0; i < 10; ++i) {
    if (a[i] != 0) return false;
  }
  return a[10] == 0xff && a[11] == 0xff;
}

Indicator MakeIpv4(uint32_t addr) {
  Indicator ind{IndicatorType::kIpv4, {}};
  AppendBigEndian32(addr, &ind.key);
  return ind;
}

Indicator MakeIpv6(const std::array<uint8_t, 16>& a) {
  if (IsV4Mapped(a)) {
    return MakeIpv4((uint32_t{a[12]} << 24) | (uint32_t{a[13]} << 16) | (uint32_t{a[14]} << 8) |
                    uint32_t{a[15]});
  }
  return Indicator{IndicatorType::kIpv6, std::string(reinterpret_cast<const char*>(a.data()), 16)};
}

// "1.2.3.4", "1.2.3.4:443", "::1", "[::1]", "[::1]:443", "::ffff:1.2.3.4".
std::optional<Indicator> ParseAddress(std::string_view s) {
  if (auto v4 = ParseIpv4(s)) return MakeIpv4(*v4);
  if (auto v6 = ParseIpv6(s)) return MakeIpv6(*v6);
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':' || rest.size() < 2 || rest.size() > 6) return std::nullopt;
      if (!std::all_of(rest.begin() + 1, rest.end(), IsDigit)) return std::nullopt;
    }
    if (auto v6 = ParseIpv6(s.substr(1, close - 1))) return MakeIpv6(*v6);
    return std::nullopt;
  }
  size_t colon = s.rfind(':');
  if (colon != std::string_view::npos && s.find(':') == colon) {
    std::string_view port = s.substr(colon + 1);
    if (!port.empty() && port.size() <= 5 && std::all_of(port.begin(), port.end(), IsDigit)) {
      if (auto v4 = ParseIpv4(s.substr(0, colon))) return MakeIpv4(*v4);
    }
  }
  return std::nullopt;
}

std::optional<Indicator> ParseCidr(std::string_view s) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view addr = s.substr(0, slash);
  std::string_view len_text = s.substr(slash + 1);
  if (len_text.empty() || len_text.size() > 3 || !std::all_of(len_text.begin(), len_text.end(), IsDigit)) {
    return std::nullopt;
  }
  int len = 0;
  for (char c : len_text) len = len * 10 + (c - '0');
  if (auto v4 = ParseIpv4(addr)) {
    if (len > 32) return std::nullopt;
    if (len == 32) return MakeIpv4(*v4);
    uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
    Indicator ind{IndicatorType::kCidr4, {}};
    AppendBigEndian32(*v4 & mask, &ind.key);
    ind.key.push_back(static_cast<char>(len));
    return ind;
  }
  if (auto v6 = ParseIpv6(addr)) {
    if (len > 128) return std::nullopt;
    if (IsV4Mapped(*v6) && len >= 96) {
      return ParseCidr(Ipv4Text(ReadBigEndian32(std::string_view(
                           reinterpret_cast<const char*>(v6->data() + 12), 4))) +
                       "/" + std::to_string(len - 96));
    }
    if (len == 128) return MakeIpv6(*v6);
    std::array<uint8_t, 16> masked = *v6;
    for (int i = 0; i < 16; ++i) {
      int bits = std::clamp(len - i * 8, 0, 8);
      masked[i] &= static_cast<uint8_t>(bits == 0 ? 0 : 0xff << (8 - bits));
    }
    Indicator ind{IndicatorType::kCidr6, std::string(reinterpret_cast<const char*>(masked.data()), 16)};
    ind.key.push_back(static_cast<char>(len));
    return ind;
  }
  return std::nullopt;
}

std::optional<Indicator> ParseHash(std::string_view s) {
  auto raw = DecodeHexDigest(s);
  if (!raw) return std::nullopt;
  switch (raw->size()) {
    case 16: return Indicator{IndicatorType::kMd5, std::move(*raw)};
    case 20: return Indicator{IndicatorType::kSha1, std::move(*raw)};
    case 32: return Indicator{IndicatorType::kSha256, std::move(*raw)};
    default: return Indicator{IndicatorType::kSha512, std::move(*raw)};
  }
}

bool HasScheme(std::string_view s) {
  size_t pos = s.find("://");
  if (pos == std::string_view::npos || pos == 0) return false;
  for (size_t i = 0; i < pos; ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (i > 0 && (IsDigit(c) || c == '+' || c == '-' || c == '.'));
    if (!ok) return false;
  }
  return true;
}

// Host part of a URL given without its scheme: up to the first '/', '?', '#' or '\'.
std::string_view AuthorityOf(std::string_view s) {
  if (HasScheme(s)) s.remove_prefix(s.find("://") + 3);
  size_t end = FindAny(s, "/?#\\");
  return s.substr(0, end);
}

// Host of an authority: without userinfo and port; brackets kept for IPv6.
std::string_view HostOfAuthority(std::string_view authority) {
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(0, close + 1);
  }
  size_t colon = authority.find(':');
  return authority.substr(0, colon);
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool HasNonAscii(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// IDNA 2008 / UTS #46 non-transitional conversion of a UTF-8 name to ASCII; nullopt when
// libidn2 refuses it (invalid UTF-8, disallowed code points, bad bidi).
std::optional<std::string> IdnToAscii(std::string_view text) {
  std::string input(text);
  char* output = nullptr;
  int rc = idn2_to_ascii_8z(input.c_str(), &output, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  if (rc != IDN2_OK || output == nullptr) {
    idn2_free(output);
    return std::nullopt;
  }
  std::string out(output);
  idn2_free(output);
  return out;
}

// Drops one leading "www." when at least two labels remain ("www.com" stays).
void DropWww(std::string* host) {
  if (StartsWithNoCase(*host, "www.") && host->find('.', 4) != std::string::npos) host->erase(0, 4);
}

// Lower-cases, collapses repeated dots and trims dots at both ends.
std::string CollapseHost(std::string_view host) {
  std::string collapsed;
  collapsed.reserve(host.size());
  for (char c : host) {
    c = Lower(c);
    if (c == '.' && (collapsed.empty() || collapsed.back() == '.')) continue;
    collapsed.push_back(c);
  }
  while (!collapsed.empty() && collapsed.back() == '.') collapsed.pop_back();
  return collapsed;
}

// The common case, a plain ASCII name ("Evil.example.com"), which needs none of
// NormalizeUrlHost's copies: CollapseHost would only lower-case it (no empty label, no dot
// at either end), it is no address (it starts with a letter) and needs no IDN conversion or
// percent-decoding. Its key is then NormalizeDomain(DropWww(raw_host)).
bool IsPlainHost(std::string_view raw_host) {
  char first = raw_host.empty() ? '\0' : Lower(raw_host.front());
  return first >= 'a' && first <= 'z' && raw_host.back() != '.' &&
         raw_host.find("..") == std::string_view::npos &&
         std::all_of(raw_host.begin(), raw_host.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80 && c != '%'; });
}

std::string_view DropWww(std::string_view host) {
  if (StartsWithNoCase(host, "www.") && host.find('.', 4) != std::string_view::npos) {
    host.remove_prefix(4);
  }
  return host;
}

// Canonical host for a URL key; nullopt when it is neither an address nor a DNS name.
std::optional<std::string> NormalizeUrlHost(std::string_view raw_host) {
  if (IsPlainHost(raw_host)) return NormalizeDomain(DropWww(raw_host));
  // A strict dotted quad ("10.1.2.3", no leading zeros) is its own canonical text: what
  // inet_aton and Ipv4Text below would make of it, without their parsing and formatting.
  if (ParseIpv4(raw_host)) return std::string(raw_host);
  std::string decoded;
  std::string_view host = raw_host;
  if (host.find('%') != std::string_view::npos) {
    decoded = PercentDecode(host);
    host = decoded;
  }
  // Collapse repeated dots and trim dots at both ends.
  std::string collapsed = CollapseHost(host);
  if (collapsed.empty()) return std::nullopt;
  if (collapsed.front() == '[') {
    auto v6 = ParseIpv6(std::string_view(collapsed).substr(1, collapsed.size() - 2));
    if (!v6) return std::nullopt;
    Indicator ind = MakeIpv6(*v6);
    return ind.type == IndicatorType::kIpv4 ? ind.Display() : "[" + ind.Display() + "]";
  }
  // Numeric IPv4 forms browsers accept (hex, octal, integer, short forms): inet_aton's grammar.
  bool numeric = std::all_of(collapsed.begin(), collapsed.end(),
                             [](char c) { return IsHexDigit(c) || c == '.' || c == 'x'; }) &&
                 IsDigit(collapsed.front());
  if (numeric) {
    in_addr addr;
    if (inet_aton(collapsed.c_str(), &addr) != 0) return Ipv4Text(ntohl(addr.s_addr));
  }
  if (HasNonAscii(collapsed)) {
    auto ascii = IdnToAscii(collapsed);
    if (!ascii) return std::nullopt;
    collapsed = CollapseHost(*ascii);
  }
  DropWww(&collapsed);
  return NormalizeDomain(collapsed);
}

// Host of a URL mask: as NormalizeUrlHost, but '*' may stand in labels (never read as an
// address); runs of '*' collapse. nullopt without a label free of '*' or when a label is
// not a DNS label once its '*' are taken out.
std::optional<std::string> NormalizeMaskHost(std::string_view raw_host) {
  std::string host = CollapseHost(PercentDecode(raw_host));
  if (host.find('*') == std::string::npos) return NormalizeUrlHost(host);
  DropWww(&host);
  std::string out;
  bool has_fixed_label = false;
  size_t start = 0;
  while (start <= host.size()) {
    size_t dot = host.find('.', start);
    if (dot == std::string::npos) dot = host.size();
    std::string label = host.substr(start, dot - start);
    std::string squeezed;
    for (char c : label) {
      if (c == '*' && !squeezed.empty() && squeezed.back() == '*') continue;
      squeezed.push_back(c);
    }
    if (squeezed.find('*') == std::string::npos) {
      has_fixed_label = true;
      if (HasNonAscii(squeezed)) {
        auto ascii = IdnToAscii(squeezed);
        if (!ascii) return std::nullopt;
        squeezed = ToLower(*ascii);
      }
    }
    for (char c : squeezed) {
      bool ok = (c >= 'a' && c <= 'z') || IsDigit(c) || c == '-' || c == '_' || c == '*';
      if (!ok) return std::nullopt;
    }
    if (squeezed.empty() || squeezed.size() > 63) return std::nullopt;
    if (!out.empty()) out.push_back('.');
    out += squeezed;
    start = dot + 1;
  }
  if (!has_fixed_label || out.size() > 253) return std::nullopt;
  return out;
}

// Writes s percent-decoded and lower-cased to dst (room for s.size() bytes: decoding never
// lengthens); returns how many bytes it wrote.
size_t PercentDecodeLowerInto(std::string_view s, char* dst) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      dst[n++] = Lower(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      dst[n++] = Lower(s[i]);
    }
  }
  return n;
}

// Appends s to *out, percent-decoded and lower-cased.
void AppendPercentDecodedLower(std::string_view s, std::string* out) {
  size_t n = out->size();
  out->resize(n + s.size());
  out->resize(n + PercentDecodeLowerInto(s, out->data() + n));
}

// Whether NormalizePath(percent-decoded, lower-cased path) is the path merely lower-cased
// (or "/" when empty): no escapes, no '\', no empty, "." or ".." segments. Most paths in
// logs are; they then need no copies.
bool IsPlainPath(std::string_view path) {
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%' || c == '\\') return false;
    if (c == '/' && i + 1 < path.size() && (path[i + 1] == '/' || path[i + 1] == '.')) return false;
  }
  return true;
}

// Resolves "." and ".." segments and collapses empty segments of an absolute path.
std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t start = 1;  // path starts with '/'
  bool trailing_slash = path.size() > 1 && path.back() == '/';
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    start = end + 1;
  }
  std::string out;
  for (std::string_view seg : segments) {
    out += '/';
    out += seg;
  }
  if (out.empty() || trailing_slash) out += '/';
  return out;
}

}  // namespace

std::string_view TypeName(IndicatorType type) {
  switch (type) {
    case IndicatorType::kIpv4: return "ipv4";
    case IndicatorType::kIpv6: return "ipv6";
    case IndicatorType::kCidr4: return "cidr4";
    case IndicatorType::kCidr6: return "cidr6";
    case IndicatorType::kDomain: return "domain";
    case IndicatorType::kUrl: return "url";
    case IndicatorType::kMd5: return "md5";
    case IndicatorType::kSha1: return "sha1";
    case IndicatorType::kSha256: return "sha256";
    case IndicatorType::kUrlMask: return "url-mask";
    case IndicatorType::kSha512: return "sha512";
  }
  return "unknown";
}

std::optional<IndicatorType> ParseTypeName(std::string_view name) {
  std::string n = ToLower(Trim(name));
  for (IndicatorType t : kAllIndicatorTypes) {
    if (n == TypeName(t)) return t;
  }
  struct Alias {
    std::string_view name;
    IndicatorType type;
  };
  static constexpr Alias kAliases[] = {
      {"ip", IndicatorType::kIpv4},          {"ipv4-addr", IndicatorType::kIpv4},
      {"ip-dst", IndicatorType::kIpv4},      {"ip-src", IndicatorType::kIpv4},
      {"ipv6-addr", IndicatorType::kIpv6},   {"cidr", IndicatorType::kCidr4},
      {"subnet", IndicatorType::kCidr4},     {"domain-name", IndicatorType::kDomain},
      {"hostname", IndicatorType::kDomain},  {"fqdn", IndicatorType::kDomain},
      {"uri", IndicatorType::kUrl},          {"sha-1", IndicatorType::kSha1},
      {"sha-256", IndicatorType::kSha256},  {"sha-512", IndicatorType::kSha512},
      {"mask", IndicatorType::kUrlMask},     {"url_mask", IndicatorType::kUrlMask},
  };
  for (const Alias& a : kAliases) {
    if (n == a.name) return a.type;
  }
  return std::nullopt;
}

std::string Indicator::Encoded() const {
  std::string out;
  out.reserve(key.size() + 1);
  out.push_back(static_cast<char>(type));
  out += key;
  return out;
}

std::optional<Indicator> Indicator::Decode(std::string_view encoded) {
  if (encoded.empty()) return std::nullopt;
  auto type = static_cast<IndicatorType>(encoded[0]);
  std::string_view key = encoded.substr(1);
  size_t want = 0;
  switch (type) {
    case IndicatorType::kIpv4: want = 4; break;
    case IndicatorType::kIpv6: want = 16; break;
    case IndicatorType::kCidr4: want = 5; break;
    case IndicatorType::kCidr6: want = 17; break;
    case IndicatorType::kMd5: want = 16; break;
    case IndicatorType::kSha1: want = 20; break;
    case IndicatorType::kSha256: want = 32; break;
    case IndicatorType::kSha512: want = 64; break;
    case IndicatorType::kDomain:
    case IndicatorType::kUrl:
    case IndicatorType::kUrlMask:
      if (key.empty()) return std::nullopt;
      return Indicator{type, std::string(key)};
    default: return std::nullopt;
  }
  if (key.size() != want) return std::nullopt;
  return Indicator{type, std::string(key)};
}

std::string Indicator::Display() const {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (type) {
    case IndicatorType::kIpv4: return Ipv4Text(ReadBigEndian32(key));
    case IndicatorType::kIpv6: return Ipv6Text(key);
    case IndicatorType::kCidr4:
      return Ipv4Text(ReadBigEndian32(key)) + "/" + std::to_string(static_cast<uint8_t>(key[4]));
    case IndicatorType::kCidr6:
      return Ipv6Text(key.substr(0, 16)) + "/" + std::to_string(static_cast<uint8_t>(key[16]));
    case IndicatorType::kDomain:
    case IndicatorType::kUrl:
    case IndicatorType::kUrlMask: return key;
    case IndicatorType::kMd5:
    case IndicatorType::kSha1:
    case IndicatorType::kSha256:
    case IndicatorType::kSha512: {
      std::string out;
      out.reserve(key.size() * 2);
      for (unsigned char c : key) {
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
      }
      return out;
    }
  }
  return {};
}

std::string Refang(std::string_view text) {
  struct Rule {
    std::string_view from;
    std::string_view to;
  };
  // Longest first where one rule's text contains another's.
  static constexpr Rule kRules[] = {
      {"[://]", "://"}, {"[:]", ":"},   {"[.]", "."}, {"(.)", "."}, {"{.}", "."},
      {"[dot]", "."},   {"(dot)", "."}, {"\\.", "."}, {"[@]", "@"},
  };
  std::string_view t = Trim(text);
  // Fast path: nearly every line of a feed is not defanged at all.
  if (FindAny(t, "[({\\") == std::string_view::npos && !StartsWithNoCase(t, "hxxp") &&
      !StartsWithNoCase(t, "fxp")) {
    return std::string(t);
  }
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  if (StartsWithNoCase(t, "hxxp")) {
    out += "http";
    i = 4;
  } else if (StartsWithNoCase(t, "fxp")) {
    out += "ftp";
    i = 3;
  }
  while (i < t.size()) {
    bool replaced = false;
    for (const Rule& r : kRules) {
      if (t.size() - i >= r.from.size() && StartsWithNoCase(t.substr(i), r.from)) {
        out += r.to;
        i += r.from.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) out.push_back(t[i++]);
  }
  return out;
}

std::optional<std::array<uint8_t, 16>> ParseIpv6(std::string_view text) {
  if (text.size() < 2 || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  std::array<uint8_t, 16> out;
  if (inet_pton(AF_INET6, buf, out.data()) != 1) return std::nullopt;
  return out;
}

namespace {

// NormalizeDomain's check of an ASCII name (no trailing dot), writing it lower-cased to
// out (text.size() bytes). False when it is no valid DNS name.
bool LowerValidDomain(std::string_view text, char* out) {
  size_t label_len = 0;
  size_t labels = 1;
  bool last_label_numeric = true;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = Lower(text[i]);
    if (c == '.') {
      if (label_len == 0) return false;
      ++labels;
      label_len = 0;
      last_label_numeric = true;
    } else if ((c >= 'a' && c <= 'z') || IsDigit(c) || c == '-' || c == '_') {
      if (++label_len > 63) return false;
      if (!IsDigit(c)) last_label_numeric = false;
    } else {
      return false;
    }
    out[i] = c;
  }
  return label_len != 0 && labels >= 2 && !last_label_numeric;
}

// NormalizeDomain, appending to *out (left as it was on failure): a URL key starts with
// its host, and building it in place spares a copy.
bool AppendNormalizedDomain(std::string_view text, std::string* out) {
  std::string ascii;
  if (HasNonAscii(text)) {
    auto converted = IdnToAscii(text);
    if (!converted) return false;
    ascii = std::move(*converted);
    text = ascii;
  }
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty() || text.size() > 253) return false;
  const size_t base = out->size();
  // Written by index, not push_back: this runs for every domain found in a log line.
  out->resize(base + text.size());
  if (!LowerValidDomain(text, out->data() + base)) {
    out->resize(base);
    return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> NormalizeDomain(std::string_view text) {
  std::string out;
  if (!AppendNormalizedDomain(text, &out)) return std::nullopt;
  return out;
}

bool IsNormalizableDomain(std::string_view text) {
  if (HasNonAscii(text)) return NormalizeDomain(text).has_value();
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty() || text.size() > 253) return false;
  std::array<char, 253> lowered;
  return LowerValidDomain(text, lowered.data());
}

bool IsPublicSuffix(std::string_view normalized_domain) {
  // The newest of the built-in list and the system's; loaded once, then read-only.
  static const psl_ctx_t* const kPsl = [] {
    const psl_ctx_t* latest = psl_latest(nullptr);
    return latest != nullptr ? latest : psl_builtin();
  }();
  if (kPsl == nullptr || normalized_domain.empty()) return false;
  std::string name(normalized_domain);
  return psl_is_public_suffix2(kPsl, name.c_str(), PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE) != 0;
}

std::string_view UrlHost(std::string_view url) { return HostOfAuthority(AuthorityOf(url)); }

namespace {

#if defined(__SSE2__)
// The path step of NormalizePlainUrl.
constexpr size_t kPathBlock = 16;
#endif

// NormalizeUrl's result for the common URL, in one pass over it: false (and *out in any
// state) when the URL needs the general path of NormalizeUrlImpl. text is what follows the
// scheme. Taken here: a host that is a valid ASCII DNS name starting with a letter (what
// IsPlainHost + AppendNormalizedDomain accept: no userinfo, port, escape, empty label or
// trailing dot) ending at '/', '?', '#' or the end, and a path that IsPlainPath accepts.
// *host_size: the host's length in text (the key's first host_size bytes are then
// NormalizeDomain(host), before a leading "www." is dropped); *dropped_www: whether it was.
bool NormalizePlainUrl(std::string_view text, std::string* out, size_t* host_size,
                       bool* dropped_www) {
  const char* p = text.data();
  const size_t n = text.size();
  if (n == 0) return false;
  const char first = Lower(p[0]);
  if (first < 'a' || first > 'z') return false;
  // Host + '/' + '?' + query is at most one byte longer than text.
  out->resize(n + 1);
  char* dst = out->data();
  // LowerValidDomain's checks, stopping where the host ends.
  size_t i = 0;
  size_t label_len = 0;
  size_t labels = 1;
  bool last_label_numeric = true;
#if defined(__SSE2__)
  // 16 bytes a step while 16 are left: the same checks as the loop below, from bit masks of
  // the block's host bytes, dots and digits. The lower-cased block is stored whole; bytes
  // past the host are overwritten by the path and query, or cut, as in the path step.
  while (i + kPathBlock <= n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    auto in_range = [](__m128i x, char lo, char hi) {  // signed: bytes >= 0x80 are not
      return _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(static_cast<char>(lo - 1))),
                           _mm_cmplt_epi8(x, _mm_set1_epi8(static_cast<char>(hi + 1))));
    };
    const __m128i lowered =
        _mm_add_epi8(v, _mm_and_si128(in_range(v, 'A', 'Z'), _mm_set1_epi8(0x20)));
    const __m128i dot = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
    const __m128i digit = in_range(v, '0', '9');
    const __m128i word = _mm_or_si128(
        in_range(lowered, 'a', 'z'),
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('-')), _mm_cmpeq_epi8(v, _mm_set1_epi8('_'))));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), lowered);
    const auto host =
        static_cast<uint32_t>(_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(word, dot), digit)));
    const uint32_t stop = ~host & 0xffffu;
    const size_t len = stop != 0 ? static_cast<size_t>(__builtin_ctz(stop)) : kPathBlock;
    const uint32_t range = (1u << len) - 1;
    const uint32_t dots = static_cast<uint32_t>(_mm_movemask_epi8(dot)) & range;
    const uint32_t words = static_cast<uint32_t>(_mm_movemask_epi8(word)) & range;
    if (dots != 0) {
      // An empty label: a dot first in the host or after a dot.
      if (((dots & 1u) != 0 && label_len == 0) || (dots & (dots << 1)) != 0) return false;
      // Only the label running in from earlier blocks can reach 64 bytes.
      if (label_len + static_cast<size_t>(__builtin_ctz(dots)) > 63) return false;
      const size_t last = 31 - static_cast<size_t>(__builtin_clz(dots));
      // Bits set in 16 (without -mpopcnt, __builtin_popcount is a call into libgcc).
      uint32_t count = dots - ((dots >> 1) & 0x5555u);
      count = (count & 0x3333u) + ((count >> 2) & 0x3333u);
      count = (count + (count >> 4)) & 0x0f0fu;
      labels += (count + (count >> 8)) & 0x1fu;
      label_len = len - last - 1;
      last_label_numeric = (words >> (last + 1)) == 0;
    } else {
      label_len += len;
      if (label_len > 63) return false;
      last_label_numeric = last_label_numeric && words == 0;
    }
    i += len;
    if (len < kPathBlock) break;
  }
#endif
  for (; i < n; ++i) {
    const char c = Lower(p[i]);
    if (c == '.') {
      if (label_len == 0) return false;
      ++labels;
      label_len = 0;
      last_label_numeric = true;
    } else if ((c >= 'a' && c <= 'z') || c == '-' || c == '_') {
      if (++label_len > 63) return false;
      last_label_numeric = false;
    } else if (IsDigit(c)) {
      if (++label_len > 63) return false;
    } else {
      break;
    }
    dst[i] = c;
  }
  if (i < n && p[i] != '/' && p[i] != '?' && p[i] != '#') return false;
  if (label_len == 0 || labels < 2 || last_label_numeric || i > 253) return false;
  *host_size = i;
  // The path, lower-cased in place of the input's bytes.
  size_t j = i;
#if defined(__SSE2__)
  // 16 bytes a step while 17 are left (the '/' check reads the byte after): the same
  // checks as the loop below, in its order, for the first byte that ends the path ('?',
  // '#') or refuses it ('%', '\', "//", "/."). The bytes written past a '?' or '#' are
  // overwritten by the query or cut by the resize below, as every byte after j is.
  while (j + kPathBlock + 1 <= n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + j));
    const __m128i next = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + j + 1));
    auto is = [](__m128i x, char c) { return _mm_cmpeq_epi8(x, _mm_set1_epi8(c)); };
    const auto stop = static_cast<uint32_t>(_mm_movemask_epi8(_mm_or_si128(is(v, '?'), is(v, '#'))));
    const __m128i bad_pair = _mm_and_si128(is(v, '/'), _mm_or_si128(is(next, '/'), is(next, '.')));
    const auto refuse = static_cast<uint32_t>(
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(is(v, '%'), is(v, '\\')), bad_pair)));
    const uint32_t ends = stop | refuse;
    if (ends != 0 && (refuse & (ends & (0u - ends))) != 0) return false;
    // Signed compares: bytes >= 0x80 are negative and stay as they are.
    const __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('A' - 1)),
                                        _mm_cmplt_epi8(v, _mm_set1_epi8('Z' + 1)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + j),
                     _mm_add_epi8(v, _mm_and_si128(upper, _mm_set1_epi8(0x20))));
    if (ends != 0) {
      j += static_cast<size_t>(__builtin_ctz(ends));
      break;
    }
    j += kPathBlock;
  }
#endif
  for (; j < n; ++j) {
    const char c = p[j];
    if (c == '?' || c == '#') break;
    if (c == '%' || c == '\\') return false;
    if (c == '/' && j + 1 < n && (p[j + 1] == '/' || p[j + 1] == '.')) return false;
    dst[j] = Lower(c);
  }
  std::string_view query;
  if (j < n && p[j] == '?') {
    query = text.substr(j + 1);
    query = query.substr(0, query.find('#'));
  }
  // A path of "/" or none is left out, unless a query follows; an empty query is dropped.
  size_t end = j - i > 1 ? j : i;
  if (!query.empty()) {
    if (j - i <= 1) dst[end++] = '/';
    dst[end++] = '?';
    end += PercentDecodeLowerInto(query, dst + end);
  }
  out->resize(end);
  // DropWww: "www." and at least two labels after it.
  *dropped_www = labels >= 3 && i >= 4 && std::memcmp(dst, "www.", 4) == 0;
  if (*dropped_www) out->erase(0, 4);
  return true;
}

// NormalizeUrl and NormalizeUrlMask: the same steps, the host read one way or the other.
std::optional<std::string> NormalizeUrlImpl(std::string_view text, bool mask,
                                            UrlHostParts* host_parts = nullptr) {
  const bool untrimmed = Trim(text).size() == text.size();
  text = Trim(text);
  bool had_scheme = false;
  if (HasScheme(text)) {
    text.remove_prefix(text.find("://") + 3);
    had_scheme = true;
  } else if (text.size() > 2 && text[0] == '/' && text[1] == '/') {
    text.remove_prefix(2);
  }
  if (!mask) {
    std::string key;
    size_t host_size = 0;
    bool dropped_www = false;
    if (NormalizePlainUrl(text, &key, &host_size, &dropped_www)) {
      // UrlHost() does not trim: with surrounding whitespace it may read another host.
      if (host_parts != nullptr && had_scheme && untrimmed) {
        host_parts->host = text.substr(0, host_size);
        // The host lower-cased is the key's start, after "www." if that was dropped.
        if (dropped_www) {
          host_parts->domain_key.assign("www.");
          host_parts->domain_key.append(key, 0, host_size - 4);
        } else {
          host_parts->domain_key.assign(key, 0, host_size);
        }
      }
      return key;
    }
  }
  size_t hash = text.find('#');
  if (hash != std::string_view::npos) text = text.substr(0, hash);
  std::string_view authority = text.substr(0, FindAny(text, "/?\\"));
  std::string_view rest = text.substr(authority.size());
  const std::string_view raw_host = HostOfAuthority(authority);

  std::string_view path = rest;
  std::string_view query;
  size_t q = rest.find('?');  // memchr: paths are long enough for it to pay
  if (q != std::string_view::npos) {
    path = rest.substr(0, q);
    query = rest.substr(q + 1);
  }
  // An empty query is dropped; a non-empty one decodes to a non-empty one.
  bool has_query = !query.empty();

  std::string out;
  if (!mask && IsPlainHost(raw_host)) {
    // The key is built in one string, sized once.
    out.reserve(raw_host.size() + rest.size() + 1);
    if (!AppendNormalizedDomain(DropWww(raw_host), &out)) return std::nullopt;
  } else {
    auto host = mask ? NormalizeMaskHost(raw_host) : NormalizeUrlHost(raw_host);
    if (!host) return std::nullopt;
    out = std::move(*host);
    out.reserve(out.size() + rest.size() + 1);
  }
  if (IsPlainPath(path)) {
    // path is empty or starts with '/': it is "/" (left out without a query) or more.
    if (path.size() > 1) {
      const size_t base = out.size();
      out.resize(base + path.size());
      for (size_t i = 0; i < path.size(); ++i) out[base + i] = Lower(path[i]);
    } else if (has_query) {
      out.push_back('/');
    }
  } else {
    std::string p(path);
    std::replace(p.begin(), p.end(), '\\', '/');
    if (p.empty()) p = "/";
    std::string decoded;
    AppendPercentDecodedLower(p, &decoded);
    p = NormalizePath(decoded);
    if (p != "/" || has_query) out += p;
  }
  if (has_query) {
    out += '?';
    AppendPercentDecodedLower(query, &out);
  }
  if (mask) {
    std::string squeezed;
    squeezed.reserve(out.size());
    for (char c : out) {
      if (c == '*' && !squeezed.empty() && squeezed.back() == '*') continue;
      squeezed.push_back(c);
    }
    out = std::move(squeezed);
  }
  return out;
}

}  // namespace

std::optional<std::string> NormalizeUrl(std::string_view text) { return NormalizeUrlImpl(text, false); }

std::optional<std::string> NormalizeUrl(std::string_view text, UrlHostParts* host_parts) {
  *host_parts = UrlHostParts{};
  return NormalizeUrlImpl(text, false, host_parts);
}

std::optional<std::string> NormalizeUrlMask(std::string_view text) {
  if (text.find('*') == std::string_view::npos) return std::nullopt;
  auto key = NormalizeUrlImpl(text, true);
  if (!key || key->find('*') == std::string::npos) return std::nullopt;
  return key;
}

std::string_view HostOfUrlKey(std::string_view key) { return key.substr(0, FindAny(key, "/?")); }

std::string_view UrlMaskFixedHost(std::string_view mask_key) {
  std::string_view host = HostOfUrlKey(mask_key);
  size_t star = host.rfind('*');
  if (star == std::string_view::npos) return host;
  size_t dot = host.find('.', star);
  return dot == std::string_view::npos ? std::string_view() : host.substr(dot + 1);
}

bool GlobMatch(std::string_view pattern, std::string_view text, bool ignore_ascii_case) {
  auto same = [ignore_ascii_case](char a, char b) {
    if (!ignore_ascii_case) return a == b;
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return lower(a) == lower(b);
  };
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_t = t;
    } else if (p < pattern.size() && same(pattern[p], text[t])) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool UrlMaskMatches(std::string_view mask_key, std::string_view url_key) {
  const std::string_view mask_host = HostOfUrlKey(mask_key);
  const std::string_view url_host = HostOfUrlKey(url_key);
  if (!GlobMatch(mask_host, url_host)) return false;
  const std::string_view mask_rest = mask_key.substr(mask_host.size());
  if (mask_rest.empty()) return true;
  std::string_view url_rest = url_key.substr(url_host.size());
  if (url_rest.empty()) url_rest = "/";
  return GlobMatch(mask_rest, url_rest);
}

std::optional<std::string> DecodeHexDigest(std::string_view hex) {
  if (hex.size() != 32 && hex.size() != 40 && hex.size() != 64 && hex.size() != 128) {
    return std::nullopt;
  }
  // Decoded into a buffer on the stack, checked as a whole, then copied once (no growth
  // check per byte; extraction calls this for every digest-shaped token).
  char raw[64];
  int bad = 0;
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = HexValue(hex[i]);
    const int lo = HexValue(hex[i + 1]);
    bad |= hi | lo;  // negative if either is not a hex digit
    raw[i / 2] = static_cast<char>(hi * 16 + lo);
  }
  if (bad < 0) return std::nullopt;
  return std::string(raw, hex.size() / 2);
}

namespace {

Result<Indicator> DomainIndicator(std::string domain) {
  if (IsPublicSuffix(domain)) {
    return Status::InvalidArgument("a public suffix (would match a whole registry): " + Quoted(domain));
  }
  return Indicator{IndicatorType::kDomain, std::move(domain)};
}

Result<Indicator> UrlMaskIndicator(std::string_view s) {
  auto key = NormalizeUrlMask(s);
  if (!key) return Status::InvalidArgument("URL mask without a valid host: " + Quoted(s));
  // "*.com", "*.*.co.uk/x": nothing but '*' labels in front of a public suffix.
  const std::string_view host = HostOfUrlKey(*key);
  const std::string_view fixed = UrlMaskFixedHost(*key);
  const std::string_view wild = host.substr(0, host.size() - fixed.size());
  if (std::all_of(wild.begin(), wild.end(), [](char c) { return c == '*' || c == '.'; }) &&
      (fixed.empty() || IsPublicSuffix(fixed))) {
    return Status::InvalidArgument("URL mask on a whole public suffix: " + Quoted(s));
  }
  return Indicator{IndicatorType::kUrlMask, std::move(*key)};
}

}  // namespace

Result<Indicator> ParseIndicator(std::string_view text) {
  std::string_view s = Trim(text);
  if (s.empty()) return Status::InvalidArgument("empty indicator");
  if (s.find('*') != std::string_view::npos) {
    if (FindAny(s, " \t") != std::string_view::npos && !HasScheme(s)) {
      return Status::InvalidArgument("not a recognised indicator (contains whitespace): " + Quoted(s));
    }
    return UrlMaskIndicator(s);
  }
  if (HasScheme(s)) {
    if (auto url = NormalizeUrl(s)) return Indicator{IndicatorType::kUrl, std::move(*url)};
    return Status::InvalidArgument("URL without a valid host: " + Quoted(s));
  }
  if (FindAny(s, " \t") != std::string_view::npos) {
    return Status::InvalidArgument("not a recognised indicator (contains whitespace): " + Quoted(s));
  }
  if (auto hash = ParseHash(s)) return *std::move(hash);
  if (auto addr = ParseAddress(s)) return *std::move(addr);
  if (s.find('/') != std::string_view::npos) {
    if (auto cidr = ParseCidr(s)) return *std::move(cidr);
    std::string_view after = s.substr(s.find('/') + 1);
    if (!after.empty() && std::all_of(after.begin(), after.end(), IsDigit)) {
      return Status::InvalidArgument("bad CIDR prefix length: " + Quoted(s));
    }
    std::string_view host = HostOfAuthority(AuthorityOf(s));
    if (ParseIpv4(host) || NormalizeDomain(host)) {
      if (auto url = NormalizeUrl(s)) return Indicator{IndicatorType::kUrl, std::move(*url)};
    }
    return Status::InvalidArgument("not a CIDR range or URL: " + Quoted(s));
  }
  if (auto domain = NormalizeDomain(s)) return DomainIndicator(std::move(*domain));
  return Status::InvalidArgument("not a recognised indicator: " + Quoted(s));
}

Result<Indicator> ParseIndicatorAs(IndicatorType type, std::string_view text) {
  std::string_view s = Trim(text);
  std::optional<Indicator> got;
  switch (type) {
    case IndicatorType::kIpv4:
    case IndicatorType::kIpv6:
      got = ParseAddress(s);
      break;
    case IndicatorType::kCidr4:
    case IndicatorType::kCidr6:
      got = s.find('/') != std::string_view::npos ? ParseCidr(s) : ParseAddress(s);
      break;
    case IndicatorType::kDomain:
      if (auto d = NormalizeDomain(s)) return DomainIndicator(std::move(*d));
      break;
    case IndicatorType::kUrl:
    case IndicatorType::kUrlMask:
      // A URL column may hold masks; a mask column may hold plain URLs.
      if (s.find('*') != std::string_view::npos) return UrlMaskIndicator(s);
      if (auto u = NormalizeUrl(s)) got = Indicator{IndicatorType::kUrl, std::move(*u)};
      break;
    case IndicatorType::kMd5:
    case IndicatorType::kSha1:
    case IndicatorType::kSha256:
    case IndicatorType::kSha512:
      got = ParseHash(s);
      if (got && got->type != type) got.reset();
      break;
  }
  if (!got) {
    return Status::InvalidArgument("not a valid " + std::string(TypeName(type)) + ": " + Quoted(s));
  }
  return *std::move(got);
}

}  // namespace iocd
