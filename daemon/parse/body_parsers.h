// Body parsers: CEF, LEEF, JSON and key=value bodies into ParsedEvent fields.
//
// Each takes the body (the MSG after the syslog header) and appends (name, value) fields
// to event->fields in the order they appear; none reads or writes anything else.
//
//   CEF   "CEF:Version|Device Vendor|Device Product|Device Version|Device Event Class ID|
//         Name|Severity|Extension". Header fields are reported as cefVersion, deviceVendor,
//         deviceProduct, deviceVersion, deviceEventClassId, name, severity, with "\|" and
//         "\\" unescaped. The extension is "key=value" pairs separated by spaces; a value
//         runs to the space before the next "key=" (so it may contain spaces), "\=" "\\"
//         "\n" "\r" "\|" are unescaped, surrounding spaces trimmed. A '=' that does not
//         follow a space and key characters [A-Za-z0-9_.-] belongs to the value
//         ("request=http://x/?a=1").
//   LEEF  "LEEF:1.0|Vendor|Product|Version|EventID|ext" and
//         "LEEF:2.0|Vendor|Product|Version|EventID|DelimiterChar|ext". Header fields are
//         leefVersion, deviceVendor, deviceProduct, deviceVersion, eventId. The delimiter
//         is a tab unless LEEF 2.0 names one: a single character ("^"), or a code point as
//         "0x09", "x09", "0xa6" (written as UTF-8). A 2.0 header whose sixth field is not
//         a delimiter (Zscaler omits it) has no delimiter field. Attributes are
//         "key=value" split on the delimiter; the value is everything after the first '='.
//         When the delimiter is a tab and the extension holds no tab but the two
//         characters "\t", those are the delimiter (some tools write it that way).
//   JSON  One JSON value (simdjson DOM). Object keys are joined with '.' into paths
//         ("tls.sni", "EventData.Hashes"); the elements of an array take the array's own
//         path (every answer of "answers":[..] is field "answers"), so field names stay a
//         fixed vocabulary. Only strings become fields (numbers, booleans and null are not
//         observables; a top-level string is field "message"); names and values are copied
//         into the event arena, so they outlive the flattener's next Flatten().
//   KV    "key=value" pairs separated by whitespace; a value is either double-quoted
//         ("k=\"a b\"", with \" and \\ unescaped) or runs, like CEF, to the space before
//         the next "key=".
// For CEF, LEEF and KV, text that belongs to no key (before the first key, or a LEEF
// attribute without '=') is reported as field "message", so its observables are not lost.
//
// Ownership: see event.h (views into body or the event arena).
// Thread safety: the free functions are pure; a JsonFlattener is one per thread.
// Errors: a malformed header returns false with event->error set ("CEF header has 5 of 7
// fields at byte 40"); the caller then treats the body as text.
#pragma once

#include <memory>
#include <string_view>

#include "parse/event.h"

namespace iocd {

bool ParseCefBody(std::string_view body, ParsedEvent* event);
bool ParseLeefBody(std::string_view body, ParsedEvent* event);
// Whether body starts with "key=" and holds at least two "key=" at word starts.
bool LooksLikeKv(std::string_view body);
void ParseKvBody(std::string_view body, ParsedEvent* event);

class JsonFlattener {
 public:
  JsonFlattener();
  ~JsonFlattener();
  JsonFlattener(const JsonFlattener&) = delete;
  JsonFlattener& operator=(const JsonFlattener&) = delete;

  // Parses body as JSON and appends its string leaves. false (event->error set, no fields
  // added) when body is not valid JSON.
  bool Flatten(std::string_view body, ParsedEvent* event);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace iocd
