#include "output/hit_json.h"

#include "output/text_escape.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <utility>
#include <vector>

namespace iocd {
namespace {

// Writes JSON objects and arrays, placing commas and colons. Keys and values are escaped
// with AppendJsonString. The caller nests Begin/End calls correctly; nothing is validated.
class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }

  void Key(std::string_view key) {
    Separate();
    AppendJsonString(key, out_);
    out_->push_back(':');
    after_key_ = true;
  }
  void String(std::string_view value) {
    Separate();
    AppendJsonString(value, out_);
  }
  void Field(std::string_view key, std::string_view value) {
    Key(key);
    String(value);
  }
  // A literal (true, false, null) as a value after Key().
  void Raw(std::string_view literal) {
    Separate();
    out_->append(literal);
  }
  void Number(std::string_view key, uint64_t value) {
    Key(key);
    Separate();
    char buf[24];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
    out_->append(buf, end);
  }

 private:
  // Emits the ',' needed before a value or key, unless it directly follows a key.
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (depth_ > 0) {
      const uint64_t bit = uint64_t{1} << (depth_ - 1);
      if ((first_ & bit) == 0) out_->push_back(',');
      first_ &= ~bit;
    }
  }
  void Open(char c) {
    Separate();
    out_->push_back(c);
    first_ |= uint64_t{1} << depth_;
    ++depth_;
  }
  void Close(char c) {
    out_->push_back(c);
    --depth_;
  }

  std::string* out_;
  // Bit d-1: the container open at depth d has no element written yet. The formats nest
  // at most 6 deep, far below the 64 the mask holds.
  uint64_t first_ = 0;
  unsigned depth_ = 0;
  bool after_key_ = false;
};

// Bytes AppendJsonString copies as they are: printable ASCII except '"' and '\' (DEL
// included). Everything else goes through the escaping / UTF-8 path.
constexpr std::array<bool, 256> kJsonPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[static_cast<size_t>(c)] = c != '"' && c != '\\';
  return t;
}();

// RFC 3339 with six fractional digits into `buf` (see AppendRfc3339Micros); returns the
// length (always 27).
constexpr size_t kRfc3339MicrosLen = 27;
size_t FormatRfc3339Micros(int64_t unix_us, char* buf);

// A timestamp as a JSON field without an intermediate string (its characters need no
// escaping).
void TimeField(JsonWriter* w, std::string_view key, int64_t unix_us) {
  char buf[kRfc3339MicrosLen];
  w->Field(key, std::string_view(buf, FormatRfc3339Micros(unix_us, buf)));
}

void WriteContext(const google::protobuf::RepeatedPtrField<iocd::store::ContextField>& context,
                  JsonWriter* w) {
  // Feeds list a handful of fields, so a quadratic de-duplication is cheaper than a map.
  // A repeated key keeps the position of its first occurrence and the value of its last.
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  fields.reserve(context.size());
  for (const auto& field : context) {
    auto it = std::find_if(fields.begin(), fields.end(),
                           [&](const auto& f) { return f.first == field.key(); });
    if (it != fields.end()) {
      it->second = field.value();
    } else {
      fields.emplace_back(field.key(), field.value());
    }
  }
  w->BeginObject();
  for (const auto& [key, value] : fields) w->Field(key, value);
  w->EndObject();
}

}  // namespace

void AppendJsonString(std::string_view value, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->reserve(out->size() + value.size() + 2);
  out->push_back('"');
  // Runs of plain bytes are appended in one piece; the rest, byte by byte as before.
  size_t i = 0;
  while (i < value.size()) {
    size_t j = i;
    while (j < value.size() && kJsonPlain[static_cast<unsigned char>(value[j])]) ++j;
    out->append(value.data() + i, j - i);
    if (j == value.size()) break;
    const unsigned char c = static_cast<unsigned char>(value[j]);
    if (c >= 0x80) {
      i = j + AppendUtf8OrReplacement(value, j, out);
      continue;
    }
    i = j + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        // Only control characters are left here (plain bytes were copied above).
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xF]);
    }
  }
  out->push_back('"');
}

void AppendRfc3339Micros(int64_t unix_us, std::string* out) {
  char buf[kRfc3339MicrosLen];
  out->append(buf, FormatRfc3339Micros(unix_us, buf));
}

namespace {

// Writes `value` as exactly `width` decimal digits at `p` (value < 10^width).
char* PutDigits(char* p, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return p + width;
}

size_t FormatRfc3339Micros(int64_t unix_us, char* buf) {
  using namespace std::chrono;
  // 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z in microseconds.
  constexpr int64_t kMinUs = -62167219200LL * 1000000;
  constexpr int64_t kMaxUs = 253402300800LL * 1000000 - 1;
  unix_us = std::clamp(unix_us, kMinUs, kMaxUs);

  const sys_time<microseconds> t{microseconds{unix_us}};
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<microseconds> tod{t - day};
  // The clamp keeps every part in range: year 0..9999, the rest non-negative.
  char* p = PutDigits(buf, static_cast<unsigned>(static_cast<int>(ymd.year())), 4);
  *p++ = '-';
  p = PutDigits(p, static_cast<unsigned>(ymd.month()), 2);
  *p++ = '-';
  p = PutDigits(p, static_cast<unsigned>(ymd.day()), 2);
  *p++ = 'T';
  p = PutDigits(p, static_cast<unsigned>(tod.hours().count()), 2);
  *p++ = ':';
  p = PutDigits(p, static_cast<unsigned>(tod.minutes().count()), 2);
  *p++ = ':';
  p = PutDigits(p, static_cast<unsigned>(tod.seconds().count()), 2);
  *p++ = '.';
  p = PutDigits(p, static_cast<unsigned>(tod.subseconds().count()), 6);
  *p++ = 'Z';
  return static_cast<size_t>(p - buf);
}

}  // namespace

int ServiceEventSeverity(std::string_view severity) {
  if (severity == "info") return 3;
  if (severity == "warning") return 6;
  if (severity == "error") return 8;
  return 5;
}

namespace {

// Opens a record's object with its "@timestamp" (the detection time).
void BeginRecord(const iocd::hit::Hit& hit, JsonWriter* w) {
  w->BeginObject();
  TimeField(w, "@timestamp", hit.detected_unix_us());
}

// A service event (docs/hits.md#service-events): ECS event.kind "alert" for warnings and
// errors, "event" otherwise; event.action is the kind, log.level the severity's name.
std::string FormatServiceEventJson(const iocd::hit::Hit& hit) {
  const iocd::hit::ServiceEvent& ev = hit.service_event();
  std::string out;
  out.reserve(256 + ev.message().size());
  JsonWriter w(&out);
  BeginRecord(hit, &w);
  w.Key("event");
  w.BeginObject();
  w.Field("kind", ev.severity() == "warning" || ev.severity() == "error" ? "alert" : "event");
  w.Field("category", "host");
  w.Field("action", ev.kind());
  w.Field("id", hit.id());
  w.Number("severity", static_cast<uint64_t>(ServiceEventSeverity(ev.severity())));
  w.EndObject();
  w.Key("log");
  w.BeginObject();
  w.Field("level", ev.severity());
  w.EndObject();
  w.Field("message", ev.message());
  w.Key("iocd");
  w.BeginObject();
  w.Key("service");
  w.BeginObject();
  w.Field("subject", ev.subject());
  w.Key("details");
  WriteContext(ev.details(), &w);
  w.EndObject();
  w.EndObject();
  w.Key("observer");
  w.BeginObject();
  w.Field("vendor", "iocd");
  w.Field("product", "iocd");
  w.EndObject();
  w.EndObject();
  return out;
}

}  // namespace

bool HasSuppression(const iocd::hit::Hit& hit) { return hit.count() > 1 || hit.summary(); }

std::string FormatHitJson(const iocd::hit::Hit& hit) {
  std::string out;
  AppendHitJson(hit, &out);
  return out;
}

void AppendHitJson(const iocd::hit::Hit& hit, std::string* out) {
  if (!hit.service_event().kind().empty()) {
    out->append(FormatServiceEventJson(hit));
    return;
  }
  out->reserve(out->size() + 256 + hit.raw_event().size() + 128 * static_cast<size_t>(hit.enrichments_size()));
  JsonWriter w(out);
  BeginRecord(hit, &w);

  w.Key("event");
  w.BeginObject();
  w.Field("kind", "enrichment");
  w.Field("id", hit.id());
  w.Field("original", hit.raw_event());
  if (hit.event_unix_us() != 0) TimeField(&w, "start", hit.event_unix_us());
  w.EndObject();

  w.Key("iocd");
  w.BeginObject();
  w.Field("input", hit.input());
  if (!hit.rule_set().empty()) w.Field("rule_set", hit.rule_set());
  if (hit.event_context_size() > 0) {
    w.Key("event_context");  // the source's context rules (docs/rules.md)
    WriteContext(hit.event_context(), &w);
  }
  if (hit.raw_event_size() != 0 && hit.raw_event_size() != hit.raw_event().size()) w.Number("original_size", hit.raw_event_size());
  if (hit.retro()) {
    w.Key("retro");
    w.Raw("true");
  }
  if (HasSuppression(hit)) {
    w.Key("suppression");
    w.BeginObject();
    w.Number("count", hit.count());
    w.Key("summary");
    w.Raw(hit.summary() ? "true" : "false");
    if (hit.window_start_unix_us() != 0) TimeField(&w, "window_start", hit.window_start_unix_us());
    w.EndObject();
  }
  w.EndObject();

  w.Key("log");
  w.BeginObject();
  w.Key("source");
  w.BeginObject();
  w.Field("address", hit.sender());
  w.EndObject();
  if (!hit.syslog_host().empty() || !hit.syslog_app().empty()) {
    w.Key("syslog");
    w.BeginObject();
    if (!hit.syslog_host().empty()) w.Field("hostname", hit.syslog_host());
    if (!hit.syslog_app().empty()) w.Field("appname", hit.syslog_app());
    w.EndObject();
  }
  w.EndObject();

  w.Key("threat");
  w.BeginObject();
  w.Key("enrichments");
  w.BeginArray();
  for (const auto& e : hit.enrichments()) {
    w.BeginObject();
    w.Key("feed");
    w.BeginObject();
    w.Field("name", e.feed());
    w.EndObject();
    w.Key("indicator");
    w.BeginObject();
    w.Field("type", e.indicator_type());
    w.Field("name", e.indicator());
    if (e.has_confidence()) w.Number("confidence", e.confidence());
    if (e.tags_size() > 0) {
      w.Key("tags");
      w.BeginArray();
      for (const auto& tag : e.tags()) w.String(tag);
      w.EndArray();
    }
    if (e.first_seen_unix_ms() != 0) TimeField(&w, "first_seen", e.first_seen_unix_ms() * 1000);
    if (e.last_seen_unix_ms() != 0) TimeField(&w, "last_seen", e.last_seen_unix_ms() * 1000);
    if (!e.reference().empty()) w.Field("reference", e.reference());
    if (!e.threat().empty()) w.Field("description", e.threat());
    w.Key("context");
    WriteContext(e.context(), &w);
    w.EndObject();
    // ECS repeats what matched inside every enrichment.
    w.Key("matched");
    w.BeginObject();
    w.Field("atomic", hit.observable());
    w.Field("field", hit.field());
    w.Field("type", hit.observable_type());
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();

  w.EndObject();
}

}  // namespace iocd
