// Cidr4Table: an immutable set of IPv4 prefixes (/0 to /32), each with a 32-bit value,
// answering "which prefixes cover this address, longest first" with one cache line read and
// one contiguous span, whatever the number of prefixes and of distinct lengths. The cidr4
// table of IndicatorIndex (which has up to millions of ranges, where a per-length hash table
// costs one miss per length present).
//
// Design: two prefixes either nest or are disjoint, so the prefixes form a forest; each has
// a parent (the longest prefix strictly covering it). Each prefix's covering chain is stored
// whole, as a count followed by the values of the prefix and of each ancestor, longest first
// (nested prefixes have distinct lengths, so a chain holds at most 33 values); the chains of
// the prefixes of /B or shorter come first, so the few thousand chains most addresses end
// in share a small, cache-resident region.
// The address space is split into 2^B blocks (B from 16 to 24, chosen at Build so a block
// holds about four of the prefixes on average: /18 blocks for a million). A block has a base
// chain (that of the longest prefix of /B or shorter covering the block, or the empty
// chain) and its inner prefixes (longer than /B, starting in the block). Cutting the block
// at every inner prefix's first address and one past its last gives elementary intervals,
// each with a longest covering inner prefix or none. Each block owns one 64-byte cache line
// (Line): up to 12 interval starts (16 bits each: the address bits below the block's),
// which inner prefix each interval is in, and the chain offsets of the base and of up to 6
// inner prefixes. A lookup reads its block's line (one random line: most tables' blocks fit),
// counts the starts <= the address without branches and reads the chain: two dependent
// memory reads, the second mostly cached. A block with more inner prefixes or intervals
// (with a million random ranges, about one in ten) has its line point at a run elsewhere:
// its starts, then its intervals' inner prefixes, then the chain offsets (a binary search,
// one to three lines more). No parent walk, no copies. Memory: 64 bytes per block (16 MiB
// for /18 blocks, so at least 4 MiB for any non-empty table), 12 bytes per interval and per
// inner prefix of overflowing blocks, plus 5 bytes per chain element and per prefix (about
// 1 + the nesting depth per prefix); nothing for an empty table.
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
    lines_.clear();
    words_.clear();
    overflowing_ = 0;
    // chains_[0] is the empty chain (count 0), shared by every uncovered address.
    chains_.assign(1, 0);
    chain_lengths_.assign(1, 0);
    if (n == 0) {
      lines_.shrink_to_fit();
      words_.shrink_to_fit();
      chains_.shrink_to_fit();
      chain_lengths_.shrink_to_fit();
      return;
    }
    block_bits_ = kMinBlockBits;
    while (block_bits_ < kMaxBlockBits && (n >> block_bits_) >= 6) ++block_bits_;
    low_bits_ = 32 - block_bits_;
    low_mask_ = static_cast<uint32_t>((uint64_t{1} << low_bits_) - 1);
    const std::vector<uint32_t> chain_of = BuildChains(prefixes);

    // Blocks in address order. In sorted order a block's prefixes are its outer prefixes
    // starting at the block's first address (outer ones are aligned), then its inner ones.
    const uint32_t blocks = uint32_t{1} << block_bits_;
    lines_.assign(blocks, Line{});
    std::vector<uint32_t> outer;  // stack of covering outer prefixes
    std::vector<uint32_t> stack;
    std::vector<uint32_t> cuts;
    std::vector<std::pair<uint32_t, uint32_t>> intervals;  // (low start, inner index + 1)
    size_t i = 0;
    for (uint32_t h = 0; h < blocks; ++h) {
      const uint32_t block_start = h << low_bits_;
      for (; i < n && prefixes[i].address == block_start && prefixes[i].length <= block_bits_; ++i) {
        while (!outer.empty() && Last(prefixes[outer.back()]) < block_start) outer.pop_back();
        outer.push_back(static_cast<uint32_t>(i));
      }
      while (!outer.empty() && Last(prefixes[outer.back()]) < block_start) outer.pop_back();
      const uint32_t base_chain = outer.empty() ? 0 : chain_of[outer.back()];
      const size_t inner_begin = i;
      for (; i < n && (prefixes[i].address >> low_bits_) == h; ++i) {
      }
      // Cuts at each inner prefix's first address and one past its last (within the block).
      cuts.assign(1, 0);
      for (size_t j = inner_begin; j < i; ++j) {
        cuts.push_back(prefixes[j].address & low_mask_);
        const uint32_t end = (Last(prefixes[j]) & low_mask_) + 1;
        if (end <= low_mask_) cuts.push_back(end);
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
      Line& line = lines_[h];
      const size_t inner = i - inner_begin;
      if (intervals.size() <= kLineIntervals && inner <= kLineInner) {
        // (Bounded by the arrays themselves, which GCC can see, not only by the test above.)
        for (size_t j = 0; j < kLineIntervals && j < intervals.size(); ++j) {
          line.starts[j] = static_cast<uint16_t>(intervals[j].first);
          line.inner[j] = static_cast<uint8_t>(intervals[j].second);
        }
        line.inner[0] |= static_cast<uint8_t>(intervals.size() << 4);
        line.chains[0] = base_chain;
        for (size_t j = 0; j < kLineInner && j < inner; ++j) line.chains[j + 1] = chain_of[inner_begin + j];
        continue;
      }
      // The run: starts, then each interval's inner prefix, then the chain offsets.
      ++overflowing_;
      line.chains[0] = static_cast<uint32_t>(words_.size());
      line.chains[1] = static_cast<uint32_t>(intervals.size());
      for (const auto& interval : intervals) words_.push_back(interval.first);
      for (const auto& interval : intervals) words_.push_back(interval.second);
      words_.push_back(base_chain);
      for (size_t j = inner_begin; j < i; ++j) words_.push_back(chain_of[j]);
    }
    words_.shrink_to_fit();
  }

  // The values of every prefix covering `address`, longest first. Points into the table.
  std::span<const uint32_t> Covering(uint32_t address) const { return ChainValues(ChainOf(address)); }

  // Offset of the chain covering `address` (0, the empty chain, when none does).
  uint32_t ChainOf(uint32_t address) const {
    if (size_ == 0) return 0;
    const Line& line = lines_[address >> low_bits_];
    const uint32_t key = address & low_mask_;
    if (const uint32_t count = line.inner[0] >> 4; count != 0) {
      // The intervals starting at or before the address (unused starts are 0xFFFF, so they
      // count only for the block's last address: hence the min).
      uint32_t at_or_before = 0;
      for (size_t j = 0; j < kLineIntervals; ++j) at_or_before += line.starts[j] <= key ? 1 : 0;
      return line.chains[line.inner[std::min(at_or_before, count) - 1] & 0xF];
    }
    // An overflowing block: run[0] starts at 0 <= the address; find the last interval
    // starting <= it, halving without branches.
    const uint32_t count = line.chains[1];
    const uint32_t* run = words_.data() + line.chains[0];
    const uint32_t* base = run;
    for (uint32_t len = count; len > 1;) {
      const uint32_t half = len / 2;
      base = base[half] <= key ? base + half : base;
      len -= half;
    }
    return run[2 * count + base[count]];
  }

  // Batch form of ChainOf, for many addresses: sets chains[j] = ChainOf(addresses[j]) for
  // every j, and calls found(j, chains[j]) for each j in order once chains_[chains[j]] (the
  // chain's count and first values) has been fetched, so `found` can prefetch what the
  // chain's values point to. A software pipeline rather than passes over groups: address
  // j + 2D has its line fetched while address j + D is searched (or, in an overflowing
  // block, has its run fetched) and address j has its chain read, so a steady stream of
  // lines is in flight with no pass boundary where the core waits for the slowest miss of
  // a group. (Passes over groups of 16 left about a third of a 1M-range lookup's time
  // stalled on reads.)
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
    const auto line_of = [this, addresses](size_t j) -> const Line& { return lines_[addresses[j] >> low_bits_]; };
    for (size_t i = 0; i < n + 3 * kD; ++i) {
      if (i < n) Prefetch(&line_of(i));
      if (i >= kD && i - kD < n) {
        // The line arrived: search it, or fetch an overflowing block's run.
        const size_t j = i - kD;
        const Line& line = line_of(j);
        if ((line.inner[0] >> 4) != 0) {
          chains[j] = ChainOf(addresses[j]);
          PrefetchChain(chains[j]);
        } else {
          PrefetchRun(line);
        }
      }
      if (i >= 2 * kD && i - 2 * kD < n) {
        // The run arrived: search it and fetch the chain.
        const size_t j = i - 2 * kD;
        if ((line_of(j).inner[0] >> 4) == 0) {
          chains[j] = ChainOf(addresses[j]);
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
  // Blocks whose intervals do not fit their line (so a lookup there reads a run too).
  size_t overflowing_blocks() const { return overflowing_; }
  size_t blocks() const { return lines_.size(); }
  size_t ApproximateMemoryUsage() const {
    return lines_.capacity() * sizeof(Line) + words_.capacity() * sizeof(uint32_t) +
           chains_.capacity() * sizeof(uint32_t) + chain_lengths_.capacity();
  }

 private:
  // Block bits: a line per block, so at least 4 MiB of lines; an interval's start within
  // its block must fit 16 bits.
  static constexpr uint32_t kMinBlockBits = 16;
  static constexpr uint32_t kMaxBlockBits = 24;
  static constexpr size_t kLineIntervals = 12;
  static constexpr size_t kLineInner = 6;
  // FindChains' distance between its steps, in addresses.
  static constexpr size_t kPipeline = 8;

  // One block. A block that fits: starts[j] is interval j's first address (the bits below
  // the block's; 0xFFFF when unused), the low 4 bits of inner[j] which inner prefix is the
  // longest covering it (1-based; 0: none, the base chain), the high 4 bits of inner[0] the
  // number of intervals, chains[0] the base chain and chains[k] inner prefix k's chain.
  // An overflowing block has 0 intervals in inner[0]; chains[0] is its run's first word in
  // words_ and chains[1] its number of intervals: the run holds their starts, then their
  // inner prefixes (as above), then the base chain and the inner prefixes' chains.
  struct alignas(64) Line {
    uint16_t starts[kLineIntervals] = {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF,
                                       0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF};
    uint8_t inner[kLineIntervals] = {};
    uint32_t chains[kLineInner + 1] = {};
  };
  static_assert(sizeof(Line) == 64);

  // An overflowing block's run: its starts (the binary search's first probe is the middle)
  // and the inner prefixes after them.
  void PrefetchRun(const Line& line) const {
    const uint32_t count = line.chains[1];
    const uint32_t* run = words_.data() + line.chains[0];
    const auto line_of = [](const uint32_t* p) { return reinterpret_cast<uintptr_t>(p) >> 6; };
    Prefetch(run);
    const uint32_t* middle = run + count / 2;
    const uint32_t* last = run + 2 * count;
    if (line_of(middle) != line_of(run)) Prefetch(middle);
    if (line_of(last) != line_of(middle)) Prefetch(last);
  }

  static uint32_t Last(const Prefix& p) {
    if (p.length == 0) return 0xFFFFFFFFu;
    if (p.length >= 32) return p.address;
    return p.address | (0xFFFFFFFFu >> p.length);
  }

  // Fills chains_ / chain_lengths_ for the sorted `prefixes` and returns each one's chain
  // offset: first the prefixes of /B or shorter (whose ancestors are all /B or shorter),
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
        if (short_pass && p.length > block_bits_) continue;
        while (!stack.empty() && Last(prefixes[stack.back()]) < p.address) stack.pop_back();
        if (short_pass || p.length > block_bits_) {
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
  uint32_t block_bits_ = kMinBlockBits;
  uint32_t low_bits_ = 32 - kMinBlockBits;
  uint32_t low_mask_ = 0xFFFF;
  size_t overflowing_ = 0;
  HugeVector<Line> lines_;                   // 2^block_bits_ of them, or none when empty
  HugeVector<uint32_t> words_;               // the runs of the overflowing blocks
  HugeVector<uint32_t> chains_ = {0};        // [count, value...] per prefix; [0] at offset 0
  HugeVector<uint8_t> chain_lengths_ = {0};  // prefix length of each chains_ value (0 at counts)
};

}  // namespace iocd
