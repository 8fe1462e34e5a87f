#include "output/text_escape.h"

namespace iocd {

size_t WellFormedUtf8Length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) -> unsigned { return static_cast<unsigned char>(s[k]); };
  const unsigned lead = byte(i);
  size_t len;
  unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    len = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    len = 3;
    if (lead == 0xE0) lo = 0xA0;  // overlong
    if (lead == 0xED) hi = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    len = 4;
    if (lead == 0xF0) lo = 0x90;  // overlong
    if (lead == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;  // continuation byte, C0, C1 or F5..FF
  }
  if (s.size() - i < len) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return len;
}

size_t AppendUtf8OrReplacement(std::string_view s, size_t i, std::string* out) {
  const size_t len = WellFormedUtf8Length(s, i);
  if (len == 0) {
    out->append("\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER
    return 1;
  }
  out->append(s.data() + i, len);
  return len;
}

void AppendEscaped(std::string_view value, std::string_view specials, bool keep_tab, std::string* out) {
  out->reserve(out->size() + value.size());
  AppendValidUtf8(value, out, [&](unsigned char c) {
    if (c == '\n') {
      out->append("\\n");
    } else if (c == '\r') {
      out->append("\\r");
    } else if (specials.find(static_cast<char>(c)) != std::string_view::npos) {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if ((c < 0x20 && !(c == '\t' && keep_tab)) || c == 0x7F) {
      out->push_back(' ');
    } else {
      out->push_back(static_cast<char>(c));
    }
  });
}

std::string_view Utf8Prefix(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t end = max_bytes;
  // Back off over continuation bytes to the start of the sequence that straddles the cut;
  // keep it only if it ends within the limit.
  size_t start = end;
  while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80 && end - start < 3) --start;
  if (start < end && static_cast<unsigned char>(s[start]) >= 0xC0) end = start;
  return s.substr(0, end);
}

}  // namespace iocd
