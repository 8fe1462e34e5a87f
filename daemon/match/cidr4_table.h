// Cidr4Table: an immutable set of IPv4 prefixes (/0 to /32), each with a 32-bit value,
// answering "which prefixes cover this address, longest first" with one search and one
// contiguous span, whatever the number of prefixes and of distinct lengths. The cidr4 table
// of IndicatorIndex (which has up to millions of ranges, where a per-length hash table costs
// one miss per length present).
//
// Design: two prefixes either nest or are disjoint, so the prefixes form a forest; each has
// a parent (the longest prefix strictly covering it). The address space is cut at every
// prefix's first address and one past its last into elementary intervals, and each interval
// records where the covering chain of its longest covering prefix starts. A chain is stored
// whole, as a count followed by the values of the prefix and of each ancestor, longest first
// (nested prefixes have distinct lengths, so a chain holds at most 33 values). A lookup
// finds the interval of the address (a 65,536-entry index on the top 16 bits, then a binary
// search over the few intervals in that /16; an interval's start and chain offset share a
// slot, so the search ends on the line it needs) and returns the chain as a span: no parent
// walk, no copies. Memory: 8 bytes per interval (at most two per prefix) plus 5 bytes per
// chain element and per prefix (about 1 + the nesting depth per prefix), plus a fixed
// 256 KiB index.
//
// Thread safety: Build on one thread; afterwards the const methods are safe from any number
// of threads and never allocate.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
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
    intervals_.clear();
    // chains_[0] is the empty chain (count 0), shared by every uncovered interval.
    chains_.assign(1, 0);
    chain_lengths_.assign(1, 0);
    // A parent sorts before its children (lower or equal address, shorter length), so its
    // chain exists when a child copies it.
    std::vector<uint32_t> chain_of(n);
    std::vector<uint32_t> stack;
    for (size_t i = 0; i < n; ++i) {
      const Prefix& p = prefixes[i];
      while (!stack.empty() && Last(prefixes[stack.back()]) < p.address) stack.pop_back();
      const uint32_t parent_chain = stack.empty() ? 0 : chain_of[stack.back()];
      const uint32_t parent_count = chains_[parent_chain];
      chain_of[i] = static_cast<uint32_t>(chains_.size());
      chains_.push_back(parent_count + 1);
      chain_lengths_.push_back(0);
      chains_.push_back(p.value);
      chain_lengths_.push_back(p.length);
      for (uint32_t k = 1; k <= parent_count; ++k) {
        chains_.push_back(chains_[parent_chain + k]);
        chain_lengths_.push_back(chain_lengths_[parent_chain + k]);
      }
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
    intervals_.reserve(cuts.size());
    for (uint32_t b : cuts) {
      for (; next < n && prefixes[next].address <= b; ++next) {
        while (!stack.empty() && Last(prefixes[stack.back()]) < prefixes[next].address) stack.pop_back();
        stack.push_back(static_cast<uint32_t>(next));
      }
      while (!stack.empty() && Last(prefixes[stack.back()]) < b) stack.pop_back();
      const uint32_t chain = stack.empty() ? 0 : chain_of[stack.back()];
      // Adjacent intervals with the same owner merge.
      if (!intervals_.empty() && intervals_.back().chain == chain) continue;
      intervals_.push_back(Interval{b, chain});
    }
    intervals_.shrink_to_fit();
    chains_.shrink_to_fit();
    chain_lengths_.shrink_to_fit();
    // first_[h]: index of the first interval whose start has top 16 bits >= h.
    first_.assign(kIndexSize + 1, static_cast<uint32_t>(intervals_.size()));
    size_t k = 0;
    for (uint32_t h = 0; h < kIndexSize; ++h) {
      while (k < intervals_.size() && (intervals_[k].start >> 16) < h) ++k;
      first_[h] = static_cast<uint32_t>(k);
    }
    size_ = n;
  }

  // The values of every prefix covering `address`, longest first. Points into the table.
  std::span<const uint32_t> Covering(uint32_t address) const { return ChainValues(ChainOf(address)); }

  // Covering in steps, for batch lookups that overlap the cache misses of many addresses:
  // PrefetchIntervals(a) for each address, then ChainOf(a) and PrefetchChain for each, then
  // ChainValues. ChainValues(ChainOf(a)) == Covering(a).
  void PrefetchIntervals(uint32_t address) const {
    if (size_ == 0) return;
    const uint32_t h = address >> 16;
    const char* begin = reinterpret_cast<const char*>(intervals_.data() + first_[h]);
    const char* end = reinterpret_cast<const char*>(intervals_.data() + first_[h + 1]);
    // Up to 8 lines: a /16 holds a few dozen intervals unless the prefixes crowd into it.
    for (int line = 0; line < 8 && begin < end; ++line, begin += 64) __builtin_prefetch(begin);
  }
  // Offset of the chain covering `address` (0, the empty chain, when none does).
  uint32_t ChainOf(uint32_t address) const {
    if (size_ == 0) return 0;
    const uint32_t h = address >> 16;
    const Interval* base = intervals_.data();
    const Interval* begin = base + first_[h];
    const Interval* end = base + first_[h + 1];
    // The last interval starting <= address: in this /16's run, or the one before it.
    const Interval* after = std::upper_bound(begin, end, address,
                                             [](uint32_t a, const Interval& iv) { return a < iv.start; });
    return after == base ? 0 : after[-1].chain;
  }
  void PrefetchChain(uint32_t chain) const { __builtin_prefetch(&chains_[chain]); }
  std::span<const uint32_t> ChainValues(uint32_t chain) const {
    return std::span<const uint32_t>(chains_.data() + chain + 1, chains_[chain]);
  }

  // Calls fn(int length, uint32_t value) for every prefix covering `address`, longest first.
  template <typename Fn>
  void ForEachCovering(uint32_t address, Fn&& fn) const {
    const uint32_t chain = ChainOf(address);
    for (uint32_t k = 1; k <= chains_[chain]; ++k) {
      fn(static_cast<int>(chain_lengths_[chain + k]), chains_[chain + k]);
    }
  }

  // The index entry a lookup of `address` reads first, for prefetching.
  const void* Home(uint32_t address) const { return size_ == 0 ? nullptr : &first_[address >> 16]; }

  size_t size() const { return size_; }
  size_t ApproximateMemoryUsage() const {
    return intervals_.capacity() * sizeof(Interval) + chains_.capacity() * sizeof(uint32_t) +
           chain_lengths_.capacity() + first_.capacity() * sizeof(uint32_t);
  }

 private:
  static constexpr uint32_t kIndexSize = 1u << 16;

  // An elementary interval: from `start` up to the next interval's start, covered by the
  // prefixes of the chain at chains_[chain].
  struct Interval {
    uint32_t start;
    uint32_t chain;
  };

  static uint32_t Last(const Prefix& p) {
    if (p.length == 0) return 0xFFFFFFFFu;
    if (p.length >= 32) return p.address;
    return p.address | (0xFFFFFFFFu >> p.length);
  }

  size_t size_ = 0;
  std::vector<Interval> intervals_;      // ascending starts
  std::vector<uint32_t> chains_ = {0};        // [count, value...] per prefix; [0] at offset 0
  std::vector<uint8_t> chain_lengths_ = {0};  // prefix length of each chains_ value (0 at counts)
  std::vector<uint32_t> first_;          // kIndexSize + 1 entries
};

}  // namespace iocd
