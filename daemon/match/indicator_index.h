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
//   ipv6 observable   -> the exact ipv6 indicator, then every covering cidr6, longest first
//   domain "a.b.evil.com" -> the domain indicators "a.b.evil.com", "b.evil.com",
//                        "evil.com", "com" that exist, in that order; only whole labels
//                        match ("notevil.com" never matches "evil.com")
//   url, md5, sha1, sha256 -> the indicator with the same type and key
//   cidr4, cidr6      -> nothing (ranges are indicators, not observables)
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
// domain or url); the indicator is not added and the builder stays usable. Lookup never
// fails: a malformed observable simply matches nothing.
//
// The representation is private (pimpl) so it can be replaced by flat, prefetch-friendly
// tables without changing this header.
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
