// Cidr4Table: an immutable set of IPv4 prefixes (/0 to /32), each with a 32-bit value,
// answering "which prefixes cover this address, longest first" with one short search and
// one contiguous span, whatever the number of prefixes and of distinct lengths. The cidr4
// table of IndicatorIndex (which has up to millions of ranges, where a per-length hash table
// costs one miss per length present).
//
// Design: two prefixes either nest or are disjoint, so the prefixes form a forest; each has
// a parent (the longest prefix strictly covering it). Each prefix's covering chain is stored
// whole, as a count followed by the values of the prefix and of each ancestor, longest first
// (nested prefixes have distinct lengths, so a chain holds at most 33 values); the chains of
// the prefixes of /18 or shorter come first, so the few thousand chains most addresses end
// in share a small, cache-resident region.
// The address space is split into its 262,144 /18 blocks. A block has a base chain (that of
// the longest prefix of /18 or shorter covering the block, or the empty chain) and its
// inner prefixes (longer than /18, starting in the block). An 8-byte entry per block holds
// the base chain itself when the block has no inner prefix, else where its run lives. The
// run cuts the block at every inner prefix's first address and one past its last into
// elementary intervals, each one 32-bit word: the low 14 bits of its start and which inner
// prefix is the longest covering it (0: none). The base chain's offset and the chain
// offsets of the inner prefixes follow the intervals, so an interval's chain word is
// run[count + inner]. A lookup reads the block entry (2 MiB in all, mostly cached),
// searches the run without branches (the last start <= the address; with a million random
// ranges a block holds about four inner prefixes and a dozen intervals, one cache line) and
// reads the chain word beside it: two dependent memory reads for most addresses, three or
// four for the few inside an inner prefix (its chain word and chain). No parent walk, no
// copies. Memory: 4 bytes per interval (at most two per inner prefix, plus one per block
// with any) and per inner prefix, plus 5 bytes per chain element and per prefix (about
// 1 + the nesting depth per prefix), plus the 2 MiB of block entries; nothing for an empty
// table.
//
// Thread safety: Build on one thread; afterwards the const methods are safe from any number
// of threads and never allocate.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/huge_pages.h"
#include "common/prefetch.h"

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
    size_ = n;
    blocks_.clear();
    words_.clear();
    // chains_[0] is the empty chain (count 0), shared by every uncovered address.
    chains_.assign(1, 0);
    chain_lengths_.assign(1, 0);
    if (n == 0) {
      blocks_.shrink_to_fit();
      words_.shrink_to_fit();
      chains_.shrink_to_fit();
      chain_lengths_.shrink_to_fit();
      return;
    }
    const std::vector<uint32_t> chain_of = BuildChains(prefixes);

    // Blocks in address order. In sorted order a block's prefixes are its outer prefixes
    // starting at the block's first address (outer ones are aligned), then its inner ones.
    blocks_.assign(kBlocks, Block{0, 0});
    words_.reserve(4 * n);
    std::vector<uint32_t> outer;  // stack of covering outer prefixes
    std::vector<uint32_t> stack;
    std::vector<uint32_t> cuts;
    std::vector<std::pair<uint32_t, uint32_t>> intervals;  // (low start, inner index + 1)
    size_t i = 0;
    for (uint32_t h = 0; h < kBlocks; ++h) {
      const uint32_t block_start = h << kLowBits;
      for (; i < n && prefixes[i].address == block_start && prefixes[i].length <= kBlockBits; ++i) {
        while (!outer.empty() && Last(prefixes[outer.back()]) < block_start) outer.pop_back();
        outer.push_back(static_cast<uint32_t>(i));
      }
      while (!outer.empty() && Last(prefixes[outer.back()]) < block_start) outer.pop_back();
      const uint32_t base_chain = outer.empty() ? 0 : chain_of[outer.back()];
      const size_t inner_begin = i;
      for (; i < n && (prefixes[i].address >> kLowBits) == h; ++i) {
      }
      if (i == inner_begin) {
        blocks_[h] = Block{base_chain, 0};
        continue;
      }
      // Cuts at each inner prefix's first address and one past its last (within the block).
      cuts.assign(1, 0);
      for (size_t j = inner_begin; j < i; ++j) {
        cuts.push_back(prefixes[j].address & kLowMask);
        const uint32_t end = (Last(prefixes[j]) & kLowMask) + 1;
        if (end <= kLowMask) cuts.push_back(end);
      }
      std::sort(cuts.begin(), cuts.end());
      cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
      intervals.clear();
      stack.clear();
      size_t next = inner_begin;
      for (const uint32_t c : cuts) {
        const uint32_t b = block_start | c;
        for (; next < i && prefixes[next].address <= b; ++next) {
          while (!stack.empty() && Last(prefixes[stack.back()]) < prefixes[next].address) stack.pop_back();
          stack.push_back(static_cast<uint32_t>(next));
        }
        while (!stack.empty() && Last(prefixes[stack.back()]) < b) stack.pop_back();
        const uint32_t k = stack.empty() ? 0 : stack.back() - static_cast<uint32_t>(inner_begin) + 1;
        // Adjacent intervals with the same longest prefix merge.
        if (!intervals.empty() && intervals.back().second == k) continue;
        intervals.emplace_back(c, k);
      }
      blocks_[h] = Block{static_cast<uint32_t>(words_.size()), static_cast<uint32_t>(intervals.size())};
      for (const auto& [c, k] : intervals) words_.push_back(c << kBlockBits | k);
      words_.push_back(base_chain);
      for (size_t j = inner_begin; j < i; ++j) words_.push_back(chain_of[j]);
    }
    words_.shrink_to_fit();
  }

  // The values of every prefix covering `address`, longest first. Points into the table.
  std::span<const uint32_t> Covering(uint32_t address) const { return ChainValues(ChainOf(address)); }

  // Covering in steps, for batch lookups that overlap the cache misses of many addresses:
  // PrefetchBlock(a) for each address, then PrefetchRun(a), then w = FindChainWord(a) and
  // prefetch w, then ChainValues(*w) with PrefetchChain. ChainValues(*FindChainWord(a)) ==
  // Covering(a).
  void PrefetchBlock(uint32_t address) const {
    if (size_ != 0) Prefetch(&blocks_[address >> kLowBits]);
  }
  void PrefetchRun(uint32_t address) const {
    if (size_ == 0) return;
    const Block& block = blocks_[address >> kLowBits];
    if (block.count == 0) return;
    // The intervals and the base chain word after them: one or two lines for a run of a
    // dozen intervals; a longer run gets its first line, the line of its middle (the
    // search's first probe) and its last.
    const uint32_t* run = words_.data() + block.begin;
    Prefetch(run);
    // Each further line once (prefetching a line already asked for still costs an issue
    // slot and a fill-buffer lookup).
    const auto line = [](const uint32_t* p) { return reinterpret_cast<uintptr_t>(p) >> 6; };
    const uint32_t* middle = run + block.count / 2;
    const uint32_t* last = run + block.count;
    if (line(middle) != line(run)) Prefetch(middle);
    if (line(last) != line(middle)) Prefetch(last);
  }
  // The word holding the offset of the chain covering `address`.
  const uint32_t* FindChainWord(uint32_t address) const {
    if (size_ == 0) return &chains_[0];  // == 0, the empty chain
    const Block& block = blocks_[address >> kLowBits];
    if (block.count == 0) return &block.begin;  // the base chain
    const uint32_t key = (address & kLowMask) << kBlockBits | kInnerMask;
    const uint32_t* run = words_.data() + block.begin;
    // run[0] starts at 0 <= the address: find the last interval starting <= it, halving
    // without branches. (Counting the starts <= the address in a fixed 16 compares was
    // slower: it touches more lines, and lines are what a batch lookup waits for.)
    const uint32_t* base = run;
    for (uint32_t len = block.count; len > 1;) {
      const uint32_t half = len / 2;
      base = base[half] <= key ? base + half : base;
      len -= half;
    }
    // Inner prefix k (1-based) has its chain word at run[count + k]; 0 is the base chain.
    return run + block.count + (*base & kInnerMask);
  }
  // Offset of the chain covering `address` (0, the empty chain, when none does).
  uint32_t ChainOf(uint32_t address) const { return *FindChainWord(address); }

  // Batch form of ChainOf, for many addresses: sets chains[j] = ChainOf(addresses[j]) for
  // every j, and calls found(j, chains[j]) for each j in order once chains_[chains[j]] (the
  // chain's count and first values) has been fetched, so `found` can prefetch what the
  // chain's values point to. A software pipeline rather than passes over groups: address
  // j + 2D has its block fetched while address j + D has its run fetched and address j is
  // searched, so a steady kPipeline * 2 lines are in flight with no pass boundary where the
  // core waits for the slowest miss of a group. (Passes over groups of 16 left about a
  // third of a 1M-range lookup's time stalled on the block, run and chain reads.)
  template <typename Found>
  void FindChains(std::span<const uint32_t> addresses, uint32_t* chains, Found&& found) const {
    const size_t n = addresses.size();
    if (size_ == 0) {
      for (size_t j = 0; j < n; ++j) {
        chains[j] = 0;
        found(j, uint32_t{0});
      }
      return;
    }
    constexpr size_t kD = kPipeline;
    for (size_t i = 0; i < n + 3 * kD; ++i) {
      if (i < n) Prefetch(&blocks_[addresses[i] >> kLowBits]);
      if (i >= kD && i - kD < n) {
        // The block arrived: a block without inner prefixes holds its chain; else fetch the run.
        const size_t j = i - kD;
        const Block& block = blocks_[addresses[j] >> kLowBits];
        if (block.count == 0) {
          chains[j] = block.begin;
          PrefetchChain(block.begin);
        } else {
          PrefetchRun(addresses[j]);
        }
      }
      if (i >= 2 * kD && i - 2 * kD < n) {
        // The run arrived: search it and fetch the chain.
        const size_t j = i - 2 * kD;
        if (blocks_[addresses[j] >> kLowBits].count != 0) {
          chains[j] = *FindChainWord(addresses[j]);
          PrefetchChain(chains[j]);
        }
      }
      if (i >= 3 * kD) found(i - 3 * kD, chains[i - 3 * kD]);
    }
  }
  void PrefetchChain(uint32_t chain) const { Prefetch(&chains_[chain]); }
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

  size_t size() const { return size_; }
  size_t ApproximateMemoryUsage() const {
    return blocks_.capacity() * sizeof(Block) + words_.capacity() * sizeof(uint32_t) +
           chains_.capacity() * sizeof(uint32_t) + chain_lengths_.capacity();
  }

 private:
  // Blocks of 2^14 addresses (/18s): an 8-byte entry each (2 MiB in all), about four inner
  // prefixes and a dozen intervals per block with a million random ranges. An inner
  // prefix of a /18 is /19 to /32, so a block has at most 2^15 - 2 of them: an interval's
  // 14-bit start and 18-bit inner index always fit one word.
  static constexpr uint32_t kBlockBits = 18;
  static constexpr uint32_t kLowBits = 32 - kBlockBits;
  static constexpr uint32_t kBlocks = 1u << kBlockBits;
  static constexpr uint32_t kLowMask = (1u << kLowBits) - 1;
  static constexpr uint32_t kInnerMask = (1u << kBlockBits) - 1;
  // FindChains' distance between its steps, in addresses.
  static constexpr size_t kPipeline = 8;

  struct Block {
    uint32_t begin;  // first word of the run in words_; the base chain itself when count == 0
    uint32_t count;  // intervals in the run (0: no inner prefix)
  };

  static uint32_t Last(const Prefix& p) {
    if (p.length == 0) return 0xFFFFFFFFu;
    if (p.length >= 32) return p.address;
    return p.address | (0xFFFFFFFFu >> p.length);
  }

  // Fills chains_ / chain_lengths_ for the sorted `prefixes` and returns each one's chain
  // offset: first the prefixes of /18 or shorter (whose ancestors are all /18 or shorter),
  // then the others. A parent sorts before its children (lower or equal address, shorter
  // length), so its chain exists when a child copies it.
  std::vector<uint32_t> BuildChains(const std::vector<Prefix>& prefixes) {
    const size_t n = prefixes.size();
    std::vector<uint32_t> chain_of(n);
    std::vector<uint32_t> stack;
    for (const bool short_pass : {true, false}) {
      stack.clear();
      for (size_t i = 0; i < n; ++i) {
        const Prefix& p = prefixes[i];
        if (short_pass && p.length > kBlockBits) continue;
        while (!stack.empty() && Last(prefixes[stack.back()]) < p.address) stack.pop_back();
        if (short_pass || p.length > kBlockBits) {
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
        }
        stack.push_back(static_cast<uint32_t>(i));
      }
    }
    chains_.shrink_to_fit();
    chain_lengths_.shrink_to_fit();
    return chain_of;
  }

  size_t size_ = 0;
  HugeVector<Block> blocks_;                 // kBlocks entries, or none when empty
  HugeVector<uint32_t> words_;               // every block's run, then its inner chain offsets
  HugeVector<uint32_t> chains_ = {0};        // [count, value...] per prefix; [0] at offset 0
  HugeVector<uint8_t> chain_lengths_ = {0};  // prefix length of each chains_ value (0 at counts)
};

}  // namespace iocd
