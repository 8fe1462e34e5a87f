// The syntax of a hit format's options (docs/hits.md): LEEF delimiters and the line
// templates of format template. The config loader checks them, so a bad value is reported
// at its file:line; the formatters (output/hit_format.h) parse them again when they are
// built. Pure functions; thread-safe. Errors are InvalidArgument naming the bad part
// (without the option's name: the caller knows which option it passed).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace iocd {

// A LEEF delimiter option: one printable character, or its hex code "xHH" / "0xHH". The
// delimiter may not be '=', '\\', '|', alphanumeric, LF, CR, NUL or non-ASCII.
Result<char> ParseLeefDelimiter(std::string_view text);

// One piece of a parsed line template: literal text, or a placeholder's name.
struct LineTemplateSegment {
  bool placeholder = false;
  std::string text;
};

// A line template: "%Name%" is a placeholder (Name: letters, digits, '_', '.', '-'), "%%"
// a literal '%', anything else literal. Refused: a '%' without its closing '%', a bad
// placeholder name, a line break.
Result<std::vector<LineTemplateSegment>> ParseLineTemplate(std::string_view text);

}  // namespace iocd
