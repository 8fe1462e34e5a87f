#include "prefilter.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "indicator/indicator.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace iocd::scan {
namespace {

enum : uint8_t {
  kHost = 1,     // [A-Za-z0-9._-]: a byte of a host name, an address or a digest
  kHex = 2,      // [0-9A-Fa-f]
  kV6 = 4,       // [0-9A-Fa-f:.]: a byte of an IPv6 address's text
  kAuthEnd = 8,  // ends a url's authority: '/', '?', '#', '\' or a byte no url holds
  kTrimEnd = 16,   // '.', '-', '_': trimmed from a run's end before it is a name or digest
  kTrimStart = 32,  // '.', '-': trimmed from its start
  kAlpha = 64,      // [A-Za-z]
  kAlnum = 128,     // [A-Za-z0-9]
};

constexpr std::array<uint8_t, 256> MakeClasses() {
  std::array<uint8_t, 256> t{};
  for (int i = 0; i < 256; ++i) {
    const auto c = static_cast<unsigned char>(i);
    const bool digit = c >= '0' && c <= '9';
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool hex = digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    uint8_t bits = 0;
    if (digit || alpha || c == '.' || c == '_' || c == '-') bits |= kHost;
    if (hex) bits |= kHex;
    if (hex || c == ':' || c == '.') bits |= kV6;
    // The extractor's url bytes (extractor.cc kUrlChar): printable ASCII but these.
    const bool url_byte = c > 0x20 && c < 0x7f && std::string_view("\"'`<>\\|{}^").find(static_cast<char>(c)) == std::string_view::npos;
    if (!url_byte || c == '/' || c == '?' || c == '#' || c == '\\') bits |= kAuthEnd;
    if (c == '.' || c == '-' || c == '_') bits |= kTrimEnd;
    if (c == '.' || c == '-') bits |= kTrimStart;
    if (alpha) bits |= kAlpha;
    if (alpha || digit) bits |= kAlnum;
    t[i] = bits;
  }
  return t;
}
constexpr std::array<uint8_t, 256> kClass = MakeClasses();

bool Is(char c, uint8_t bits) { return (kClass[static_cast<unsigned char>(c)] & bits) != 0; }

constexpr char Lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// The anchor hash: bytes folded in from the last to the first, so every suffix of a run is
// hashed in one backward pass; Finish() mixes the state into the filter's hash.
constexpr uint64_t kSeed = 0x243f6a8885a308d3ULL;
constexpr uint64_t kMul = 0x9e3779b97f4a7c15ULL;
inline uint64_t Step(uint64_t h, char c) {
  return (h ^ static_cast<unsigned char>(Lower(c))) * kMul;
}
inline uint64_t Finish(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 33);
}
// HashText: byte by byte, for the rare keys that are not names (cidr4).
uint64_t HashText(std::string_view s) {
  uint64_t h = kSeed;
  for (size_t i = s.size(); i-- > 0;) h = Step(h, s[i]);
  return Finish(h);
}

// Names (and digests) are hashed label by label from the right, 8 bytes a step, so the
// hashes of all label suffixes of a run come out of one pass: the state after k labels,
// Finish()ed, is the hash of the k-label suffix. Bytes are folded with 0x20 (lower-cases
// ASCII letters; host bytes other than '_' already have that bit, and '_' becomes 0x7f,
// which no host byte is).
// The n (1..8) bytes ending at end, zero-extended, folded; base: the first readable byte.
inline uint64_t FoldedTail(const char* base, const char* end, size_t n) {
  uint64_t w = 0;
  if (end - base >= 8) {
    std::memcpy(&w, end - 8, sizeof(w));
    w >>= 64 - 8 * n;
  } else {
    for (size_t i = 0; i < n; ++i) w |= uint64_t{static_cast<unsigned char>(end[i - n])} << (8 * i);
  }
  return w | (0x2020202020202020ULL >> (64 - 8 * n));
}
// The state after one more label [begin, end) (further left than those already in).
inline uint64_t AddLabel(uint64_t state, const char* base, const char* begin, const char* end) {
  const auto len = static_cast<uint64_t>(end - begin);
  while (end > begin) {
    const size_t n = std::min<size_t>(8, static_cast<size_t>(end - begin));
    state = (state ^ FoldedTail(base, end, n)) * kMul;
    state ^= state >> 32;
    end -= n;
  }
  return (state ^ (len + 0x5bd1e995)) * 0xc6a4a7935bd1e995ULL;
}
// The hash of a whole name; *tld: the hash of its last label alone.
uint64_t HashName(std::string_view name, uint64_t* tld = nullptr) {
  const char* base = name.data();
  const char* end = base + name.size();
  uint64_t state = kSeed;
  bool first = true;
  for (;;) {
    const char* begin = end;
    while (begin > base && begin[-1] != '.') --begin;
    state = AddLabel(state, base, begin, end);
    if (first && tld != nullptr) *tld = Finish(state);
    first = false;
    if (begin == base) break;
    end = begin - 1;
  }
  return Finish(state);
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

uint32_t Labels(std::string_view s) {
  return 1 + static_cast<uint32_t>(std::count(s.begin(), s.end(), '.'));
}

std::string_view LastLabel(std::string_view name) {
  const size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? name : name.substr(dot + 1);
}

// A dotted quad's hash, from its value (the text's ParseIpv4 is at hand when it is probed).
uint64_t HashQuad(uint32_t addr) { return Finish((uint64_t{addr} << 8 | 0x5a) * kMul); }

std::string Cidr4Key(uint32_t addr, uint8_t length) {
  const uint32_t masked = length == 0 ? 0 : addr & (~uint32_t{0} << (32 - length));
  std::string key(6, '\0');
  key[0] = static_cast<char>(IndicatorType::kCidr4);
  for (int i = 0; i < 4; ++i) key[1 + i] = static_cast<char>(masked >> (24 - 8 * i));
  key[5] = static_cast<char>(length);
  return key;
}

}  // namespace

// The filter probes of a line (or of a batch of lines): each block is prefetched when its
// probe is added and tested later, so the cache misses of many probes overlap.
struct LinePrefilter::Probes {
  std::vector<uint64_t>* hashes;
  // The probe is tested later, by AnyContained.
  void Add(const LinePrefilter& f, uint64_t hash) {
    __builtin_prefetch(&f.blocks_[f.BlockOf(hash)]);
    hashes->push_back(hash);
  }
};

// Where Triggers is in a line.
struct LinePrefilter::Cursor {
  Probes probes;
  size_t host_done;   // host runs before this have been probed
  size_t colon_done;  // IPv6-looking runs before this have been checked
  bool colons;        // ':' can trigger (url, IPv6 or mapped-IPv4 triggers in force)
};

bool LinePrefilter::AnyContained(std::span<const uint64_t> probes) const {
  bool any = false;
  for (uint64_t h : probes) any |= Contains(h);
  return any;
}

bool LinePrefilter::TldListed(uint64_t h) const {
  return (tlds_[(h >> 6) % kTldBits / 64] >> (h & 63)) & 1;
}

size_t LinePrefilter::BlockOf(uint64_t hash) const {
  return static_cast<size_t>((static_cast<unsigned __int128>(hash) * blocks_.size()) >> 64);
}

void LinePrefilter::Insert(uint64_t hash) {
  Block& b = blocks_[BlockOf(hash)];
  const uint64_t bits = hash * 0xff51afd7ed558ccdULL;
  for (int j = 0; j < 8; ++j) b.words[j] |= uint64_t{1} << ((bits >> (16 + 6 * j)) & 63);
}

bool LinePrefilter::Contains(uint64_t hash) const {
  const Block& b = blocks_[BlockOf(hash)];
  const uint64_t bits = hash * 0xff51afd7ed558ccdULL;
  uint64_t all = 1;
  for (int j = 0; j < 8; ++j) all &= b.words[j] >> ((bits >> (16 + 6 * j)) & 63);
  return (all & 1) != 0;
}

std::unique_ptr<const LinePrefilter> LinePrefilter::Build(
    std::span<const std::string_view> encoded, bool allow_avx2) {
  std::unique_ptr<LinePrefilter> f(new LinePrefilter());
#if defined(__x86_64__)
  f->avx2_ = allow_avx2 && __builtin_cpu_supports("avx2");
#else
  (void)allow_avx2;
#endif
  std::vector<uint64_t> hashes;
  hashes.reserve(encoded.size());
  uint64_t cidr_lengths = 0;
  std::vector<uint64_t> quad_names;
  auto text_anchor = [&](std::string_view text) {
    const std::string_view tld = LastLabel(text);
    if (AllDigits(tld)) {
      f->quad_anchors_ = true;
      f->numeric_tlds_ |= !ParseIpv4(text).has_value();  // "*.2.3.4/x"'s fixed host "2.3.4"
    }
    uint64_t tld_hash = 0;
    const uint64_t hash = HashName(text, &tld_hash);
    f->tlds_[(tld_hash >> 6) % kTldBits / 64] |= uint64_t{1} << (tld_hash & 63);
    if (std::optional<uint32_t> addr = ParseIpv4(text)) {
      // Probed by value (HostRun's quad path); by name too when numeric_tlds_ sends numeric
      // runs down the name path (known once every anchor is in).
      hashes.push_back(HashQuad(*addr));
      quad_names.push_back(hash);
      return;
    }
    const uint32_t labels = Labels(text);
    f->min_labels_ = std::min(f->min_labels_, labels);
    f->max_labels_ = std::max(f->max_labels_, labels);
    hashes.push_back(hash);
  };
  std::string_view previous;
  for (std::string_view e : encoded) {
    if (e == previous) continue;  // the same indicator listed by another feed
    previous = e;
    std::optional<Indicator> ind = Indicator::Decode(e);
    if (!ind) {
      f->pass_all_ = true;
      continue;
    }
    switch (ind->type) {
      case IndicatorType::kIpv4:
        text_anchor(ind->Display());
        f->mapped_trigger_ = true;
        break;
      case IndicatorType::kCidr4:
        hashes.push_back(HashText(e));
        cidr_lengths |= uint64_t{1} << static_cast<uint8_t>(ind->key[4]);
        f->mapped_trigger_ = true;
        break;
      case IndicatorType::kIpv6:
      case IndicatorType::kCidr6:
        f->v6_trigger_ = true;
        break;
      case IndicatorType::kDomain:
        text_anchor(ind->key);
        break;
      case IndicatorType::kUrl:
      case IndicatorType::kUrlMask: {
        f->has_url_ = true;
        std::string_view host = ind->type == IndicatorType::kUrl ? HostOfUrlKey(ind->key)
                                                                 : UrlMaskFixedHost(ind->key);
        if (host.empty()) {
          f->pass_all_ = true;  // "1.2.3.*/x": no fixed host to anchor on
        } else if (host.front() == '[') {
          f->v6_trigger_ = true;
          f->mapped_trigger_ = true;
        } else {
          if (AllDigits(LastLabel(host))) {
            f->has_ip_url_ = true;
            f->mapped_trigger_ = true;
          }
          text_anchor(host);
        }
        break;
      }
      case IndicatorType::kMd5:
      case IndicatorType::kSha1:
      case IndicatorType::kSha256:
        f->has_hex_ = true;
        hashes.push_back(HashName(ind->Display()));
        break;
      case IndicatorType::kSha512:
        break;  // the extractor reports no sha512 observable: it never matches
      default:
        f->pass_all_ = true;
        break;
    }
  }
  for (uint8_t len = 0; len < 32; ++len) {
    if ((cidr_lengths >> len) & 1) f->cidr4_lengths_.push_back(len);
  }
  if (f->numeric_tlds_ && !quad_names.empty()) {
    hashes.insert(hashes.end(), quad_names.begin(), quad_names.end());
    f->min_labels_ = std::min<uint32_t>(f->min_labels_, 4);
    f->max_labels_ = std::max<uint32_t>(f->max_labels_, 4);
  }
  // ~16 bits per anchor: about 0.1% of probes pass by chance.
  f->anchors_ = hashes.size();
  f->blocks_.assign(std::max<size_t>(1, (hashes.size() * 16 + 511) / 512), Block{});
  for (uint64_t h : hashes) f->Insert(h);
  return f;
}

std::string LinePrefilter::Describe() const {
  if (pass_all_) return "prefilter: off (an indicator without a literal anchor: every line is scanned)";
  return fmt::format(
      "prefilter: {} anchors, {:.1f} MB filter, labels {}-{}, {} cidr4 lengths{}{}{}{}",
      anchors_, static_cast<double>(filter_bytes()) / 1e6, min_labels_ == 255 ? 0 : min_labels_,
      max_labels_, cidr4_lengths_.size(), has_hex_ ? ", digests" : "",
      v6_trigger_ ? ", every IPv6-looking token a candidate"
                  : (mapped_trigger_ ? ", IPv4-mapped IPv6 tokens candidates" : ""),
      has_url_ ? ", url authority triggers" : "", has_ip_url_ ? " (numeric hosts too)" : "");
}

bool LinePrefilter::HostRun(std::string_view line, size_t begin, size_t end,
                            Probes* probes) const {
  const char* p = line.data();
  size_t s0 = begin;  // after leading dots (a url host's dots are trimmed)
  while (s0 < end && p[s0] == '.') ++s0;
  size_t s2 = s0;  // after leading '.' and '-' (TrimEdges)
  while (s2 < end && Is(p[s2], kTrimStart)) ++s2;
  size_t e1 = end;  // before trailing dots
  while (e1 > s0 && p[e1 - 1] == '.') --e1;
  size_t e2 = e1;  // before trailing '.', '-', '_'
  while (e2 > s2 && Is(p[e2 - 1], kTrimEnd)) --e2;
  if (s2 >= e2) return false;
  const std::string_view core = line.substr(s2, e2 - s2);
  if (has_hex_ && (core.size() == 32 || core.size() == 40 || core.size() == 64) &&
      std::all_of(core.begin(), core.end(), [](char c) { return Is(c, kHex); })) {
    probes->Add(*this, HashName(core));  // a digest: no '.' in it
    return false;
  }
  if (std::memchr(p + s0, '.', e1 - s0) == nullptr) return false;
  if ((begin > 0 && static_cast<unsigned char>(p[begin - 1]) >= 0x80) ||
      (end < line.size() && static_cast<unsigned char>(p[end]) >= 0x80)) {
    return true;  // next to non-ASCII: an IDN name may be in play
  }
  // For e = e1 and, when it differs, e2: the label-boundary suffixes of [s0, e).
  for (size_t e = e1;; e = e2) {
    size_t last = e;  // where [s0, e)'s last label starts
    while (last > s0 && p[last - 1] != '.') --last;
    const std::string_view tld = line.substr(last, e - last);
    if (!numeric_tlds_ && AllDigits(tld)) {
      // Only a dotted quad (an ipv4, a url's IPv4 host) ends in a number: "12:00:00.002",
      // "1700000000.123" and "Mozilla/5.0" cost no probe.
      for (size_t s = s0;; s = s2) {
        const std::string_view quad = line.substr(s, e - s);
        if (std::optional<uint32_t> addr = ParseIpv4(quad)) {
          if (quad_anchors_) probes->Add(*this, HashQuad(*addr));
          for (uint8_t len : cidr4_lengths_) probes->Add(*this, HashText(Cidr4Key(*addr, len)));
          break;
        }
        if (s == s2) break;
      }
    } else {
      // Label by label from the right; a suffix starting at s2 inside a label ("-evil.com")
      // is hashed on the side.
      uint64_t state = kSeed;
      uint32_t labels = 0;
      size_t label_end = e;
      for (;;) {
        size_t q = label_end;
        while (q > s0 && p[q - 1] != '.') --q;
        if (s2 > q && s2 < label_end && labels + 1 >= min_labels_) {
          probes->Add(*this, Finish(AddLabel(state, p, p + s2, p + label_end)));
        }
        state = AddLabel(state, p, p + q, p + label_end);
        ++labels;
        if (labels == 1 && !TldListed(Finish(state))) break;  // no anchor ends so
        if (labels >= min_labels_) probes->Add(*this, Finish(state));
        if (q == s0 || labels >= max_labels_) break;
        label_end = q - 1;
      }
    }
    if (e == e2) break;
  }
  return false;
}

bool LinePrefilter::Colon(std::string_view line, size_t pos, size_t* done) const {
  const char* p = line.data();
  const size_t n = line.size();
  if (has_url_ && pos + 2 < n && p[pos + 1] == '/' && p[pos + 2] == '/') {
    // A url's authority: the host is percent-decoded, dot-collapsed, maybe numeric.
    size_t q = pos + 3;
    size_t host = q;
    for (; q < n && !Is(p[q], kAuthEnd); ++q) {
      const char c = p[q];
      if (c == '%' || c == '[' || (c == '.' && q > pos + 3 && p[q - 1] == '.')) return true;
      if (c == '@') host = q + 1;
    }
    while (host < q && p[host] == '.') ++host;
    if (has_ip_url_ && host < q && p[host] >= '0' && p[host] <= '9') return true;
  }
  if (!v6_trigger_ && !mapped_trigger_) return false;
  if (!v6_trigger_) {
    // Only an IPv4-mapped address matters, and it holds "ffff:" (any case): look at the
    // run at that ':' only (most ':' are in times and MAC addresses).
    uint32_t w;
    if (pos < 4) return false;
    std::memcpy(&w, p + pos - 4, sizeof(w));
    if ((w | 0x20202020u) != 0x66666666u) return false;
  }
  if (pos < *done) return false;
  size_t begin = pos;
  while (begin > 0 && Is(p[begin - 1], kV6)) --begin;
  size_t end = begin;
  size_t colons = 0;
  bool double_colon = false;
  bool dot = false;
  for (; end < n && Is(p[end], kV6); ++end) {
    if (p[end] == ':') {
      double_colon |= end > begin && p[end - 1] == ':';
      ++colons;
    }
    dot |= p[end] == '.';
  }
  *done = end;
  // The extractor's address is this whole run but for dots trimmed at its ends (its piece
  // is cut at bytes outside the run, and is no address if it holds any), and it reads one
  // only with "::", 7 colons, or 6 and a dotted quad (TryIpv6; a url's "[...]" host is
  // such a run too): "MAC=00:1b:21:3a:8c:8b:00:50:56:a2:b4:25:08:00" is none.
  if (!double_colon && colons != 7 && !(colons == 6 && dot)) return false;
  return true;  // IPv6-looking (and, when only mapped ones matter, holding "ffff:")
}

namespace {

// Bit i: byte i of the 16 at p is '.', resp. ':'; hex_block: all 16 are hex digits.
struct Masks {
  uint32_t dot;
  uint32_t colon;
  bool hex_block;
};

Masks ClassifyScalar(const char* p, size_t n) {
  Masks m{0, 0, n == 16};
  for (size_t i = 0; i < n; ++i) {
    m.dot |= uint32_t{p[i] == '.'} << i;
    m.colon |= uint32_t{p[i] == ':'} << i;
    m.hex_block &= Is(p[i], kHex);
  }
  return m;
}

#if defined(__SSE2__)
// Lanes of v in [lo, hi] (signed compares: bytes >= 0x80 are in no ASCII range).
inline __m128i InRange(__m128i v, char lo, char hi) {
  return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(static_cast<char>(lo - 1))),
                       _mm_cmplt_epi8(v, _mm_set1_epi8(static_cast<char>(hi + 1))));
}
#endif

inline __attribute__((always_inline)) Masks Classify16(const char* p) {
#if defined(__SSE2__)
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i digit = InRange(v, '0', '9');
  // OR-ing 0x20 maps 'A'-'Z' (and only them, besides 'a'-'z') onto 'a'-'z'.
  const __m128i letter = InRange(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 'f');
  return Masks{
      static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.')))),
      static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(':')))),
      _mm_movemask_epi8(_mm_or_si128(digit, letter)) == 0xffff};
#else
  return ClassifyScalar(p, 16);
#endif
}

#if defined(__SSE2__)
// Bit i: byte i of the 16 at p is not a host byte ([A-Za-z0-9._-]).
inline __attribute__((always_inline)) uint32_t NonHost16(const char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i digit = InRange(v, '0', '9');
  const __m128i letter = InRange(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 'z');
  const __m128i punct = _mm_or_si128(
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('.')), _mm_cmpeq_epi8(v, _mm_set1_epi8('-'))),
      _mm_cmpeq_epi8(v, _mm_set1_epi8('_')));
  return ~static_cast<uint32_t>(_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(digit, letter), punct))) &
         0xffffu;
}
#endif

// The end of the host run holding [from - 1, from): the first non-host byte at or after
// from, or n.
inline size_t RunEnd(const char* p, size_t from, size_t n) {
#if defined(__SSE2__)
  for (; from + 16 <= n; from += 16) {
    if (const uint32_t m = NonHost16(p + from); m != 0) return from + static_cast<size_t>(__builtin_ctz(m));
  }
#endif
  while (from < n && Is(p[from], kHost)) ++from;
  return from;
}

// The start of the host run holding byte pos, searching no further back than floor.
inline size_t RunBegin(const char* p, size_t floor, size_t pos) {
#if defined(__SSE2__)
  for (; pos >= floor + 16; pos -= 16) {
    if (const uint32_t m = NonHost16(p + pos - 16); m != 0) return pos - 16 + (32 - static_cast<size_t>(__builtin_clz(m)));
  }
#endif
  while (pos > floor && Is(p[pos - 1], kHost)) --pos;
  return pos;
}

}  // namespace

bool LinePrefilter::MayHit(std::string_view line) const {
  thread_local std::vector<uint64_t> hashes;
  hashes.clear();
  return Triggers(line, &hashes) || AnyContained(hashes);
}

// Bits: the positions, from base, of the '.'s and all-hex 16-byte blocks (starts) and of
// the ':'s (colons) of a block of the line. True when the line is a candidate.
inline __attribute__((always_inline)) bool LinePrefilter::Positions(std::string_view line, size_t base,
                                                                    uint32_t starts, uint32_t colons,
                                                                    Cursor* c) const {
  const char* const p = line.data();
  const size_t n = line.size();
  // Host runs around each '.' and all-hex block, then the ':' triggers.
  for (; starts != 0; starts &= starts - 1) {
    const size_t pos = base + static_cast<size_t>(__builtin_ctz(starts));
    if (pos < c->host_done) continue;  // in the run just probed
    // Runs are disjoint: this one starts at or after host_done.
    const size_t begin = RunBegin(p, c->host_done, pos);
    const size_t end = RunEnd(p, pos + 1, n);
    c->host_done = end;
    if (HostRun(line, begin, end, &c->probes)) return true;
    if (end + 2 < n && p[end] == ':' && p[end + 1] == '/' && p[end + 2] == '/') {
      // "evil.com.http://...": the extractor's plain text ends where the scheme's letters
      // (at most 5, after a byte that is no letter or digit) begin.
      size_t scheme = end;
      while (scheme > begin && end - scheme < 5 && Is(p[scheme - 1], kAlpha)) --scheme;
      if (scheme > begin && !Is(p[scheme - 1], kAlnum) &&
          HostRun(line, begin, scheme, &c->probes)) {
        return true;
      }
    }
  }
  if (c->colons) {
    for (; colons != 0; colons &= colons - 1) {
      if (Colon(line, base + static_cast<size_t>(__builtin_ctz(colons)), &c->colon_done)) return true;
    }
  }
  return false;
}

// The 16-byte steps from i, then the last bytes.
bool LinePrefilter::Rest(std::string_view line, size_t i, Cursor* c) const {
  const char* const p = line.data();
  const size_t n = line.size();
  for (; i + 16 <= n; i += 16) {
    const Masks m = Classify16(p + i);
    if (Positions(line, i, m.dot | (has_hex_ && m.hex_block ? 1u : 0u), m.colon, c)) return true;
  }
  if (i == n) return false;
  Masks m;
  if (n >= 16) {
    // The last 16 bytes, shifted so bit 0 is byte i. A digest (32+ hex digits) always
    // covers a whole 16-byte block of the steps before (they start at 0), so hex_block is
    // not needed here.
    m = Classify16(p + n - 16);
    m.dot >>= 16 - (n - i);
    m.colon >>= 16 - (n - i);
  } else {
    m = ClassifyScalar(p + i, n - i);
  }
  return Positions(line, i, m.dot, m.colon, c);
}

#if defined(__x86_64__)
// Rest(), 32 bytes a step while it can.
__attribute__((target("avx2"))) bool LinePrefilter::RestAvx2(std::string_view line,
                                                            Cursor* c) const {
  const char* const p = line.data();
  const size_t n = line.size();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    const auto dot = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('.'))));
    const auto colon = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(':'))));
    uint32_t starts = dot;
    if (has_hex_) {
      const __m256i digit = _mm256_and_si256(_mm256_cmpgt_epi8(v, _mm256_set1_epi8('0' - 1)),
                                             _mm256_cmpgt_epi8(_mm256_set1_epi8('9' + 1), v));
      const __m256i folded = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
      const __m256i letter = _mm256_and_si256(_mm256_cmpgt_epi8(folded, _mm256_set1_epi8('a' - 1)),
                                              _mm256_cmpgt_epi8(_mm256_set1_epi8('f' + 1), folded));
      const auto hex = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_or_si256(digit, letter)));
      // Each all-hex 16-byte half, as Rest()'s 16-byte steps see them.
      starts |= ((hex & 0xffffu) == 0xffffu ? 1u : 0u) | ((hex >> 16) == 0xffffu ? 1u << 16 : 0u);
    }
    if (Positions(line, i, starts, colon, c)) return true;
  }
  return Rest(line, i, c);
}
#endif

bool LinePrefilter::Triggers(std::string_view line, std::vector<uint64_t>* hashes) const {
  if (pass_all_) return true;
  Cursor c{Probes{hashes}, 0, 0, has_url_ || v6_trigger_ || mapped_trigger_};
#if defined(__x86_64__)
  if (avx2_) return RestAvx2(line, &c);
#endif
  return Rest(line, 0, &c);
}

}  // namespace iocd::scan
