// IndicatorIndex: the in-memory match index. Answers "which indicators match this
// observable, and which feeds list each" on the event path.
//
// Life cycle: an IndexBuilder collects (indicator, feed id) pairs off the hot path and
// Build() turns them into an IndicatorIndex, which is immutable from then on. The index is
// handed out as shared_ptr<const IndicatorIndex>; a reload builds a new one and publishes it
// atomically, so readers never lock and never see a half-built index (STYLE.md, habit 6).
//
// What matches (the observable is normalised the same way as the indicators, indicator.h):
//   ipv4 observable   -> the exact ipv4 indicator, then every covering cidr4, longest first
//                        (/31 down to /0; a /32 is an ipv4 indicator)
//   ipv6 observable   -> the exact ipv6 indicator, then every covering cidr6, longest first;
//                        an IPv4-mapped ipv6 key (::ffff:a.b.c.d) is looked up as the ipv4
//                        a.b.c.d (so it matches ipv4 and cidr4 indicators only)
//   domain "a.b.evil.com" -> the domain indicators "a.b.evil.com", "b.evil.com",
//                        "evil.com", "com" that exist, in that order; only whole labels
//                        match ("notevil.com" never matches "evil.com"); then the url-mask
//                        indicators without a path whose host pattern matches the name
//                        ("*.evil.com"), most specific first (see url-mask below)
//   url               -> the url indicator with the same key, then every url-mask matching
//                        the key (indicator.h UrlMaskMatches), most specific first: more
//                        literal (non-'*') characters first, ties by key bytes. A url
//                        observable is not looked up by its host here: the extractor emits
//                        the host as a separate domain/ipv4/ipv6 observable (extractor.h).
//   md5, sha1, sha256, sha512 -> the indicator with the same type and digest
//   cidr4, cidr6, url-mask -> nothing (ranges and masks are indicators, not observables)
// Exact-only domains (a feed's `subdomains: false`) are not the index's business: it
// reports parent-domain matches and the event path drops those whose store entry says
// exact_domain (app/event_processor.h).
// url-mask lookups: masks are grouped by their fixed host (UrlMaskFixedHost: "evil.com" for
// "*.evil.com/gate/*"); a lookup tries the groups of each label suffix of the observable's
// host and the group of masks without a fixed host ("1.2.3.*/x"), so its cost grows with
// the masks sharing a suffix with the host, not with all masks.
// Each indicator appears once, with every feed that listed it. The index holds keys and
// feed ids only; context lives in the store and is read when something matched (habit 7).
//
// Ownership: IndexMatch's key and feeds point into the index and stay valid while the index
// lives; keep the shared_ptr for as long as the matches are used, or call ToIndicator().
//
// Thread safety: IndicatorIndex is immutable; all its methods are const, take no locks and
// do not allocate (Lookup only grows the caller's vector), so any number of threads may
// share one. IndexBuilder is not thread-safe: one builder per build, on one thread.
//
// Errors: IndexBuilder::Add returns InvalidArgument for an indicator whose key is not
// canonical for its type (wrong size, cidr host bits set, /32 or /128 ranges, empty
// domain or url, a url-mask without '*'); the indicator is not added and the builder stays
// usable. Lookup never
// fails: a malformed observable simply matches nothing.
//
// Representation (private, pimpl): addresses and digests live in flat open-addressing
// tables holding the key bytes and a feed reference inline, with a parallel array of 16-bit
// hash tags probed first (match/fixed_key_table.h: ~14 bytes per IPv4, ~31 per IPv6, ~54
// per SHA256 indicator listed by one feed; a miss reads about one cache line; the builder
// adds into them directly, so building costs one hashed probe per Add); cidr4 ranges in a
// table of /18 blocks whose runs of intervals point at precomputed covering chains of entry
// ids (match/cidr4_table.h), so a covering lookup is one block entry, one short search,
// one span and one 8-byte read per range; cidr6 in per-length hash tables
// (match/prefix_table.h); ranges and masks as entry ids, with pooled keys and feed lists
// found through two offset arrays (cidr4 entries first, shortest prefix first, so the
// ranges most addresses fall in stay cached);
// domains and urls as self-contained records (key length, type, feeds, key bytes; a
// domain's record also links to the record of its longest listed proper label suffix) in
// one word pool, found through one open-addressing table whose slots hold a record offset
// and a 32-bit hash tag, so a hit reads its slot and one record (one line, or two adjacent
// ones) and a miss only its slot (the builder's Add is one hashed probe there too, no
// per-indicator allocation); domains are hashed from the right so all label suffixes
// of a name are hashed in one pass (label by label, 8 bytes at a time, in place), and a
// lookup probes the longest suffix first and stops at the first listed one, following its
// links for the shorter ones. The large
// arrays are transparent-huge-page candidates (common/huge_pages.h), so random
// lookups rarely miss the TLB. LookupBatch looks up the ipv4 observables against cidr4
// ranges first, a chunk at a time, in a software pipeline whose steps are the dependent
// reads of successive addresses (Cidr4Table::FindChains), then runs each dependent memory
// read of the other lookups as one prefetch pass over a group of 32 observables, a
// domain's every label
// suffix being a probe of its own in those passes (its shorter suffixes fetched only when
// the whole name's slot holds no candidate). IndexBuilder::Add runs each add
// 16 calls late, having prefetched the slot it probes, and the build's re-inserting passes
// prefetch ahead too (one DRAM miss per indicator otherwise). ApproximateMemoryUsage counts all
// of it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "indicator/indicator.h"

namespace iocd {

// Small integer standing for a configured feed (store.proto FeedState.id).
using FeedId = uint32_t;

// One indicator that matched an observable.
struct IndexMatch {
  // The indicator's type: cidr4 when a range covered an ipv4 observable, domain when a
  // parent domain matched, and so on.
  IndicatorType type;
  // The indicator's canonical key (indicator.h). Points into the index.
  std::string_view key;
  // Every feed listing the indicator, ascending, without duplicates. Points into the index.
  std::span<const FeedId> feeds;

  // An owning copy of the indicator.
  Indicator ToIndicator() const { return Indicator{type, std::string(key)}; }
};

class IndicatorIndex {
 public:
  ~IndicatorIndex();
  IndicatorIndex(const IndicatorIndex&) = delete;
  IndicatorIndex& operator=(const IndicatorIndex&) = delete;

  // Appends every indicator matching `observable` to *out, most specific first (see the
  // table at the top of this file). Existing elements of *out are kept.
  void Lookup(const Indicator& observable, std::vector<IndexMatch>* out) const;

  // Looks up many observables at once (e.g. every observable of a batch of events): for
  // each observables[i] in order, appends exactly what Lookup would append to *out, then
  // appends out->size() to *ends, so observable i's matches are
  // (*out)[i == 0 ? start : (*ends)[i-1] .. (*ends)[i]) where start is out->size() on entry.
  // Faster than a loop of Lookup on large indexes: it prefetches the hash-table slots of a
  // group of observables before probing any, so their memory latencies overlap.
  void LookupBatch(std::span<const Indicator> observables, std::vector<IndexMatch>* out,
                   std::vector<size_t>* ends) const;

  // Distinct indicators (an indicator listed by several feeds counts once).
  size_t size() const;
  size_t CountByType(IndicatorType type) const;
  // Approximate heap bytes the index holds; for "bytes per indicator" in benchmarks.
  size_t ApproximateMemoryUsage() const;

 private:
  friend class IndexBuilder;
  struct Rep;
  explicit IndicatorIndex(std::unique_ptr<Rep> rep);

  std::unique_ptr<Rep> rep_;
};

class IndexBuilder {
 public:
  IndexBuilder();
  ~IndexBuilder();
  IndexBuilder(const IndexBuilder&) = delete;
  IndexBuilder& operator=(const IndexBuilder&) = delete;

  // Records that `feed` lists `indicator`. Adding the same pair again is harmless.
  // InvalidArgument (and nothing added) when the key is not canonical for its type.
  Status Add(const Indicator& indicator, FeedId feed);

  // Distinct indicators added so far.
  size_t size() const;

  // Builds the index. The builder is spent afterwards: it is empty again, as if new.
  std::shared_ptr<const IndicatorIndex> Build() &&;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace iocd
