#include "output/hit_fields.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <initializer_list>

namespace iocd {
namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// "YYYY-MM-DD[(T| )hh:mm:ss[.frac]][Z|(+|-)hh:mm]" to microseconds; UTC when no zone.
bool ParseIsoMicros(std::string_view s, int64_t* unix_us) {
  int y, mo, d, h = 0, mi = 0, se = 0;
  if (!Digits(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, &mo) || s[7] != '-' ||
      !Digits(s, 8, 2, &d)) {
    return false;
  }
  using namespace std::chrono;
  const year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return false;
  size_t i = 10;
  int64_t frac_us = 0, offset_s = 0;
  if (i < s.size() && (s[i] == 'T' || s[i] == ' ')) {
    if (!Digits(s, i + 1, 2, &h) || s.size() < i + 9 || s[i + 3] != ':' || !Digits(s, i + 4, 2, &mi) ||
        s[i + 6] != ':' || !Digits(s, i + 7, 2, &se) || h > 23 || mi > 59 || se > 60) {
      return false;
    }
    i += 9;
    if (i < s.size() && s[i] == '.') {
      ++i;
      int64_t scale = 100000;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
        frac_us += (s[i] - '0') * scale;
        scale /= 10;
        ++i;
      }
    }
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
      ++i;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      int oh, om;
      if (!Digits(s, i + 1, 2, &oh) || s.size() < i + 6 || s[i + 3] != ':' || !Digits(s, i + 4, 2, &om)) return false;
      offset_s = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
      i += 6;
    }
  }
  if (i != s.size()) return false;
  const int64_t secs = sys_days(ymd).time_since_epoch().count() * 86400LL + h * 3600 + mi * 60 + se - offset_s;
  *unix_us = secs * 1000000 + frac_us;
  return true;
}

}  // namespace

bool ParseContextDate(std::string_view text, int64_t* unix_ms) {
  if (text.empty()) return false;
  if (std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || text.size() > 13) return false;
    *unix_ms = text.size() >= 12 ? v : v * 1000;  // 12+ digits: already milliseconds
    return true;
  }
  int64_t us = 0;
  if (!ParseIsoMicros(text, &us)) return false;
  *unix_ms = us / 1000;
  return true;
}

void DeriveEnrichmentFields(iocd::hit::Enrichment* e) {
  auto first = [&](std::initializer_list<std::string_view> keys) -> const std::string* {
    for (const auto& c : e->context()) {
      if (c.value().empty()) continue;
      for (std::string_view k : keys) {
        if (EqualsNoCase(c.key(), k)) return &c.value();
      }
    }
    return nullptr;
  };
  if (const std::string* v = first({"threat", "category", "malware", "malware_family", "threat_type", "family"})) {
    e->set_threat(*v);
  }
  if (const std::string* v = first({"reference", "ref", "link", "report", "source_url"})) e->set_reference(*v);
  int64_t ms = 0;
  if (const std::string* v = first({"first_seen", "firstseen", "first_seen_utc", "date_added", "created"});
      v != nullptr && ParseContextDate(*v, &ms)) {
    e->set_first_seen_unix_ms(ms);
  }
  if (const std::string* v = first({"last_seen", "lastseen", "last_seen_utc", "last_online", "modified"});
      v != nullptr && ParseContextDate(*v, &ms)) {
    e->set_last_seen_unix_ms(ms);
  }
}

}  // namespace iocd
