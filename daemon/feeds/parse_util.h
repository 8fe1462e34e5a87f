// Text helpers shared by the feed parsers of this folder (plain/CSV, zeek-intel, warninglist,
// kaspersky-json, STIX 2, MISP). Internal to the feeds component: only daemon/feeds/*.cc
// include this header; nothing outside the folder may depend on it.
//
// Every helper is pure (no I/O, no state) and thread-safe. A returned view points into the
// argument and lives as long as it.
//
// The parsers' error messages and line counts are tested against what these helpers do, so
// a change here changes what every feed parser reports:
//   - StripBom() drops one UTF-8 byte order mark at the start, nothing else.
//   - CountLines() and LineReader agree: every LF ends a line, and a non-empty tail without
//     LF is one more line ("" has 0 lines, "a" and "a\n" 1, "\n\n" 2).
//   - EscapeControl() makes text safe for one log line and a terminal: each byte below 0x20
//     and 0x7f becomes "\xNN" (lower-case hex); every other byte is kept, so valid UTF-8
//     stays valid.
//   - TruncateUtf8() never cuts inside a UTF-8 sequence; Quote() cuts with it.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/store.pb.h"

namespace iocd {

inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// Longest text Quote() copies into a message, in bytes.
inline constexpr size_t kMaxQuotedText = 80;

// Byte sets for Trim(s, chars). Each parser keeps the set it has always trimmed with.
// Blanks and LF: kaspersky-json values and NDJSON lines.
inline constexpr std::string_view kBlankOrNewline = " \t\r\f\v\n";
// The insignificant whitespace of JSON (RFC 8259): MISP and warninglist strings.
inline constexpr std::string_view kJsonWhitespace = " \t\r\n";

// content without a leading UTF-8 byte order mark.
std::string_view StripBom(std::string_view content);

// Physical lines of content: the number of LFs, plus one for a non-empty last line
// without LF.
uint64_t CountLines(std::string_view content);

// Reads content line by line; it yields CountLines(content) lines. A line comes without
// its LF; a CR before the LF is kept (the caller decides whether it is a blank).
class LineReader {
 public:
  explicit LineReader(std::string_view content) : content_(content) {}

  // Sets *line to the next line; false (and *line untouched) at the end of content.
  bool Next(std::string_view* line);

  // 1-based number of the line Next() returned last; 0 before the first.
  uint32_t line_number() const { return line_number_; }

 private:
  std::string_view content_;
  size_t pos_ = 0;
  uint32_t line_number_ = 0;
};

// A blank inside a line: space, \t, \r, \f or \v (not LF, which ends the line).
inline bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

// s without IsBlank() bytes at either end (plain and CSV feeds, zeek-intel).
std::string_view Trim(std::string_view s);
// s without bytes of `chars` at either end.
std::string_view Trim(std::string_view s, std::string_view chars);

// ASCII lower case; every other byte (UTF-8 included) unchanged.
inline char ToLowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
std::string ToLowerAscii(std::string_view s);

// text with each control byte (< 0x20, or 0x7f) written as "\xNN". Error messages end up
// in logs and in iocctl output: bytes from a broken feed must not split a log line or
// reach a terminal.
std::string EscapeControl(std::string_view text);

// At most max_bytes of text. A cut moves back to the start of the UTF-8 sequence it would
// split, so the result may be shorter than max_bytes.
std::string_view TruncateUtf8(std::string_view text, size_t max_bytes);

// 'text' in single quotes, naming an offending value in a message: longer text is cut by
// TruncateUtf8(text, kMaxQuotedText) and closed with "...'". Control bytes are not escaped
// here (callers escape the whole message, or the quoted text).
std::string Quote(std::string_view text);

// The context field key=value.
store::ContextField MakeField(std::string_view key, std::string_view value);

// items joined with ", ".
std::string Join(const std::vector<std::string>& items);

// Appends item unless items already holds it (first-seen order; linear, for short lists).
void AppendUnique(std::vector<std::string>* items, std::string_view item);

// Sets *out to obj[key] when that is a JSON string; false (and *out untouched) otherwise.
bool GetString(simdjson::dom::object obj, std::string_view key, std::string_view* out);

// "an array", "an object", "a number", "a string", "a boolean" or "null": what a JSON value
// is, for messages about a value of the wrong type.
std::string_view TypeNameOf(simdjson::dom::element_type t);

}  // namespace iocd
