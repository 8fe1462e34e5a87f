// EventProcessor: turns one received event into hits.
//
// For each event: extract observables from the message text, look each up in the current
// index snapshot, and for every observable that matched build one Hit carrying every
// matching indicator (most specific first) with each listing feed's context, read from the
// store only now that something matched. Hits go to every output.
//
// IndexHolder publishes the index: readers take the current snapshot with one atomic load
// and keep it for the whole event, so a reload swapping in a new index never pauses
// matching and an event is matched against one version only.
//
// Ownership: borrows the store, the outputs and the holder; all must outlive it.
// Thread safety: Process() may be called from many threads at once.
// Errors: none surface: a context that cannot be read (e.g. its feed was replaced between
// the snapshot and the read) still yields the enrichment, without context, and is counted.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "ingest/syslog_tcp_listener.h"
#include "match/indicator_index.h"
#include "output/hit_output.h"
#include "store/indicator_store.h"

namespace iocd {

class IndexHolder {
 public:
  IndexHolder();
  std::shared_ptr<const IndicatorIndex> Current() const { return current_.load(std::memory_order_acquire); }
  void Publish(std::shared_ptr<const IndicatorIndex> index) {
    current_.store(std::move(index), std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<const IndicatorIndex>> current_;
};

// Builds an index from everything in the store.
Result<std::shared_ptr<const IndicatorIndex>> BuildIndexFromStore(IndicatorStore& store);

struct ProcessorStats {
  uint64_t events = 0;
  uint64_t observables = 0;
  uint64_t hits = 0;
  uint64_t missing_context = 0;
};

class EventProcessor {
 public:
  EventProcessor(IndicatorStore* store, const IndexHolder* index, std::vector<HitOutput*> outputs);

  void Process(const ReceivedEvent& event);
  ProcessorStats stats() const;

 private:
  std::string NextHitId(int64_t now_us);

  IndicatorStore* store_;
  const IndexHolder* index_;
  std::vector<HitOutput*> outputs_;
  const uint32_t instance_;  // random per process, so hit ids from restarts never collide

  std::atomic<uint64_t> hit_counter_{0};
  std::atomic<uint64_t> events_{0};
  std::atomic<uint64_t> observables_{0};
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> missing_context_{0};
};

}  // namespace iocd
