// libFuzzer target: the whole event path: EventParser::Parse + ExtractFromEvent, and
// ExtractObservables over the raw input. Observable text must lie within its field value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "extract/field_extractor.h"
#include "parse/event_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static iocd::EventParser parser;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  iocd::ParsedEvent event;
  parser.Parse(input, &event);
  std::vector<iocd::FieldObservable> found;
  iocd::ExtractFromEvent(event, &found);
  for (const iocd::FieldObservable& f : found) {
    if (f.observable.text.empty() || f.field.empty()) std::abort();
  }
  std::vector<iocd::Observable> raw;
  iocd::ExtractObservables(input, &raw);
  for (const iocd::Observable& o : raw) {
    if (o.offset + o.text.size() > input.size() || input.data() + o.offset != o.text.data()) {
      std::abort();
    }
  }
  (void)iocd::DescribeExtraction(event, found);
  return 0;
}
