#include "extract/chunk_classifier.h"

#include <array>
#include <atomic>
#include <cstring>
#include <string_view>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define IOCD_CHUNK_X86 1
#endif

namespace iocd {
namespace {

// Class bits of one byte. Each class is a product set (high nibbles x low nibbles), so
// the vector paths find a byte's bits as class_by_high[hi] & class_by_low[lo] with two
// nibble lookups (NibbleTables).
enum : uint8_t {
  kDot = 1,         // 0x2e
  kColon = 2,       // 0x3a
  kEquals = 4,      // 0x3d
  kPathStart = 8,   // 0x2f 0x3f
  kHash = 16,       // 0x23
  kAt = 32,         // 0x40
  kHexDigit = 64,   // 0x30-0x39
  kHexLetter = 128  // 0x41-0x46 0x61-0x66
};

constexpr uint8_t ClassOf(unsigned char c) {
  uint8_t bits = 0;
  if (c == '.') bits |= kDot;
  if (c == ':') bits |= kColon;
  if (c == '=') bits |= kEquals;
  if (c == '/' || c == '?') bits |= kPathStart;
  if (c == '#') bits |= kHash;
  if (c == '@') bits |= kAt;
  if (c >= '0' && c <= '9') bits |= kHexDigit;
  if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) bits |= kHexLetter;
  return bits;
}

struct NibbleTables {
  std::array<uint8_t, 16> class_by_high{};
  std::array<uint8_t, 16> class_by_low{};
  std::array<uint8_t, 16> token_by_low{};  // bit h: byte (h << 4 | low) is a token byte
  std::array<uint8_t, 16> high_bit{};      // 1 << h for h < 8; 0 for non-ASCII
};

constexpr NibbleTables MakeNibbleTables() {
  NibbleTables t;
  for (int c = 0; c < 128; ++c) {
    auto u = static_cast<unsigned char>(c);
    uint8_t cls = ClassOf(u);
    t.class_by_high[static_cast<size_t>(c >> 4)] |= cls;
    t.class_by_low[static_cast<size_t>(c & 15)] |= cls;
    if (IsExtractTokenByte(u)) t.token_by_low[static_cast<size_t>(c & 15)] |= 1u << (c >> 4);
  }
  for (int h = 0; h < 8; ++h) t.high_bit[static_cast<size_t>(h)] = static_cast<uint8_t>(1u << h);
  return t;
}
constexpr NibbleTables kNibble = MakeNibbleTables();

// The nibble lookup must give exactly ClassOf for every byte (each class a product set).
constexpr bool NibbleTablesExact() {
  for (int c = 0; c < 256; ++c) {
    auto u = static_cast<unsigned char>(c);
    uint8_t cls = c < 128 ? static_cast<uint8_t>(kNibble.class_by_high[static_cast<size_t>(c >> 4)] &
                                                 kNibble.class_by_low[static_cast<size_t>(c & 15)])
                          : 0;
    if (cls != ClassOf(u)) return false;
  }
  return true;
}
static_assert(NibbleTablesExact());

struct ByteInfo {
  std::array<uint8_t, 256> cls{};
  std::array<bool, 256> token{};
};
constexpr ByteInfo MakeByteInfo() {
  ByteInfo b;
  for (int c = 0; c < 256; ++c) {
    auto u = static_cast<unsigned char>(c);
    b.cls[u] = ClassOf(u);
    b.token[u] = IsExtractTokenByte(u);
  }
  return b;
}
constexpr ByteInfo kByte = MakeByteInfo();

// The class bits behind each mask but nontoken, in the vector paths' order.
constexpr std::array<uint8_t, 7> kMaskClasses = {
    kDot | kColon, kHexDigit | kHexLetter, kEquals, kPathStart, kHash, kColon | kAt, kHexDigit};
constexpr std::array<uint64_t ChunkMasks::*, 7> kMaskFields = {
    &ChunkMasks::dotcolon, &ChunkMasks::hex,     &ChunkMasks::equals, &ChunkMasks::pathstart,
    &ChunkMasks::hash,     &ChunkMasks::colonat, &ChunkMasks::digit};

uint64_t HighBits(size_t n) { return n >= 64 ? 0 : ~uint64_t{0} << n; }

void ClassifyPortable(const char* p, size_t n, ChunkMasks* out) {
  ChunkMasks m{HighBits(n), 0, 0, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < n; ++i) {
    auto u = static_cast<unsigned char>(p[i]);
    uint64_t bit = uint64_t{1} << i;
    uint8_t c = kByte.cls[u];
    if (!kByte.token[u]) m.nontoken |= bit;
    if (c & (kDot | kColon)) m.dotcolon |= bit;
    if (c & (kHexDigit | kHexLetter)) m.hex |= bit;
    if (c & kEquals) m.equals |= bit;
    if (c & kPathStart) m.pathstart |= bit;
    if (c & kHash) m.hash |= bit;
    if (c & (kColon | kAt)) m.colonat |= bit;
    if (c & kHexDigit) m.digit |= bit;
  }
  *out = m;
}

#if defined(IOCD_CHUNK_X86)

// The n < kChunk bytes at p in a zero-padded buffer (zero is a non-token byte of no class).
struct Padded {
  alignas(64) char bytes[kChunk];
  Padded(const char* p, size_t n) {
    std::memset(bytes, 0, sizeof(bytes));
    std::memcpy(bytes, p, n);
  }
};

// For masks classified from a zero-padded chunk of n bytes: bits >= n set in nontoken and
// clear elsewhere (zero bytes are non-token bytes of no class already; this makes it exact).
void Finish(size_t n, ChunkMasks* m) {
  if (n < kChunk) KeepFirstBytes(n, m);
}

uint64_t Mask16(__m128i v) { return static_cast<uint16_t>(_mm_movemask_epi8(v)); }

__m128i InRange(__m128i v, char lo, char hi) {
  return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(static_cast<char>(lo - 1))),
                       _mm_cmplt_epi8(v, _mm_set1_epi8(static_cast<char>(hi + 1))));
}

__m128i Eq(__m128i v, char c) { return _mm_cmpeq_epi8(v, _mm_set1_epi8(c)); }

// SSE2 (the x86-64 baseline): compares only. Signed bytes: >= 0x80 are negative.
void ClassifySse2Whole(const char* p, ChunkMasks* out) {
  ChunkMasks m{0, 0, 0, 0, 0, 0, 0, 0};
  for (int k = 0; k < 4; ++k) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    __m128i nontoken = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x21)), Eq(v, 0x7f));
    nontoken = _mm_or_si128(nontoken, _mm_or_si128(Eq(v, '"'), Eq(v, '\'')));
    nontoken = _mm_or_si128(nontoken, _mm_or_si128(InRange(v, '(', ')'), Eq(v, ',')));
    nontoken = _mm_or_si128(nontoken, _mm_or_si128(InRange(v, ';', '<'), Eq(v, '>')));
    nontoken = _mm_or_si128(nontoken, _mm_or_si128(InRange(v, '[', '^'), Eq(v, '`')));
    nontoken = _mm_or_si128(nontoken, InRange(v, '{', '}'));
    __m128i colon = Eq(v, ':');
    __m128i folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
    __m128i digit = InRange(v, '0', '9');
    __m128i hex = _mm_or_si128(digit, InRange(folded, 'a', 'f'));
    const int shift = 16 * k;
    m.nontoken |= Mask16(nontoken) << shift;
    m.dotcolon |= Mask16(_mm_or_si128(colon, Eq(v, '.'))) << shift;
    m.hex |= Mask16(hex) << shift;
    m.equals |= Mask16(Eq(v, '=')) << shift;
    m.pathstart |= Mask16(_mm_or_si128(Eq(v, '/'), Eq(v, '?'))) << shift;
    m.hash |= Mask16(Eq(v, '#')) << shift;
    m.colonat |= Mask16(_mm_or_si128(colon, Eq(v, '@'))) << shift;
    m.digit |= Mask16(digit) << shift;
  }
  *out = m;
}

// Whole(p, out) classifies 64 bytes; a shorter chunk is copied into a padded buffer first.
template <void (*Whole)(const char*, ChunkMasks*)>
void ClassifyPadded(const char* p, size_t n, ChunkMasks* out) {
  if (n < kChunk) {
    Padded padded(p, n);
    Whole(padded.bytes, out);
    Finish(n, out);
    return;
  }
  Whole(p, out);
}

// Whether any of bits is set in each byte of cls, as a 16-bit mask.
__attribute__((target("ssse3"))) uint64_t AnyBits128(__m128i cls, uint8_t bits) {
  __m128i none = _mm_cmpeq_epi8(_mm_and_si128(cls, _mm_set1_epi8(static_cast<char>(bits))),
                                _mm_setzero_si128());
  return ~static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(none))) & 0xffffu;
}

// SSSE3: the AVX2 path's nibble lookups (pshufb), 16 bytes per vector.
__attribute__((target("ssse3"))) void ClassifySsse3Whole(const char* p, ChunkMasks* out) {
  auto table = [](const std::array<uint8_t, 16>& t) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(t.data()));
  };
  const __m128i class_high = table(kNibble.class_by_high);
  const __m128i class_low = table(kNibble.class_by_low);
  const __m128i token_low = table(kNibble.token_by_low);
  const __m128i high_bit = table(kNibble.high_bit);
  const __m128i low_nibble = _mm_set1_epi8(0x0f);
  ChunkMasks m{0, 0, 0, 0, 0, 0, 0, 0};
  for (int k = 0; k < 4; ++k) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    __m128i lo = _mm_and_si128(v, low_nibble);
    __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), low_nibble);
    __m128i cls = _mm_and_si128(_mm_shuffle_epi8(class_high, hi), _mm_shuffle_epi8(class_low, lo));
    __m128i token = _mm_and_si128(_mm_shuffle_epi8(token_low, lo), _mm_shuffle_epi8(high_bit, hi));
    const int shift = 16 * k;
    m.nontoken |= Mask16(_mm_cmpeq_epi8(token, _mm_setzero_si128())) << shift;
    for (size_t c = 0; c < kMaskClasses.size(); ++c) {
      m.*kMaskFields[c] |= AnyBits128(cls, kMaskClasses[c]) << shift;
    }
  }
  *out = m;
}

__attribute__((target("avx2"))) __m256i Table256(const std::array<uint8_t, 16>& t) {
  __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t.data()));
  return _mm256_broadcastsi128_si256(v);
}

// Whether any of bits is set in each byte of cls, as a 32-bit mask.
__attribute__((target("avx2"))) uint64_t AnyBits256(__m256i cls, uint8_t bits) {
  __m256i none = _mm256_cmpeq_epi8(_mm256_and_si256(cls, _mm256_set1_epi8(static_cast<char>(bits))),
                                   _mm256_setzero_si256());
  return ~static_cast<uint64_t>(static_cast<uint32_t>(_mm256_movemask_epi8(none))) & 0xffffffffu;
}

__attribute__((target("avx2"))) void ClassifyAvx2Whole(const char* p, ChunkMasks* out) {
  const __m256i class_high = Table256(kNibble.class_by_high);
  const __m256i class_low = Table256(kNibble.class_by_low);
  const __m256i token_low = Table256(kNibble.token_by_low);
  const __m256i high_bit = Table256(kNibble.high_bit);
  const __m256i low_nibble = _mm256_set1_epi8(0x0f);
  ChunkMasks m{0, 0, 0, 0, 0, 0, 0, 0};
  for (int k = 0; k < 2; ++k) {
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * k));
    __m256i lo = _mm256_and_si256(v, low_nibble);
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low_nibble);
    // Both high-nibble tables are 0 for non-ASCII bytes: no class, no token.
    __m256i cls =
        _mm256_and_si256(_mm256_shuffle_epi8(class_high, hi), _mm256_shuffle_epi8(class_low, lo));
    __m256i token =
        _mm256_and_si256(_mm256_shuffle_epi8(token_low, lo), _mm256_shuffle_epi8(high_bit, hi));
    const int shift = 32 * k;
    m.nontoken |=
        static_cast<uint64_t>(static_cast<uint32_t>(
            _mm256_movemask_epi8(_mm256_cmpeq_epi8(token, _mm256_setzero_si256()))))
        << shift;
    for (size_t c = 0; c < kMaskClasses.size(); ++c) {
      m.*kMaskFields[c] |= AnyBits256(cls, kMaskClasses[c]) << shift;
    }
  }
  *out = m;
}

// A nibble table repeated in each 128-bit lane (what vpshufb looks up per lane).
struct Table4 {
  alignas(64) std::array<uint8_t, 64> bytes{};
};
constexpr Table4 Repeat4(const std::array<uint8_t, 16>& t) {
  Table4 r;
  for (size_t i = 0; i < 64; ++i) r.bytes[i] = t[i % 16];
  return r;
}
constexpr Table4 kClassHigh4 = Repeat4(kNibble.class_by_high);
constexpr Table4 kClassLow4 = Repeat4(kNibble.class_by_low);
constexpr Table4 kTokenLow4 = Repeat4(kNibble.token_by_low);
constexpr Table4 kHighBit4 = Repeat4(kNibble.high_bit);

__attribute__((target("avx512f,avx512bw"))) __m512i Table512(const Table4& t) {
  return _mm512_load_si512(t.bytes.data());
}

__attribute__((target("avx512f,avx512bw"))) uint64_t AnyBits512(__m512i cls, uint8_t bits) {
  return _mm512_test_epi8_mask(cls, _mm512_set1_epi8(static_cast<char>(bits)));
}

__attribute__((target("avx512f,avx512bw"))) void ClassifyAvx512(const char* p, size_t n,
                                                                 ChunkMasks* out) {
  // A masked load reads (and faults on) the first n bytes only.
  const __mmask64 valid = n >= kChunk ? ~__mmask64{0} : (__mmask64{1} << n) - 1;
  __m512i v = _mm512_maskz_loadu_epi8(valid, p);
  const __m512i low_nibble = _mm512_set1_epi8(0x0f);
  __m512i lo = _mm512_and_si512(v, low_nibble);
  __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low_nibble);
  // Both high-nibble tables are 0 for non-ASCII bytes (and the masked-off bytes are 0, a
  // control byte): no class, no token.
  __m512i cls = _mm512_and_si512(_mm512_shuffle_epi8(Table512(kClassHigh4), hi),
                                 _mm512_shuffle_epi8(Table512(kClassLow4), lo));
  __m512i token = _mm512_and_si512(_mm512_shuffle_epi8(Table512(kTokenLow4), lo),
                                   _mm512_shuffle_epi8(Table512(kHighBit4), hi));
  out->nontoken = ~static_cast<uint64_t>(_mm512_test_epi8_mask(token, token));
  for (size_t c = 0; c < kMaskClasses.size(); ++c) {
    out->*kMaskFields[c] = AnyBits512(cls, kMaskClasses[c]);
  }
}

#endif  // IOCD_CHUNK_X86

using ClassifyFn = void (*)(const char*, size_t, ChunkMasks*);

ClassifyFn FunctionFor(ChunkIsa isa) {
  switch (isa) {
#if defined(IOCD_CHUNK_X86)
    case ChunkIsa::kSse2:
      return ClassifyPadded<ClassifySse2Whole>;
    case ChunkIsa::kSsse3:
      return ClassifyPadded<ClassifySsse3Whole>;
    case ChunkIsa::kAvx2:
      return ClassifyPadded<ClassifyAvx2Whole>;
    case ChunkIsa::kAvx512:
      return ClassifyAvx512;
#endif
    default:
      return ClassifyPortable;
  }
}

void ClassifyFirst(const char* p, size_t n, ChunkMasks* out);

// The implementation in use. Constant-initialised to ClassifyFirst, which picks the best
// one on the first call (so ClassifyChunk needs no initialisation guard, and works even
// during another file's static initialisation).
std::atomic<ClassifyFn> active_fn{ClassifyFirst};
std::atomic<ChunkIsa> active_isa{ChunkIsa::kPortable};
std::atomic<bool> active_chosen{false};

void Choose(ChunkIsa isa) {
  active_isa.store(isa, std::memory_order_relaxed);
  active_fn.store(FunctionFor(isa), std::memory_order_relaxed);
  active_chosen.store(true, std::memory_order_relaxed);
}

void ClassifyFirst(const char* p, size_t n, ChunkMasks* out) {
  if (!active_chosen.load(std::memory_order_relaxed)) Choose(BestChunkIsa());
  FunctionFor(active_isa.load(std::memory_order_relaxed))(p, n, out);
}

}  // namespace

bool ChunkIsaAvailable(ChunkIsa isa) {
  switch (isa) {
    case ChunkIsa::kPortable:
      return true;
#if defined(IOCD_CHUNK_X86)
    case ChunkIsa::kSse2:
      return __builtin_cpu_supports("sse2");
    case ChunkIsa::kSsse3:
      return __builtin_cpu_supports("ssse3");
    case ChunkIsa::kAvx2:
      return __builtin_cpu_supports("avx2");
    case ChunkIsa::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
#endif
    default:
      return false;
  }
}

ChunkIsa BestChunkIsa() {
  for (ChunkIsa isa : {ChunkIsa::kAvx512, ChunkIsa::kAvx2, ChunkIsa::kSsse3, ChunkIsa::kSse2}) {
    if (ChunkIsaAvailable(isa)) return isa;
  }
  return ChunkIsa::kPortable;
}

void ClassifyChunk(const char* p, size_t n, ChunkMasks* out) {
  active_fn.load(std::memory_order_relaxed)(p, n, out);
}

ChunkIsa ActiveChunkIsa() {
  if (!active_chosen.load(std::memory_order_relaxed)) Choose(BestChunkIsa());
  return active_isa.load(std::memory_order_relaxed);
}

bool SetChunkIsaForTesting(ChunkIsa isa) {
  if (!ChunkIsaAvailable(isa)) return false;
  Choose(isa);
  return true;
}

}  // namespace iocd
