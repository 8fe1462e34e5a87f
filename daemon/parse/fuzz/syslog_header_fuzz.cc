// libFuzzer target: ParseSyslogHeader. Every view it returns must lie inside the input or
// the event arena's output; the body must be a suffix-ish slice of the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "parse/syslog_header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  iocd::ParsedEvent event;
  iocd::ParseSyslogHeader(input, &event);
  const iocd::SyslogHeader& h = event.header;
  auto inside = [&](std::string_view v) {
    return v.empty() || (v.data() >= input.data() && v.data() + v.size() <= input.data() + input.size());
  };
  if (!inside(event.body) || !inside(h.timestamp) || !inside(h.hostname) || !inside(h.app_name) ||
      !inside(h.procid) || !inside(h.msgid)) {
    std::abort();
  }
  if (h.priority > 191) std::abort();
  for (const iocd::EventField& f : event.fields) {
    if (f.name.substr(0, 3) != "sd.") std::abort();
  }
  (void)iocd::ParseIsoTimestamp(input);
  return 0;
}
