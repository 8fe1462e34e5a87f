// Byte-level text helpers shared by the hit formats: UTF-8 validation and one escaping
// routine every line format (CEF, LEEF, RFC 5424, template) is built on.
//
// Pure functions, no I/O, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace iocd {

// Length of the well-formed UTF-8 sequence starting at s[i] (Unicode table 3-7), or 0 when
// s[i] does not start one (continuation byte, C0, C1, F5..FF, truncated, overlong, surrogate,
// above U+10FFFF). Meant for bytes >= 0x80.
size_t WellFormedUtf8Length(std::string_view s, size_t i);

// For a byte s[i] >= 0x80: appends the well-formed UTF-8 sequence starting there to `out`,
// or one U+FFFD when there is none, and returns how many bytes of `s` it used (>= 1).
size_t AppendUtf8OrReplacement(std::string_view s, size_t i, std::string* out);

// The loop every escaping routine shares: appends `value` to `out` with each well-formed
// UTF-8 sequence copied and every other byte >= 0x80 replaced by one U+FFFD, and calls
// `ascii(c)` for each byte c < 0x80, which appends whatever the format writes for it.
template <typename AsciiFn>
void AppendValidUtf8(std::string_view value, std::string* out, AsciiFn&& ascii) {
  size_t i = 0;
  while (i < value.size()) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c >= 0x80) {
      i += AppendUtf8OrReplacement(value, i, out);
    } else {
      ascii(c);
      ++i;
    }
  }
}

// Appends `value` to `out` for a line-oriented format:
//  * every byte in `specials` is written with a backslash before it;
//  * LF and CR become the two characters `\n` and `\r` (so a value never breaks a line);
//  * other control characters (U+0000..U+001F except TAB when keep_tab, and DEL) become a
//    space;
//  * well-formed UTF-8 is copied; every other byte >= 0x80 becomes one U+FFFD.
// Callers list '\\' in `specials` when the format escapes the backslash itself.
void AppendEscaped(std::string_view value, std::string_view specials, bool keep_tab, std::string* out);

// The longest prefix of `s` of at most max_bytes bytes that does not end inside a UTF-8
// sequence (so cutting never creates an invalid sequence from a valid one).
std::string_view Utf8Prefix(std::string_view s, size_t max_bytes);

}  // namespace iocd
