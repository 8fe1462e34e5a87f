#include "control/control_protocol.h"

#include <cstdint>

namespace iocd {

namespace {

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlong forms,
// no surrogates, nothing above U+10FFFF), or 0 if there is none.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (byte(k) & 0xC0) == 0x80; };
  uint8_t b = byte(i);
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    uint8_t b1 = byte(i + 1);
    if (b == 0xE0 && b1 < 0xA0) return 0;   // overlong
    if (b == 0xED && b1 >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    uint8_t b1 = byte(i + 1);
    if (b == 0xF0 && b1 < 0x90) return 0;   // overlong
    if (b == 0xF4 && b1 >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

Result<std::vector<std::string>> ParseControlRequest(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > kMaxControlRequestBytes) {
    return Status::InvalidArgument("request too long (at most " + std::to_string(kMaxControlRequestBytes) + " bytes)");
  }
  for (size_t i = 0; i < line.size();) {
    size_t n = Utf8SequenceLength(line, i);
    if (n == 0) return Status::InvalidArgument("request is not valid UTF-8 (byte " + std::to_string(i) + ")");
    if (n == 1) {
      uint8_t b = static_cast<uint8_t>(line[i]);
      if ((b < 0x20 && b != '\t') || b == 0x7F) {
        return Status::InvalidArgument("request holds a control character (byte " + std::to_string(i) + ")");
      }
    }
    i += n;
  }
  std::vector<std::string> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) words.emplace_back(line.substr(start, i - start));
  }
  if (words.empty()) return Status::InvalidArgument("empty request (try help)");
  return words;
}

Result<ControlResponse> ParseControlResponse(std::string_view bytes) {
  if (bytes.empty()) return Status::InvalidArgument("empty response (the connection closed before OK or ERR)");
  if (bytes.back() != '\n') {
    return Status::InvalidArgument("incomplete response (the connection closed before OK or ERR)");
  }
  std::string_view without_lf = bytes.substr(0, bytes.size() - 1);
  size_t prev = without_lf.rfind('\n');
  size_t final_start = prev == std::string_view::npos ? 0 : prev + 1;
  std::string_view final_line = without_lf.substr(final_start);
  if (!final_line.empty() && final_line.back() == '\r') final_line.remove_suffix(1);
  ControlResponse response;
  response.body = std::string(bytes.substr(0, final_start));
  if (final_line == "OK") {
    response.ok = true;
    return response;
  }
  if (final_line == "ERR" || final_line.starts_with("ERR ")) {
    response.error = std::string(final_line.size() > 4 ? final_line.substr(4) : std::string_view());
    return response;
  }
  return Status::InvalidArgument("malformed response: the last line is neither OK nor ERR");
}

std::string FormatControlResponse(std::string_view body, const Status& status) {
  std::string out(body);
  if (!out.empty() && out.back() != '\n') out.push_back('\n');
  if (status.ok()) {
    out += "OK\n";
    return out;
  }
  out += "ERR ";
  std::string_view message = status.message();
  if (message.empty()) message = "failed";
  for (char c : message) {
    uint8_t b = static_cast<uint8_t>(c);
    out.push_back(b < 0x20 || b == 0x7F ? ' ' : c);
  }
  out.push_back('\n');
  return out;
}

}  // namespace iocd
