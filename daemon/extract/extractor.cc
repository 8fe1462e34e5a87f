#include "extract/extractor.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

#include <libpsl.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace iocd {
namespace {

using CharTable = std::array<bool, 256>;

constexpr bool IsAlpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
constexpr bool IsAlnum(unsigned char c) { return IsAlpha(c) || IsDigit(c); }
constexpr bool IsHexLetter(unsigned char c) {
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
constexpr char Lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr CharTable MakeTable(bool (*pred)(unsigned char)) {
  CharTable t{};
  for (int c = 0; c < 256; ++c) t[static_cast<size_t>(c)] = pred(static_cast<unsigned char>(c));
  return t;
}

constexpr bool In(unsigned char c, std::string_view set) {
  return set.find(static_cast<char>(c)) != std::string_view::npos;
}

// Bytes that may be part of a token between URLs. Everything else (whitespace, control
// and non-ASCII bytes, quotes, brackets, ',', ';', '|', '\') separates tokens. '=' is kept
// here and split on later so that a scheme-less URL's query survives.
constexpr CharTable kTokenChar =
    MakeTable([](unsigned char c) { return IsAlnum(c) || In(c, "._:/?#@%&=+~-$!*"); });

// Bytes that continue a URL with a scheme: printable ASCII except quotes, angle brackets
// and the characters logs use as field delimiters or escapes.
constexpr CharTable kUrlChar =
    MakeTable([](unsigned char c) { return c > 0x20 && c < 0x7f && !In(c, "\"'`<>\\|{}^"); });

// Punctuation trimmed from both ends of a piece ("evil.com.", "(1.2.3.4):" after the
// brackets are gone). ':' is handled separately so "::1" and "2001:db8::" survive; '_' is
// only trimmed at the end, because "_dmarc.example.com" is a name.
constexpr CharTable kEdgePunct = MakeTable([](unsigned char c) { return In(c, ".,;!?~#%&+*$@-"); });

// Trailing characters dropped from a URL with a scheme.
constexpr CharTable kUrlTrailingPunct = MakeTable([](unsigned char c) { return In(c, ".,;:!?*"); });

// Where a host ends in a scheme-less URL, and the first of those that can start one.
constexpr CharTable kHostEnd = MakeTable([](unsigned char c) { return In(c, "/?#"); });
constexpr CharTable kPathStart = MakeTable([](unsigned char c) { return In(c, "/?"); });
constexpr CharTable kQueryOrEquals = MakeTable([](unsigned char c) { return In(c, "=?#"); });

bool Is(const CharTable& table, char c) { return table[static_cast<unsigned char>(c)]; }

// Per byte: whether it is part of a token, and the bytes that make a token worth
// classifying (see ScanPlain).
enum : uint8_t {
  kClassToken = 1,     // kTokenChar
  kClassDotColon = 2,  // '.' or ':'
  kClassHex = 4,       // 0-9 a-f A-F
  kClassSplit = 8,     // '=', '/', '?', '#': bytes that SplitOnEquals cuts pieces at
};
constexpr std::array<uint8_t, 256> MakeClassTable() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    auto u = static_cast<unsigned char>(c);
    uint8_t bits = 0;
    if (u == '.' || u == ':') bits |= kClassDotColon;
    if (IsDigit(u) || IsHexLetter(u)) bits |= kClassHex;
    if (kTokenChar[u]) bits |= kClassToken;
    if (u == '=' || u == '/' || u == '?' || u == '#') bits |= kClassSplit;
    t[u] = bits;
  }
  return t;
}
constexpr std::array<uint8_t, 256> kClass = MakeClassTable();

// One block of the first pass: bit i of each mask describes byte i.
constexpr size_t kBlock = 16;
constexpr uint32_t kFullBlock = 0xffff;
struct BlockMasks {
  uint32_t dot_colon;  // '.' or ':'
  uint32_t hex;        // 0-9 a-f A-F
};

// The masks of n <= kBlock bytes, one at a time.
BlockMasks ClassifyBytes(const char* p, size_t n) {
  BlockMasks m{0, 0};
  for (size_t i = 0; i < n; ++i) {
    // Branch-free: these bytes are a short field value's, and unpredictable.
    uint32_t c = kClass[static_cast<unsigned char>(p[i])];
    m.dot_colon |= ((c & kClassDotColon) != 0 ? 1u : 0u) << i;
    m.hex |= ((c & kClassHex) != 0 ? 1u : 0u) << i;
  }
  return m;
}

// The masks of the kBlock bytes at p.
BlockMasks ClassifyBlock(const char* p) {
#if defined(__SSE2__)
  __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  __m128i dot_colon =
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('.')), _mm_cmpeq_epi8(v, _mm_set1_epi8(':')));
  // Signed compares: bytes >= 0x80 are negative and fall outside both ranges. OR-ing 0x20
  // maps 'A'-'F' (and only them, besides 'a'-'f') onto 'a'-'f'.
  __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                                _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
  __m128i folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
  __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(folded, _mm_set1_epi8('a' - 1)),
                                 _mm_cmplt_epi8(folded, _mm_set1_epi8('f' + 1)));
  return BlockMasks{static_cast<uint32_t>(_mm_movemask_epi8(dot_colon)),
                    static_cast<uint32_t>(_mm_movemask_epi8(_mm_or_si128(digit, letter)))};
#else
  return ClassifyBytes(p, kBlock);
#endif
}

// The masks of the n < kBlock bytes at text[from, from + n): a whole block that ends where
// they end, shifted, when the text has one (no copy into a padded buffer: a store and a
// wider load of the same bytes stall), else one byte at a time. Bits >= n are clear.
BlockMasks ClassifyTail(std::string_view text, size_t from, size_t n) {
  if (from + n < kBlock) return ClassifyBytes(text.data() + from, n);
  BlockMasks m = ClassifyBlock(text.data() + from + n - kBlock);
  auto shift = static_cast<uint32_t>(kBlock - n);
  return BlockMasks{m.dot_colon >> shift, m.hex >> shift};
}

// Whether s holds a run of at least 32 hex digits: the only way a token without '.' or ':'
// can hold an observable (an md5, sha1 or sha256 digest).
bool HasLongHexRun(std::string_view s) {
  constexpr size_t kShortestDigest = 32;
  if (s.size() < kShortestDigest) return false;
  size_t run = 0;
  for (char c : s) {
    run = (kClass[static_cast<unsigned char>(c)] & kClassHex) ? run + 1 : 0;
    if (run >= kShortestDigest) return true;
  }
  return false;
}

// std::string_view::find_first_of calls memchr once per byte; a table lookup is cheaper.
size_t FindFirst(std::string_view s, const CharTable& table, size_t from = 0) {
  for (size_t i = from; i < s.size(); ++i) {
    if (Is(table, s[i])) return i;
  }
  return std::string_view::npos;
}

// string_view::find(char) calls memchr; on the short tokens of a log line a loop is faster.
size_t FindByte(std::string_view s, char c, size_t from) {
  for (size_t i = from; i < s.size(); ++i) {
    if (s[i] == c) return i;
  }
  return std::string_view::npos;
}

std::string_view TrimEdges(std::string_view s) {
  while (!s.empty() && Is(kEdgePunct, s.front())) s.remove_prefix(1);
  while (!s.empty() && (Is(kEdgePunct, s.back()) || s.back() == '_')) s.remove_suffix(1);
  return s;
}

// ParseIpv4's cheapest refusals, inline: it is called for most dotted atoms, and its
// std::optional return costs more than these checks.
bool MayBeIpv4(std::string_view s) { return s.size() >= 7 && s.size() <= 15 && IsDigit(s[0]); }

bool AllDigits(std::string_view s) { return std::all_of(s.begin(), s.end(), IsDigit); }

bool IsPort(std::string_view s) { return !s.empty() && s.size() <= 5 && AllDigits(s); }

bool EqualsNoCase(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != lower[i]) return false;
  }
  return true;
}

Indicator Ipv4Indicator(uint32_t addr) {
  Indicator ind{IndicatorType::kIpv4, std::string(4, '\0')};
  for (int i = 0; i < 4; ++i)
    ind.key[static_cast<size_t>(i)] = static_cast<char>(addr >> (24 - 8 * i));
  return ind;
}

// IPv4-mapped addresses are IPv4 observables, as ParseIndicator treats them.
Indicator Ipv6Indicator(const std::array<uint8_t, 16>& a) {
  bool mapped = std::all_of(a.begin(), a.begin() + 10, [](uint8_t b) { return b == 0; }) &&
                a[10] == 0xff && a[11] == 0xff;
  if (mapped) {
    return Ipv4Indicator((uint32_t{a[12]} << 24) | (uint32_t{a[13]} << 16) |
                         (uint32_t{a[14]} << 8) | uint32_t{a[15]});
  }
  return Indicator{IndicatorType::kIpv6, std::string(reinterpret_cast<const char*>(a.data()), 16)};
}

// text.find("://", from) without a memchr call per ':' (MAC addresses and timestamps make
// ':' common in logs): 16 positions per step where SSE2 is available.
size_t FindSchemeSeparator(std::string_view text, size_t from) {
  const char* p = text.data();
  size_t n = text.size();
  size_t i = from;
#if defined(__SSE2__)
  const __m128i colon = _mm_set1_epi8(':');
  const __m128i slash = _mm_set1_epi8('/');
  while (i + 18 <= n) {
    __m128i c0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    __m128i c1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 1));
    __m128i c2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 2));
    __m128i hit =
        _mm_and_si128(_mm_cmpeq_epi8(c0, colon),
                      _mm_and_si128(_mm_cmpeq_epi8(c1, slash), _mm_cmpeq_epi8(c2, slash)));
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
    if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(mask));
    i += 16;
  }
#endif
  for (; i + 3 <= n; ++i) {
    if (p[i] == ':' && p[i + 1] == '/' && p[i + 2] == '/') return i;
  }
  return std::string_view::npos;
}

struct UrlMatch {
  size_t begin;
  size_t end;
  std::string key;  // NormalizeUrl's output
};

// The first valid URL with a scheme starting at or after from.
std::optional<UrlMatch> FindNextUrl(std::string_view text, size_t from) {
  constexpr size_t kLongestScheme = 5;  // "https"
  size_t search = from;
  for (;;) {
    size_t sep = FindSchemeSeparator(text, search);
    if (sep == std::string_view::npos) return std::nullopt;
    search = sep + 3;
    size_t begin = sep;
    while (begin > from && sep - begin < kLongestScheme && IsAlpha(text[begin - 1])) --begin;
    if (begin > 0 && IsAlnum(text[begin - 1])) continue;  // "xhttp://", "1http://"
    std::string_view scheme = text.substr(begin, sep - begin);
    if (!EqualsNoCase(scheme, "http") && !EqualsNoCase(scheme, "https") &&
        !EqualsNoCase(scheme, "ftp")) {
      continue;
    }
    size_t end = sep + 3;
    while (end < text.size() && Is(kUrlChar, text[end])) ++end;
    // If this is no URL, nothing up to its end is searched again (a later "://" inside is
    // left to the plain-text pass): this keeps "http://http://http://..." linear.
    search = end;
    std::string_view url = text.substr(begin, end - begin);
    for (;;) {
      if (url.size() > scheme.size() + 3 && Is(kUrlTrailingPunct, url.back())) {
        url.remove_suffix(1);
      } else if (url.back() == ')' && url.find('(') == std::string_view::npos) {
        url.remove_suffix(1);
      } else if (url.back() == ']' && url.find('[') == std::string_view::npos) {
        url.remove_suffix(1);
      } else {
        break;
      }
    }
    if (url.size() <= scheme.size() + 3) continue;
    std::optional<std::string> key = NormalizeUrl(url);
    if (!key) continue;
    return UrlMatch{begin, begin + url.size(), std::move(*key)};
  }
}

// Collects observables for one ExtractObservables call; owns the deduplication.
class Collector {
 public:
  Collector(std::string_view input, std::vector<Observable>* out)
      : input_(input), out_(out), first_(out->size()) {}

  // Tokens are maximal runs of kTokenChar bytes. Only tokens that hold a '.' or ':'
  // (addresses, domains, URLs, "md5:<digest>") or a run of 32+ hex digits (a bare digest)
  // can yield an observable, so the text is examined 16 bytes at a time for those bytes
  // alone; a token is delimited (and classified) only around one of them. Most bytes of a
  // log line - words, numbers, padding - are never looked at one by one.
  //
  // Why 16-byte blocks find every digest: a run of 32+ hex digits covers at least one
  // whole block of the grid the scan steps on (the grid restarts after each classified
  // token, and a run cannot straddle a token's end), and that block is then all hex.
  void ScanPlain(size_t begin, size_t end) {
    const char* p = input_.data();
    size_t block = begin;
    size_t done = begin;  // everything before this has been classified or skipped
    while (block < end) {
      size_t n = std::min<size_t>(kBlock, end - block);
      BlockMasks m = n == kBlock ? ClassifyBlock(p + block) : ClassifyTail(input_, block, n);
      uint32_t candidates = m.dot_colon;
      if (m.hex == kFullBlock) candidates |= 1;
      while (candidates != 0) {
        size_t pos = block + static_cast<size_t>(__builtin_ctz(candidates));
        candidates &= candidates - 1;
        if (pos < done) continue;
        size_t start = pos;
        while (start > done && Is(kTokenChar, p[start - 1])) --start;
        size_t stop = start;
        uint8_t seen = 0;
        while (stop < end) {
          uint8_t c = kClass[static_cast<unsigned char>(p[stop])];
          if (!(c & kClassToken)) break;
          seen |= c;
          ++stop;
        }
        done = stop;
        std::string_view token = input_.substr(start, stop - start);
        if (token.empty() || (!(seen & kClassDotColon) && !HasLongHexRun(token))) continue;
        if (seen & kClassSplit) {
          SplitOnEquals(token);
        } else {
          // What SplitOnEquals comes to for a token without '=', '/', '?' or '#' (an
          // address, a domain, "host:port"), minus its searches for those bytes.
          token = TrimEdges(token);
          if (!token.empty()) ClassifyAtom(token);
        }
      }
      block = std::max(block + kBlock, done);
    }
  }

  void EmitUrl(std::string_view url, std::string key) {
    Emit(Indicator{IndicatorType::kUrl, std::move(key)}, url);
    std::string_view host = UrlHost(url);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
      if (auto v6 = ParseIpv6(host)) Emit(Ipv6Indicator(*v6), host);
    } else if (auto v4 = MayBeIpv4(host) ? ParseIpv4(host) : std::nullopt) {
      Emit(Ipv4Indicator(*v4), host);
    } else if (auto domain = NormalizeDomain(host)) {
      // The scheme says this is a host name: no LooksLikeDomainName() guess needed.
      Emit(Indicator{IndicatorType::kDomain, std::move(*domain)}, host);
    }
  }

 private:
  // A token between separators. '=' separates keys from values, except inside the query
  // of a scheme-less URL ("evil.com/gate.php?id=1"), so a piece is first tried as a URL
  // when a '/' or '?' comes before the next '='.
  void SplitOnEquals(std::string_view token) {
    // Trim the end once; trimming each remainder again would be quadratic.
    token = TrimEdges(token);
    size_t start = 0;
    size_t url_delim = FindFirst(token, kPathStart);
    while (start < token.size()) {
      if (url_delim != std::string_view::npos && url_delim < start) {
        url_delim = FindFirst(token, kPathStart, start);
      }
      size_t eq = FindByte(token, '=', start);
      if (url_delim != std::string_view::npos && url_delim < eq) {
        if (TryHostPath(TrimEdges(token.substr(start)))) return;
      }
      if (eq == std::string_view::npos) {
        ClassifyPiece(token.substr(start), /*may_be_url=*/true);
        return;
      }
      // A piece cut at '=' is no URL: its path would hold a '=' before any '?'.
      ClassifyPiece(token.substr(start, eq - start), /*may_be_url=*/false);
      start = eq + 1;
    }
  }

  // A piece without '='.
  void ClassifyPiece(std::string_view piece, bool may_be_url) {
    piece = TrimEdges(piece);
    if (piece.empty()) return;
    if (FindFirst(piece, kHostEnd) == std::string_view::npos) {
      ClassifyAtom(piece);
      return;
    }
    if (may_be_url && TryHostPath(piece)) return;
    // Not a URL: a path, "TCP_MISS/200", "HIER_DIRECT/1.2.3.4", "Mozilla/5.0" ...
    size_t start = 0;
    while (start <= piece.size()) {
      size_t end = FindFirst(piece, kHostEnd, start);
      if (end == std::string_view::npos) end = piece.size();
      std::string_view part = TrimEdges(piece.substr(start, end - start));
      if (!part.empty()) ClassifyAtom(part);
      start = end + 1;
    }
  }

  // "host/path", "host:port/path", "host?query" without a scheme. Emits url + host and
  // returns true when host is an IPv4 address or a plausible domain.
  bool TryHostPath(std::string_view s) {
    size_t host_end = FindFirst(s, kHostEnd);
    if (host_end == std::string_view::npos || host_end == 0 || host_end + 1 >= s.size()) {
      return false;  // no host, or nothing after it
    }
    std::string_view host = s.substr(0, host_end);
    // An IPv4 address and a domain both hold a '.': "TCP_MISS/200", "text/html" stop here.
    if (FindByte(host, '.', 0) == std::string_view::npos) return false;
    // "CN=*.icloud.com/OU=x/O=y" (an X.509 subject) is no URL: a path with '=' before
    // any '?' or '#' is rare in real URLs and common in key=value text.
    // find_first_of stops at the first '=': the scan is as long as the piece SplitOnEquals
    // cuts there anyway, so a line of "a/b=a/b=..." stays linear.
    size_t stop = FindFirst(s, kQueryOrEquals, host_end);
    if (stop != std::string_view::npos && s[stop] == '=') return false;
    size_t colon = FindByte(host, ':', 0);
    if (colon != std::string_view::npos) {
      if (!IsPort(host.substr(colon + 1))) return false;
      host = host.substr(0, colon);
    }
    std::optional<uint32_t> v4 = MayBeIpv4(host) ? ParseIpv4(host) : std::nullopt;
    std::optional<std::string> domain;
    if (v4) {
      // "10.0.0.0/8" is a network, not a URL.
      std::string_view after = s.substr(host_end + 1);
      if (s[host_end] == '/' && after.size() <= 3 && AllDigits(after)) return false;
    } else {
      if (!LooksLikeDomainName(host)) return false;
      domain = NormalizeDomain(host);
      if (!domain) return false;
    }
    std::optional<std::string> key = NormalizeUrl(s);
    if (!key) return false;
    Emit(Indicator{IndicatorType::kUrl, std::move(*key)}, s);
    if (v4) {
      Emit(Ipv4Indicator(*v4), host);
    } else {
      Emit(Indicator{IndicatorType::kDomain, std::move(*domain)}, host);
    }
    return true;
  }

  // A piece without '=', '/', '?' or '#', trimmed.
  void ClassifyAtom(std::string_view atom) {
    // One pass instead of several memchr calls: most atoms are a few bytes long. Compares
    // only (no table, no position), so the compiler can vectorise it.
    size_t colons = 0;
    bool dot = false;
    bool has_at = false;
    for (char c : atom) {
      colons += c == ':';
      dot |= c == '.';
      has_at |= c == '@';
    }
    size_t at = has_at ? atom.rfind('@') : std::string_view::npos;
    if (colons >= 2 && TryIpv6(atom)) return;
    while (!atom.empty() && atom.back() == ':') atom.remove_suffix(1);
    if (atom.empty()) return;
    if (TryHash(atom)) return;
    // Most words of a log line: without '.' or ':' no address, domain or "md5:<hash>"
    // can be in them.
    if (!dot && colons == 0) return;
    if (at != std::string_view::npos) {  // user@host: only the host is an observable
      std::string_view host = TrimEdges(atom.substr(at + 1));
      if (!host.empty() && host.find('@') == std::string_view::npos) ClassifyAtom(host);
      return;
    }
    size_t colon = colons == 0 ? std::string_view::npos : FindByte(atom, ':', 0);
    if (colon == std::string_view::npos) {
      if (!TryIpv4(atom)) TryDomain(atom);
      return;
    }
    // host:port
    if (FindByte(atom, ':', colon + 1) == std::string_view::npos &&
        IsPort(atom.substr(colon + 1))) {
      std::string_view host = atom.substr(0, colon);
      if (TryIpv4(host) || TryDomain(host)) return;
    }
    // "md5:<hash>", "host:evil.com", "12:34:56" ...
    size_t start = 0;
    while (start <= atom.size()) {
      size_t end = FindByte(atom, ':', start);
      if (end == std::string_view::npos) end = atom.size();
      std::string_view part = TrimEdges(atom.substr(start, end - start));
      if (!part.empty() && !TryHash(part) && !TryIpv4(part)) TryDomain(part);
      start = end + 1;
    }
  }

  bool TryIpv6(std::string_view s) {
    std::string_view addr = s.substr(0, FindByte(s, '%', 0));  // drop a zone: "fe80::1%eth0"
    if (addr == "::") return false;
    // Without "::" an address is eight groups (7 colons) or six and a dotted IPv4 address
    // (6 colons): "12:34:56" and "Nov 1 00:00:00" stop here, before inet_pton.
    size_t colons = 0;
    bool dot = false;
    bool double_colon = false;
    for (size_t i = 0; i < addr.size(); ++i) {
      if (addr[i] == ':') {
        double_colon |= colons > 0 && addr[i - 1] == ':';
        ++colons;
      }
      dot |= addr[i] == '.';
    }
    if (!double_colon && colons != 7 && !(colons == 6 && dot)) return false;
    // Eight groups of exactly two hex digits ("5C:9C:E1:09:78:87:F8:07") is a certificate
    // serial or a hardware id, not an address anyone writes.
    if (addr.size() == 23 && !double_colon && colons == 7) {
      return false;
    }
    std::optional<std::array<uint8_t, 16>> v6 = ParseIpv6(addr);
    if (!v6) return false;
    Emit(Ipv6Indicator(*v6), addr);
    return true;
  }

  bool TryHash(std::string_view s) {
    if (s.size() != 32 && s.size() != 40 && s.size() != 64) return false;
    // A digest of digits only is possible but rare; a long number is far more common.
    if (std::none_of(s.begin(), s.end(),
                     [](char c) { return IsHexLetter(static_cast<unsigned char>(c)); })) {
      return false;
    }
    std::optional<std::string> raw = DecodeHexDigest(s);
    if (!raw) return false;
    IndicatorType type = s.size() == 32   ? IndicatorType::kMd5
                         : s.size() == 40 ? IndicatorType::kSha1
                                          : IndicatorType::kSha256;
    Emit(Indicator{type, std::move(*raw)}, s);
    return true;
  }

  bool TryIpv4(std::string_view s) {
    if (!MayBeIpv4(s)) return false;
    std::optional<uint32_t> v4 = ParseIpv4(s);
    if (!v4) return false;
    Emit(Ipv4Indicator(*v4), s);
    return true;
  }

  bool TryDomain(std::string_view s) {
    if (FindByte(s, '.', 0) == std::string_view::npos || !LooksLikeDomainName(s)) return false;
    std::optional<std::string> domain = NormalizeDomain(s);
    if (!domain) return false;
    Emit(Indicator{IndicatorType::kDomain, std::move(*domain)}, s);
    return true;
  }

  void Emit(Indicator indicator, std::string_view text) {
    // Few observables per line is the norm: compare directly, and switch to a hash set
    // only when a text holds many.
    constexpr size_t kLinearLimit = 16;
    size_t count = out_->size() - first_;
    if (count < kLinearLimit) {
      for (size_t i = first_; i < out_->size(); ++i) {
        if ((*out_)[i].indicator == indicator) return;
      }
    } else {
      if (seen_ == nullptr) {
        seen_ = std::make_unique<std::unordered_set<std::string>>();
        for (size_t i = first_; i < out_->size(); ++i)
          seen_->insert((*out_)[i].indicator.Encoded());
      }
      if (!seen_->insert(indicator.Encoded()).second) return;
    }
    size_t offset = static_cast<size_t>(text.data() - input_.data());
    out_->push_back(Observable{std::move(indicator), text, offset});
  }

  std::string_view input_;
  std::vector<Observable>* out_;
  size_t first_;  // index of the first observable of this call in *out_
  // Created only for texts with many observables: most calls are on a short value with
  // none, and an empty set still costs a clear on destruction.
  std::unique_ptr<std::unordered_set<std::string>> seen_;
};

}  // namespace

bool LooksLikeDomainName(std::string_view name) {
  // Real TLDs that are far more often file extensions in log text ("setup.py", "run.sh",
  // "libc.so", "README.md", "workers2.properties", "SVCHOST.EXE-1234.pf", "Main.java",
  // "id_rsa.pub", "invoice.zip", "clip.mov"). Names under them are still found inside
  // URLs with a scheme, where no guessing is needed. Kept short on purpose: each entry
  // hides every domain under that TLD from bare-text extraction.
  static constexpr std::string_view kFileExtensionTlds[] = {
      "cab", "data", "java", "md", "mov", "pf", "pid", "pm", "properties", "ps", "pub", "py",
      "sh",  "so",   "zip",
  };
  static const psl_ctx_t* const psl = psl_builtin() != nullptr ? psl_builtin() : psl_latest(nullptr);
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return false;
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return false;
  std::string_view tld = name.substr(dot + 1);
  if (tld.size() < 2 || tld.size() > 63) return false;
  bool upper = false;
  bool lower = false;
  for (char c : tld) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 'A' && u <= 'Z') upper = true;
    if (u >= 'a' && u <= 'z') lower = true;
  }
  if (upper && lower) return false;  // "java.lang.String", "System.Net.WebClient"
  // Every listed TLD has a letter (or is UTF-8): "1700000000.123", "7.88.1", "v1.2-3".
  bool non_ascii = std::any_of(tld.begin(), tld.end(),
                               [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
  if (!upper && !lower && !non_ascii) return false;
  char folded[254];
  for (size_t i = 0; i < name.size(); ++i) folded[i] = Lower(name[i]);
  folded[name.size()] = '\0';
  std::string_view lowered_tld(folded + dot + 1, tld.size());
  if (std::find(std::begin(kFileExtensionTlds), std::end(kFileExtensionTlds), lowered_tld) !=
      std::end(kFileExtensionTlds)) {
    return false;
  }
  if (psl == nullptr) return false;
  // libpsl lookups dominate extraction on domain-heavy logs, and names repeat: a small
  // direct-mapped cache per thread of the last answer for each lower-cased name.
  struct CacheEntry {
    std::string name;
    bool domain = false;
  };
  static constexpr size_t kCacheSlots = 4096;
  thread_local std::unique_ptr<CacheEntry[]> cache(new CacheEntry[kCacheSlots]);
  std::string_view lowered(folded, name.size());
  CacheEntry& slot = cache[std::hash<std::string_view>{}(lowered) & (kCacheSlots - 1)];
  if (slot.name == lowered) return slot.domain;
  // The TLD must be listed (not just matched by the implicit "*" rule), and the name must
  // have a registrable part below its public suffix ("co.uk" alone is not a domain).
  bool domain =
      psl_is_public_suffix2(psl, folded + dot + 1, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0 &&
      psl_registrable_domain(psl, folded) != nullptr;
  slot.name.assign(lowered);
  slot.domain = domain;
  return domain;
}

void ExtractObservables(std::string_view text, std::vector<Observable>* out) {
  Collector collector(text, out);
  size_t pos = 0;
  while (pos < text.size()) {
    std::optional<UrlMatch> url = FindNextUrl(text, pos);
    size_t plain_end = url ? url->begin : text.size();
    collector.ScanPlain(pos, plain_end);
    if (!url) break;
    collector.EmitUrl(text.substr(url->begin, url->end - url->begin), std::move(url->key));
    pos = url->end;
  }
}

}  // namespace iocd
