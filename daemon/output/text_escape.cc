#include "output/text_escape.h"

#include <cstdint>

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
  // The ASCII bytes written other than as themselves, as a 128-bit set: the controls (TAB
  // unless kept), DEL and the specials. Runs of the other ASCII bytes are appended in one
  // piece (as AppendJsonString does); bytes >= 0x80 go through AppendUtf8OrReplacement.
  uint64_t treated[2] = {~uint64_t{0} >> 32, uint64_t{1} << 63};  // 0x00-0x1F, 0x7F
  if (keep_tab) treated[0] &= ~(uint64_t{1} << '\t');
  for (char c : specials) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x80) treated[u >> 6] |= uint64_t{1} << (u & 63);
  }
  out->reserve(out->size() + value.size());
  size_t i = 0;
  while (i < value.size()) {
    size_t j = i;
    while (j < value.size()) {
      const auto c = static_cast<unsigned char>(value[j]);
      if (c >= 0x80 || ((treated[c >> 6] >> (c & 63)) & 1) != 0) break;
      ++j;
    }
    out->append(value.data() + i, j - i);
    if (j == value.size()) break;
    const auto c = static_cast<unsigned char>(value[j]);
    i = j + 1;
    if (c >= 0x80) {
      i = j + AppendUtf8OrReplacement(value, j, out);
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '\r') {
      out->append("\\r");
    } else if (specials.find(static_cast<char>(c)) != std::string_view::npos) {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else {
      out->push_back(' ');  // another control character, or DEL
    }
  }
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
