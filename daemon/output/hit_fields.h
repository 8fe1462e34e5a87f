// Fields of a hit derived from the well-known keys of a feed's context (threat, reference,
// first/last seen). Pure functions, no I/O, thread-safe. The event's own fields (syslog
// host, app, time) come from parse/event_parser.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "proto/hit.pb.h"

namespace iocd {

// Fills threat, reference, first_seen_unix_ms and last_seen_unix_ms of `e` from its
// context: the first context field (in feed order) whose key, compared without case, is
//   threat: threat, category, malware, malware_family, threat_type, family, tags_threat
//   reference: reference, ref, link, report, source_url
//   first seen: first_seen, firstseen, first_seen_utc, date_added, created
//   last seen: last_seen, lastseen, last_seen_utc, last_online, modified
// Dates: RFC 3339 / ISO 8601 ("2024-05-01", "2024-05-01 10:00:00", "...T10:00:00Z",
// "...+02:00"), or Unix seconds / milliseconds. Unparseable dates are left at 0.
void DeriveEnrichmentFields(iocd::hit::Enrichment* e);

// Parses the date formats above to ms since the epoch; false if it is none of them.
bool ParseContextDate(std::string_view text, int64_t* unix_ms);

}  // namespace iocd
