// The control protocol's pure parts: parsing a request line and a whole response, and
// rendering a response. No I/O; thread-safe. The protocol is described in control_server.h.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace iocd {

// Largest request line, in bytes, not counting its terminating "\n" (or "\r\n").
inline constexpr size_t kMaxControlRequestBytes = 4096;

// Splits one request line (without its "\n"; a trailing "\r" is ignored) into words
// separated by runs of spaces or tabs. words[0] is the command. InvalidArgument (message
// fit for an "ERR" line) when the line is empty or blank, longer than
// kMaxControlRequestBytes, not well-formed UTF-8 (naming the byte offset), or holds a
// control character other than tab (naming the byte offset).
Result<std::vector<std::string>> ParseControlRequest(std::string_view line);

// A response as the client received it.
struct ControlResponse {
  bool ok = false;
  std::string body;   // the lines before the final line, each ending "\n"; may be empty
  std::string error;  // the message of an "ERR <message>" final line; empty when ok
};

// Parses everything a server sent before closing the connection: zero or more body lines,
// then a final line "OK" or "ERR <message>", each ending "\n" (a "\r" before it is
// tolerated). InvalidArgument when the bytes do not end with a final line (the connection
// closed early) or the final line is neither form.
Result<ControlResponse> ParseControlResponse(std::string_view bytes);

// Renders a response: `body` (a "\n" is added if it does not end with one), then "OK\n" or
// "ERR <message>\n". Line breaks and other control characters in the message become
// spaces, so the final line stays one line.
std::string FormatControlResponse(std::string_view body, const Status& status);

}  // namespace iocd
