// A conservative first answer to "is this name a public suffix?" that spares the extractor
// most of its libpsl lookups on logs full of names it has not seen before.
//
// libpsl answers psl_is_public_suffix(N) = 1 for a name N with a dot only when N itself, or
// parent(N) (N without its first label) as a wildcard base ("*.parent"), is an entry of
// its list. PslPrefilter holds a Bloom filter of every entry (rules, wildcard bases and
// exceptions, with "!" and "*." stripped) and one of the wildcard bases; when neither
// filter can hold the name, libpsl would have said 0, and the caller skips it. Otherwise
// (a filter says "maybe", a non-ASCII byte, a "--" as in punycode "xn--" labels, whose
// entries libpsl derives itself), the caller must ask libpsl: the filter only ever says
// "surely not", never "yes".
//
// Rule data: ForBuiltin() reads the file libpsl's built-in list was made from
// (psl_builtin_filename(), on Debian /usr/share/publicsuffix/public_suffix_list.dat) once
// per process, and uses it only when its SHA-1 equals psl_builtin_sha1sum(), i.e. it is
// exactly the list compiled into libpsl. When the file is absent, unreadable, different
// or libpsl has no built-in list, ForBuiltin() returns nullptr and every name goes to
// libpsl as before.
//
// Ownership: ForBuiltin()'s filter lives for the process. Thread safety: immutable after
// construction; SurelyNotPublicSuffix is thread-safe. Errors: none (no filter instead).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace iocd {

// A hash of name that is the same for names equal but for ASCII case: its bytes with 0x20
// set (which maps 'A'-'Z' onto 'a'-'z'), read from name itself rather than from a
// lower-cased copy just written byte by byte (a wider load of those stores would stall).
// Used by the extractor's verdict cache and by PslPrefilter.
inline uint64_t FoldedNameHash(std::string_view name) {
  constexpr uint64_t kMul = 0x9e3779b97f4a7c15ULL;
  constexpr uint64_t kCase = 0x2020202020202020ULL;
  auto word = [&name](size_t at) {
    uint64_t v;
    std::memcpy(&v, name.data() + at, sizeof(v));
    return v | kCase;
  };
  // Each step folds the high half of the product back down, so every byte reaches the
  // low bits the cache indexes with ("id.orig_h" and "id.orig_p" differ in a top byte).
  auto mix = [](uint64_t h, uint64_t w) {
    h = (h ^ w) * kMul;
    return h ^ (h >> 32);
  };
  uint64_t h = name.size() * kMul;
  size_t n = name.size();
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8) h = mix(h, word(i));
    h = mix(h, word(n - 8));
  } else {
    for (size_t i = 0; i < n; ++i) h = mix(h, static_cast<unsigned char>(name[i]) | 0x20u);
  }
  // MurmurHash3's finaliser.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 33);
}

class PslPrefilter {
 public:
  // The filter for the PSL text list_text (public_suffix_list.dat format: one rule per
  // line, "//" comments). Every word of every other line is an entry, so a parser that
  // reads a rule line differently can only make the filter say "maybe" more often.
  explicit PslPrefilter(std::string_view list_text);

  // The filter for psl_builtin() (see above), or nullptr.
  static const PslPrefilter* ForBuiltin();

  // True only when libpsl's psl_is_public_suffix(name) is 0 for the list this filter was
  // made from. name: any case, any bytes; name_hash = FoldedNameHash(name). False means
  // "unknown: ask libpsl" (always for a name without a '.' or with a leading one).
  bool SurelyNotPublicSuffix(std::string_view name, uint64_t name_hash) const {
    size_t first_dot = 0;
    // libpsl ignores a leading '.': ".co.uk" is a suffix.
    if (!PlainAsciiName(name, &first_dot) || first_dot == 0) return false;
    if (entries_.MayContain(name_hash)) return false;
    return !wildcard_bases_.MayContain(FoldedNameHash(name.substr(first_dot + 1)));
  }

  size_t entry_count() const { return entry_count_; }
  size_t wildcard_count() const { return wildcard_count_; }

 private:
  // False when name holds a non-ASCII byte (libpsl converts it to punycode), "--" (a
  // punycode label, whose entries libpsl adds from the UTF-8 rules; a few other bytes next
  // to a '-' may also answer false), or no '.'; else *first_dot is the first '.'. Eight
  // bytes at a time, at offsets 7 apart so that every two adjacent bytes share a word.
  static bool PlainAsciiName(std::string_view name, size_t* first_dot) {
    const size_t n = name.size();
    size_t dot = n;
    if (n < 8) {
      for (size_t i = 0; i < n; ++i) {
        const unsigned char c = static_cast<unsigned char>(name[i]);
        if (c >= 0x80 || (c == '-' && i + 1 < n && name[i + 1] == '-')) return false;
        if (c == '.' && dot == n) dot = i;
      }
    } else {
      constexpr uint64_t k01 = 0x0101010101010101ULL;
      constexpr uint64_t k80 = 0x8080808080808080ULL;
      // The high bit of each byte equal to c; exact for the lowest such byte (a borrow can
      // mark a byte above it too). w must have no high bit set.
      auto bytes_equal = [](uint64_t w, unsigned char c) {
        const uint64_t x = w ^ (c * k01);
        return (x - k01) & ~x & k80;
      };
      for (size_t at = 0;; at += 7) {
        if (at + 8 > n) at = n - 8;
        uint64_t w;
        std::memcpy(&w, name.data() + at, sizeof(w));
        if ((w & k80) != 0) return false;
        const uint64_t dashes = bytes_equal(w, '-');
        if ((dashes & (dashes >> 8)) != 0) return false;
        if (dot == n) {
          if (const uint64_t dots = bytes_equal(w, '.'); dots != 0) {
            dot = at + static_cast<size_t>(__builtin_ctzll(dots)) / 8;
          }
        }
        if (at + 8 >= n) break;
      }
    }
    *first_dot = dot;
    return dot < n;
  }

  // A blocked Bloom filter: one 64-bit word per key, two bits in it.
  class Bloom {
   public:
    explicit Bloom(size_t words) : words_(words), mask_(words - 1) {}
    void Add(uint64_t h) { words_[h & mask_] |= Bits(h); }
    bool MayContain(uint64_t h) const {
      const uint64_t bits = Bits(h);
      return (words_[h & mask_] & bits) == bits;
    }

   private:
    static uint64_t Bits(uint64_t h) {
      return (uint64_t{1} << ((h >> 52) & 63)) | (uint64_t{1} << ((h >> 58) & 63));
    }
    std::vector<uint64_t> words_;
    size_t mask_;
  };

  Bloom entries_{4096};       // 32 KB: about 9 500 entries, ~1% "maybe" for a stranger
  Bloom wildcard_bases_{64};  // about 110 wildcard bases
  size_t entry_count_ = 0;
  size_t wildcard_count_ = 0;
};

}  // namespace iocd
