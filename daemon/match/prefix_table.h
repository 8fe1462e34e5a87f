// PrefixTable: a set of IPv4 or IPv6 prefixes, each carrying a value, answering "which
// prefixes cover this address, longest first".
//
// Design: one hash table per prefix length that occurs, keyed by the masked address. A
// lookup masks the address to each present length, from the longest to the shortest, and
// probes that length's table. This is the layout Zeek's intel framework and many routers'
// software paths use when the number of distinct lengths is small, which it is for threat
// feeds (mostly /8, /16, /24 and a few others).
//
// Complexity: Insert is expected O(L) for the sorted list of lengths plus O(1) for the hash
// table; ForEachCovering is L expected-O(1) probes, where L is the number of distinct
// lengths present (at most 33 for IPv4, 129 for IPv6), independent of the number of
// prefixes. Memory is one hash-table node per prefix.
//
// Addresses: IPv4 as uint32_t in host byte order (as ParseIpv4 returns it); IPv6 as 16 bytes
// in network order (as ParseIpv6 returns it). Lengths run from 0 to 32 / 128 inclusive; the
// match index never inserts /32 or /128, since ParseIndicator turns those into exact
// addresses, but the table itself does not care.
//
// Ownership: the table owns its values. Thread safety: not thread-safe while inserting; once
// filled, any number of threads may call the const methods concurrently (they do not
// allocate or modify anything).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <unordered_map>
#include <utility>
#include <vector>

namespace iocd {

using Ipv6Address = std::array<uint8_t, 16>;

// What PrefixTable needs to know about an address family.
template <typename Address>
struct PrefixTraits;

template <>
struct PrefixTraits<uint32_t> {
  static constexpr int kBits = 32;
  // Clears every bit after the first `length` (0..32).
  static uint32_t Mask(uint32_t address, int length) {
    return length == 0 ? 0u : address & (~uint32_t{0} << (32 - length));
  }
  struct Hash {
    size_t operator()(uint32_t address) const {
      // Masked addresses have many zero low bits; mix so every bit reaches the bucket index.
      uint64_t x = uint64_t{address} * 0x9E3779B97F4A7C15ull;
      return static_cast<size_t>(x ^ (x >> 29));
    }
  };
};

template <>
struct PrefixTraits<Ipv6Address> {
  static constexpr int kBits = 128;
  // Clears every bit after the first `length` (0..128).
  static Ipv6Address Mask(const Ipv6Address& address, int length) {
    Ipv6Address out{};
    const int full_bytes = length / 8;
    std::memcpy(out.data(), address.data(), static_cast<size_t>(full_bytes));
    if (const int rest = length % 8; rest != 0) {
      out[full_bytes] = static_cast<uint8_t>(address[full_bytes] & (0xFF00u >> rest));
    }
    return out;
  }
  struct Hash {
    size_t operator()(const Ipv6Address& address) const {
      uint64_t hi, lo;
      std::memcpy(&hi, address.data(), 8);
      std::memcpy(&lo, address.data() + 8, 8);
      uint64_t x = hi * 0x9E3779B97F4A7C15ull ^ (lo + 0xBF58476D1CE4E5B9ull + (hi << 6));
      x ^= x >> 31;
      x *= 0x94D049BB133111EBull;
      x ^= x >> 29;
      return static_cast<size_t>(x);
    }
  };
};

template <typename Address, typename Value>
class PrefixTable {
 public:
  using Traits = PrefixTraits<Address>;
  static constexpr int kMaxLength = Traits::kBits;

  // Adds address/length with `value`; host bits of `address` beyond `length` are ignored.
  // Returns false, leaving the table unchanged, when `length` is outside 0..kMaxLength or
  // the prefix is already present (the first value is kept).
  bool Insert(const Address& address, int length, Value value) {
    if (length < 0 || length > kMaxLength) return false;
    // levels_ is sorted by length, longest first.
    auto it = std::lower_bound(levels_.begin(), levels_.end(), length,
                               [](const Level& level, int l) { return level.length > l; });
    if (it == levels_.end() || it->length != length) {
      it = levels_.insert(it, Level{length, {}});
    }
    const bool inserted =
        it->prefixes.emplace(Traits::Mask(address, length), std::move(value)).second;
    if (inserted) ++size_;
    return inserted;
  }

  // The value stored for exactly address/length, or nullptr.
  const Value* Find(const Address& address, int length) const {
    for (const Level& level : levels_) {
      if (level.length != length) continue;
      auto found = level.prefixes.find(Traits::Mask(address, length));
      return found == level.prefixes.end() ? nullptr : &found->second;
    }
    return nullptr;
  }

  // Calls fn(int length, const Value& value) for every prefix covering `address`, longest
  // first. Does not allocate.
  template <typename Fn>
  void ForEachCovering(const Address& address, Fn&& fn) const {
    for (const Level& level : levels_) {
      auto found = level.prefixes.find(Traits::Mask(address, level.length));
      if (found != level.prefixes.end()) fn(level.length, found->second);
    }
  }

  // The covering prefixes as (length, value), longest first. Allocates; for tests and tools.
  std::vector<std::pair<int, Value>> Covering(const Address& address) const {
    std::vector<std::pair<int, Value>> out;
    ForEachCovering(address, [&out](int length, const Value& v) { out.emplace_back(length, v); });
    return out;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Number of distinct prefix lengths present: the number of probes a lookup makes.
  size_t distinct_lengths() const { return levels_.size(); }

  // Approximate heap bytes held (hash-table nodes and buckets), for "bytes per indicator".
  size_t ApproximateMemoryUsage() const {
    // A libstdc++ node holds a next pointer, the pair and (for non-trivial hashes) the hash.
    constexpr size_t kNodeBytes =
        sizeof(void*) + sizeof(std::pair<const Address, Value>) + sizeof(size_t);
    size_t bytes = levels_.capacity() * sizeof(Level);
    for (const Level& level : levels_) {
      bytes += level.prefixes.size() * kNodeBytes + level.prefixes.bucket_count() * sizeof(void*);
    }
    return bytes;
  }

 private:
  struct Level {
    int length;
    std::unordered_map<Address, Value, typename Traits::Hash> prefixes;  // by masked address
  };

  std::vector<Level> levels_;  // longest length first
  size_t size_ = 0;
};

template <typename Value>
using Ipv4PrefixTable = PrefixTable<uint32_t, Value>;
template <typename Value>
using Ipv6PrefixTable = PrefixTable<Ipv6Address, Value>;

}  // namespace iocd
