// FixedKeyTable: an immutable open-addressing hash set of fixed-size keys (4 to 64 bytes:
// IPv4/IPv6 addresses, digests), each with the list of feeds that listed it. The exact-match
// tables of IndicatorIndex.
//
// Layout: one flat array of slots, each the key bytes followed by a 32-bit feed reference,
// no pointers and no separate entry records. A reference with the top bit clear is the only
// feed itself; with it set, it is an offset into a side array holding [count, feed...] (an
// indicator listed by several feeds; feed ids of 2^31 and above also go there). Beside the
// slots, a parallel array of 16-bit tags (16 bits of the key's hash, never 0; 0 marks a free
// slot): a probe walks the tags, which for a whole probe sequence usually sit in one cache
// line, and compares key bytes only where the tag matches, so a miss costs about one line
// and a hit two (the tag line and the slot), whatever the key size. Load factor at most 0.7
// (linear probing). Memory per key: (key size + 4 + 2) / 0.7 bytes, e.g. ~14 for IPv4,
// ~54 for SHA256, plus the rare lists. Both arrays are huge-page candidates
// (common/huge_pages.h).
//
// Slot positions come from a 64-bit hash reduced with a multiply (no power-of-two rounding,
// so the table is no bigger than the load factor needs). Home() gives the first tag a key
// probes so batch lookups can prefetch it; for batches that want each step's misses to
// overlap across many keys, HashOf / PrefetchTags / FirstTagMatch / PrefetchSlot /
// FindHashed split a lookup into its dependent steps.
//
// Building: either Init with the final count and Insert each distinct key once, or (when the
// count is not known up front, as in IndexBuilder) Add every (key, feed) pair as it comes,
// duplicates allowed, then Finish once: Add grows the table by doubling and keeps feed
// lists of keys with several feeds aside; Finish moves the keys into a table sized for the
// final count and turns the lists into ascending, duplicate-free runs. Either way, one
// insert is one hashed probe: no per-key allocation, no sorting.
//
// Thread safety: build on one thread (Init, Insert, Add, Finish); afterwards the const
// methods are safe from any number of threads and never allocate.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "common/huge_pages.h"
#include "common/prefetch.h"

namespace iocd {

class FixedKeyTable {
 public:
  using Feed = uint32_t;

  // Sizes the table for `count` keys of `key_size` bytes (a multiple of 4, 4..64).
  void Init(size_t key_size, size_t count) {
    key_size_ = key_size;
    stride_words_ = key_size / 4 + 1;
    AllocateSlots(&words_, count == 0 ? 0 : count + count * 3 / 7 + 1);  // load <= 0.7
    tags_.assign(capacity_, 0);
    lists_.clear();
    size_ = 0;
  }

  // Adds a key (exactly key_size bytes, not yet present) listed by `feeds` (not empty).
  void Insert(std::string_view key, std::span<const Feed> feeds) {
    uint32_t ref;
    if (feeds.size() == 1 && feeds[0] < kListBit) {
      ref = feeds[0];
    } else {
      ref = kListBit | static_cast<uint32_t>(lists_.size());
      lists_.push_back(static_cast<Feed>(feeds.size()));
      lists_.insert(lists_.end(), feeds.begin(), feeds.end());
    }
    const uint64_t hash = Hash(key);
    for (size_t i = HomeIndex(hash);; i = i + 1 == capacity_ ? 0 : i + 1) {
      uint32_t* slot = &words_[i * stride_words_];
      if (slot[stride_words_ - 1] == kEmpty) {
        std::memcpy(slot, key.data(), key_size_);
        slot[stride_words_ - 1] = ref;
        tags_[i] = TagOf(hash);
        ++size_;
        return;
      }
    }
  }

  // Records that `feed` lists `key` (exactly key_size bytes; call SetKeySize first on a
  // fresh table). Adding a pair again is harmless. Returns true when the key is new. The
  // table must not be searched until Finish().
  bool Add(std::string_view key, Feed feed) {
    if ((size_ + 1) * 10 > capacity_ * 7) Rehash(capacity_ < 8 ? 16 : capacity_ * 2);
    for (size_t i = HomeIndex(Hash(key));; i = i + 1 == capacity_ ? 0 : i + 1) {
      uint32_t* slot = &growing_[i * stride_words_];
      uint32_t& ref = slot[stride_words_ - 1];
      if (ref == kEmpty) {
        std::memcpy(slot, key.data(), key_size_);
        ref = feed < kListBit ? feed : NewPending(feed);
        ++size_;
        return true;
      }
      if (std::memcmp(slot, key.data(), key_size_) != 0) continue;
      if ((ref & kListBit) == 0) {
        if (ref != feed) {
          const Feed first = ref;
          ref = NewPending(first);
          pending_.back().push_back(feed);
        }
      } else if (std::vector<Feed>& list = pending_[ref & ~kListBit]; list.back() != feed) {
        list.push_back(feed);
      }
      return false;
    }
  }

  // Prefetches the slot Add(key, ...) will probe first, so a caller adding many keys can
  // overlap the misses (IndexBuilder defers its Adds a few calls for this).
  void PrefetchAdd(std::string_view key) const {
    if (capacity_ != 0) Prefetch(&growing_[HomeIndex(Hash(key)) * stride_words_]);
  }

  // Sets the key size (a multiple of 4, 4..64) of an empty table, before Add.
  void SetKeySize(size_t key_size) {
    key_size_ = key_size;
    stride_words_ = key_size / 4 + 1;
  }

  // Ends building with Add: resizes the table for its final count (load <= 0.7) and stores
  // the feed lists. The table is searchable afterwards.
  void Finish() {
    std::vector<uint32_t> old = std::move(growing_);
    const size_t old_capacity = capacity_;
    std::vector<std::vector<Feed>> pending = std::move(pending_);
    pending_.clear();
    const size_t count = size_;
    Init(key_size_, count);
    for (size_t i = 0; i < old_capacity; ++i) {
      PrefetchHomeOf(old, i + kAhead, old_capacity, words_);
      const uint32_t* slot = &old[i * stride_words_];
      const uint32_t ref = slot[stride_words_ - 1];
      if (ref == kEmpty) continue;
      const std::string_view key(reinterpret_cast<const char*>(slot), key_size_);
      if ((ref & kListBit) == 0) {
        Insert(key, std::span<const Feed>(&ref, 1));
        continue;
      }
      std::vector<Feed>& list = pending[ref & ~kListBit];
      std::sort(list.begin(), list.end());
      list.erase(std::unique(list.begin(), list.end()), list.end());
      Insert(key, list);
    }
  }

  // What a hit is: the key bytes as stored and the feeds listing it, both pointing into
  // the table.
  struct Hit {
    std::string_view key;
    std::span<const Feed> feeds;
  };

  // Finds `key`; false when absent (or of the wrong size).
  bool Find(std::string_view key, Hit* hit) const {
    if (capacity_ == 0 || key.size() != key_size_) return false;
    return FindHashed(key, Hash(key), hit);
  }

  // The first tag `key` probes, for prefetching; nullptr when the table is empty (or the key
  // of the wrong size).
  const void* Home(std::string_view key) const {
    if (capacity_ == 0 || key.size() != key_size_) return nullptr;
    return &tags_[HomeIndex(Hash(key))];
  }

  // Find in steps, for batch lookups: h = HashOf(key) (only for a key of key_size bytes, on
  // a non-empty table: check searchable(key) first), PrefetchTags(h), then
  // PrefetchSlot(FirstTagMatch(h)), then FindHashed(key, h, hit) == Find(key, hit).
  bool searchable(std::string_view key) const { return capacity_ != 0 && key.size() == key_size_; }
  uint64_t HashOf(std::string_view key) const { return Hash(key); }
  void PrefetchTags(uint64_t hash) const { Prefetch(&tags_[HomeIndex(hash)]); }
  // The first slot on the probe path whose tag matches (the slot a lookup compares first),
  // or kNoSlot when the path reaches a free slot first.
  static constexpr size_t kNoSlot = ~size_t{0};
  size_t FirstTagMatch(uint64_t hash) const {
    const uint16_t tag = TagOf(hash);
    for (size_t i = HomeIndex(hash);; i = i + 1 == capacity_ ? 0 : i + 1) {
      if (tags_[i] == tag) return i;
      if (tags_[i] == 0) return kNoSlot;
    }
  }
  void PrefetchSlot(size_t i) const {
    if (i == kNoSlot) return;
    const uint32_t* slot = &words_[i * stride_words_];
    Prefetch(slot);
    Prefetch(slot + stride_words_ - 1);  // the slot's last word, when it straddles a line
  }
  bool FindHashed(std::string_view key, uint64_t hash, Hit* hit) const {
    const uint16_t tag = TagOf(hash);
    for (size_t i = HomeIndex(hash);; i = i + 1 == capacity_ ? 0 : i + 1) {
      const uint16_t t = tags_[i];
      if (t == 0) return false;
      if (t != tag) continue;
      const uint32_t* slot = &words_[i * stride_words_];
      if (std::memcmp(slot, key.data(), key_size_) != 0) continue;
      const uint32_t ref = slot[stride_words_ - 1];
      hit->key = std::string_view(reinterpret_cast<const char*>(slot), key_size_);
      if ((ref & kListBit) == 0) {
        hit->feeds = std::span<const Feed>(&slot[stride_words_ - 1], 1);
      } else {
        const Feed* list = &lists_[ref & ~kListBit];
        hit->feeds = std::span<const Feed>(list + 1, list[0]);
      }
      return true;
    }
  }

  size_t size() const { return size_; }
  size_t ApproximateMemoryUsage() const {
    return words_.capacity() * sizeof(uint32_t) + tags_.capacity() * sizeof(uint16_t) +
           lists_.capacity() * sizeof(Feed);
  }

 private:
  static constexpr uint32_t kEmpty = 0xFFFFFFFFu;
  static constexpr uint32_t kListBit = 0x80000000u;

  // Keys are addresses or digests; mix the first and last 8 (or 4) bytes so every bit
  // counts (addresses from one network share their leading bytes).
  uint64_t Hash(std::string_view key) const {
    uint64_t a = 0, b = 0;
    if (key_size_ >= 8) {
      std::memcpy(&a, key.data(), 8);
      std::memcpy(&b, key.data() + key_size_ - 8, 8);
    } else {
      uint32_t v;
      std::memcpy(&v, key.data(), 4);
      a = v;
    }
    uint64_t x = a ^ (b * 0x9E3779B97F4A7C15ull) ^ (key_size_ << 56);
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 32;
    return x;
  }

  // Replaces *words with `capacity` empty slots.
  template <typename Words>
  void AllocateSlots(Words* words, size_t capacity) {
    capacity_ = capacity;
    words->assign(capacity_ * stride_words_, 0);
    for (size_t i = 0; i < capacity_; ++i) (*words)[i * stride_words_ + stride_words_ - 1] = kEmpty;
  }

  // Moving every key of one table into another (Rehash, Finish) walks the old slots in
  // order and writes each key at a random place in the new one: prefetching the new home of
  // the key kAhead slots on hides that miss (and the tag's, when the new table has tags).
  static constexpr size_t kAhead = 16;
  template <typename From, typename To>
  void PrefetchHomeOf(const From& from, size_t i, size_t from_capacity, const To& to) const {
    if (i >= from_capacity) return;
    const uint32_t* slot = &from[i * stride_words_];
    if (slot[stride_words_ - 1] == kEmpty) return;
    const size_t home = HomeIndex(Hash(std::string_view(reinterpret_cast<const char*>(slot), key_size_)));
    Prefetch(&to[home * stride_words_]);
    if (!tags_.empty()) Prefetch(&tags_[home]);
  }

  uint32_t NewPending(Feed first) {
    pending_.push_back({first});
    return kListBit | static_cast<uint32_t>(pending_.size() - 1);
  }

  // Moves every key into a table of `capacity` slots (Add's growth; refs are kept as they
  // are).
  void Rehash(size_t capacity) {
    std::vector<uint32_t> old = std::move(growing_);
    const size_t old_capacity = capacity_;
    AllocateSlots(&growing_, capacity);
    for (size_t i = 0; i < old_capacity; ++i) {
      PrefetchHomeOf(old, i + kAhead, old_capacity, growing_);
      const uint32_t* from = &old[i * stride_words_];
      if (from[stride_words_ - 1] == kEmpty) continue;
      const std::string_view key(reinterpret_cast<const char*>(from), key_size_);
      for (size_t j = HomeIndex(Hash(key));; j = j + 1 == capacity_ ? 0 : j + 1) {
        uint32_t* to = &growing_[j * stride_words_];
        if (to[stride_words_ - 1] == kEmpty) {
          std::memcpy(to, from, stride_words_ * sizeof(uint32_t));
          break;
        }
      }
    }
  }

  // 16 hash bits the home index does not use (it takes the high ones); 0 means free.
  static uint16_t TagOf(uint64_t hash) {
    const auto tag = static_cast<uint16_t>(hash);
    return tag == 0 ? 1 : tag;
  }

  size_t HomeIndex(uint64_t hash) const {
    return static_cast<size_t>((static_cast<unsigned __int128>(hash) * capacity_) >> 64);
  }

  size_t key_size_ = 4;
  size_t stride_words_ = 2;
  size_t capacity_ = 0;
  size_t size_ = 0;
  HugeVector<uint32_t> words_;  // the searchable slots (Init, Insert)
  // The slots while building with Add: ordinary pages, since huge-page faults made the
  // doublings (and their page clearing) of a 10M-key build about 1.5x slower, and these
  // slots are never searched.
  std::vector<uint32_t> growing_;
  HugeVector<uint16_t> tags_;  // per slot, once searchable (Init); empty while growing by Add
  std::vector<Feed> lists_;
  std::vector<std::vector<Feed>> pending_;  // while building with Add: lists of 2+ feeds
};

}  // namespace iocd
