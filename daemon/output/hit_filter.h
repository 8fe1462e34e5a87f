// Per-output hit filters (config OutputFilter): pure, thread-safe.
#pragma once

#include "proto/config.pb.h"
#include "proto/hit.pb.h"

namespace iocd {

// True when `hit` passes every condition `filter` sets: some enrichment has confidence >=
// min_confidence (when > 0), some enrichment's indicator type is listed (when any is),
// some enrichment comes from a listed feed (when any is), some enrichment carries a listed
// tag (when any is). The conditions may be met by different enrichments.
bool PassesFilter(const iocd::hit::Hit& hit, const iocd::config::OutputFilter& filter);

}  // namespace iocd
