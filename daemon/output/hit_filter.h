// Per-output routing (config Output.events) and hit filters (config OutputFilter): pure,
// thread-safe.
#pragma once

#include <memory>

#include "output/hit_output.h"
#include "proto/config.pb.h"
#include "proto/hit.pb.h"

namespace iocd {

// True when `hit` passes every condition `filter` sets: some enrichment has confidence >=
// min_confidence (when > 0), some enrichment's indicator type is listed (when any is),
// some enrichment comes from a listed feed (when any is), some enrichment carries a listed
// tag (when any is). The conditions may be met by different enrichments.
bool PassesFilter(const iocd::hit::Hit& hit, const iocd::config::OutputFilter& filter);

// True when `hit` is a service event (hit.service_event.kind set), not a detection.
bool IsServiceEvent(const iocd::hit::Hit& hit);

// True when the output `config` describes receives `hit` (docs/hits.md#service-events):
// a service event when config.events is service or all; a detection when config.events is
// hits, all or unspecified AND it passes config.filter. The filter never applies to service
// events.
bool OutputAccepts(const iocd::hit::Hit& hit, const iocd::config::Output& config);

// Wraps an in-memory output (MakeHitOutput) so it receives only what OutputAccepts(hit,
// config) allows. A record it does not accept counts in stats() as submitted and filtered,
// as in spooled outputs. Owns `inner`; thread-safe like it.
std::unique_ptr<HitOutput> NewRoutedHitOutput(std::unique_ptr<HitOutput> inner, iocd::config::Output config);

}  // namespace iocd
