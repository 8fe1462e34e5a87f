// EventParser: one received syslog message -> ParsedEvent (header + named fields).
//
// Parse() runs the syslog header parser (syslog_header.h), then detects the body format
// and runs its parser (body_parsers.h):
//   "CEF:" -> CEF;  "LEEF:" -> LEEF;  '{', or '[' followed by '{' or '[' -> JSON;  "key=" twice at word starts,
//   the first at the start -> key=value;  anything else -> text.
// A text body is one field "message" holding the whole body. A body that announces a
// format but does not parse as it (bad CEF header, invalid JSON) is counted in
// counters().malformed, keeps its reason in event->error, and is reported as text, so its
// observables are still extracted. Empty bodies have no fields.
//
// Ownership: see event.h. The event's views point into message and into the event.
// Thread safety: an EventParser holds a reusable JSON parser: one per thread.
// Errors: never fails; see above.
#pragma once

#include <cstdint>
#include <string_view>

#include "parse/body_parsers.h"
#include "parse/event.h"

namespace iocd {

class EventParser {
 public:
  struct Counters {
    uint64_t events = 0;
    uint64_t by_format[5] = {};  // indexed by BodyFormat (the format finally used)
    uint64_t malformed = 0;      // announced a format, fell back to text
  };

  // Clears *event and fills it from message.
  void Parse(std::string_view message, ParsedEvent* event);

  const Counters& counters() const { return counters_; }

 private:
  JsonFlattener json_;
  Counters counters_;
};

}  // namespace iocd
