// IsValidUtf8: whether bytes are well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF). Inputs only count messages that are not; events are
// bytes and are processed either way. Pure and thread-safe.
#pragma once

#include <string_view>

namespace iocd {

bool IsValidUtf8(std::string_view bytes);

}  // namespace iocd
