#include "common/format_syntax.h"

#include <cctype>
#include <charconv>

namespace iocd {

Result<char> ParseLeefDelimiter(std::string_view text) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  char c;
  if (text.size() == 1) {
    c = text[0];
  } else {
    std::string_view hex = text;
    if (hex.starts_with("0x") || hex.starts_with("0X")) {
      hex.remove_prefix(2);
    } else if (hex.starts_with("x") || hex.starts_with("X")) {
      hex.remove_prefix(1);
    } else {
      return Status::InvalidArgument(quoted + ": one character or its hex code (x09, 0x5E)");
    }
    unsigned v = 0;
    auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), v, 16);
    if (hex.empty() || hex.size() > 2 || ec != std::errc() || end != hex.data() + hex.size()) {
      return Status::InvalidArgument(quoted + ": bad hex code");
    }
    c = static_cast<char>(v);
  }
  if (c == '=' || c == '\\' || c == '|' || c == '\n' || c == '\r' || c == '\0' ||
      std::isalnum(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80) {
    return Status::InvalidArgument(quoted +
                                   ": not usable as a delimiter (=, \\, |, letters, digits, line "
                                   "breaks, NUL and non-ASCII are not allowed)");
  }
  return c;
}

Result<std::vector<LineTemplateSegment>> ParseLineTemplate(std::string_view t) {
  if (t.find('\n') != std::string_view::npos || t.find('\r') != std::string_view::npos) {
    return Status::InvalidArgument("must not contain a line break");
  }
  std::vector<LineTemplateSegment> segments;
  std::string literal;
  size_t i = 0;
  while (i < t.size()) {
    if (t[i] != '%') {
      literal.push_back(t[i++]);
      continue;
    }
    const size_t close = t.find('%', i + 1);
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("'%' at offset " + std::to_string(i) +
                                     " has no closing '%' (write %% for a literal %)");
    }
    std::string_view name = t.substr(i + 1, close - i - 1);
    if (name.empty()) {
      literal.push_back('%');
    } else {
      for (char c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
          return Status::InvalidArgument("bad placeholder name \"" + std::string(name) + "\" at offset " +
                                         std::to_string(i));
        }
      }
      if (!literal.empty()) segments.push_back({false, std::move(literal)});
      literal.clear();
      segments.push_back({true, std::string(name)});
    }
    i = close + 1;
  }
  if (!literal.empty()) segments.push_back({false, std::move(literal)});
  return segments;
}

}  // namespace iocd
