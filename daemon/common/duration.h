// Durations as operators write them in config: "500ms", "30s", "15m", "1h", "7d", or a
// sum such as "1h30m". A bare number is seconds. Pure and thread-safe.
#pragma once

#include <chrono>
#include <string_view>

#include "common/status.h"

namespace iocd {

// InvalidArgument with the reason for anything else (empty, negative, unknown unit,
// overflow).
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

}  // namespace iocd
