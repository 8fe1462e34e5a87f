// libFuzzer target: ParseLeefBody for LEEF 1.0 and 2.0 headers (delimiter forms included).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "parse/body_parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  iocd::ParsedEvent event;
  (void)iocd::ParseLeefBody(input, &event);
  for (const char* prefix : {"LEEF:1.0|", "LEEF:2.0|v|p|1|e|", "LEEF:2.0|v|p|1|e|0x"}) {
    iocd::ParsedEvent e;
    std::string body = prefix + std::string(input);
    (void)iocd::ParseLeefBody(body, &e);
  }
  return 0;
}
