// EventProcessor: turns one received event into hits.
//
// For each event: parse it (syslog header, then a CEF, LEEF, JSON, key=value or text
// body; parse/event_parser.h), extract observables with the field each came from
// (extract/field_extractor.h) and look each up in the current MatchSnapshot. An
// observable with matches that an allowlist also matches produces no hit; the suppression
// is counted for the allowlist and for every feed that matched.
// Otherwise one Hit carries every matching indicator (most specific first) with each
// listing feed's context, read from the store only now that something matched, and the
// feed's confidence and tags. A parent-domain match from an entry marked exact_domain is
// not a match. Hits go to every output.
//
// Ownership: borrows the store, the outputs and the holder; all must outlive it.
// Thread safety: Process() may be called from many threads at once.
// Errors: none surface: a context that cannot be read (its feed was replaced between the
// snapshot and the read) still yields the enrichment, without context, and is counted.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "app/snapshot.h"
#include "ingest/received_event.h"
#include "output/hit_output.h"
#include "store/indicator_store.h"

namespace iocd {

struct ProcessorStats {
  uint64_t events = 0;
  uint64_t observables = 0;
  uint64_t hits = 0;
  uint64_t suppressed = 0;
  uint64_t missing_context = 0;
  uint64_t malformed = 0;  // announced a body format (CEF, LEEF, JSON) and broke it; read as text
};

class EventProcessor {
 public:
  EventProcessor(IndicatorStore* store, const SnapshotHolder* snapshots, std::vector<HitOutput*> outputs);

  void Process(const ReceivedEvent& event);
  ProcessorStats stats() const;

 private:
  std::string NextHitId(int64_t now_us);

  IndicatorStore* store_;
  const SnapshotHolder* snapshots_;
  std::vector<HitOutput*> outputs_;
  const uint32_t instance_;  // random per process, so hit ids from restarts never collide

  std::atomic<uint64_t> hit_counter_{0};
  std::atomic<uint64_t> events_{0};
  std::atomic<uint64_t> observables_{0};
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> suppressed_{0};
  std::atomic<uint64_t> missing_context_{0};
  std::atomic<uint64_t> malformed_{0};
};

}  // namespace iocd
