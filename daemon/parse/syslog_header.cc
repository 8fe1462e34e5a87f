#include "parse/syslog_header.h"

#include <array>
#include <cstdio>
#include <cstring>

namespace iocd {
namespace {

constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly n digits at s[pos]; advances pos.
bool Digits(std::string_view s, size_t* pos, size_t n, int* value) {
  if (*pos > s.size() || s.size() - *pos < n) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *value = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t DaysFromCivil(int y, int m, int d) {
  static constexpr int kBeforeMonth[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  auto leaps_through = [](int64_t year) { return year / 4 - year / 100 + year / 400; };
  int64_t days = 365 * int64_t{y - 1970} + (leaps_through(y - 1) - leaps_through(1969));
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  days += kBeforeMonth[m - 1] + (leap && m > 2 ? 1 : 0) + (d - 1);
  return days;
}

// "Jan".."Dec" -> 1..12, 0 otherwise.
int MonthNumber(std::string_view s) {
  static constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  if (s.size() != 3) return 0;
  for (int i = 0; i < 12; ++i) {
    std::string_view m = kMonths.substr(static_cast<size_t>(i) * 3, 3);
    // Case-insensitive: some senders write "JUN".
    bool eq = true;
    for (size_t j = 0; j < 3 && eq; ++j) eq = ((s[j] | 0x20) == (m[j] | 0x20));
    if (eq) return i + 1;
  }
  return 0;
}

// Parses an ISO timestamp starting at s[0]; returns its length (0 if none) and the time.
size_t ReadIso(std::string_view s, std::optional<int64_t>* unix_us) {
  size_t p = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!Digits(s, &p, 4, &y) || !Expect(s, &p, '-') || !Digits(s, &p, 2, &mo) ||
      !Expect(s, &p, '-') || !Digits(s, &p, 2, &d)) {
    return 0;
  }
  if (p >= s.size() || (s[p] != 'T' && s[p] != 't' && s[p] != ' ')) return 0;
  ++p;
  if (!Digits(s, &p, 2, &h) || !Expect(s, &p, ':') || !Digits(s, &p, 2, &mi) ||
      !Expect(s, &p, ':') || !Digits(s, &p, 2, &sec)) {
    return 0;
  }
  int64_t micros = 0;
  if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
    ++p;
    size_t digits = 0;
    while (p < s.size() && IsDigit(s[p])) {
      if (digits < 6) micros = micros * 10 + (s[p] - '0');
      ++digits;
      ++p;
    }
    if (digits == 0) return 0;
    for (size_t i = digits; i < 6; ++i) micros *= 10;
  }
  std::optional<int64_t> offset_s;
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z')) {
    ++p;
    offset_s = 0;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    int sign = s[p] == '-' ? -1 : 1;
    size_t q = p + 1;
    int oh, om = 0;
    if (Digits(s, &q, 2, &oh)) {
      if (q < s.size() && s[q] == ':') ++q;
      if (Digits(s, &q, 2, &om) && oh <= 23 && om <= 59) {
        offset_s = sign * (oh * 3600 + om * 60);
        p = q;
      }
    }
  }
  bool valid = mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && sec <= 60;
  if (!valid) return 0;
  if (offset_s) {
    int64_t secs = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - *offset_s;
    *unix_us = secs * 1000000 + micros;
  }
  return p;
}

// "Mmm dd hh:mm:ss", "Mmm  d hh:mm:ss", "Mmm d hh:mm:ss", "Mmm dd yyyy hh:mm:ss", each
// optionally with ".fff". Returns the length, 0 if none.
size_t ReadBsdTimestamp(std::string_view s) {
  if (s.size() < 14 || MonthNumber(s.substr(0, 3)) == 0 || s[3] != ' ') return 0;
  size_t p = 4;
  if (s[p] == ' ') ++p;  // space-padded day
  size_t day_start = p;
  while (p < s.size() && IsDigit(s[p]) && p - day_start < 2) ++p;
  if (p == day_start || !Expect(s, &p, ' ')) return 0;
  int value;
  size_t year_pos = p;
  if (Digits(s, &year_pos, 4, &value) && year_pos < s.size() && s[year_pos] == ' ') {
    p = year_pos + 1;  // "Jan 17 2020 08:52:10"
  }
  int h, mi, sec;
  if (!Digits(s, &p, 2, &h) || !Expect(s, &p, ':') || !Digits(s, &p, 2, &mi) ||
      !Expect(s, &p, ':') || !Digits(s, &p, 2, &sec)) {
    return 0;
  }
  if (p < s.size() && s[p] == '.') {
    size_t q = p + 1;
    while (q < s.size() && IsDigit(s[q])) ++q;
    if (q > p + 1) p = q;
  }
  return p;
}

std::string_view NextToken(std::string_view s, size_t* pos) {
  size_t start = *pos;
  size_t end = s.find(' ', start);
  if (end == std::string_view::npos) end = s.size();
  *pos = end;
  return s.substr(start, end - start);
}

std::string_view Nil(std::string_view v) { return v == "-" ? std::string_view{} : v; }

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

std::string_view StripBom(std::string_view s) {
  if (StartsWith(s, "\xEF\xBB\xBF")) s.remove_prefix(3);
  return s;
}

// A word that starts a body rather than a header field.
bool StartsBody(std::string_view rest) {
  if (rest.empty()) return false;
  // The first byte decides before any compare: this runs for each header word of every event.
  switch (rest[0]) {
    case '{':
    case '[': return true;
    case 'C': return StartsWith(rest, "CEF:");
    case 'L': return StartsWith(rest, "LEEF:");
    default: return false;
  }
}

// Character classes as tables: every event's TAG and HOSTNAME are checked byte by byte.
// NUL is in both, as it always was (std::strchr finds the terminator).
using CharClass = std::array<bool, 256>;
constexpr CharClass MakeClass(std::string_view extra) {
  CharClass t{};
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    t[static_cast<size_t>(c)] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || IsDigit(ch) || c == 0 ||
                                extra.find(ch) != std::string_view::npos;
  }
  return t;
}
constexpr CharClass kTagChar = MakeClass("()/.-_@");
constexpr CharClass kHostnameChar = MakeClass(".-_:%");

bool IsTagChar(char c) { return kTagChar[static_cast<unsigned char>(c)]; }

// "app:" or "app[pid]:" at the start of token (a whole space-delimited word).
bool ParseTag(std::string_view token, std::string_view* app, std::string_view* pid) {
  constexpr size_t kMaxTag = 64;
  if (token.size() < 2 || token.back() != ':') return false;
  token.remove_suffix(1);
  std::string_view name = token;
  std::string_view id;
  if (token.back() == ']') {
    size_t open = token.find('[');
    if (open == std::string_view::npos || open == 0) return false;
    name = token.substr(0, open);
    id = token.substr(open + 1, token.size() - open - 2);
    if (id.empty() || id.size() > 20) return false;
    for (char c : id) {
      if (!IsTagChar(c)) return false;
    }
  }
  if (name.empty() || name.size() > kMaxTag) return false;
  for (char c : name) {
    if (!IsTagChar(c)) return false;
  }
  *app = name;
  *pid = id;
  return true;
}

bool IsHostnameChar(char c) { return kHostnameChar[static_cast<unsigned char>(c)]; }

bool LooksLikeHostname(std::string_view token) {
  if (token.empty() || token.size() > 255) return false;
  for (char c : token) {
    if (!IsHostnameChar(c)) return false;
  }
  return true;
}

void SetError(ParsedEvent* event, std::string_view what, size_t offset) {
  char buf[96];
  int n = std::snprintf(buf, sizeof buf, "%.*s at byte %zu", static_cast<int>(what.size()),
                        what.data(), offset);
  event->error = event->arena().Copy(std::string_view(buf, static_cast<size_t>(n)));
}

// Structured data starting at s[*pos] ('['); appends fields. false when malformed.
bool ReadStructuredData(std::string_view s, size_t* pos, ParsedEvent* event, size_t* bad_at) {
  size_t p = *pos;
  while (p < s.size() && s[p] == '[') {
    ++p;
    size_t id_start = p;
    while (p < s.size() && s[p] != ' ' && s[p] != ']' && s[p] != '=' && s[p] != '"') ++p;
    if (p == id_start || p >= s.size()) {
      *bad_at = p;
      return false;
    }
    std::string_view id = s.substr(id_start, p - id_start);
    while (p < s.size() && s[p] == ' ') {
      ++p;
      size_t name_start = p;
      while (p < s.size() && s[p] != '=' && s[p] != ' ' && s[p] != ']' && s[p] != '"') ++p;
      if (p == name_start || p + 1 >= s.size() || s[p] != '=' || s[p + 1] != '"') {
        *bad_at = p;
        return false;
      }
      std::string_view name = s.substr(name_start, p - name_start);
      p += 2;
      size_t value_start = p;
      bool escaped = false;
      while (p < s.size() && s[p] != '"') {
        if (s[p] == '\\' && p + 1 < s.size()) {
          escaped = true;
          ++p;
        }
        ++p;
      }
      if (p >= s.size()) {
        *bad_at = value_start;
        return false;
      }
      std::string_view value = s.substr(value_start, p - value_start);
      ++p;  // closing quote
      if (escaped) {
        char* out = event->arena().Allocate(value.size());
        size_t n = 0;
        for (size_t i = 0; i < value.size(); ++i) {
          char c = value[i];
          if (c == '\\' && i + 1 < value.size() &&
              (value[i + 1] == '"' || value[i + 1] == '\\' || value[i + 1] == ']')) {
            c = value[++i];
          }
          out[n++] = c;
        }
        value = std::string_view(out, n);
      }
      std::string_view sd = event->arena().Join("sd", '.', id);
      event->AddField(event->arena().Join(sd, '.', name), value);
    }
    if (p >= s.size() || s[p] != ']') {
      *bad_at = p;
      return false;
    }
    ++p;
  }
  *pos = p;
  return true;
}

void ParseRfc5424(std::string_view s, size_t p, ParsedEvent* event) {
  SyslogHeader& h = event->header;
  h.format = SyslogFormat::kRfc5424;
  std::string_view* fields[] = {&h.timestamp, &h.hostname, &h.app_name, &h.procid, &h.msgid};
  for (std::string_view* f : fields) {
    if (p >= s.size()) {
      event->body = {};
      return;
    }
    *f = Nil(NextToken(s, &p));
    if (p < s.size()) ++p;  // the SP
  }
  if (!h.timestamp.empty()) {
    std::optional<int64_t> t;
    if (ReadIso(h.timestamp, &t) == h.timestamp.size()) h.unix_us = t;
  }
  if (p >= s.size()) {
    event->body = {};
    return;
  }
  if (s[p] == '-') {
    ++p;
  } else if (s[p] == '[') {
    size_t bad_at = 0;
    size_t sd_start = p;
    if (!ReadStructuredData(s, &p, event, &bad_at)) {
      SetError(event, "malformed structured data", bad_at);
      event->body = s.substr(sd_start);
      return;
    }
  }
  if (p < s.size() && s[p] == ' ') ++p;
  event->body = StripBom(s.substr(p));
}

void ParseRfc3164(std::string_view s, size_t p, bool had_pri, ParsedEvent* event) {
  SyslogHeader& h = event->header;
  std::string_view rest = s.substr(p);
  size_t ts_len = ReadBsdTimestamp(rest);
  if (ts_len == 0) {
    std::optional<int64_t> t;
    ts_len = ReadIso(rest, &t);
    if (ts_len != 0) h.unix_us = t;
  }
  if (ts_len == 0 || (ts_len < rest.size() && rest[ts_len] != ' ')) {
    h.unix_us.reset();
    if (had_pri) h.format = SyslogFormat::kRfc3164;
    event->body = StripBom(rest);
    return;
  }
  h.format = SyslogFormat::kRfc3164;
  h.timestamp = rest.substr(0, ts_len);
  p += ts_len;
  while (p < s.size() && s[p] == ' ') ++p;
  // [HOSTNAME SP] [TAG: SP]
  for (int word = 0; word < 2 && p < s.size(); ++word) {
    if (StartsBody(s.substr(p))) break;
    size_t q = p;
    std::string_view token = NextToken(s, &q);
    if (ParseTag(token, &h.app_name, &h.procid)) {
      p = q;
      break;
    }
    if (word == 1 || !LooksLikeHostname(token)) break;
    h.hostname = token;
    p = q;
    while (p < s.size() && s[p] == ' ') ++p;
  }
  if (p < s.size() && s[p] == ' ') ++p;
  event->body = StripBom(s.substr(p));
}

}  // namespace

std::optional<int64_t> ParseIsoTimestamp(std::string_view text) {
  std::optional<int64_t> t;
  if (ReadIso(text, &t) != text.size()) return std::nullopt;
  return t;
}

void ParseSyslogHeader(std::string_view message, ParsedEvent* event) {
  SyslogHeader& h = event->header;
  h = SyslogHeader{};
  size_t p = 0;
  bool had_pri = false;
  if (!message.empty() && message[0] == '<') {
    size_t q = 1;
    int pri = 0;
    while (q < message.size() && q <= 3 && IsDigit(message[q])) pri = pri * 10 + (message[q++] - '0');
    if (q > 1 && q < message.size() && message[q] == '>' && pri <= 191) {
      h.priority = pri;
      had_pri = true;
      p = q + 1;
    }
  }
  if (had_pri && p < message.size() && message[p] >= '1' && message[p] <= '9') {
    size_t q = p;
    int version = 0;
    while (q < message.size() && q - p < 3 && IsDigit(message[q])) version = version * 10 + (message[q++] - '0');
    if (q < message.size() && message[q] == ' ') {
      h.version = version;
      ParseRfc5424(message, q + 1, event);
      return;
    }
  }
  ParseRfc3164(message, p, had_pri, event);
}

}  // namespace iocd
