// Field-aware extraction: the observables of a ParsedEvent, each with the field it came from.
//
// ExtractFromEvent() runs ExtractObservables() (extractor.h) over the value of every
// field of the event, in field order (RFC 5424 structured data first, then the body's
// fields; a text body is the one field "message"), and reports each observable with:
//   * the field name ("dst", "request", "fileHash", "tls.sni", "query", "sd.origin.ip"),
//   * for a composite value - a comma-separated list of KEY=VALUE with no spaces, as
//     Sysmon writes "Hashes": "SHA1=..,MD5=..,SHA256=.." - the field name, '.', and the
//     key: "Hashes.SHA1", "EventData.Hashes.SHA256";
//   * a URL's host is reported too, under the same field as the URL ("request"), as is the
//     host of "host:port" ("dst" for "dst=1.2.3.4:443").
// Syslog header fields (hostname, app name) are not scanned: they name the reporting
// device, not what it observed.
//
// Deduplication: an indicator is reported once per event, under the FIRST field it occurs
// in (field order as above). So "request=http://evil.com/x dhost=evil.com" reports
// evil.com once, from "request". Observables already in *out before the call do not take
// part.
//
// Ownership: FieldObservable::observable.text points into the field's value, i.e. into the
// message or the event's arena (see parse/event.h): valid while both live and until the
// event is parsed again. observable.offset is the byte offset in that field's value.
// Thread safety: pure function; thread-safe.
// Errors: none; see ExtractObservables().
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "extract/extractor.h"
#include "parse/event.h"

namespace iocd {

struct FieldObservable {
  Observable observable;
  std::string field;
};

void ExtractFromEvent(const ParsedEvent& event, std::vector<FieldObservable>* out);

// One line describing what was found in an event, for golden files and tools:
//   "<body format>" then, for each observable, TAB "<type> <field> <text as written>".
// Example: "cef\tipv4 src 10.0.0.1\tdomain request evil.com". Deterministic.
std::string DescribeExtraction(const ParsedEvent& event, const std::vector<FieldObservable>& found);
// The lines of text: LF-terminated, a CR before the LF dropped, the last line may lack its
// LF; empty lines are kept. Views into `text`.
std::vector<std::string_view> SplitLines(std::string_view text);
// Parses each line of text (as SplitLines splits it) as one message and returns one
// DescribeExtraction() line per input line.
// What the golden files under tests/data/golden hold.
std::string DescribeLines(std::string_view text);

}  // namespace iocd
