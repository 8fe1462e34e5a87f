#include "match/indicator_index.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>

#include "match/prefix_table.h"

namespace iocd {
namespace {

constexpr uint32_t kNoEntry = std::numeric_limits<uint32_t>::max();
// Offsets into the key pool are 32-bit; this bounds the pool (and so the index) at 4 GiB
// of key bytes, far above what a daemon with ~64 bytes per indicator can hold anyway.
constexpr size_t kMaxKeyBytes = std::numeric_limits<uint32_t>::max();

// One distinct indicator. Its key and feed list live in shared pools.
struct Entry {
  uint32_t key_offset;
  uint32_t key_length;
  uint32_t feeds_offset;
  uint32_t feeds_length;
  IndicatorType type;
};

uint64_t HashKey(IndicatorType type, std::string_view key) {
  uint64_t x = std::hash<std::string_view>{}(key);
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
    case IndicatorType::kDomain:
    case IndicatorType::kUrl:
      return 0;  // variable
  }
  return 0;
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
  const std::string type_name(TypeName(indicator.type));
  if (const size_t want = KnownKeySize(indicator.type); want != 0) {
    if (key.size() != want) {
      return type_name + " key must be " + std::to_string(want) + " bytes, got " +
             std::to_string(key.size());
    }
  } else if (key.empty()) {
    return "empty " + type_name + " key";
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

// Layout: entries_ in a flat vector; all keys back to back in one char pool, all feed lists
// back to back in one FeedId pool; exact-match types in one open-addressing hash table of
// entry ids; cidr4/cidr6 in prefix tables whose values are entry ids.
struct IndicatorIndex::Rep {
  // A slot of the exact-match table: an entry id (kNoEntry when free) and the high half of
  // the key's hash, so most mismatches are rejected without touching the key pool.
  struct Slot {
    uint32_t id = kNoEntry;
    uint32_t tag = 0;
  };

  std::vector<Entry> entries;
  std::vector<char> keys;
  std::vector<FeedId> feeds;
  std::vector<Slot> slots;  // size is 0 or a power of two, at most half full
  Ipv4PrefixTable<uint32_t> cidr4;
  Ipv6PrefixTable<uint32_t> cidr6;
  std::array<size_t, 256> counts{};  // by IndicatorType value

  std::string_view KeyOf(const Entry& e) const {
    return std::string_view(keys.data() + e.key_offset, e.key_length);
  }

  IndexMatch MatchOf(uint32_t id) const {
    const Entry& e = entries[id];
    return IndexMatch{e.type, KeyOf(e),
                      std::span<const FeedId>(feeds.data() + e.feeds_offset, e.feeds_length)};
  }

  void InsertExact(uint32_t id) {
    const Entry& e = entries[id];
    const uint64_t hash = HashKey(e.type, KeyOf(e));
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
    const uint64_t hash = HashKey(type, key);
    const uint32_t tag = static_cast<uint32_t>(hash >> 32);
    const size_t mask = slots.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots[i];
      if (slot.id == kNoEntry) return kNoEntry;
      if (slot.tag == tag) {
        const Entry& e = entries[slot.id];
        if (e.type == type && KeyOf(e) == key) return slot.id;
      }
    }
  }

  void AppendExact(IndicatorType type, std::string_view key, std::vector<IndexMatch>* out) const {
    if (const uint32_t id = FindExact(type, key); id != kNoEntry) out->push_back(MatchOf(id));
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
      r.cidr4.ForEachCovering(Ipv4FromKey(key), append_id);
      return;
    case IndicatorType::kIpv6:
      if (key.size() != 16) return;
      r.AppendExact(IndicatorType::kIpv6, key, out);
      r.cidr6.ForEachCovering(Ipv6FromKey(key), append_id);
      return;
    case IndicatorType::kDomain: {
      if (r.counts[static_cast<uint8_t>(IndicatorType::kDomain)] == 0) return;
      // The name itself, then the suffix after each dot: whole labels only.
      size_t start = 0;
      while (true) {
        if (start < key.size()) r.AppendExact(IndicatorType::kDomain, key.substr(start), out);
        const size_t dot = key.find('.', start);
        if (dot == std::string_view::npos) return;
        start = dot + 1;
      }
    }
    case IndicatorType::kUrl:
    case IndicatorType::kMd5:
    case IndicatorType::kSha1:
    case IndicatorType::kSha256:
      r.AppendExact(observable.type, key, out);
      return;
    case IndicatorType::kCidr4:
    case IndicatorType::kCidr6:
      return;
  }
}

size_t IndicatorIndex::size() const { return rep_->entries.size(); }

size_t IndicatorIndex::CountByType(IndicatorType type) const {
  return rep_->counts[static_cast<uint8_t>(type)];
}

size_t IndicatorIndex::ApproximateMemoryUsage() const {
  const Rep& r = *rep_;
  return sizeof(Rep) + r.entries.capacity() * sizeof(Entry) + r.keys.capacity() +
         r.feeds.capacity() * sizeof(FeedId) + r.slots.capacity() * sizeof(Rep::Slot) +
         r.cidr4.ApproximateMemoryUsage() + r.cidr6.ApproximateMemoryUsage();
}

struct IndexBuilder::State {
  // Type byte + key -> entry id. Node-based, so the key strings stay put and
  // encoded_by_id can point at them.
  std::unordered_map<std::string, uint32_t> ids;
  std::vector<const std::string*> encoded_by_id;
  // (entry id, feed) in arrival order; sorted and de-duplicated by Build().
  std::vector<std::pair<uint32_t, FeedId>> postings;
  size_t key_bytes = 0;
};

IndexBuilder::IndexBuilder() : state_(std::make_unique<State>()) {}
IndexBuilder::~IndexBuilder() = default;

Status IndexBuilder::Add(const Indicator& indicator, FeedId feed) {
  if (std::string reason = CheckCanonical(indicator); !reason.empty()) {
    return Status::InvalidArgument("index: " + reason);
  }
  State& s = *state_;
  std::string encoded;
  encoded.reserve(indicator.key.size() + 1);
  encoded.push_back(static_cast<char>(indicator.type));
  encoded.append(indicator.key);

  uint32_t id;
  if (auto found = s.ids.find(encoded); found != s.ids.end()) {
    id = found->second;
  } else {
    if (s.key_bytes + indicator.key.size() > kMaxKeyBytes || s.ids.size() >= kNoEntry) {
      return Status::InvalidArgument("index: full (4 GiB of keys or 2^32-1 indicators)");
    }
    id = static_cast<uint32_t>(s.encoded_by_id.size());
    auto inserted = s.ids.emplace(std::move(encoded), id).first;
    s.encoded_by_id.push_back(&inserted->first);
    s.key_bytes += indicator.key.size();
  }
  // Feeds are loaded one at a time, so the common duplicate is the previous pair.
  if (s.postings.empty() || s.postings.back() != std::pair{id, feed}) {
    s.postings.emplace_back(id, feed);
  }
  return Status::Ok();
}

size_t IndexBuilder::size() const { return state_->encoded_by_id.size(); }

std::shared_ptr<const IndicatorIndex> IndexBuilder::Build() && {
  State& s = *state_;
  auto rep = std::make_unique<IndicatorIndex::Rep>();

  std::sort(s.postings.begin(), s.postings.end());
  s.postings.erase(std::unique(s.postings.begin(), s.postings.end()), s.postings.end());

  const size_t n = s.encoded_by_id.size();
  rep->entries.resize(n);
  rep->keys.reserve(s.key_bytes);
  size_t exact_count = 0;
  for (size_t id = 0; id < n; ++id) {
    const std::string& encoded = *s.encoded_by_id[id];
    Entry& e = rep->entries[id];
    e.type = static_cast<IndicatorType>(encoded[0]);
    e.key_offset = static_cast<uint32_t>(rep->keys.size());
    e.key_length = static_cast<uint32_t>(encoded.size() - 1);
    rep->keys.insert(rep->keys.end(), encoded.begin() + 1, encoded.end());
    ++rep->counts[static_cast<uint8_t>(e.type)];
    if (e.type != IndicatorType::kCidr4 && e.type != IndicatorType::kCidr6) ++exact_count;
  }

  // Postings are sorted by id, so each entry's feeds are one ascending run.
  rep->feeds.reserve(s.postings.size());
  for (size_t i = 0; i < s.postings.size();) {
    const uint32_t id = s.postings[i].first;
    Entry& e = rep->entries[id];
    e.feeds_offset = static_cast<uint32_t>(rep->feeds.size());
    for (; i < s.postings.size() && s.postings[i].first == id; ++i) {
      rep->feeds.push_back(s.postings[i].second);
    }
    e.feeds_length = static_cast<uint32_t>(rep->feeds.size() - e.feeds_offset);
  }

  if (exact_count > 0) {
    size_t capacity = 8;
    while (capacity < exact_count * 2) capacity *= 2;
    rep->slots.resize(capacity);
  }
  for (uint32_t id = 0; id < n; ++id) {
    const Entry& e = rep->entries[id];
    const std::string_view key = rep->KeyOf(e);
    switch (e.type) {
      case IndicatorType::kCidr4:
        rep->cidr4.Insert(Ipv4FromKey(key), static_cast<uint8_t>(key[4]), id);
        break;
      case IndicatorType::kCidr6:
        rep->cidr6.Insert(Ipv6FromKey(key), static_cast<uint8_t>(key[16]), id);
        break;
      default:
        rep->InsertExact(id);
    }
  }

  state_ = std::make_unique<State>();
  return std::shared_ptr<const IndicatorIndex>(new IndicatorIndex(std::move(rep)));
}

}  // namespace iocd
