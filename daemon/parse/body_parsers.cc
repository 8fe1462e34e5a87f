#include "parse/body_parsers.h"

#include <simdjson.h>

#include <array>
#include <cstdio>
#include <cstring>

namespace iocd {
namespace {

constexpr bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}
// IsKeyChar as a table: FindNextKey runs it backwards over every key of a CEF or KV body.
constexpr std::array<bool, 256> kKeyChar = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[static_cast<size_t>(c)] = IsKeyChar(static_cast<char>(c));
  return t;
}();
constexpr bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

void SetError(ParsedEvent* event, const char* what, size_t a, size_t offset) {
  char buf[128];
  int n = std::snprintf(buf, sizeof buf, what, a, offset);
  event->error = event->arena().Copy(std::string_view(buf, static_cast<size_t>(n)));
}

// Unescapes "\x" pairs: for each backslash followed by a character c, map(c) returns the
// replacement or 0 to keep the pair as written.
template <typename Map>
std::string_view Unescape(std::string_view v, ParsedEvent* event, Map map) {
  if (v.find('\\') == std::string_view::npos) return v;
  char* out = event->arena().Allocate(v.size());
  size_t n = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      if (char r = map(v[i + 1])) {
        out[n++] = r;
        ++i;
        continue;
      }
    }
    out[n++] = v[i];
  }
  return {out, n};
}

char CefHeaderEscape(char c) { return (c == '|' || c == '\\') ? c : 0; }
char CefValueEscape(char c) {
  switch (c) {
    case '=': case '\\': case '|': return c;
    case 'n': return '\n';
    case 'r': return '\r';
    default: return 0;
  }
}
char QuotedEscape(char c) { return (c == '"' || c == '\\') ? c : 0; }

// Splits s at unescaped '|' into up to n pieces; returns how many were found and where the
// rest begins (after the n-th '|').
size_t SplitHeader(std::string_view s, std::string_view* pieces, size_t n, size_t* rest) {
  size_t count = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size() && count < n; ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '|') {
      pieces[count++] = s.substr(start, i - start);
      start = i + 1;
    }
  }
  *rest = start;
  return count;
}

struct KeyPos {
  size_t key_start;
  size_t eq;
};

// The next "key=" at or after from whose key starts a word. npos key_start if none.
KeyPos FindNextKey(std::string_view s, size_t from) {
  size_t i = from;
  while (i < s.size()) {
    const void* hit = std::memchr(s.data() + i, '=', s.size() - i);
    if (hit == nullptr) break;
    size_t eq = static_cast<size_t>(static_cast<const char*>(hit) - s.data());
    size_t j = eq;
    while (j > from && kKeyChar[static_cast<unsigned char>(s[j - 1])]) --j;
    if (j < eq && (j == 0 || IsSpace(s[j - 1])) && j >= from) return {j, eq};
    i = eq + 1;
  }
  return {std::string_view::npos, std::string_view::npos};
}

// Shared by CEF extensions and KV bodies.
void ParsePairs(std::string_view s, bool cef, ParsedEvent* event) {
  KeyPos k = FindNextKey(s, 0);
  std::string_view lead = Trim(s.substr(0, std::min(k.key_start, s.size())));
  if (!lead.empty()) event->AddField("message", lead);
  while (k.key_start != std::string_view::npos) {
    std::string_view key = s.substr(k.key_start, k.eq - k.key_start);
    size_t v = k.eq + 1;
    if (!cef && v < s.size() && s[v] == '"') {
      size_t close = v + 1;
      while (close < s.size() && s[close] != '"') close += (s[close] == '\\') ? 2 : 1;
      if (close < s.size()) {
        event->AddField(key, Unescape(s.substr(v + 1, close - v - 1), event, QuotedEscape));
        k = FindNextKey(s, close + 1);
        continue;
      }
      // No closing quote: the rest is the value, quote included.
    }
    KeyPos next = FindNextKey(s, v);
    size_t end = next.key_start == std::string_view::npos ? s.size() : next.key_start;
    std::string_view value = Trim(s.substr(v, end - v));
    event->AddField(key, cef ? Unescape(value, event, CefValueEscape) : value);
    k = next;
  }
}

bool IsHex(char c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }

// A LEEF 2.0 delimiter field: one character, or "0x"/"x" and 1-4 hex digits. Writes the
// delimiter (UTF-8) to out and returns its length, 0 when spec is not a delimiter.
size_t LeefDelimiter(std::string_view spec, char out[4]) {
  if (spec.size() == 1) {
    out[0] = spec[0];
    return 1;
  }
  std::string_view hex = spec;
  if (StartsWith(hex, "0x") || StartsWith(hex, "0X")) {
    hex.remove_prefix(2);
  } else if (!hex.empty() && (hex[0] == 'x' || hex[0] == 'X')) {
    hex.remove_prefix(1);
  } else {
    return 0;
  }
  if (hex.empty() || hex.size() > 4) return 0;
  unsigned cp = 0;
  for (char c : hex) {
    if (!IsHex(c)) return 0;
    cp = cp * 16 + static_cast<unsigned>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  if (cp == 0) return 0;
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  out[0] = static_cast<char>(0xE0 | (cp >> 12));
  out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[2] = static_cast<char>(0x80 | (cp & 0x3F));
  return 3;
}

}  // namespace

bool ParseCefBody(std::string_view body, ParsedEvent* event) {
  static constexpr std::string_view kNames[7] = {"cefVersion", "deviceVendor", "deviceProduct",
                                                 "deviceVersion", "deviceEventClassId", "name",
                                                 "severity"};
  if (!StartsWith(body, "CEF:")) {
    SetError(event, "CEF header missing (%zu) at byte %zu", 0, 0);
    return false;
  }
  std::string_view s = body.substr(4);
  std::string_view pieces[7];
  size_t rest = 0;
  size_t n = SplitHeader(s, pieces, 7, &rest);
  if (n < 7) {
    SetError(event, "CEF header has %zu of 7 fields at byte %zu", n, 4 + rest);
    return false;
  }
  for (size_t i = 0; i < 7; ++i) {
    event->AddField(kNames[i], Unescape(pieces[i], event, CefHeaderEscape));
  }
  ParsePairs(s.substr(rest), /*cef=*/true, event);
  return true;
}

bool ParseLeefBody(std::string_view body, ParsedEvent* event) {
  static constexpr std::string_view kNames[5] = {"leefVersion", "deviceVendor", "deviceProduct",
                                                 "deviceVersion", "eventId"};
  if (!StartsWith(body, "LEEF:")) {
    SetError(event, "LEEF header missing (%zu) at byte %zu", 0, 0);
    return false;
  }
  std::string_view s = body.substr(5);
  std::string_view pieces[6];
  size_t rest = 0;
  size_t n = SplitHeader(s, pieces, 5, &rest);
  if (n < 5) {
    SetError(event, "LEEF header has %zu of 5 fields at byte %zu", n, 5 + rest);
    return false;
  }
  for (size_t i = 0; i < 5; ++i) event->AddField(kNames[i], pieces[i]);
  char delim_buf[4] = {'\t'};
  size_t delim_len = 1;
  if (StartsWith(pieces[0], "2")) {
    size_t bar = s.find('|', rest);
    if (bar != std::string_view::npos) {
      std::string_view spec = s.substr(rest, bar - rest);
      char buf[4];
      if (size_t len = LeefDelimiter(spec, buf)) {
        std::memcpy(delim_buf, buf, len);
        delim_len = len;
        rest = bar + 1;
      } else if (spec.empty()) {
        rest = bar + 1;  // empty delimiter field: the default
      }
    }
  }
  std::string_view ext = s.substr(rest);
  std::string_view delim(delim_buf, delim_len);
  if (delim == "\t" && ext.find('\t') == std::string_view::npos &&
      ext.find("\\t") != std::string_view::npos) {
    delim = "\\t";
  }
  size_t start = 0;
  while (start <= ext.size()) {
    size_t end = ext.find(delim, start);
    if (end == std::string_view::npos) end = ext.size();
    std::string_view attr = ext.substr(start, end - start);
    size_t eq = attr.find('=');
    if (eq != std::string_view::npos && eq > 0) {
      event->AddField(Trim(attr.substr(0, eq)), Trim(attr.substr(eq + 1)));
    } else if (!Trim(attr).empty()) {
      event->AddField("message", Trim(attr));
    }
    start = end + delim.size();
  }
  return true;
}

bool LooksLikeKv(std::string_view body) {
  // The first key must start the body: key characters, then '='. This is what
  // FindNextKey(body, 0) finds at 0 when it finds a key there, without searching a text
  // body to its end for a '=' (every event that is not CEF, LEEF or JSON asks).
  size_t eq = 0;
  while (eq < body.size() && kKeyChar[static_cast<unsigned char>(body[eq])]) ++eq;
  if (eq == 0 || eq == body.size() || body[eq] != '=') return false;
  return FindNextKey(body, eq + 1).key_start != std::string_view::npos;
}

void ParseKvBody(std::string_view body, ParsedEvent* event) { ParsePairs(body, /*cef=*/false, event); }

struct JsonFlattener::Impl {
  simdjson::dom::parser parser;

  void Walk(simdjson::dom::element e, std::string_view path, ParsedEvent* event) {
    using simdjson::dom::element_type;
    switch (e.type()) {
      case element_type::OBJECT: {
        simdjson::dom::object obj;
        if (e.get(obj) != simdjson::SUCCESS) return;
        for (simdjson::dom::key_value_pair kv : obj) {
          // Numbers, booleans and null yield no field: their dotted path is not built.
          element_type type = kv.value.type();
          if (type != element_type::OBJECT && type != element_type::ARRAY &&
              type != element_type::STRING) {
            continue;
          }
          std::string_view child = path.empty() ? event->arena().Copy(kv.key)
                                                : event->arena().Join(path, '.', kv.key);
          Walk(kv.value, child, event);
        }
        break;
      }
      case element_type::ARRAY: {
        simdjson::dom::array arr;
        if (e.get(arr) != simdjson::SUCCESS) return;
        for (simdjson::dom::element item : arr) Walk(item, path, event);
        break;
      }
      case element_type::STRING: {
        std::string_view v;
        if (e.get(v) == simdjson::SUCCESS && !v.empty()) event->AddField(path.empty() ? "message" : path, event->arena().Copy(v));
        break;
      }
      default:
        break;  // numbers, booleans, null
    }
  }
};

JsonFlattener::JsonFlattener() : impl_(std::make_unique<Impl>()) {}
JsonFlattener::~JsonFlattener() = default;

bool JsonFlattener::Flatten(std::string_view body, ParsedEvent* event) {
  simdjson::dom::element root;
  auto error = impl_->parser.parse(body.data(), body.size()).get(root);
  if (error) {
    char buf[128];
    int n = std::snprintf(buf, sizeof buf, "invalid JSON: %s", simdjson::error_message(error));
    event->error = event->arena().Copy(std::string_view(buf, static_cast<size_t>(n)));
    return false;
  }
  impl_->Walk(root, {}, event);
  return true;
}

}  // namespace iocd
