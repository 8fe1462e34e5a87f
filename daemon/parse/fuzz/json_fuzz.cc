// libFuzzer target: JsonFlattener. Field values must survive a second Flatten() on the
// same flattener (they are copied into the event, not left in the parser).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "parse/body_parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static iocd::JsonFlattener json;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  iocd::ParsedEvent event;
  if (!json.Flatten(input, &event)) return 0;
  std::vector<std::string> before;
  for (const iocd::EventField& f : event.fields) before.emplace_back(f.value);
  iocd::ParsedEvent other;
  (void)json.Flatten("{\"a\":\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"}", &other);
  for (size_t i = 0; i < before.size(); ++i) {
    if (event.fields[i].value != before[i]) std::abort();
  }
  return 0;
}
