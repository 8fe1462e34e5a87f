// libFuzzer target: ParseCefBody, with and without the "CEF:" prefix supplied.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "parse/body_parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  iocd::ParsedEvent event;
  (void)iocd::ParseCefBody(input, &event);
  iocd::ParsedEvent prefixed;
  std::string body = "CEF:" + std::string(input);
  (void)iocd::ParseCefBody(body, &prefixed);
  iocd::ParsedEvent kv;
  iocd::ParseKvBody(input, &kv);
  (void)iocd::LooksLikeKv(input);
  return 0;
}
