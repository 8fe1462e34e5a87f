#include "match/indicator_index.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/huge_pages.h"
#include "match/cidr4_table.h"
#include "match/fixed_key_table.h"
#include "common/prefetch.h"
#include "match/prefix_table.h"

namespace iocd {
namespace {

constexpr uint32_t kNoEntry = std::numeric_limits<uint32_t>::max();
// How many entries ahead the build's sequential passes prefetch the random slot they will
// write (re-inserting millions of entries is one DRAM miss each without it).
constexpr size_t kBuildAhead = 16;
// Offsets into the key pool are 32-bit; this bounds the pool (and so the index) at 4 GiB
// of key bytes, far above what a daemon with ~64 bytes per indicator can hold anyway.
constexpr size_t kMaxKeyBytes = std::numeric_limits<uint32_t>::max();


// A domain or url indicator in the exact-match table, stored whole in 32-bit words so its
// slot points straight at it (one DRAM line or two adjacent ones per hit, where an entry id
// cost an entry record and then the key bytes):
//   word 0        key length in bytes
//   word 1        type (low 8 bits) | feed count << 8
//   word 2        domains only: the record of the longest proper label suffix of the key
//                 that is a domain indicator too ("evil.com" for "a.evil.com"), or kNoEntry;
//                 so a domain lookup stops probing at the first (longest) suffix it finds
//                 and follows these links for the shorter ones
//   then          the feeds, ascending (IndexMatch::feeds points here)
//   then          the key bytes, zero-padded to a whole word
class ExactRecord {
 public:
  // Feed counts are 24 bits (far above any configuration's feeds).
  static constexpr uint32_t kMaxFeeds = (uint32_t{1} << 24) - 1;
  static size_t HeaderWords(IndicatorType type) { return type == IndicatorType::kDomain ? 3 : 2; }
  // Words a record of this type, key and feed count takes.
  static size_t Words(IndicatorType type, size_t key_length, size_t feed_count) {
    return HeaderWords(type) + feed_count + (key_length + 3) / 4;
  }

  // Appends a record (a domain's without a parent yet) to `pool`; returns its word offset.
  template <typename Pool>
  static size_t Append(Pool* pool, IndicatorType type, std::string_view key, std::span<const FeedId> feeds) {
    const size_t at = pool->size();
    pool->resize(at + Words(type, key.size(), feeds.size()), 0);
    uint32_t* w = pool->data() + at;
    w[0] = static_cast<uint32_t>(key.size());
    w[1] = uint32_t{static_cast<uint8_t>(type)} | static_cast<uint32_t>(feeds.size()) << 8;
    if (type == IndicatorType::kDomain) w[2] = kNoEntry;
    std::copy(feeds.begin(), feeds.end(), w + HeaderWords(type));
    std::memcpy(w + HeaderWords(type) + feeds.size(), key.data(), key.size());
    return at;
  }
  // Sets the parent link of the domain record at `word`.
  static void SetParent(uint32_t* word, uint32_t parent) { word[2] = parent; }

  // The last byte a record of `type` holding a key of `key_length` bytes and one feed would
  // take (for prefetching a candidate's key along with its header, before knowing it is
  // that key).
  static const char* LastByteIfOneFeed(const uint32_t* word, IndicatorType type, size_t key_length) {
    return reinterpret_cast<const char*>(word + HeaderWords(type) + 1) + (key_length == 0 ? 0 : key_length - 1);
  }

  // A view of the record starting at `word`.
  explicit ExactRecord(const uint32_t* word) : words_(word) {}

  IndicatorType type() const { return static_cast<IndicatorType>(static_cast<uint8_t>(words_[1])); }
  size_t feed_count() const { return words_[1] >> 8; }
  // Domains only (see above).
  uint32_t parent() const { return words_[2]; }
  std::string_view key() const {
    return std::string_view(reinterpret_cast<const char*>(feeds() + feed_count()), words_[0]);
  }
  bool Is(IndicatorType t, std::string_view k) const {
    return words_[0] == k.size() && type() == t && key() == k;
  }
  IndexMatch Match() const {
    return IndexMatch{type(), key(), std::span<const FeedId>(feeds(), feed_count())};
  }

 private:
  const uint32_t* feeds() const { return words_ + HeaderWords(type()); }
  const uint32_t* words_;
};

uint64_t FinishHash(IndicatorType type, uint64_t x) {
  x ^= (uint64_t{static_cast<uint8_t>(type)} + 1) * 0x9E3779B97F4A7C15ull;
  // splitmix64 finaliser: spreads the bits so both the slot index (low bits) and the tag
  // (high bits) are usable.
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x;
}

// Domains are hashed label by label from the right: the hash state of "a.evil.com" is
// that of "evil.com" with the label "a" mixed in, so one pass over a name yields the hash
// of every label suffix (ForEachSuffixHash) and a domain lookup reads each byte once, not
// once per suffix. A label is mixed in 8 bytes at a time (it used to be FNV-1a, a
// dependent multiply per byte: a third of a cached domain lookup's time).
constexpr uint64_t kDomainSeed = 0xCBF29CE484222325ull;
constexpr uint64_t kMixMul = 0x9E3779B97F4A7C15ull;
constexpr uint64_t kLengthMul = 0xC2B2AE3D27D4EB4Full;

uint64_t Load64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof(w));
  return w;
}

uint64_t LowBytes(uint64_t w, size_t n) { return n >= 8 ? w : w & ((uint64_t{1} << (8 * n)) - 1); }

// Reads a long name's bytes as 8-byte words without reading outside it.
class WordReader {
 public:
  explicit WordReader(std::string_view name) : data_(name.data()), limit_(name.size()) {}
  // The min(n, 8) bytes at `at`, in the low bytes of a word, the rest zero. The name must
  // be at least 8 bytes long.
  uint64_t Word(size_t at, size_t n) const {
    const size_t from = std::min(at, limit_ - 8);
    return LowBytes(Load64(data_ + from) >> (8 * (at - from)), n);
  }

 private:
  const char* data_;
  size_t limit_;
};

// Bit i set when byte i of w is '.' (exact: the carries of the zero-byte test cannot cross
// a byte, as the high bit is masked off before the add).
uint64_t DotBits(uint64_t w) {
  constexpr uint64_t kLow7 = 0x7F7F7F7F7F7F7F7Full;
  const uint64_t x = w ^ 0x2E2E2E2E2E2E2E2Eull;  // a '.' byte becomes 0
  const uint64_t zero_high = ~(((x & kLow7) + kLow7) | x) & ~kLow7;
  return ((zero_high >> 7) * 0x0102040810204080ull) >> 56;  // gather byte flags into 8 bits
}

// Where the label ending at `end` starts, given a bit per '.' (bit i: byte i): just after
// the last '.' before `end`, or 0.
size_t LabelStartFromDots(uint64_t dots, size_t end) {
  const uint64_t below = end >= 64 ? dots : dots & ((uint64_t{1} << end) - 1);
  return below == 0 ? 0 : 64 - static_cast<size_t>(__builtin_clzll(below));
}

// A name of 8 to 64 bytes read in place (WordReader) with a bit per '.': its labels are
// found with bit scans, not a loop per byte. Nothing is copied, so no load waits on the
// stores of a copy (a copy into a padded buffer stalled on store forwarding).
class InPlaceName : public WordReader {
 public:
  static constexpr size_t kMaxSize = 64;
  explicit InPlaceName(std::string_view name) : WordReader(name) {
    for (size_t at = 0; at < name.size(); at += 8) dots_ |= DotBits(Word(at, 8)) << at;
  }
  size_t LabelStart(size_t end) const { return LabelStartFromDots(dots_, end); }

 private:
  uint64_t dots_ = 0;
};

// A name shorter than 8 bytes, copied into one zero-padded word, with a bit per '.', as
// InPlaceName (which cannot load a whole word of it).
class ShortName {
 public:
  static constexpr size_t kMaxSize = 7;
  explicit ShortName(std::string_view name) {
    std::memcpy(&word_, name.data(), name.size());
    dots_ = DotBits(word_) & ((uint64_t{1} << name.size()) - 1);  // padding bytes are 0, not '.'
  }
  uint64_t Word(size_t at, size_t n) const { return LowBytes(word_ >> (8 * at), n); }
  size_t LabelStart(size_t end) const { return LabelStartFromDots(dots_, end); }

 private:
  uint64_t word_ = 0;
  uint64_t dots_ = 0;
};

template <typename Reader>
uint64_t MixLabel(uint64_t h, const Reader& reader, size_t start, size_t length) {
  // The length goes in first, so moving a dot changes the hash; it is spread by a multiply
  // off the dependency chain (mixing it in after the words cost a multiply on the chain:
  // the chain of a name's labels is most of a cached domain lookup's hashing time).
  h ^= (length + 0x100) * kLengthMul;
  if (length == 0) {
    h *= kMixMul;
    return h ^ (h >> 29);
  }
  for (size_t at = start, end = start + length; at < end; at += 8) {
    h = (h ^ reader.Word(at, end - at)) * kMixMul;
    h ^= h >> 29;
  }
  return h;
}

// Calls emit(start, HashKey(kDomain, name.substr(start))) for every label suffix of `name`
// ("a.b.c" at 0, "b.c" at 2, "c" at 4; not the empty one after a trailing dot), shortest
// first, and returns HashKey(kDomain, name). Names of 8 to 64 bytes (nearly all) go
// through an InPlaceName, shorter ones a ShortName, longer ones a WordReader with a byte
// loop for the dots; all hash the same.
template <typename Emit>
uint64_t ForEachSuffixHash(std::string_view name, Emit&& emit) {
  uint64_t h = kDomainSeed;
  const auto walk = [&](const auto& reader, const auto& label_start) {
    for (size_t end = name.size();;) {
      const size_t start = label_start(end);
      h = MixLabel(h, reader, start, end - start);
      if (start < name.size()) emit(start, FinishHash(IndicatorType::kDomain, h));
      if (start == 0) return FinishHash(IndicatorType::kDomain, h);
      end = start - 1;
    }
  };
  if (name.size() <= ShortName::kMaxSize) {
    const ShortName short_name(name);
    return walk(short_name, [&short_name](size_t end) { return short_name.LabelStart(end); });
  }
  if (name.size() <= InPlaceName::kMaxSize) {
    const InPlaceName in_place(name);
    return walk(in_place, [&in_place](size_t end) { return in_place.LabelStart(end); });
  }
  return walk(WordReader(name), [name](size_t end) {
    size_t start = end;
    while (start > 0 && name[start - 1] != '.') --start;
    return start;
  });
}

uint64_t HashKey(IndicatorType type, std::string_view key) {
  if (type != IndicatorType::kDomain) return FinishHash(type, std::hash<std::string_view>{}(key));
  return ForEachSuffixHash(key, [](size_t, uint64_t) {});
}

// The label suffixes of a domain name and their HashKey(kDomain, suffix).
struct DomainSuffix {
  uint32_t start;  // the suffix is name.substr(start)
  uint64_t hash;
};
constexpr size_t kMaxSuffixes = 128;  // a DNS name has at most 127 labels

// Fills suffixes with every label suffix of `name` ("c", "b.c", "a.b.c"; not an empty one
// after a trailing dot), shortest first (matches are reported longest first: callers walk
// them backwards; reversing them here cost a store-forwarding stall per name), in one pass.
// Returns how many, or 0 when there are more than suffixes.size() (the caller then hashes
// them one by one).
size_t DomainSuffixHashes(std::string_view name, std::span<DomainSuffix> suffixes) {
  size_t n = 0;
  bool overflow = false;
  ForEachSuffixHash(name, [&](size_t start, uint64_t hash) {
    if (n == suffixes.size()) {
      overflow = true;
    } else {
      suffixes[n++] = DomainSuffix{static_cast<uint32_t>(start), hash};
    }
  });
  return overflow ? 0 : n;
}

// Orders url-mask keys most specific first: more literal (non-'*') characters, then bytes.
bool MoreSpecificMask(std::string_view a, std::string_view b) {
  const auto literal = [](std::string_view k) {
    return k.size() - static_cast<size_t>(std::count(k.begin(), k.end(), '*'));
  };
  const size_t la = literal(a), lb = literal(b);
  return la != lb ? la > lb : a < b;
}

bool IsV4Mapped(std::string_view key16) {
  static constexpr char kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\xff', '\xff'};
  return std::memcmp(key16.data(), kPrefix, sizeof(kPrefix)) == 0;
}

uint32_t Ipv4FromKey(std::string_view key) {
  return uint32_t{static_cast<uint8_t>(key[0])} << 24 |
         uint32_t{static_cast<uint8_t>(key[1])} << 16 |
         uint32_t{static_cast<uint8_t>(key[2])} << 8 | uint32_t{static_cast<uint8_t>(key[3])};
}

Ipv6Address Ipv6FromKey(std::string_view key) {
  Ipv6Address address;
  std::memcpy(address.data(), key.data(), address.size());
  return address;
}

size_t KnownKeySize(IndicatorType type) {
  switch (type) {
    case IndicatorType::kIpv4:
      return 4;
    case IndicatorType::kIpv6:
      return 16;
    case IndicatorType::kCidr4:
      return 5;
    case IndicatorType::kCidr6:
      return 17;
    case IndicatorType::kMd5:
      return 16;
    case IndicatorType::kSha1:
      return 20;
    case IndicatorType::kSha256:
      return 32;
    case IndicatorType::kSha512:
      return 64;
    case IndicatorType::kDomain:
    case IndicatorType::kUrl:
    case IndicatorType::kUrlMask:
      return 0;  // variable
  }
  return 0;
}

// Which FixedKeyTable holds a type (-1: not a fixed-size exact type).
constexpr int kFixedTables = 6;
int FixedTableOf(IndicatorType type) {
  switch (type) {
    case IndicatorType::kIpv4: return 0;
    case IndicatorType::kIpv6: return 1;
    case IndicatorType::kMd5: return 2;
    case IndicatorType::kSha1: return 3;
    case IndicatorType::kSha256: return 4;
    case IndicatorType::kSha512: return 5;
    default: return -1;
  }
}

bool IsKnownType(IndicatorType type) {
  return std::find(std::begin(kAllIndicatorTypes), std::end(kAllIndicatorTypes), type) !=
         std::end(kAllIndicatorTypes);
}

// Empty when `indicator` is canonical for its type, else why not.
std::string CheckCanonical(const Indicator& indicator) {
  if (!IsKnownType(indicator.type)) {
    return "unknown indicator type " + std::to_string(static_cast<int>(indicator.type));
  }
  const std::string_view key = indicator.key;
  // Built only for a message: Add checks every indicator.
  const auto type_name = [&indicator] { return std::string(TypeName(indicator.type)); };
  if (const size_t want = KnownKeySize(indicator.type); want != 0) {
    if (key.size() != want) {
      return type_name() + " key must be " + std::to_string(want) + " bytes, got " +
             std::to_string(key.size());
    }
  } else if (key.empty()) {
    return "empty " + type_name() + " key";
  }
  if (indicator.type == IndicatorType::kUrlMask &&
      key.find('*') == std::string_view::npos) {
    return "url-mask key without '*' (a plain URL is a url indicator)";
  }
  if (indicator.type == IndicatorType::kCidr4) {
    const int length = static_cast<uint8_t>(key[4]);
    if (length >= 32) {
      return "cidr4 prefix length must be below 32 (a /32 is an ipv4 indicator), got " +
             std::to_string(length);
    }
    const uint32_t address = Ipv4FromKey(key);
    if (PrefixTraits<uint32_t>::Mask(address, length) != address) {
      return "cidr4 key has host bits set beyond /" + std::to_string(length);
    }
  } else if (indicator.type == IndicatorType::kCidr6) {
    const int length = static_cast<uint8_t>(key[16]);
    if (length >= 128) {
      return "cidr6 prefix length must be below 128 (a /128 is an ipv6 indicator), got " +
             std::to_string(length);
    }
    const Ipv6Address address = Ipv6FromKey(key);
    if (PrefixTraits<Ipv6Address>::Mask(address, length) != address) {
      return "cidr6 key has host bits set beyond /" + std::to_string(length);
    }
  }
  return {};
}

}  // namespace

// Layout: addresses and digests in one FixedKeyTable per type (key bytes and feed reference
// inline in the slot). Domains and urls as ExactRecords in one word pool, found through one
// open-addressing table of record offsets. Ranges and masks as entry ids, with their keys
// back to back in one char pool and their feed lists in one FeedId pool, each found through
// an offset array: cidr4/cidr6 in prefix tables whose values are entry ids, url masks
// grouped by fixed host.
struct IndicatorIndex::Rep {
  std::array<FixedKeyTable, kFixedTables> fixed_tables;
  // A slot of the exact-match table: a record (ExactRecord, its word offset in `records`;
  // kNoEntry when free) and the high half of the key's hash, so a mismatch is rejected
  // without touching the records (a false tag match is 1 in 2^32 per slot probed).
  struct Slot {
    uint32_t id = kNoEntry;
    uint32_t tag = 0;
  };

  // Ranges and masks ("entries"), by id: cidr4 ranges (ids below cidr4_end, shortest prefix
  // first), then cidr6 ranges (below cidr6_end), then url masks. Entry id's key is
  // keys[key_at[id] .. key_at[id + 1]) and its feeds feeds[feeds_at[id] .. feeds_at[id + 1]);
  // a cidr4 key is 5 bytes, so cidr4 id's key starts at 5 * id. The few thousand short
  // ranges that cover most addresses (and so make most cidr4 matches) then share 4 bytes
  // each of feeds_at, a small, cache-resident stretch. Both arrays hold one more offset than
  // there are entries (none when there are no entries).
  HugeVector<uint32_t> key_at;
  HugeVector<uint32_t> feeds_at;
  uint32_t cidr4_end = 0;
  uint32_t cidr6_end = 0;
  HugeVector<char> keys;  // of the entries
  std::vector<FeedId> feeds;
  HugeVector<Slot> slots;  // size is 0 or a power of two, at most half full
  // The domain and url indicators, one ExactRecord each, back to back (their keys are not
  // in `keys` and they have no Entry): a hit reads its slot and one record. Huge-page
  // candidates like slots: with 4 KiB pages each random read was a TLB miss too.
  HugeVector<uint32_t> records;
  size_t record_count = 0;
  Cidr4Table cidr4;  // values are entry ids
  Ipv6PrefixTable<uint32_t> cidr6;
  // url-mask entry ids grouped by UrlMaskFixedHost (a view into `keys`): each group is a
  // run of mask_ids, most specific first. A host is checked against the groups of each of
  // its label suffixes and of "".
  std::unordered_map<std::string_view, std::pair<uint32_t, uint32_t>> mask_groups;  // offset, length
  std::vector<uint32_t> mask_ids;
  bool has_host_only_masks = false;
  std::array<size_t, 256> counts{};  // by IndicatorType value

  size_t entry_count() const { return key_at.empty() ? 0 : key_at.size() - 1; }
  std::string_view KeyOf(uint32_t id) const {
    return std::string_view(keys.data() + key_at[id], key_at[id + 1] - key_at[id]);
  }
  std::span<const FeedId> FeedsOf(uint32_t id) const {
    return std::span<const FeedId>(feeds.data() + feeds_at[id], feeds_at[id + 1] - feeds_at[id]);
  }

  // Appends the cidr4 ranges covering an address, longest first: each reads two adjacent
  // words of feeds_at (the key and feeds are pointers into the pools, not copies).
  void AppendCidr4(std::span<const uint32_t> ids, std::vector<IndexMatch>* out) const {
    for (const uint32_t id : ids) {
      out->push_back(IndexMatch{IndicatorType::kCidr4, std::string_view(keys.data() + size_t{5} * id, 5), FeedsOf(id)});
    }
  }

  IndexMatch MatchOf(uint32_t id) const {
    const IndicatorType type = id < cidr4_end   ? IndicatorType::kCidr4
                               : id < cidr6_end ? IndicatorType::kCidr6
                                                : IndicatorType::kUrlMask;
    return IndexMatch{type, KeyOf(id), FeedsOf(id)};
  }

  // Sets every domain record's parent link (ExactRecord) once all records are in the
  // table. Walks the records in order, a chunk at a time: hashes each domain's suffixes and
  // fetches their slots for the whole chunk, then probes them longest first (one DRAM miss
  // per probe otherwise; most probes miss).
  void LinkDomainParents() {
    if (counts[static_cast<uint8_t>(IndicatorType::kDomain)] == 0) return;
    constexpr size_t kChunk = 512;
    struct Pending {
      uint32_t at;
      std::string_view name;
      size_t n;  // suffixes (0: too many labels, probed one by one)
      std::array<DomainSuffix, kMaxSuffixes> suffixes;
    };
    std::vector<Pending> chunk(kChunk);
    const size_t mask = slots.size() - 1;
    for (size_t at = 0; at < records.size();) {
      size_t m = 0;
      for (; m < kChunk && at < records.size(); at += ExactRecordWords(at)) {
        const ExactRecord record(records.data() + at);
        if (record.type() != IndicatorType::kDomain) continue;
        Pending& d = chunk[m++];
        d.at = static_cast<uint32_t>(at);
        d.name = record.key();
        d.n = DomainSuffixHashes(d.name, d.suffixes);
        for (size_t i = 0; i + 1 < d.n; ++i) Prefetch(&slots[d.suffixes[i].hash & mask]);
      }
      for (size_t k = 0; k < m; ++k) {
        const Pending& d = chunk[k];
        uint32_t parent = kNoEntry;
        if (d.n > 0) {
          // suffixes[n - 1] is the whole name.
          for (size_t i = d.n - 1; parent == kNoEntry && i-- > 0;) {
            parent = FindExactHashed(IndicatorType::kDomain, d.name.substr(d.suffixes[i].start), d.suffixes[i].hash);
          }
        } else {
          for (size_t dot = d.name.find('.'); parent == kNoEntry && dot != std::string_view::npos;
               dot = d.name.find('.', dot + 1)) {
            if (dot + 1 < d.name.size()) parent = FindExact(IndicatorType::kDomain, d.name.substr(dot + 1));
          }
        }
        ExactRecord::SetParent(records.data() + d.at, parent);
      }
    }
  }

  size_t ExactRecordWords(size_t at) const {
    const ExactRecord record(records.data() + at);
    return ExactRecord::Words(record.type(), record.key().size(), record.feed_count());
  }

  IndexMatch MatchOfRecord(uint32_t at) const { return ExactRecord(records.data() + at).Match(); }

  // Adds record `id`, whose key's HashKey is `hash`, to the exact-match table.
  void InsertExact(uint32_t id, uint64_t hash) {
    const size_t mask = slots.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      if (slots[i].id == kNoEntry) {
        slots[i] = Slot{id, static_cast<uint32_t>(hash >> 32)};
        return;
      }
    }
  }

  uint32_t FindExact(IndicatorType type, std::string_view key) const {
    if (slots.empty()) return kNoEntry;
    return FindExactHashed(type, key, HashKey(type, key));
  }

  uint32_t FindExactHashed(IndicatorType type, std::string_view key, uint64_t hash) const {
    const uint32_t tag = static_cast<uint32_t>(hash >> 32);
    const size_t mask = slots.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots[i];
      if (slot.id == kNoEntry) return kNoEntry;
      if (slot.tag == tag && ExactRecord(records.data() + slot.id).Is(type, key)) return slot.id;
    }
  }

  void AppendExact(IndicatorType type, std::string_view key, std::vector<IndexMatch>* out) const {
    if (const int t = FixedTableOf(type); t >= 0) {
      FixedKeyTable::Hit hit;
      if (fixed_tables[static_cast<size_t>(t)].Find(key, &hit)) out->push_back(IndexMatch{type, hit.key, hit.feeds});
      return;
    }
    if (const uint32_t at = FindExact(type, key); at != kNoEntry) out->push_back(MatchOfRecord(at));
  }

  // Appends the domain indicators among the label suffixes of `name`, longest first. All
  // suffixes are hashed in one pass and their slots prefetched before any is probed, so
  // the probes' cache misses overlap.
  void AppendDomainSuffixes(std::string_view name, std::vector<IndexMatch>* out) const {
    if (counts[static_cast<uint8_t>(IndicatorType::kDomain)] == 0 || slots.empty()) return;
    std::array<DomainSuffix, kMaxSuffixes> suffixes;
    const size_t n = DomainSuffixHashes(name, suffixes);
    if (n == 0) {
      // Too many labels to hash at once (not a valid DNS name): one suffix at a time.
      for (size_t start = 0;;) {
        if (start < name.size()) AppendExact(IndicatorType::kDomain, name.substr(start), out);
        const size_t dot = name.find('.', start);
        if (dot == std::string_view::npos) return;
        start = dot + 1;
      }
    }
    const size_t mask = slots.size() - 1;
    for (size_t i = 0; i < n; ++i) Prefetch(&slots[suffixes[i].hash & mask]);
    for (size_t i = n; i-- > 0;) {  // longest first, up to the first listed one
      const std::string_view suffix = name.substr(suffixes[i].start);
      if (const uint32_t at = FindExactHashed(IndicatorType::kDomain, suffix, suffixes[i].hash); at != kNoEntry) {
        return AppendDomainChain(at, out);
      }
    }
  }

  // Appends the domain record at `at` and every listed label suffix of its key, longest
  // first: the shorter listed suffixes of an observable are those of its longest listed one.
  void AppendDomainChain(uint32_t at, std::vector<IndexMatch>* out) const {
    for (; at != kNoEntry; at = ExactRecord(records.data() + at).parent()) out->push_back(MatchOfRecord(at));
  }

  // The first slot on `hash`'s probe path that is free or whose tag matches: where a
  // lookup of a key with this hash compares first (FindFrom). slots must not be empty.
  size_t FirstTagMatch(uint64_t hash) const {
    const uint32_t tag = static_cast<uint32_t>(hash >> 32);
    const size_t mask = slots.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      if (slots[i].id == kNoEntry || slots[i].tag == tag) return i;
    }
  }

  // FindExactHashed(type, key, hash) given first = FirstTagMatch(hash), without probing the
  // slots before it again.
  uint32_t FindFrom(IndicatorType type, std::string_view key, uint64_t hash, size_t first) const {
    const Slot& slot = slots[first];
    if (slot.id == kNoEntry) return kNoEntry;
    if (ExactRecord(records.data() + slot.id).Is(type, key)) return slot.id;
    // A false tag match (1 in 2^32): go on probing after it.
    const uint32_t tag = static_cast<uint32_t>(hash >> 32);
    const size_t mask = slots.size() - 1;
    for (size_t i = (first + 1) & mask;; i = (i + 1) & mask) {
      const Slot& next = slots[i];
      if (next.id == kNoEntry) return kNoEntry;
      if (next.tag == tag && ExactRecord(records.data() + next.id).Is(type, key)) return next.id;
    }
  }

  // Appends the url masks without a path matching the domain observable `name` (Lookup's
  // domain case). The mask checks come first: most indexes have no such masks, and
  // find_first_of is a memchr per byte of the name.
  void AppendHostMasks(std::string_view name, std::vector<IndexMatch>* out) const {
    if (!has_host_only_masks) return;
    if (name.find_first_of("/?") == std::string_view::npos) AppendMasks(name, true, out);
  }

  // Appends the url masks matching `url_key` (a url key, or a bare host when host_only),
  // most specific first.
  void AppendMasks(std::string_view url_key, bool host_only, std::vector<IndexMatch>* out) const {
    if (mask_ids.empty() || (host_only && !has_host_only_masks)) return;
    const size_t first = out->size();
    const std::string_view host = HostOfUrlKey(url_key);
    const auto try_group = [&](std::string_view fixed) {
      const auto found = mask_groups.find(fixed);
      if (found == mask_groups.end()) return;
      for (uint32_t i = 0; i < found->second.second; ++i) {
        const uint32_t id = mask_ids[found->second.first + i];
        const std::string_view mask = KeyOf(id);
        if (host_only && HostOfUrlKey(mask).size() != mask.size()) continue;
        if (UrlMaskMatches(mask, url_key)) out->push_back(MatchOf(id));
      }
    };
    for (size_t start = 0;;) {
      try_group(host.substr(start));
      const size_t dot = host.find('.', start);
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    try_group(std::string_view());
    if (out->size() - first > 1) {
      std::sort(out->begin() + static_cast<std::ptrdiff_t>(first), out->end(),
                [](const IndexMatch& a, const IndexMatch& b) { return MoreSpecificMask(a.key, b.key); });
    }
  }
};

IndicatorIndex::IndicatorIndex(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
IndicatorIndex::~IndicatorIndex() = default;

void IndicatorIndex::Lookup(const Indicator& observable, std::vector<IndexMatch>* out) const {
  const Rep& r = *rep_;
  const std::string_view key = observable.key;
  const auto append_id = [&r, out](int /*length*/, uint32_t id) { out->push_back(r.MatchOf(id)); };
  switch (observable.type) {
    case IndicatorType::kIpv4:
      if (key.size() != 4) return;
      r.AppendExact(IndicatorType::kIpv4, key, out);
      r.AppendCidr4(r.cidr4.Covering(Ipv4FromKey(key)), out);
      return;
    case IndicatorType::kIpv6:
      if (key.size() != 16) return;
      if (IsV4Mapped(key)) {
        // ::ffff:a.b.c.d is the IPv4 address a.b.c.d (ParseIndicator says so too).
        const std::string_view v4 = key.substr(12);
        r.AppendExact(IndicatorType::kIpv4, v4, out);
        r.AppendCidr4(r.cidr4.Covering(Ipv4FromKey(v4)), out);
        return;
      }
      r.AppendExact(IndicatorType::kIpv6, key, out);
      r.cidr6.ForEachCovering(Ipv6FromKey(key), append_id);
      return;
    case IndicatorType::kDomain: {
      // The name itself, then the suffix after each dot: whole labels only.
      r.AppendDomainSuffixes(key, out);
      r.AppendHostMasks(key, out);
      return;
    }
    case IndicatorType::kUrl:
      r.AppendExact(IndicatorType::kUrl, key, out);
      r.AppendMasks(key, false, out);
      return;
    case IndicatorType::kMd5:
    case IndicatorType::kSha1:
    case IndicatorType::kSha256:
    case IndicatorType::kSha512:
      r.AppendExact(observable.type, key, out);
      return;
    case IndicatorType::kCidr4:
    case IndicatorType::kCidr6:
    case IndicatorType::kUrlMask:
      return;
  }
}

void IndicatorIndex::LookupBatch(std::span<const Indicator> observables, std::vector<IndexMatch>* out,
                                 std::vector<size_t>* ends) const {
  const Rep& r = *rep_;
  // Groups of up to kGroup: each dependent memory read of a lookup is one pass over the
  // group (prefetch it for every observable, then the next pass reads it), so the group's
  // DRAM misses overlap instead of queueing (common/prefetch.h: GCC drops loops of plain
  // __builtin_prefetch). IPv4 addresses against cidr4 ranges are looked up before the
  // groups, a chunk of observables at a time, by Cidr4Table::FindChains' pipeline (the /18
  // block, its run of intervals with the chain word after them, the chain), which also
  // prefetches the entries of each chain; a group then only emits them.
  constexpr size_t kGroup = 32;
  constexpr size_t kChunk = 512;
  // Domain and url observables become probes of the exact table (Rep::slots): a url one
  // for its key, a domain one per label suffix ("a.evil.com", "evil.com", "com"). Each
  // probe takes two passes: its home slot, then the record of the first tag match (header
  // and key together, ExactRecord). A domain's whole name is probed first; only when its
  // slot holds no candidate are its other suffixes probed (two passes more), as a listed
  // name's record links to its listed suffixes: a hit reads two lines, not three. A domain
  // with more than kBatchSuffixes labels is looked up alone, and a group closes once it
  // holds kGroupProbes probes (more misses in flight than the core tracks only queue).
  constexpr size_t kBatchSuffixes = 8;
  constexpr size_t kGroupProbes = 64;
  const bool has_cidr4 = r.cidr4.size() != 0;
  const bool has_exact_var = !r.slots.empty();
  const bool has_domains = r.counts[static_cast<uint8_t>(IndicatorType::kDomain)] != 0;
  // The chunk's ipv4 observables (when there are cidr4 ranges), in order: address, then the
  // chain of each.
  std::array<uint32_t, kChunk> v4_address;
  std::array<uint32_t, kChunk> chains;
  // Addresses and digests (fixed_of: which FixedKeyTable, or -1) take three passes: the
  // tags from the home slot, the slot of the first matching tag, the compare.
  std::array<uint64_t, kGroup> hashes{};
  std::array<int8_t, kGroup> fixed_of{};
  // Probes of the exact table: observable g's are probes[probe_begin[g] .. probe_begin[g+1]),
  // when probed[g]; probe_slots[p] is FirstTagMatch of probe p.
  std::array<DomainSuffix, kGroupProbes + kBatchSuffixes> probes;
  std::array<size_t, kGroupProbes + kBatchSuffixes> probe_slots;
  std::array<uint16_t, kGroup + 1> probe_begin{};
  std::array<bool, kGroup> probed{};
  // Domains only: whether the whole name's slot holds a candidate record.
  std::array<bool, kGroup> whole_candidate{};
  const size_t slot_mask = r.slots.size() - 1;
  const auto is_v4 = [has_cidr4](const Indicator& o) {
    return has_cidr4 && o.type == IndicatorType::kIpv4 && o.key.size() == 4;
  };
  for (size_t chunk = 0; chunk < observables.size(); chunk += kChunk) {
    const size_t chunk_end = std::min(observables.size(), chunk + kChunk);
    size_t v4_count = 0;
    for (size_t i = chunk; has_cidr4 && i < chunk_end; ++i) {
      if (is_v4(observables[i])) v4_address[v4_count++] = Ipv4FromKey(observables[i].key);
    }
    if (v4_count != 0) {
      r.cidr4.FindChains(std::span<const uint32_t>(v4_address.data(), v4_count), chains.data(),
                         [&r](size_t, uint32_t chain) {
                           const std::span<const uint32_t> ids = r.cidr4.ChainValues(chain);
                           for (size_t k = 0; k < ids.size() && k < 4; ++k) Prefetch(&r.feeds_at[ids[k]]);
                         });
    }
    size_t v4_next = 0;  // chains[v4_next] is the next ipv4 observable's
    for (size_t begin = chunk; begin < chunk_end;) {
      const size_t limit = std::min(chunk_end, begin + kGroup);
      size_t end = begin;
      size_t probe_count = 0;
      for (; end < limit && probe_count < kGroupProbes; ++end) {
        const size_t g = end - begin;
        const Indicator& o = observables[end];
        probe_begin[g] = static_cast<uint16_t>(probe_count);
        fixed_of[g] = -1;
        probed[g] = false;
        if (const int t = FixedTableOf(o.type); t >= 0) {
          const FixedKeyTable& table = r.fixed_tables[static_cast<size_t>(t)];
          if (table.searchable(o.key) && !(o.type == IndicatorType::kIpv6 && IsV4Mapped(o.key))) {
            fixed_of[g] = static_cast<int8_t>(t);
            hashes[g] = table.HashOf(o.key);
            table.PrefetchTags(hashes[g]);
          }
        } else if (o.type == IndicatorType::kUrl && has_exact_var) {
          probes[probe_count++] = DomainSuffix{0, HashKey(IndicatorType::kUrl, o.key)};
          probed[g] = true;
        } else if (o.type == IndicatorType::kDomain && has_exact_var && has_domains) {
          const size_t n = DomainSuffixHashes(
              o.key, std::span<DomainSuffix>(probes).subspan(probe_count, kBatchSuffixes));
          probe_count += n;
          probed[g] = n > 0;  // 0: empty or too many labels for the batch; Lookup does it
        }
        // A url's key or a domain's whole name (its last, longest suffix).
        if (probed[g]) Prefetch(&r.slots[probes[probe_count - 1].hash & slot_mask]);
      }
      probe_begin[end - begin] = static_cast<uint16_t>(probe_count);
      // Addresses and digests: the slot of the first matching tag (usually the key's own).
      for (size_t g = 0; g < end - begin; ++g) {
        if (const int t = fixed_of[g]; t >= 0) {
          const FixedKeyTable& table = r.fixed_tables[static_cast<size_t>(t)];
          table.PrefetchSlot(table.FirstTagMatch(hashes[g]));
        }
      }
      // The record of a probe's first tag match: its header and, when it holds the probed
      // key, the key's last byte (a short record may straddle two lines). False when the
      // probe's slot holds no candidate.
      const auto prefetch_candidate = [&](size_t g, size_t p) {
        probe_slots[p] = r.FirstTagMatch(probes[p].hash);
        const uint32_t at = r.slots[probe_slots[p]].id;
        if (at == kNoEntry) return false;
        const Indicator& o = observables[begin + g];
        const uint32_t* record = r.records.data() + at;
        Prefetch(record);
        Prefetch(ExactRecord::LastByteIfOneFeed(record, o.type, o.key.size() - probes[p].start));
        return true;
      };
      // Urls' and domains' whole names; a domain without a candidate has its other suffixes'
      // slots fetched, then (next pass) their candidates. (Skipped when the group has no probes,
      // so groups of addresses and digests do not walk them.)
      for (size_t g = 0; probe_count > 0 && g < end - begin; ++g) {
        if (!probed[g]) continue;
        const size_t whole = probe_begin[g + 1] - 1;
        whole_candidate[g] = prefetch_candidate(g, whole);
        if (!whole_candidate[g]) {
          for (size_t p = probe_begin[g]; p < whole; ++p) Prefetch(&r.slots[probes[p].hash & slot_mask]);
        }
      }
      for (size_t g = 0; probe_count > 0 && g < end - begin; ++g) {
        if (!probed[g] || whole_candidate[g]) continue;
        for (size_t p = probe_begin[g]; p + 1 < probe_begin[g + 1]; ++p) prefetch_candidate(g, p);
      }
      for (size_t i = begin; i < end; ++i) {
        const size_t g = i - begin;
        const Indicator& o = observables[i];
        const int t = fixed_of[g];
        const bool v4 = is_v4(o);
        if (t >= 0 || v4) {
          // Lookup's exact-key case with the hash found above, then its range cases (cidr4
          // with the chain found above, cidr6).
          if (t >= 0) {
            FixedKeyTable::Hit hit;
            if (r.fixed_tables[static_cast<size_t>(t)].FindHashed(o.key, hashes[g], &hit)) {
              out->push_back(IndexMatch{o.type, hit.key, hit.feeds});
            }
          }
          if (v4) r.AppendCidr4(r.cidr4.ChainValues(chains[v4_next++]), out);
          if (o.type == IndicatorType::kIpv6 && !r.cidr6.empty()) {
            r.cidr6.ForEachCovering(Ipv6FromKey(o.key), [&r, out](int, uint32_t id) { out->push_back(r.MatchOf(id)); });
          }
        } else if (probed[g]) {
          // Lookup's url case (the key, then masks) or domain case (the longest listed label
          // suffix and its linked ones, then host masks) with the probes made above.
          const size_t whole = probe_begin[g + 1] - 1;
          if (o.type == IndicatorType::kUrl) {
            if (const uint32_t at = r.FindFrom(o.type, o.key, probes[whole].hash, probe_slots[whole]); at != kNoEntry) {
              out->push_back(r.MatchOfRecord(at));
            }
            r.AppendMasks(o.key, false, out);
          } else {
            uint32_t at = whole_candidate[g] ? r.FindFrom(o.type, o.key, probes[whole].hash, probe_slots[whole]) : kNoEntry;
            for (size_t p = whole; at == kNoEntry && p-- > probe_begin[g];) {  // longest first
              const std::string_view key = std::string_view(o.key).substr(probes[p].start);
              // After a false tag match on the whole name, its suffixes' slots were not fetched.
              at = whole_candidate[g] ? r.FindExactHashed(o.type, key, probes[p].hash)
                                      : r.FindFrom(o.type, key, probes[p].hash, probe_slots[p]);
            }
            r.AppendDomainChain(at, out);
            r.AppendHostMasks(o.key, out);
          }
        } else {
          Lookup(o, out);
        }
        ends->push_back(out->size());
      }
      begin = end;
    }
  }
}

size_t IndicatorIndex::size() const {
  size_t n = rep_->entry_count() + rep_->record_count;
  for (const FixedKeyTable& t : rep_->fixed_tables) n += t.size();
  return n;
}

size_t IndicatorIndex::CountByType(IndicatorType type) const {
  return rep_->counts[static_cast<uint8_t>(type)];
}

size_t IndicatorIndex::ApproximateMemoryUsage() const {
  const Rep& r = *rep_;
  size_t fixed = 0;
  for (const FixedKeyTable& t : r.fixed_tables) fixed += t.ApproximateMemoryUsage();
  return sizeof(Rep) + fixed + (r.key_at.capacity() + r.feeds_at.capacity()) * sizeof(uint32_t) + r.keys.capacity() +
         r.feeds.capacity() * sizeof(FeedId) + r.slots.capacity() * sizeof(Rep::Slot) +
         r.records.capacity() * sizeof(uint32_t) +
         r.cidr4.ApproximateMemoryUsage() + r.cidr6.ApproximateMemoryUsage() +
         r.mask_ids.capacity() * sizeof(uint32_t) +
         r.mask_groups.size() * (sizeof(void*) * 2 + sizeof(std::string_view) + 8) +
         r.mask_groups.bucket_count() * sizeof(void*);
}

struct IndexBuilder::State {
  // Addresses and digests go straight into their (growing) FixedKeyTable, which merges
  // duplicates and feed lists as they come.
  std::array<FixedKeyTable, kFixedTables> fixed;
  // The other types become entries as they come: keys back to back in one pool (which
  // becomes the index's key pool as it is), found again through an open-addressing table
  // of entry ids keyed by HashKey (power-of-two size, at most half full, doubled as it
  // fills), so an Add is one hashed probe and no allocation of its own.
  struct Pending {
    uint32_t key_offset;
    uint32_t key_length;
    IndicatorType type;
    // The only feed, or (kListBit set) an index into lists.
    uint32_t feed;
  };
  static constexpr uint32_t kListBit = 0x80000000u;
  HugeVector<char> keys;  // becomes IndicatorIndex::Rep::keys
  std::vector<Pending> entries;
  std::vector<uint64_t> hashes;  // HashKey of each entry
  HugeVector<IndicatorIndex::Rep::Slot> slots;
  std::vector<std::vector<FeedId>> lists;  // feeds of entries with several (or large ids)
  // Words the domain and url records will take (ExactRecord; counting each feed added to a
  // list, duplicates included, so an upper bound): their offsets are 32-bit.
  size_t exact_words = 0;

  static bool IsExactType(IndicatorType type) {
    return type == IndicatorType::kDomain || type == IndicatorType::kUrl;
  }

  State() {
    for (IndicatorType type : kAllIndicatorTypes) {
      if (const int t = FixedTableOf(type); t >= 0) fixed[static_cast<size_t>(t)].SetKeySize(KnownKeySize(type));
    }
  }

  // Doubles the table and re-inserts every entry, in id order: the hashes are read
  // sequentially, and each new slot is prefetched kBuildAhead entries before it is written.
  void Grow() {
    const size_t size = slots.empty() ? 1024 : slots.size() * 2;
    slots = {};
    slots.assign(size, IndicatorIndex::Rep::Slot{});
    const size_t mask = size - 1;
    const auto n = static_cast<uint32_t>(entries.size());
    for (uint32_t id = 0; id < n; ++id) {
      if (id + kBuildAhead < n) Prefetch(&slots[hashes[id + kBuildAhead] & mask]);
      size_t i = hashes[id] & mask;
      while (slots[i].id != kNoEntry) i = (i + 1) & mask;
      slots[i] = IndicatorIndex::Rep::Slot{id, static_cast<uint32_t>(hashes[id] >> 32)};
    }
  }

  uint32_t NewList(FeedId first) {
    lists.push_back({first});
    return kListBit | static_cast<uint32_t>(lists.size() - 1);
  }

  // Adds a domain, url, range or mask now (Add's work for the types without a
  // FixedKeyTable).
  Status AddVariable(IndicatorType type, std::string_view key, uint64_t hash, FeedId feed);

  // Add is deferred by kAddAhead calls: it queues the indicator and prefetches the slot it
  // will probe, then adds the one queued kAddAhead calls earlier, whose slot has arrived by
  // then (one DRAM miss per Add otherwise, in tables of hundreds of MB at 10M). Queued adds
  // run in call order, so the result is the same as adding at once; size() and Build flush.
  static constexpr size_t kAddAhead = 16;
  struct Queued {
    int fixed;  // FixedTableOf(type)
    IndicatorType type;
    FeedId feed;
    uint64_t hash;    // HashKey, for the other types
    std::string key;  // reused: no allocation once long enough
  };
  std::array<Queued, kAddAhead> queue;
  size_t queue_head = 0;  // oldest
  size_t queue_size = 0;
  size_t queued_key_bytes = 0;  // of the other types, for Add's limit check

  void Enqueue(int t, IndicatorType type, std::string_view key, FeedId feed) {
    if (queue_size == kAddAhead) RunOldest();
    Queued& q = queue[(queue_head + queue_size) % kAddAhead];
    q.fixed = t;
    q.type = type;
    q.feed = feed;
    q.key.assign(key);
    if (t >= 0) {
      fixed[static_cast<size_t>(t)].PrefetchAdd(key);
    } else {
      q.hash = HashKey(type, key);
      queued_key_bytes += key.size();
      if (!slots.empty()) Prefetch(&slots[q.hash & (slots.size() - 1)]);
    }
    ++queue_size;
  }

  void RunOldest() {
    Queued& q = queue[queue_head];
    if (q.fixed >= 0) {
      fixed[static_cast<size_t>(q.fixed)].Add(q.key, q.feed);
    } else {
      queued_key_bytes -= q.key.size();
      // Cannot fail: Add checked the limits counting every queued key.
      (void)AddVariable(q.type, q.key, q.hash, q.feed);
    }
    queue_head = (queue_head + 1) % kAddAhead;
    --queue_size;
  }

  void Flush() {
    while (queue_size > 0) RunOldest();
  }
};

IndexBuilder::IndexBuilder() : state_(std::make_unique<State>()) {}
IndexBuilder::~IndexBuilder() = default;

Status IndexBuilder::Add(const Indicator& indicator, FeedId feed) {
  if (std::string reason = CheckCanonical(indicator); !reason.empty()) {
    return Status::InvalidArgument("index: " + reason);
  }
  State& s = *state_;
  const std::string_view key = indicator.key;
  const int t = FixedTableOf(indicator.type);
  if (t < 0 && (s.keys.size() + s.queued_key_bytes + key.size() > kMaxKeyBytes ||
                s.entries.size() + s.queue_size >= kNoEntry - 1 ||
                // An upper bound of the record words the queued adds and this one may take.
                s.exact_words + (s.queued_key_bytes + key.size()) / 4 + 5 * (s.queue_size + 1) >= kNoEntry)) {
    // Near the limits: add now, so the error (if any) is this call's.
    s.Flush();
    return s.AddVariable(indicator.type, key, HashKey(indicator.type, key), feed);
  }
  s.Enqueue(t, indicator.type, key, feed);
  return Status::Ok();
}

Status IndexBuilder::State::AddVariable(IndicatorType type, std::string_view key, uint64_t hash, FeedId feed) {
  const auto tag = static_cast<uint32_t>(hash >> 32);
  if ((entries.size() + 1) * 2 > slots.size()) Grow();
  const size_t mask = slots.size() - 1;
  size_t i = hash & mask;
  for (; slots[i].id != kNoEntry; i = (i + 1) & mask) {
    if (slots[i].tag != tag) continue;
    Pending& e = entries[slots[i].id];
    if (e.type != type || std::string_view(keys.data() + e.key_offset, e.key_length) != key) continue;
    // Known: add the feed. Feeds are loaded one at a time, so the common duplicate is the
    // previous one.
    if ((e.feed & kListBit) == 0 ? e.feed == feed : lists[e.feed & ~kListBit].back() == feed) {
      return Status::Ok();
    }
    if (IsExactType(type) && exact_words + 1 >= kNoEntry) {
      return Status::InvalidArgument("index: full (16 GiB of domain and url records)");
    }
    if ((e.feed & kListBit) == 0) {
      const FeedId first = e.feed;
      e.feed = NewList(first);
    }
    std::vector<FeedId>& list = lists[e.feed & ~kListBit];
    if (list.size() >= ExactRecord::kMaxFeeds) {
      std::sort(list.begin(), list.end());
      list.erase(std::unique(list.begin(), list.end()), list.end());
      if (list.size() >= ExactRecord::kMaxFeeds) {
        return Status::InvalidArgument("index: an indicator listed by more than 2^24-1 feeds");
      }
    }
    list.push_back(feed);
    if (IsExactType(type)) ++exact_words;
    return Status::Ok();
  }
  const size_t words = IsExactType(type) ? ExactRecord::Words(type, key.size(), 1) : 0;
  if (keys.size() + key.size() > kMaxKeyBytes || entries.size() >= kNoEntry - 1 ||
      exact_words + words >= kNoEntry) {
    return Status::InvalidArgument("index: full (4 GiB of keys or 2^32-1 indicators)");
  }
  exact_words += words;
  const auto id = static_cast<uint32_t>(entries.size());
  entries.push_back(Pending{static_cast<uint32_t>(keys.size()), static_cast<uint32_t>(key.size()), type,
                            feed < kListBit ? feed : NewList(feed)});
  hashes.push_back(hash);
  keys.insert(keys.end(), key.begin(), key.end());
  slots[i] = IndicatorIndex::Rep::Slot{id, tag};
  return Status::Ok();
}

size_t IndexBuilder::size() const {
  state_->Flush();
  size_t n = state_->entries.size();
  for (const FixedKeyTable& t : state_->fixed) n += t.size();
  return n;
}

std::shared_ptr<const IndicatorIndex> IndexBuilder::Build() && {
  State& s = *state_;
  s.Flush();
  auto rep = std::make_unique<IndicatorIndex::Rep>();

  for (IndicatorType type : kAllIndicatorTypes) {
    if (const int t = FixedTableOf(type); t >= 0) {
      FixedKeyTable& table = rep->fixed_tables[static_cast<size_t>(t)];
      table = std::move(s.fixed[static_cast<size_t>(t)]);
      table.Finish();
      rep->counts[static_cast<uint8_t>(type)] = table.size();
    }
  }
  // The other types become entries, their keys staying where they are in the pool.
  const size_t n = s.entries.size();
  s.slots = {};
  size_t exact_count = 0;
  for (const State::Pending& e : s.entries) {
    ++rep->counts[static_cast<uint8_t>(e.type)];
    if (e.type == IndicatorType::kDomain || e.type == IndicatorType::kUrl) ++exact_count;
  }
  rep->key_at.reserve(n - exact_count + 1);
  rep->feeds_at.reserve(n - exact_count + 1);
  rep->feeds.reserve(n - exact_count);
  rep->records.reserve(s.exact_words);
  rep->record_count = exact_count;
  if (exact_count > 0) {
    size_t capacity = 8;
    while (capacity < exact_count * 2) capacity *= 2;
    rep->slots.resize(capacity);
  }
  // Domains and urls become records with their keys; the other types keep entries whose
  // keys move to a pool of their own.
  HugeVector<char> entry_keys;
  // Entries are laid out as Rep describes: cidr4 ranges shortest prefix first, then cidr6
  // ranges, then url masks (domains and urls, which become records, rank last).
  std::vector<uint32_t> order(n);
  {
    constexpr size_t kRanks = 36;  // cidr4 /0../32, cidr6, url masks, records
    const auto rank = [&s](uint32_t id) -> size_t {
      const State::Pending& e = s.entries[id];
      switch (e.type) {
        case IndicatorType::kCidr4: return static_cast<uint8_t>(s.keys[e.key_offset + 4]);
        case IndicatorType::kCidr6: return 33;
        case IndicatorType::kUrlMask: return 34;
        default: return 35;
      }
    };
    std::array<size_t, kRanks + 1> starts{};
    for (uint32_t id = 0; id < n; ++id) ++starts[rank(id) + 1];
    for (size_t k = 0; k < kRanks; ++k) starts[k + 1] += starts[k];
    for (uint32_t id = 0; id < n; ++id) order[starts[rank(id)]++] = id;
  }
  std::vector<Cidr4Table::Prefix> cidr4_prefixes;
  for (size_t k = 0; k < n; ++k) {
    const uint32_t id = order[k];
    if (k + kBuildAhead < n && !rep->slots.empty()) {
      Prefetch(&rep->slots[s.hashes[order[k + kBuildAhead]] & (rep->slots.size() - 1)]);
    }
    const State::Pending& pending = s.entries[id];
    const std::string_view key(s.keys.data() + pending.key_offset, pending.key_length);
    std::span<const FeedId> feeds(&pending.feed, 1);
    if ((pending.feed & State::kListBit) != 0) {
      std::vector<FeedId>& list = s.lists[pending.feed & ~State::kListBit];
      std::sort(list.begin(), list.end());
      list.erase(std::unique(list.begin(), list.end()), list.end());
      feeds = list;
    }
    if (pending.type == IndicatorType::kDomain || pending.type == IndicatorType::kUrl) {
      const size_t at = ExactRecord::Append(&rep->records, pending.type, key, feeds);
      rep->InsertExact(static_cast<uint32_t>(at), s.hashes[id]);
      continue;
    }
    const auto entry_id = static_cast<uint32_t>(rep->key_at.size());
    rep->key_at.push_back(static_cast<uint32_t>(entry_keys.size()));
    entry_keys.insert(entry_keys.end(), key.begin(), key.end());
    rep->feeds_at.push_back(static_cast<uint32_t>(rep->feeds.size()));
    rep->feeds.insert(rep->feeds.end(), feeds.begin(), feeds.end());
    switch (pending.type) {
      case IndicatorType::kCidr4:
        cidr4_prefixes.push_back({Ipv4FromKey(key), static_cast<uint8_t>(key[4]), entry_id});
        rep->cidr4_end = entry_id + 1;
        rep->cidr6_end = entry_id + 1;
        break;
      case IndicatorType::kCidr6:
        rep->cidr6.Insert(Ipv6FromKey(key), static_cast<uint8_t>(key[16]), entry_id);
        rep->cidr6_end = entry_id + 1;
        break;
      case IndicatorType::kUrlMask:
        rep->mask_ids.push_back(entry_id);
        if (HostOfUrlKey(key).size() == key.size()) rep->has_host_only_masks = true;
        break;
      default:
        break;  // domains and urls are records (above)
    }
  }
  if (!rep->key_at.empty()) {
    rep->key_at.push_back(static_cast<uint32_t>(entry_keys.size()));
    rep->feeds_at.push_back(static_cast<uint32_t>(rep->feeds.size()));
  }
  s.keys = {};
  rep->LinkDomainParents();
  rep->keys = std::move(entry_keys);
  rep->cidr4.Build(std::move(cidr4_prefixes));
  rep->keys.shrink_to_fit();
  rep->feeds.shrink_to_fit();

  if (!rep->mask_ids.empty()) {
    IndicatorIndex::Rep& r = *rep;
    std::sort(r.mask_ids.begin(), r.mask_ids.end(), [&r](uint32_t a, uint32_t b) {
      const std::string_view ka = r.KeyOf(a), kb = r.KeyOf(b);
      const std::string_view fa = UrlMaskFixedHost(ka), fb = UrlMaskFixedHost(kb);
      return fa != fb ? fa < fb : MoreSpecificMask(ka, kb);
    });
    for (uint32_t i = 0; i < r.mask_ids.size();) {
      const std::string_view fixed = UrlMaskFixedHost(r.KeyOf(r.mask_ids[i]));
      uint32_t j = i;
      while (j < r.mask_ids.size() && UrlMaskFixedHost(r.KeyOf(r.mask_ids[j])) == fixed) ++j;
      r.mask_groups.emplace(fixed, std::pair{i, j - i});
      i = j;
    }
  }

  state_ = std::make_unique<State>();
  return std::shared_ptr<const IndicatorIndex>(new IndicatorIndex(std::move(rep)));
}

}  // namespace iocd
