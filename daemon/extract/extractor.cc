#include "extract/extractor.h"

#include "extract/chunk_classifier.h"
#include "extract/psl_prefilter.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
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

// Which bytes make up a token between URLs is chunk_classifier.h's IsExtractTokenByte:
// '=' is a token byte, split on later so that a scheme-less URL's query survives.

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

// Byte classes per byte (kClass), for short texts (ScanShort) and digests; the same bits
// are what Scan tells its callees a token holds (`seen`, from the chunk masks).
enum : uint8_t {
  kClassToken = 1,       // IsExtractTokenByte
  kClassDotColon = 2,    // '.' or ':'
  kClassHex = 4,         // 0-9 a-f A-F
  kClassSplit = 8,       // '=', '/', '?', '#': bytes that SplitOnEquals cuts pieces at
  kClassEquals = 16,     // '='
  kClassPathStart = 32,  // '/' or '?' (kPathStart)
  kClassHash = 64,       // '#'
  kClassColonAt = 128,   // ':' or '@'
};
constexpr std::array<uint8_t, 256> MakeClassTable() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    auto u = static_cast<unsigned char>(c);
    uint8_t bits = 0;
    if (IsExtractTokenByte(u)) bits |= kClassToken;
    if (u == '.' || u == ':') bits |= kClassDotColon;
    if (IsDigit(u) || IsHexLetter(u)) bits |= kClassHex;
    if (u == '=' || u == '/' || u == '?' || u == '#') bits |= kClassSplit;
    if (u == '=') bits |= kClassEquals;
    if (u == '/' || u == '?') bits |= kClassPathStart;
    if (u == '#') bits |= kClassHash;
    if (u == ':' || u == '@') bits |= kClassColonAt;
    t[u] = bits;
  }
  return t;
}
constexpr std::array<uint8_t, 256> kClass = MakeClassTable();

// The vector width of the short-text and atom scans.
constexpr size_t kBlock = 16;

// The 8 bytes at p as one word (any alignment).
uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

#if defined(__SSE2__)
// The n < kBlock bytes at p in one vector, read without touching a byte outside them (no
// copy into a padded buffer either: a store and a wider load of the same bytes stall):
//   n >= 8:      lanes 0-7 hold bytes [0, 8), lanes 8-15 bytes [n - 8, n);
//   4 <= n < 8:  lanes 0-3 hold bytes [0, 4), lanes 4-7 bytes [n - 4, n);
//   n < 4:       lanes 0..n-1 hold the bytes.
// ShortMask() turns a movemask of that vector into one bit per byte (bits >= n clear).
__m128i LoadShort(const char* p, size_t n) {
  if (n >= 8) {
    return _mm_set_epi64x(static_cast<long long>(Load64(p + n - 8)),
                          static_cast<long long>(Load64(p)));
  }
  if (n >= 4) {
    uint64_t lanes = uint64_t{Load32(p)} | (uint64_t{Load32(p + n - 4)} << 32);
    return _mm_cvtsi64_si128(static_cast<long long>(lanes));
  }
  uint32_t lanes = 0;
  for (size_t i = 0; i < n; ++i) lanes |= uint32_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return _mm_cvtsi32_si128(static_cast<int>(lanes));
}

uint32_t ShortMask(uint32_t m, size_t n) {
  if (n >= 8) return (m & 0xffu) | ((m >> 8) << (n - 8));
  if (n >= 4) return (m & 0xfu) | (((m >> 4) & 0xfu) << (n - 4));
  return m & ((1u << n) - 1);
}
#endif

// What ClassifyAtom needs to know about an atom's bytes.
struct AtomBytes {
  size_t first_colon = std::string_view::npos;
  bool several_colons = false;  // at least two ':'
  bool dot = false;
  bool at = false;  // '@'
  bool colon() const { return first_colon != std::string_view::npos; }
  // For an atom of at most 64 bytes (masked), bit i set where byte i is ':', '.' or '%'.
  bool masked = false;
  uint64_t colons = 0;
  uint64_t dots = 0;
  uint64_t percents = 0;
};

#if defined(__SSE2__)
uint32_t EqualMask(__m128i v, char c) {
  return static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c))));
}
#endif

// Bit i set where byte i of the n < kBlock bytes at p is '.' or ':' (read without
// touching a byte outside them).
uint32_t ShortDotColonMask(const char* p, size_t n) {
#if defined(__SSE2__)
  __m128i v = LoadShort(p, n);
  return ShortMask(EqualMask(v, '.') | EqualMask(v, ':'), n);
#else
  uint32_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    if (kClass[static_cast<unsigned char>(p[i])] & kClassDotColon) m |= 1u << i;
  }
  return m;
#endif
}

#if defined(__SSE2__)
// For s of at most 64 bytes: calls visit(v, place) for 16-byte vectors v that together
// cover s, where place(movemask of v) gives those bits at s's positions (bit i for byte i of
// s; bits of bytes outside s dropped). Short s: one LoadShort; longer: 16 bytes a step, the
// last step the 16 bytes that end at s's end. No byte outside s is read.
template <typename Visit>
void VisitBlocks(std::string_view s, Visit visit) {
  const char* p = s.data();
  const size_t n = s.size();
  if (n < kBlock) {
    visit(LoadShort(p, n), [n](uint32_t bits) { return uint64_t{ShortMask(bits, n)}; });
    return;
  }
  size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    visit(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)),
          [i](uint32_t bits) { return uint64_t{bits} << i; });
  }
  if (i < n) {
    const auto drop = static_cast<unsigned>(kBlock - (n - i));
    visit(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + n - kBlock)),
          [i, drop](uint32_t bits) { return uint64_t{bits >> drop} << i; });
  }
}
#endif

// Where a piece of at most 64 bytes has the bytes ClassifyPiece splits it at and those
// that make a part worth classifying; bit i for byte i.
struct PieceMasks {
  uint64_t pathstart;  // '/' or '?' (kPathStart)
  uint64_t hash;       // '#'
  uint64_t dotcolon;   // '.' or ':'
  uint64_t equals;     // '='
  uint64_t ends() const { return pathstart | hash; }  // kHostEnd
};

// Without a branch per byte: the parts of a path are many and short. s.size() <= 64.
PieceMasks ScanPieceMasks(std::string_view s) {
  PieceMasks m{0, 0, 0, 0};
#if defined(__SSE2__)
  VisitBlocks(s, [&m](__m128i v, auto place) {
    m.pathstart |= place(EqualMask(v, '/') | EqualMask(v, '?'));
    m.hash |= place(EqualMask(v, '#'));
    m.dotcolon |= place(EqualMask(v, '.') | EqualMask(v, ':'));
    m.equals |= place(EqualMask(v, '='));
  });
#else
  const char* p = s.data();
  for (size_t i = 0; i < s.size(); ++i) {
    m.pathstart |= uint64_t{Is(kPathStart, p[i])} << i;
    m.hash |= uint64_t{p[i] == '#'} << i;
    m.dotcolon |= uint64_t{(kClass[static_cast<unsigned char>(p[i])] & kClassDotColon) != 0} << i;
    m.equals |= uint64_t{p[i] == '='} << i;
  }
#endif
  return m;
}

AtomBytes ScanAtomBytes(std::string_view s) {
  AtomBytes a;
  if (s.size() <= kChunk) {
    // Most atoms: whole masks, accumulated in registers.
    uint64_t colons = 0;
    uint64_t dots = 0;
    uint64_t ats = 0;
    uint64_t percents = 0;
#if defined(__SSE2__)
    VisitBlocks(s, [&](__m128i v, auto place) {
      colons |= place(EqualMask(v, ':'));
      dots |= place(EqualMask(v, '.'));
      ats |= place(EqualMask(v, '@'));
      percents |= place(EqualMask(v, '%'));
    });
#else
    for (size_t i = 0; i < s.size(); ++i) {
      colons |= uint64_t{s[i] == ':'} << i;
      dots |= uint64_t{s[i] == '.'} << i;
      ats |= uint64_t{s[i] == '@'} << i;
      percents |= uint64_t{s[i] == '%'} << i;
    }
#endif
    if (colons != 0) a.first_colon = static_cast<size_t>(__builtin_ctzll(colons));
    a.several_colons = (colons & (colons - 1)) != 0;
    a.dot = dots != 0;
    a.at = ats != 0;
    a.masked = true;
    a.colons = colons;
    a.dots = dots;
    a.percents = percents;
    return a;
  }
  // Longer atoms (rare: tokens are cut at separators, '=', '/', '?' and '#' first).
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ':') {
      a.several_colons |= a.colon();
      if (!a.colon()) a.first_colon = i;
    }
    a.dot |= s[i] == '.';
    a.at |= s[i] == '@';
  }
  return a;
}

// The number of set bits in m. Without -mpopcnt (the x86-64 baseline this builds for),
// __builtin_popcountll is a call into libgcc; this is a few register operations.
size_t CountBits(uint64_t m) {
  m -= (m >> 1) & 0x5555555555555555ULL;
  m = (m & 0x3333333333333333ULL) + ((m >> 2) & 0x3333333333333333ULL);
  m = (m + (m >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return static_cast<size_t>((m * 0x0101010101010101ULL) >> 56);
}

// Whether s holds a run of at least 32 hex digits: the only way a token without '.' or ':'
// can hold an observable (an md5, sha1 or sha256 digest).
bool HasLongHexRun(std::string_view s) {
  constexpr size_t kShortestDigest = 32;
  if (s.size() < kShortestDigest) return false;
#if defined(__SSE2__)
  if (s.size() <= kChunk) {
    // Bit i set where byte i is a hex digit, then a run of 32 set bits by halving shifts.
    uint64_t hex = 0;
    VisitBlocks(s, [&hex](__m128i v, auto place) {
      auto between = [](__m128i x, char lo, char hi) {  // signed: bytes >= 0x80 fail
        return _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(static_cast<char>(lo - 1))),
                             _mm_cmplt_epi8(x, _mm_set1_epi8(static_cast<char>(hi + 1))));
      };
      const __m128i lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
      hex |= place(static_cast<uint32_t>(
          _mm_movemask_epi8(_mm_or_si128(between(v, '0', '9'), between(lower, 'a', 'f')))));
    });
    for (unsigned shift = 1; shift < kShortestDigest; shift *= 2) hex &= hex >> shift;
    return hex != 0;
  }
#endif
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

// The first byte at or after from that is not kUrlChar (text.size() if none): 16 bytes a
// step where SSE2 is available, as URLs are long.
size_t FindUrlEnd(std::string_view text, size_t from) {
  const char* p = text.data();
  const size_t n = text.size();
  size_t i = from;
#if defined(__SSE2__)
  for (; i + kBlock <= n; i += kBlock) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    // Signed: bytes >= 0x80 are negative, so "< 0x21" takes them with the controls.
    __m128i stop = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x21)),
                                _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
    for (char c : {'"', '\'', '`', '<', '>', '\\', '|', '{', '}', '^'}) {
      stop = _mm_or_si128(stop, _mm_cmpeq_epi8(v, _mm_set1_epi8(c)));
    }
    auto mask = static_cast<uint32_t>(_mm_movemask_epi8(stop));
    if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(mask));
  }
#endif
  while (i < n && Is(kUrlChar, p[i])) ++i;
  return i;
}

struct UrlMatch {
  size_t begin;
  size_t end;
  std::string key;  // NormalizeUrl's output
  UrlHostParts host;
};

// The URL whose scheme ends at the "://" at sep, if it is a valid one; the search for URLs
// started at from (the scheme does not reach before it). *search is where the next "://"
// may start a URL.
std::optional<UrlMatch> UrlAtSeparator(std::string_view text, size_t from, size_t sep,
                                       size_t* search) {
  constexpr size_t kLongestScheme = 5;  // "https"
  *search = sep + 3;
  size_t begin = sep;
  while (begin > from && sep - begin < kLongestScheme && IsAlpha(text[begin - 1])) --begin;
  if (begin > 0 && IsAlnum(text[begin - 1])) return std::nullopt;  // "xhttp://", "1http://"
  std::string_view scheme = text.substr(begin, sep - begin);
  if (!EqualsNoCase(scheme, "http") && !EqualsNoCase(scheme, "https") &&
      !EqualsNoCase(scheme, "ftp")) {
    return std::nullopt;
  }
  size_t end = FindUrlEnd(text, sep + 3);
  // If this is no URL, nothing up to its end is searched again (a later "://" inside is
  // left to the plain-text pass): this keeps "http://http://http://..." linear.
  *search = end;
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
  if (url.size() <= scheme.size() + 3) return std::nullopt;
  UrlHostParts host;
  std::optional<std::string> key = NormalizeUrl(url, &host);
  if (!key) return std::nullopt;
  return UrlMatch{begin, begin + url.size(), std::move(*key), std::move(host)};
}

// Whether text holds a valid URL with a scheme.
bool HasUrl(std::string_view text) {
  size_t search = 0;
  for (;;) {
    size_t sep = FindSchemeSeparator(text, search);
    if (sep == std::string_view::npos) return false;
    if (UrlAtSeparator(text, 0, sep, &search)) return true;
  }
}

bool CheckDomainName(std::string_view name, std::string* key);

// LooksLikeDomainName(name) && NormalizeDomain(name), in one pass for ASCII names: the
// key of a domain observable written without a scheme.
std::optional<std::string> DomainObservable(std::string_view name) {
  std::string key;
  if (!CheckDomainName(name, &key)) return std::nullopt;
  return key;
}

// Indicator equality, with the comparisons that usually decide it (type, length, first
// byte) before the key's memcmp call.
bool SameIndicator(const Indicator& a, const Indicator& b) {
  if (a.type != b.type || a.key.size() != b.key.size()) return false;
  const size_t n = a.key.size();
  // An IPv4 key (the most common) in one compare; others by memcmp, which is a call.
  if (n == 4) return Load32(a.key.data()) == Load32(b.key.data());
  return n == 0 || (a.key[0] == b.key[0] && std::memcmp(a.key.data(), b.key.data(), n) == 0);
}

// Collects observables for one ExtractObservables call; owns the deduplication.
class Collector {
 public:
  Collector(std::string_view input, std::vector<Observable>* out)
      : input_(input), out_(out), first_(out->size()) {}

  // The whole input: URLs with a scheme, and tokens between them.
  //
  // Tokens are maximal runs of token bytes (IsExtractTokenByte). Only tokens that hold a
  // '.' or ':' (addresses, domains, URLs, "md5:<digest>") or a run of 32+ hex digits (a
  // bare digest) can yield an observable. The text is classified 64 bytes at a time into
  // bit masks (chunk_classifier.h: non-token bytes, '.'/':', hex digits, '=', '/'/'?', '#',
  // ':'/'@'); a token is delimited only around a candidate byte, by ctz/clz on the
  // non-token mask, and the byte classes it holds (seen) are ANDs of the masks with its
  // range. Most bytes of a log line - words, numbers, padding - are never looked at one by
  // one.
  //
  // Candidates: every '.' or ':', and the start of every run of 16 hex digits inside one
  // chunk. A run of 32+ hex digits has 16 of them in one chunk, so every token with a
  // digest is found; a candidate token is then kept only if it holds '.'/':' or
  // HasLongHexRun, exactly as if every token were examined. A candidate token that lies in
  // one chunk is not classified when its masks show it can hold nothing
  // (MayHoldObservable: a timestamp, a version, "kernel:"); the result is the same.
  //
  // URLs: each "://" (a ':' followed by two '/', from the same masks) is tried in order
  // (UrlAtSeparator). A URL ends the tokens before it at its first byte (as if the text
  // ended there), is emitted after them, and the scan starts again where it ends.
  void Scan() {
    const char* p = input_.data();
    const size_t end = input_.size();
    size_t from = 0;        // where the current search for a URL started
    size_t url_search = 0;  // no "://" before this starts a URL
    OpenToken open{0, 0, false};
    size_t base = 0;
    while (base < end) {
      const size_t n = std::min(kChunk, end - base);
      ChunkMasks m;
      if (n == kChunk || base + n < kChunk) {
        ClassifyChunk(p + base, n, &m);
      } else {
        // A short last chunk: the whole chunk that ends where it ends, shifted (no copy).
        ClassifyChunk(p + base + n - kChunk, kChunk, &m);
        ShiftOut(kChunk - n, &m);
      }
      // "://" candidates: ':' with '/' or '?' in the next two bytes (the bytes are checked
      // below), and a ':' in the last two bytes, whose next bytes are in the next chunk.
      const uint64_t seps = m.dotcolon & m.colonat &
                            ((m.pathstart >> 1 & m.pathstart >> 2) | (uint64_t{3} << 62));
      if (seps != 0 && base + kChunk > url_search) {
        std::optional<UrlMatch> url = UrlInChunk(base, seps, from, &url_search);
        if (url) {
          // The text before the URL, as if it ended where the URL begins.
          const size_t url_begin = url->begin;
          if (url_begin >= base) {
            KeepFirstBytes(url_begin - base, &m);
          } else {
            // The URL's scheme began in the previous chunk (it is letters only, so no
            // candidate lies between it and this chunk): only the open token ends there.
            if (open.pending && open.start < url_begin) {
              ClassifyToken(open.start, url_begin, open.seen);
            }
            open.pending = false;
            KeepFirstBytes(0, &m);
          }
          ScanChunk(base, m, &open);
          EmitUrl(input_.substr(url_begin, url->end - url_begin), std::move(url->key),
                  &url->host);
          base = url->end;
          from = base;
          url_search = base;
          open = OpenToken{base, 0, false};
          continue;
        }
      }
      ScanChunk(base, m, &open);
      base += kChunk;
    }
    if (open.pending) ClassifyToken(open.start, end, open.seen);
  }

  // Scan() for an input shorter than kBlock (a short field value),
  // given where its '.' and ':' are: a chunk classification costs more than delimiting
  // the one or two tokens such a value holds byte by byte (and it has no digest).
  void ScanShort(uint32_t dot_colon) {
    const char* p = input_.data();
    const size_t end = input_.size();
    size_t done = 0;
    while (dot_colon != 0) {
      const auto at = static_cast<size_t>(__builtin_ctz(dot_colon));
      dot_colon &= dot_colon - 1;
      if (at < done) continue;
      size_t start = at;
      while (start > done && (kClass[static_cast<unsigned char>(p[start - 1])] & kClassToken)) {
        --start;
      }
      size_t stop = start;
      uint8_t seen = 0;
      for (; stop < end; ++stop) {
        const uint8_t c = kClass[static_cast<unsigned char>(p[stop])];
        if (!(c & kClassToken)) break;
        seen |= c;
      }
      done = stop;
      ClassifyToken(start, stop, seen);
    }
  }

  // host_parts: what NormalizeUrl learnt about url's host (empty unless it is a plain name).
  void EmitUrl(std::string_view url, std::string key, UrlHostParts* host_parts) {
    Emit(Indicator{IndicatorType::kUrl, std::move(key)}, url);
    if (!host_parts->host.empty()) {
      Emit(Indicator{IndicatorType::kDomain, std::move(host_parts->domain_key)}, host_parts->host);
      return;
    }
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
  // The bits below n (n < 64).
  static uint64_t LowBits(unsigned n) { return (uint64_t{1} << n) - 1; }
  // The bits below n (n <= 64).
  static uint64_t BitsBelow(size_t n) { return n < 64 ? (uint64_t{1} << n) - 1 : ~uint64_t{0}; }

  // Bit i set where the hex mask has 16 set bits from i on.
  static uint64_t HexRunStarts(uint64_t hex) {
    hex &= hex >> 1;
    hex &= hex >> 2;
    hex &= hex >> 4;
    return hex & (hex >> 8);
  }

  // The masks of the last kChunk - shift bytes of a chunk, moved to bit 0.
  static void ShiftOut(size_t shift, ChunkMasks* m) {
    m->nontoken = (m->nontoken >> shift) | ~(~uint64_t{0} >> shift);
    m->dotcolon >>= shift;
    m->hex >>= shift;
    m->equals >>= shift;
    m->pathstart >>= shift;
    m->hash >>= shift;
    m->colonat >>= shift;
    m->digit >>= shift;
  }

  // The token open at a chunk's start (Scan): its first byte (the chunk's first byte when
  // no token is open), and the classes of its bytes before the chunk.
  struct OpenToken {
    size_t start;
    uint8_t seen;
    bool pending;  // it holds a candidate: classify it where it ends
  };

  // The candidate tokens of the chunk at base (masks m) that end in it; a token still open
  // at its end is left in *open.
  void ScanChunk(size_t base, const ChunkMasks& m, OpenToken* open) {
    uint64_t candidates = m.dotcolon | HexRunStarts(m.hex);
    if (open->pending) {
      if (m.nontoken == 0) {  // the token runs on through this chunk
        open->seen |= SeenIn(m, ~uint64_t{0});
        return;
      }
      const auto stop = static_cast<unsigned>(__builtin_ctzll(m.nontoken));
      ClassifyToken(open->start, base + stop, open->seen | SeenIn(m, LowBits(stop)));
      open->pending = false;
      candidates &= ~LowBits(stop);
    }
    while (candidates != 0) {
      const auto at = static_cast<unsigned>(__builtin_ctzll(candidates));
      const uint64_t before = m.nontoken & LowBits(at);
      size_t start = open->start;
      uint8_t seen = open->seen;
      unsigned first = 0;  // the token's first bit in this chunk
      if (before != 0) {
        first = 64 - static_cast<unsigned>(__builtin_clzll(before));
        start = base + first;
        seen = 0;
      }
      const uint64_t after = m.nontoken & ~LowBits(at);
      if (after == 0) {  // ends in a later chunk
        *open = OpenToken{start, static_cast<uint8_t>(seen | SeenIn(m, ~LowBits(first))), true};
        return;
      }
      const auto stop = static_cast<unsigned>(__builtin_ctzll(after));
      const uint64_t range = LowBits(stop) & ~LowBits(first);
      if (start < base || MayHoldObservable(m, range, stop - first)) {
        ClassifyToken(start, base + stop, seen | SeenIn(m, range));
      }
      candidates &= ~LowBits(stop);
    }
    // The token open at the end of this chunk, if any.
    if (m.nontoken >> 63) {
      *open = OpenToken{base + kChunk, 0, false};
    } else if (m.nontoken != 0) {
      const unsigned first = 64 - static_cast<unsigned>(__builtin_clzll(m.nontoken));
      *open = OpenToken{base + first, SeenIn(m, ~LowBits(first)), false};
    } else {
      open->seen |= SeenIn(m, ~uint64_t{0});
    }
  }

  // The first URL whose "://" is at a set bit of seps (bit i: byte base + i), at or after
  // url_search, checking that the two bytes after each ':' are "//"; url_search and from
  // as UrlAtSeparator takes them.
  std::optional<UrlMatch> UrlInChunk(size_t base, uint64_t seps, size_t from,
                                     size_t* url_search) {
    const char* p = input_.data();
    while (seps != 0) {
      const size_t sep = base + static_cast<size_t>(__builtin_ctzll(seps));
      seps &= seps - 1;
      if (sep < *url_search || sep + 3 > input_.size() || p[sep + 1] != '/' ||
          p[sep + 2] != '/') {
        continue;
      }
      std::optional<UrlMatch> url = UrlAtSeparator(input_, from, sep, url_search);
      if (url) return url;
    }
    return std::nullopt;
  }

  // False when the token of size bytes at the bits of range (all in one chunk) surely
  // holds no observable, so ClassifyToken need not look at it. Every observable but an
  // IPv6 address or a digest holds a '.' and is either
  //   * an IPv4 address (three '.' in the token: "::ffff:1.2.3.4" and "1.2.3.4:80" too), or
  //   * a name (a domain, a URL's host) whose last label has a letter (CheckDomainName), so
  //     a byte other than a digit, '.' or ':' after the token's first '.';
  // an IPv6 address takes "::" or six ':' or more, a digest 32 bytes or more. Timestamps
  // ("00:00:00.002", "1793491200.007"), versions ("curl/7.88.1", "Chrome/119.0"),
  // "kernel:", "info:" and "[827191.739965]" stop here.
  static bool MayHoldObservable(const ChunkMasks& m, uint64_t range, size_t size) {
    constexpr size_t kShortestDigest = 32;
    if (size >= kShortestDigest) return true;
    const uint64_t colons = m.dotcolon & m.colonat & range;
    if (colons != 0) {
      // Six ':' or more: still a bit set after the lowest five are cleared (cheaper than
      // CountBits for the one or two ':' tokens usually have).
      uint64_t sixth = colons;
      for (int i = 0; i < 5 && sixth != 0; ++i) sixth &= sixth - 1;
      if ((colons & (colons >> 1)) != 0 || sixth != 0) return true;
    }
    const uint64_t dots = (m.dotcolon & range) ^ colons;
    if (dots == 0) return false;
    uint64_t third = dots & (dots - 1);
    third &= third - 1;
    if (third != 0) return true;  // three '.' or more
    const uint64_t first_dot = dots & (~dots + 1);
    const uint64_t after_first_dot = range & ~(first_dot | (first_dot - 1));
    return (after_first_dot & ~(m.digit | m.dotcolon)) != 0;
  }

  // The kClass bits (those Scan's callees test) of the bytes in range.
  static uint8_t SeenIn(const ChunkMasks& m, uint64_t range) {
    auto bit = [range](uint64_t mask, unsigned cls) {
      return (mask & range) != 0 ? cls : 0u;
    };
    return static_cast<uint8_t>(bit(m.dotcolon, kClassDotColon) |
                                bit(m.equals, kClassEquals | kClassSplit) |
                                bit(m.pathstart, kClassPathStart | kClassSplit) |
                                bit(m.hash, kClassHash | kClassSplit) |
                                bit(m.colonat, kClassColonAt));
  }

  // The token input_[start, stop), which holds a candidate byte; seen as SeenIn gives.
  void ClassifyToken(size_t start, size_t stop, uint8_t seen) {
    std::string_view token = input_.substr(start, stop - start);
    if (!(seen & kClassDotColon) && !HasLongHexRun(token)) return;
    if (seen & kClassSplit) {
      SplitOnEquals(token, seen);
    } else {
      // What SplitOnEquals comes to for a token without '=', '/', '?' or '#' (an
      // address, a domain, "host:port"), minus its searches for those bytes.
      token = TrimEdges(token);
      if (!token.empty()) ClassifyAtomSeen(token, seen);
    }
  }

  // A token between separators. '=' separates keys from values, except inside the query
  // of a scheme-less URL ("evil.com/gate.php?id=1"), so a piece is first tried as a URL
  // when a '/' or '?' comes before the next '='.
  // seen: the kClass bits of the token's bytes; a search for bytes it lacks is skipped.
  void SplitOnEquals(std::string_view token, uint8_t seen) {
    const bool has_equals = (seen & kClassEquals) != 0;
    // Trim the end once; trimming each remainder again would be quadratic.
    token = TrimEdges(token);
    if (!has_equals && token.size() <= kChunk) {
      // The loop below for a token without '=' (one piece, tried as a URL first when it
      // has a '/' or '?'), with the split points found once, in one pass.
      const PieceMasks m = ScanPieceMasks(token);
      bool tried_url = false;
      if (m.pathstart != 0) {
        const auto host_end = static_cast<size_t>(__builtin_ctzll(m.ends()));
        if (TryHostPath(token, host_end)) return;
        tried_url = true;
      }
      ClassifyPiece(token, /*may_be_url=*/!tried_url, seen, &m);
      return;
    }
    if (token.size() <= kChunk) {
      SplitMaskedOnEquals(token, seen);
      return;
    }
    size_t start = 0;
    size_t url_delim =
        (seen & kClassPathStart) != 0 ? FindFirst(token, kPathStart) : std::string_view::npos;
    while (start < token.size()) {
      if (url_delim != std::string_view::npos && url_delim < start) {
        url_delim = FindFirst(token, kPathStart, start);
      }
      size_t eq = has_equals ? FindByte(token, '=', start) : std::string_view::npos;
      bool tried_url = false;
      if (url_delim != std::string_view::npos && url_delim < eq) {
        if (TryHostPath(TrimEdges(token.substr(start)))) return;
        tried_url = true;
      }
      if (eq == std::string_view::npos) {
        // ClassifyPiece would trim the same piece and try it as a URL again.
        ClassifyPiece(token.substr(start), /*may_be_url=*/!tried_url, seen);
        return;
      }
      // A piece cut at '=' is no URL: its path would hold a '=' before any '?'.
      ClassifyPiece(token.substr(start, eq - start), /*may_be_url=*/false, seen);
      start = eq + 1;
    }
  }

  // The loop of SplitOnEquals for a trimmed token of at most kChunk bytes, with the '=' and
  // '/'/'?' positions from one pass of masks instead of byte searches. A piece (up to the
  // next '=' or the end) without '.' or ':' and under 32 bytes is skipped: it can only hold
  // a digest, which takes 32+ bytes, and no URL (TryHostPath needs a '.' in its host, which
  // either lies inside the piece or runs on past the '=' ending it, and no host holding a
  // '=' is accepted); "src=", "SRC=", "act=" cost nothing.
  void SplitMaskedOnEquals(std::string_view token, uint8_t seen) {
    const PieceMasks m = ScanPieceMasks(token);
    auto first_from = [](uint64_t mask, size_t from) {
      const uint64_t rest = mask & ~BitsBelow(from);
      return rest != 0 ? static_cast<size_t>(__builtin_ctzll(rest)) : std::string_view::npos;
    };
    size_t start = 0;
    while (start < token.size()) {
      const size_t eq = first_from(m.equals, start);
      const size_t piece_end = eq == std::string_view::npos ? token.size() : eq;
      const bool plain = (m.dotcolon & BitsBelow(piece_end) & ~BitsBelow(start)) == 0;
      if (!plain || piece_end - start >= 32) {
        const size_t url_delim = first_from(m.pathstart, start);
        bool tried_url = false;
        if (url_delim != std::string_view::npos && url_delim < eq) {
          if (TryHostPath(TrimEdges(token.substr(start)))) return;
          tried_url = true;
        }
        ClassifyPiece(token.substr(start, piece_end - start),
                      /*may_be_url=*/eq == std::string_view::npos && !tried_url, seen);
      }
      if (eq == std::string_view::npos) return;
      start = eq + 1;
    }
  }

  // A piece without '='. seen: the kClass bits of the token it was cut from (a byte class
  // the token lacks, the piece lacks too).
  // known: piece's masks, when the caller has them (piece then holds no edge punctuation).
  void ClassifyPiece(std::string_view piece, bool may_be_url, uint8_t seen,
                     const PieceMasks* known = nullptr) {
    piece = TrimEdges(piece);
    if (piece.empty()) return;
    if ((seen & (kClassPathStart | kClassHash)) == 0) {
      ClassifyAtomSeen(piece, seen);
      return;
    }
    // Where the '/', '?', '#', '.' and ':' are: masks for a piece of up to kChunk bytes.
    const bool masked = piece.size() <= kChunk;
    const PieceMasks m =
        known != nullptr ? *known : masked ? ScanPieceMasks(piece) : PieceMasks{0, 0, 0, 0};
    auto next_end = [&](size_t from) {
      if (!masked) return FindFirst(piece, kHostEnd, from);
      const uint64_t rest = m.ends() & ~BitsBelow(from);
      return rest != 0 ? static_cast<size_t>(__builtin_ctzll(rest)) : std::string_view::npos;
    };
    if (next_end(0) == std::string_view::npos) {
      ClassifyAtomSeen(piece, seen);
      return;
    }
    if (may_be_url && TryHostPath(piece)) return;
    // Not a URL: a path, "TCP_MISS/200", "HIER_DIRECT/1.2.3.4", "Mozilla/5.0" ...
    size_t start = 0;
    while (start <= piece.size()) {
      size_t end = next_end(start);
      if (end == std::string_view::npos) end = piece.size();
      // A part without '.' or ':' can only be a digest (ClassifyAtom and ClassifyAtomSeen
      // come to TryHash for it), which takes 32+ bytes: most parts of a path stop here.
      const bool plain = masked && (m.dotcolon & BitsBelow(end) & ~BitsBelow(start)) == 0;
      if (!plain || end - start >= 32) {
        std::string_view part = TrimEdges(piece.substr(start, end - start));
        if (!part.empty()) ClassifyAtomSeen(part, seen);
      }
      start = end + 1;
    }
  }

  // "host/path", "host:port/path", "host?query" without a scheme. Emits url + host and
  // returns true when host is an IPv4 address or a plausible domain.
  // host_end: where s's first '/', '?' or '#' is, when the caller knows.
  bool TryHostPath(std::string_view s, size_t host_end = std::string_view::npos) {
    if (host_end == std::string_view::npos) host_end = FindFirst(s, kHostEnd);
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
      domain = DomainObservable(host);
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

  // ClassifyAtom(atom), where seen holds the kClass bits of a token atom was cut from. Most
  // atoms (addresses, domains, versions, timestamps with a fraction) hold neither ':' nor
  // '@': for them ClassifyAtom comes to this, without its scan for those bytes.
  void ClassifyAtomSeen(std::string_view atom, uint8_t seen) {
    if ((seen & kClassColonAt) != 0) {
      ClassifyAtom(atom);
      return;
    }
    if (TryHash(atom) || TryIpv4(atom)) return;
    // CheckDomainName refuses a name without a '.' itself: no search for one first.
    TryDomain(atom, /*has_dot=*/true);
  }

  // A piece without '=', '/', '?' or '#', trimmed.
  void ClassifyAtom(std::string_view atom) {
    // One pass (16 bytes a step) instead of several memchr calls; its masks then give the
    // ':' positions for TryIpv6 and the splits below.
    const AtomBytes bytes = ScanAtomBytes(atom);
    size_t at = bytes.at ? atom.rfind('@') : std::string_view::npos;
    if (bytes.several_colons && TryIpv6(atom, bytes)) return;
    const size_t untrimmed_size = atom.size();
    while (!atom.empty() && atom.back() == ':') atom.remove_suffix(1);
    if (atom.empty()) return;
    if (TryHash(atom)) return;
    // Most words of a log line: without '.' or ':' no address, domain or "md5:<hash>"
    // can be in them.
    if (!bytes.dot && !bytes.colon()) return;
    if (at != std::string_view::npos) {  // user@host: only the host is an observable
      std::string_view host = TrimEdges(atom.substr(at + 1));
      if (!host.empty() && host.find('@') == std::string_view::npos) ClassifyAtom(host);
      return;
    }
    // Where the first ':' is and whether there is another, as scanned above unless
    // trailing colons were dropped.
    size_t colon = bytes.first_colon;
    bool several_colons = bytes.several_colons;
    // The next ':' at or after from.
    auto next_colon = [&atom, &bytes](size_t from) {
      if (!bytes.masked) return FindByte(atom, ':', from);
      const uint64_t rest = bytes.colons & BitsBelow(atom.size()) & ~BitsBelow(from);
      return rest != 0 ? static_cast<size_t>(__builtin_ctzll(rest)) : std::string_view::npos;
    };
    if (atom.size() != untrimmed_size) {
      colon = next_colon(0);
      several_colons = colon != std::string_view::npos &&
                       next_colon(colon + 1) != std::string_view::npos;
    }
    if (colon == std::string_view::npos) {
      // Dropping trailing colons kept every '.': bytes.dot still says whether there is one.
      if (!TryIpv4(atom) && bytes.dot) TryDomain(atom, /*has_dot=*/true);
      return;
    }
    // host:port
    if (!several_colons && IsPort(atom.substr(colon + 1))) {
      std::string_view host = atom.substr(0, colon);
      if (TryIpv4(host) || TryDomain(host)) return;
    }
    // "md5:<hash>", "host:evil.com", "12:34:56" ...
    size_t start = 0;
    while (start <= atom.size()) {
      size_t end = next_colon(start);
      if (end == std::string_view::npos) end = atom.size();
      // Without a '.' in the atom a part can only be a digest, of 32+ bytes: the parts of
      // a MAC address or a time of day stop here.
      if (bytes.dot || end - start >= 32) {
        std::string_view part = TrimEdges(atom.substr(start, end - start));
        if (!part.empty() && !TryHash(part) && !TryIpv4(part)) TryDomain(part);
      }
      start = end + 1;
    }
  }

  // bytes: ScanAtomBytes(s).
  bool TryIpv6(std::string_view s, const AtomBytes& bytes) {
    // Drop a zone: "fe80::1%eth0".
    const size_t zone = !bytes.masked       ? FindByte(s, '%', 0)
                        : bytes.percents != 0 ? static_cast<size_t>(__builtin_ctzll(bytes.percents))
                                              : std::string_view::npos;
    std::string_view addr = s.substr(0, zone);
    if (addr == "::") return false;
    // Without "::" an address is eight groups (7 colons) or six and a dotted IPv4 address
    // (6 colons): "12:34:56" and "Nov 1 00:00:00" stop here, before inet_pton.
    size_t colons = 0;
    bool dot = false;
    bool double_colon = false;
    if (bytes.masked) {
      const uint64_t in_addr = BitsBelow(addr.size());
      const uint64_t colon_bits = bytes.colons & in_addr;
      colons = CountBits(colon_bits);
      double_colon = (colon_bits & (colon_bits >> 1)) != 0;
      dot = (bytes.dots & in_addr) != 0;
    } else {
      for (size_t i = 0; i < addr.size(); ++i) {
        if (addr[i] == ':') {
          double_colon |= colons > 0 && addr[i - 1] == ':';
          ++colons;
        }
        dot |= addr[i] == '.';
      }
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

  // has_dot: the caller knows s holds a '.' (spares the search for one).
  bool TryDomain(std::string_view s, bool has_dot = false) {
    if (!has_dot && FindByte(s, '.', 0) == std::string_view::npos) return false;
    // A name is often written twice in one line (BIND's "(name): ... query: name",
    // Proxifier's "host:port ... proxy host:port"): the same bytes get the same answer,
    // and a domain found again would only be dropped by Emit as a duplicate. So the same
    // bytes as the last name accepted here answer true at once: that name's key is in
    // *out_ already (emitted then, or a duplicate of an earlier one). Otherwise the key is
    // built in a buffer kept across calls (per thread) and copied only when it is new.
    if (s.size() == last_domain_.size() && !s.empty() &&
        std::memcmp(s.data(), last_domain_.data(), s.size()) == 0) {
      return true;
    }
    thread_local std::string key;
    if (!CheckDomainName(s, &key)) return false;
    last_domain_ = s;
    if (KnownDuplicate(IndicatorType::kDomain, key)) return true;
    if (out_->size() - first_ < kLinearLimit) {
      Append(IndicatorType::kDomain, key, s);  // KnownDuplicate was Emit's check
    } else {
      Emit(Indicator{IndicatorType::kDomain, key}, s);
    }
    return true;
  }

  // Few observables per line is the norm: Emit compares directly, and switches to a hash
  // set only when a text holds many.
  static constexpr size_t kLinearLimit = 16;

  // Whether Emit would drop an indicator of type with key as a duplicate, when the text has
  // few observables so far (false otherwise: Emit then decides).
  bool KnownDuplicate(IndicatorType type, std::string_view key) const {
    if (out_->size() - first_ >= kLinearLimit) return false;
    for (size_t i = first_; i < out_->size(); ++i) {
      const Indicator& seen = (*out_)[i].indicator;
      if (seen.type == type && seen.key == key) return true;
    }
    return false;
  }

  void Emit(Indicator&& indicator, std::string_view text) {
    size_t count = out_->size() - first_;
    if (count < kLinearLimit) {
      for (size_t i = first_; i < out_->size(); ++i) {
        if (SameIndicator((*out_)[i].indicator, indicator)) return;
      }
    } else {
      if (seen_ == nullptr) {
        seen_ = std::make_unique<std::unordered_set<std::string>>();
        for (size_t i = first_; i < out_->size(); ++i)
          seen_->insert((*out_)[i].indicator.Encoded());
      }
      if (!seen_->insert(indicator.Encoded()).second) return;
    }
    Observable& o = NewObservable(indicator.type, text);
    o.indicator.key = std::move(indicator.key);  // one copy of a short key, not two
  }

  // Appends an observable (not a duplicate: the caller checked) with a copy of key.
  void Append(IndicatorType type, std::string_view key, std::string_view text) {
    NewObservable(type, text).indicator.key.assign(key.data(), key.size());
  }

  // A new observable of type at text, its key empty: the key is put in place, not moved
  // there through the constructor's by-value parameter (each move of a short key is a
  // memcpy call).
  Observable& NewObservable(IndicatorType type, std::string_view text) {
    Observable& o = out_->emplace_back();
    o.indicator.type = type;
    o.text = text;
    o.offset = static_cast<size_t>(text.data() - input_.data());
    return o;
  }

  std::string_view input_;
  std::vector<Observable>* out_;
  size_t first_;  // index of the first observable of this call in *out_
  // Created only for texts with many observables: most calls are on a short value with
  // none, and an empty set still costs a clear on destruction.
  std::unique_ptr<std::unordered_set<std::string>> seen_;
  // The text of the last name TryDomain accepted (points into input_).
  std::string_view last_domain_;
};

}  // namespace

namespace {

// w with every byte 'A'-'Z' lower-cased and every other byte unchanged (Lower() on each
// of its 8 bytes, without a branch or a store per byte).
constexpr uint64_t FoldWord(uint64_t w) {
  constexpr uint64_t kLow7 = 0x7f7f7f7f7f7f7f7fULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const uint64_t h = w & kLow7;                               // no carry between bytes below
  const uint64_t at_least_a = h + 0x3f3f3f3f3f3f3f3fULL;     // top bit: h >= 'A'
  const uint64_t above_z = h + 0x2525252525252525ULL;        // top bit: h > 'Z'
  const uint64_t upper = at_least_a & ~above_z & ~w & kHigh;  // and the byte is ASCII
  return w | (upper >> 2);                                    // 0x80 >> 2 == 0x20
}
static_assert([] {
  for (int c = 0; c < 256; ++c) {
    const uint64_t w = uint64_t{static_cast<unsigned char>(c)} * 0x0101010101010101ULL;
    if (FoldWord(w) != uint64_t{static_cast<unsigned char>(Lower(static_cast<char>(c)))} *
                           0x0101010101010101ULL) {
      return false;
    }
  }
  return true;
}());

// Whether the n bytes at lower equal the n bytes at name lower-cased (Lower()), compared
// a word at a time from name itself (a lower-cased copy just written byte by byte would
// stall the wider loads that read it back).
bool EqualsFolded(const char* lower, const char* name, size_t n) {
  if (n >= 8) {
    size_t i = 0;
    for (; i + 8 < n; i += 8) {
      if (Load64(lower + i) != FoldWord(Load64(name + i))) return false;
    }
    return Load64(lower + n - 8) == FoldWord(Load64(name + n - 8));
  }
  if (n >= 4) {
    // Bytes [0, 4) and [n - 4, n) (overlapping when n < 8).
    auto word = [n](const char* p) {
      return uint64_t{Load32(p)} | (uint64_t{Load32(p + n - 4)} << 32);
    };
    return word(lower) == FoldWord(word(name));
  }
  for (size_t i = 0; i < n; ++i) {
    if (lower[i] != Lower(name[i])) return false;
  }
  return true;
}

// Whether any of the n bytes at p is >= 0x80.
bool AnyHighByte(const char* p, size_t n) {
  uint64_t acc = 0;
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8) acc |= Load64(p + i);
    acc |= Load64(p + n - 8);
  } else {
    for (size_t i = 0; i < n; ++i) acc |= static_cast<unsigned char>(p[i]);
  }
  return (acc & 0x8080808080808080ULL) != 0;
}

// CheckDomainName's answers for lower-cased names, per thread: 1024 sets of 16 ways, each
// way a 64-byte entry with the name inline (longer names go to a small direct-mapped
// table of their own), about 1 MB. A set's 16-bit hash tags sit together, so a lookup compares 16 tags at once
// and reads one entry. Sixteen ways make the hit rate hold up when the distinct names
// outnumber a direct-mapped table's slots: with iocgen's ten thousand names in a cycle,
// a direct-mapped cache of the same size missed on about half of them (two names sharing
// a slot evict each other on every pass), this one on a few percent. Replacement is FIFO
// per set.
class NameVerdictCache {
 public:
  static constexpr uint8_t kDomain = 1;  // LooksLikeDomainName
  // NormalizeDomain accepts it (it then only lower-cases it); only set with kDomain.
  static constexpr uint8_t kValid = 2;
  static constexpr size_t kLongestName = 62;

  // Whether name (at most kLongestName bytes, any case) is cached: the cached, lower-cased
  // name (name.size() bytes) or nullptr; *verdict is then its bits. Compared a word at a
  // time with name lower-cased in registers (no lower-cased copy in memory first).
  const char* FindShort(uint64_t hash, std::string_view name, uint8_t* verdict) const {
    const size_t set = SetOf(hash);
    uint32_t matches = TagMatches(tags_[set].data(), TagOf(hash));
    while (matches != 0) {
      const size_t way = static_cast<size_t>(__builtin_ctz(matches));
      matches &= matches - 1;
      const Entry& e = entries_[set * kWays + way];
      if (e.size == name.size() && EqualsFolded(e.name, name.data(), name.size())) {
        *verdict = e.verdict;
        return e.name;
      }
    }
    // A miss is followed by Insert into this set: fetch the entry it will overwrite now, so
    // that its cache miss overlaps with working out the verdict.
    __builtin_prefetch(&entries_[set * kWays + next_way_[set] % kWays], 1);
    return nullptr;
  }

  // Whether the name longer than kLongestName that lower-cases to lowered is cached;
  // *verdict is then its bits.
  bool FindLong(uint64_t hash, std::string_view lowered, uint8_t* verdict) const {
    const LongEntry& e = long_[hash & (kLongSlots - 1)];
    if (e.name != lowered) return false;
    *verdict = e.verdict;
    return true;
  }

  void Insert(uint64_t hash, std::string_view name, uint8_t verdict) {
    if (name.size() > kLongestName) {
      LongEntry& e = long_[hash & (kLongSlots - 1)];
      e.name.assign(name);
      e.verdict = verdict;
      return;
    }
    const size_t set = SetOf(hash);
    const size_t way = next_way_[set]++ % kWays;
    tags_[set][way] = TagOf(hash);
    Entry& e = entries_[set * kWays + way];
    e.size = static_cast<uint8_t>(name.size());
    e.verdict = verdict;
    std::memcpy(e.name, name.data(), name.size());
  }

 private:
  static constexpr size_t kSets = 1024;
  static constexpr size_t kWays = 16;
  struct Entry {
    uint8_t size = 0;  // 0: empty (a cached name has a '.')
    uint8_t verdict = 0;
    char name[kLongestName];
  };
  static_assert(sizeof(Entry) == 64);

  static size_t SetOf(uint64_t hash) { return hash & (kSets - 1); }
  static uint16_t TagOf(uint64_t hash) { return static_cast<uint16_t>(hash >> 48); }

  // Bit w set where tags[w] == tag.
  static uint32_t TagMatches(const uint16_t* tags, uint16_t tag) {
#if defined(__SSE2__)
    const __m128i t = _mm_set1_epi16(static_cast<short>(tag));
    __m128i lo = _mm_cmpeq_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(tags)), t);
    __m128i hi = _mm_cmpeq_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(tags + 8)), t);
    // One byte per way: pack the 16-bit results to bytes.
    return static_cast<uint32_t>(_mm_movemask_epi8(_mm_packs_epi16(lo, hi)));
#else
    uint32_t m = 0;
    for (size_t w = 0; w < kWays; ++w) m |= (tags[w] == tag ? 1u : 0u) << w;
    return m;
#endif
  }

  // Longer names (ip6.arpa reverse names, long CDN hosts): direct-mapped, names on the heap.
  static constexpr size_t kLongSlots = 1024;
  struct LongEntry {
    std::string name;  // empty: unused (a cached name has a '.')
    uint8_t verdict = 0;
  };

  alignas(64) std::array<std::array<uint16_t, kWays>, kSets> tags_{};
  std::array<Entry, kSets * kWays> entries_{};
  std::array<uint8_t, kSets> next_way_{};
  std::array<LongEntry, kLongSlots> long_{};
};

// Whether the lower-cased tld is listed in the PSL (a rule of its own, not only the
// implicit "*" rule), per thread: libpsl is asked once per distinct TLD. A log holds a few
// hundred TLDs at most; 256 direct-mapped slots of TLDs up to 30 bytes (longer ones go to
// libpsl every time).
bool TldListed(const psl_ctx_t* psl, const char* tld, size_t size) {
  struct Slot {
    uint8_t size = 0;  // 0: empty
    bool listed = false;
    char text[30];
  };
  static constexpr size_t kSlots = 256;
  static constexpr size_t kLongest = sizeof(Slot::text);
  auto ask = [psl, tld] {
    return psl_is_public_suffix2(psl, tld, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
  };
  if (size > kLongest) return ask();
  thread_local std::array<Slot, kSlots> slots{};
  uint32_t h = static_cast<uint32_t>(size) * 0x9e3779b1u;
  for (size_t i = 0; i < size; ++i) h = (h ^ static_cast<unsigned char>(tld[i])) * 0x01000193u;
  Slot& slot = slots[(h ^ (h >> 16)) & (kSlots - 1)];
  if (slot.size == size && std::memcmp(slot.text, tld, size) == 0) return slot.listed;
  slot.size = static_cast<uint8_t>(size);
  slot.listed = ask();
  std::memcpy(slot.text, tld, size);
  return slot.listed;
}

// CheckDomainName's verdict bits for a name not in the cache: folded is the name
// lower-cased and NUL-terminated, ASCII, without a trailing dot; folded[dot] is its last
// dot. Kept out of line: most names are found in the cache.
// name is the same name as written (the prefilter hashes it a word at a time, which it
// must not do on folded's bytes just stored one by one); hash = FoldedNameHash(name).
// prefilter: PslPrefilter::ForBuiltin() when psl is the built-in list, else nullptr.
[[gnu::noinline]] uint8_t UncachedVerdict(const psl_ctx_t* psl, const PslPrefilter* prefilter,
                                          const char* folded, std::string_view name,
                                          size_t dot, uint64_t hash) {
  const size_t size = name.size();
  uint8_t verdict = 0;
  // The TLD must be listed (not just matched by the implicit "*" rule), and the name must
  // have a registrable part below its public suffix ("co.uk" alone is not a domain). For a
  // name with a dot and no leading one, psl_registrable_domain is non-null exactly when
  // the name itself is not a public suffix (it tests the whole name first, then its
  // suffixes): one lookup instead of one per label (extractor_test checks that the two
  // agree on names made from every PSL rule).
  // Most names on a log of distinct names are surely not public suffixes by the prefilter,
  // which is cheaper than libpsl's two lookups.
  if (TldListed(psl, folded + dot + 1, size - dot - 1) && folded[0] != '.' &&
      ((prefilter != nullptr &&
        prefilter->SurelyNotPublicSuffix(name, hash)) ||
       psl_is_public_suffix(psl, folded) == 0)) {
    verdict |= NameVerdictCache::kDomain;
  }
  // NormalizeDomain accepts the name or not whatever its case, and lower-cases it. Only
  // asked for a domain: CheckDomainName reads kValid only with kDomain.
  if ((verdict & NameVerdictCache::kDomain) != 0 &&
      IsNormalizableDomain(std::string_view(folded, size))) {
    verdict |= NameVerdictCache::kValid;
  }
  return verdict;
}

// LooksLikeDomainName(name); when key is given, also NormalizeDomain(name) in the same pass
// for an ASCII name: true only when both accept it, and *key is then the normalised name.
bool CheckDomainName(std::string_view name, std::string* key) {
  // Real TLDs that are far more often file extensions in log text ("setup.py", "run.sh",
  // "libc.so", "README.md", "workers2.properties", "SVCHOST.EXE-1234.pf", "Main.java",
  // "id_rsa.pub", "invoice.zip", "clip.mov"). Names under them are still found inside
  // URLs with a scheme, where no guessing is needed. Kept short on purpose: each entry
  // hides every domain under that TLD from bare-text extraction.
  // cab data java md mov pf pid pm properties ps pub py sh so zip: compared by length,
  // each against a constant (a loop over a table calls memcmp for every same-length entry),
  // the TLD as written lower-cased into one register (a lower-cased copy in memory, read
  // back wider than it was written, would stall).
  auto is_file_extension = [](std::string_view t) {
    constexpr auto pack = [](std::string_view w) {
      uint32_t v = 0;
      for (size_t i = 0; i < w.size() && i < 4; ++i)
        v |= uint32_t{static_cast<unsigned char>(Lower(w[i]))} << (8 * i);
      return v;
    };
    const uint32_t v = pack(t);
    switch (t.size()) {
      case 2:
        return v == pack("md") || v == pack("pf") || v == pack("pm") || v == pack("ps") ||
               v == pack("py") || v == pack("sh") || v == pack("so");
      case 3:
        return v == pack("cab") || v == pack("mov") || v == pack("pid") || v == pack("pub") ||
               v == pack("zip");
      case 4:
        return v == pack("data") || v == pack("java");
      case 10:
        return EqualsNoCase(t, "properties");
      default:
        return false;
    }
  };
  static const psl_ctx_t* const psl = psl_builtin() != nullptr ? psl_builtin() : psl_latest(nullptr);
  static const PslPrefilter* const prefilter =
      psl != nullptr && psl == psl_builtin() ? PslPrefilter::ForBuiltin() : nullptr;
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
  if (key != nullptr && AnyHighByte(name.data(), name.size())) {
    // IDN conversion: NormalizeDomain's own path.
    if (!CheckDomainName(name, nullptr)) return false;
    std::optional<std::string> normalized = NormalizeDomain(name);
    if (!normalized) return false;
    *key = std::move(*normalized);
    return true;
  }
  if (is_file_extension(tld)) return false;
  if (psl == nullptr) return false;
  // libpsl lookups dominate extraction on domain-heavy logs, and names repeat: a cache per
  // thread of the answers for each lower-cased name (NameVerdictCache).
  thread_local std::unique_ptr<NameVerdictCache> cache = std::make_unique<NameVerdictCache>();
  const uint64_t hash = FoldedNameHash(name);
  uint8_t verdict = 0;
  // A hit (most checks) reads the lower-cased name from the cache entry.
  const char* lowered = nullptr;
  if (name.size() <= NameVerdictCache::kLongestName) {
    lowered = cache->FindShort(hash, name, &verdict);
  }
  char folded[254];
  if (lowered == nullptr) {
    for (size_t i = 0; i < name.size(); ++i) folded[i] = Lower(name[i]);
    folded[name.size()] = '\0';
    lowered = folded;
    const std::string_view lowered_name(folded, name.size());
    if (name.size() <= NameVerdictCache::kLongestName ||
        !cache->FindLong(hash, lowered_name, &verdict)) {
      verdict = UncachedVerdict(psl, prefilter, folded, name, dot, hash);
      cache->Insert(hash, lowered_name, verdict);
    }
  }
  const bool domain = (verdict & NameVerdictCache::kDomain) != 0;
  if (key == nullptr) return domain;
  if (!domain || (verdict & NameVerdictCache::kValid) == 0) return false;
  key->assign(lowered, name.size());
  return true;
}

}  // namespace

bool LooksLikeDomainName(std::string_view name) { return CheckDomainName(name, nullptr); }

void ExtractObservables(std::string_view text, std::vector<Observable>* out) {
  if (text.empty()) return;
  if (text.size() < kBlock) {
    // Most values of a structured event: checked in one vector. Without '.' or ':' a short
    // value holds no URL ("://"), no token worth classifying and no digest (32+ bytes).
    const uint32_t dot_colon = ShortDotColonMask(text.data(), text.size());
    if (dot_colon == 0) return;
    if (!HasUrl(text)) {
      Collector collector(text, out);
      collector.ScanShort(dot_colon);
      return;
    }
  }
  Collector collector(text, out);
  collector.Scan();
}

}  // namespace iocd
