// JSON rendering of hits (the wire format described in docs/hits.md).
//
// Pure functions, no I/O, thread-safe. The output is always one line of valid UTF-8 JSON:
// raw events may hold any bytes, so strings are sanitised rather than rejected. Every field
// is always present (empty strings and empty objects included) so consumers see one stable
// shape. Field names follow ECS where ECS has one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "proto/hit.pb.h"

namespace iocd {

// Renders one hit as a JSON object, without a trailing newline. See docs/hits.md. A
// service event (hit.service_event.kind set) is rendered as one instead of a detection
// (docs/hits.md#service-events); a suppressed hit (HasSuppression) adds
// iocd.suppression {count, summary, window_start}.
std::string FormatHitJson(const iocd::hit::Hit& hit);

// The same as FormatHitJson, appended to `out` (no intermediate string).
void AppendHitJson(const iocd::hit::Hit& hit, std::string* out);

// True when the hit stands for more than one sighting: count > 1 or a window summary.
// Every format then shows count, summary and window start (docs/hits.md#suppression).
bool HasSuppression(const iocd::hit::Hit& hit);

// A service event's severity as a number on the CEF scale 0..10: info 3, warning 6,
// error 8, anything else 5. Every format uses it (JSON event.severity, CEF, LEEF sev).
int ServiceEventSeverity(std::string_view severity);

// Appends `value` to `out` as a JSON string literal, quotes included (RFC 8259):
// '"' and '\' are backslash-escaped; control characters U+0000..U+001F become \b \f \n \r \t
// or \u00XX (lower-case hex); well-formed UTF-8 is copied unchanged (DEL and U+2028/U+2029
// included). Every byte that is not part of a well-formed UTF-8 sequence (stray continuation
// bytes, truncated sequences, overlong forms, surrogates, code points above U+10FFFF, bytes
// C0, C1, F5..FF) becomes one U+FFFD, so "\xe2\x82" (a truncated 3-byte sequence) becomes two.
void AppendJsonString(std::string_view value, std::string* out);

// Appends `unix_us` (microseconds since the Unix epoch) as RFC 3339 UTC with exactly six
// fractional digits, e.g. "2026-11-22T03:25:47.123456Z" (no quotes). Values outside years
// 0000..9999 are clamped to that range so the result is always a valid 4-digit-year time.
void AppendRfc3339Micros(int64_t unix_us, std::string* out);

}  // namespace iocd
