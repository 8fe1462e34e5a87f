// Cidr4Table: an immutable set of IPv4 prefixes (/0 to /32), each with a 32-bit value,
// answering "which prefixes cover this address, longest first" in a few cache misses
// whatever the number of prefixes and of distinct lengths. The cidr4 table of
// IndicatorIndex (which has up to millions of ranges, where a per-length hash table costs
// one miss per length present).
//
// Design: two prefixes either nest or are disjoint, so the prefixes form a forest; each
// keeps its parent (the longest prefix strictly covering it). The address space is cut at
// every prefix's first address and one past its last into elementary intervals, and each
// interval records the longest prefix covering all of it. A lookup finds the interval of the
// address (a 65,536-entry index on the top 16 bits, then a binary search over the few
// boundaries in that /16) and walks the parent chain: exactly the covering prefixes, longest
// first. Memory: about 4 x 4 bytes per prefix plus a fixed 256 KiB index.
//
// Thread safety: Build on one thread; afterwards the const methods are safe from any number
// of threads and never allocate.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace iocd {

class Cidr4Table {
 public:
  struct Prefix {
    uint32_t address;  // host byte order; bits beyond length must be clear
    uint8_t length;    // 0..32
    uint32_t value;
  };

  // Replaces the contents. Prefixes must be distinct (address, length) pairs.
  void Build(std::vector<Prefix> prefixes) {
    std::sort(prefixes.begin(), prefixes.end(), [](const Prefix& a, const Prefix& b) {
      return a.address != b.address ? a.address < b.address : a.length < b.length;
    });
    const size_t n = prefixes.size();
    lengths_.resize(n);
    values_.resize(n);
    parents_.assign(n, kNone);
    boundaries_.clear();
    owners_.clear();
    std::vector<uint32_t> stack;
    for (size_t i = 0; i < n; ++i) {
      const Prefix& p = prefixes[i];
      lengths_[i] = p.length;
      values_[i] = p.value;
      while (!stack.empty() && Last(prefixes[stack.back()]) < p.address) stack.pop_back();
      if (!stack.empty()) parents_[i] = stack.back();
      stack.push_back(static_cast<uint32_t>(i));
    }
    // Boundaries: every first address and every one-past-last address (when it exists).
    std::vector<uint32_t> cuts;
    cuts.reserve(2 * n);
    for (const Prefix& p : prefixes) {
      cuts.push_back(p.address);
      if (Last(p) != 0xFFFFFFFFu) cuts.push_back(Last(p) + 1);
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    stack.clear();
    size_t next = 0;
    boundaries_.reserve(cuts.size());
    owners_.reserve(cuts.size());
    for (uint32_t b : cuts) {
      for (; next < n && prefixes[next].address <= b; ++next) {
        while (!stack.empty() && Last(prefixes[stack.back()]) < prefixes[next].address) stack.pop_back();
        stack.push_back(static_cast<uint32_t>(next));
      }
      while (!stack.empty() && Last(prefixes[stack.back()]) < b) stack.pop_back();
      const uint32_t owner = stack.empty() ? kNone : stack.back();
      // Adjacent intervals with the same owner merge.
      if (!owners_.empty() && owners_.back() == owner) continue;
      boundaries_.push_back(b);
      owners_.push_back(owner);
    }
    // first_[h]: index of the first boundary whose top 16 bits are >= h.
    first_.assign(kIndexSize + 1, static_cast<uint32_t>(boundaries_.size()));
    size_t k = 0;
    for (uint32_t h = 0; h < kIndexSize; ++h) {
      while (k < boundaries_.size() && (boundaries_[k] >> 16) < h) ++k;
      first_[h] = static_cast<uint32_t>(k);
    }
    size_ = n;
  }

  // Calls fn(int length, uint32_t value) for every prefix covering `address`, longest first.
  template <typename Fn>
  void ForEachCovering(uint32_t address, Fn&& fn) const {
    if (size_ == 0) return;
    const uint32_t h = address >> 16;
    const auto begin = boundaries_.begin() + first_[h];
    const auto end = boundaries_.begin() + first_[h + 1];
    // The last boundary <= address: in this /16's run, or the one before it.
    const auto after = std::upper_bound(begin, end, address);
    if (after == boundaries_.begin()) return;
    for (uint32_t p = owners_[static_cast<size_t>(after - boundaries_.begin()) - 1]; p != kNone;
         p = parents_[p]) {
      fn(static_cast<int>(lengths_[p]), values_[p]);
    }
  }

  // The index entry a lookup of `address` reads first, for prefetching.
  const void* Home(uint32_t address) const { return size_ == 0 ? nullptr : &first_[address >> 16]; }

  size_t size() const { return size_; }
  size_t ApproximateMemoryUsage() const {
    return lengths_.capacity() + (values_.capacity() + parents_.capacity() + boundaries_.capacity() +
                                  owners_.capacity() + first_.capacity()) *
                                     sizeof(uint32_t);
  }

 private:
  static constexpr uint32_t kNone = 0xFFFFFFFFu;
  static constexpr uint32_t kIndexSize = 1u << 16;

  static uint32_t Last(const Prefix& p) {
    if (p.length == 0) return 0xFFFFFFFFu;
    if (p.length >= 32) return p.address;
    return p.address | (0xFFFFFFFFu >> p.length);
  }

  size_t size_ = 0;
  std::vector<uint8_t> lengths_;
  std::vector<uint32_t> values_;
  std::vector<uint32_t> parents_;     // by sorted prefix index; kNone for roots
  std::vector<uint32_t> boundaries_;  // ascending interval starts
  std::vector<uint32_t> owners_;      // longest prefix covering each interval, or kNone
  std::vector<uint32_t> first_;       // kIndexSize + 1 entries
};

}  // namespace iocd
