#include "common/duration.h"

#include <cstdint>
#include <limits>
#include <string>

namespace iocd {

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("bad duration '" + std::string(text) + "': " + std::string(why) +
                                   " (use e.g. 30s, 15m, 1h, 7d)");
  };
  if (text.empty()) return bad("empty");
  int64_t total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') return bad("expected a number");
    int64_t value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (value > std::numeric_limits<int64_t>::max() / 10 - 10) return bad("too large");
      value = value * 10 + (text[i] - '0');
      ++i;
    }
    size_t unit_start = i;
    while (i < text.size() && ((text[i] >= 'a' && text[i] <= 'z'))) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    int64_t scale;
    if (unit.empty()) {
      if (unit_start != text.size() || total_ms != 0) return bad("a number needs a unit");
      scale = 1000;
    } else if (unit == "ms") {
      scale = 1;
    } else if (unit == "s") {
      scale = 1000;
    } else if (unit == "m") {
      scale = 60 * 1000;
    } else if (unit == "h") {
      scale = 3600 * 1000;
    } else if (unit == "d") {
      scale = 86400 * 1000;
    } else if (unit == "w") {
      scale = 7 * 86400 * 1000LL;
    } else {
      return bad("unknown unit '" + std::string(unit) + "'");
    }
    if (value > (std::numeric_limits<int64_t>::max() - total_ms) / scale) return bad("too large");
    total_ms += value * scale;
  }
  return std::chrono::milliseconds(total_ms);
}

}  // namespace iocd
