// libFuzzer target: SyslogFrameDecoder. The input is split into appends at bytes chosen by
// the input itself, so frame boundaries fall everywhere; checks the memory bound.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "parse/syslog_framing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  iocd::SyslogFrameDecoder decoder(/*max_message_bytes=*/1 + data[0] % 64);
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t chunk = 1 + (data[0] >> 4);
  while (!rest.empty()) {
    size_t n = chunk < rest.size() ? chunk : rest.size();
    decoder.Append(rest.substr(0, n));
    rest.remove_prefix(n);
    for (;;) {
      iocd::SyslogFrameDecoder::Frame f = decoder.Next();
      if (f.kind == iocd::SyslogFrameDecoder::Kind::kNeedMore) break;
      if (f.kind == iocd::SyslogFrameDecoder::Kind::kMessage &&
          f.message.size() > decoder.max_message_bytes()) {
        std::abort();
      }
    }
    if (decoder.buffered_bytes() >
        decoder.max_message_bytes() + iocd::SyslogFrameDecoder::kMaxFrameOverhead) {
      std::abort();
    }
  }
  while (decoder.Finish().kind != iocd::SyslogFrameDecoder::Kind::kNeedMore) {
  }
  return 0;
}
