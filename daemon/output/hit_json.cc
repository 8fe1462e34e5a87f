#include "output/hit_json.h"

#include "output/text_escape.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
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
    out_->append(std::to_string(value));
  }

 private:
  // Emits the ',' needed before a value or key, unless it directly follows a key.
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_->push_back(',');
      first_.back() = false;
    }
  }
  void Open(char c) {
    Separate();
    out_->push_back(c);
    first_.push_back(true);
  }
  void Close(char c) {
    out_->push_back(c);
    first_.pop_back();
  }

  std::string* out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

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
  AppendValidUtf8(value, out, [&](unsigned char c) {
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
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xF]);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  });
  out->push_back('"');
}

void AppendRfc3339Micros(int64_t unix_us, std::string* out) {
  using namespace std::chrono;
  // 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z in microseconds.
  constexpr int64_t kMinUs = -62167219200LL * 1000000;
  constexpr int64_t kMaxUs = 253402300800LL * 1000000 - 1;
  unix_us = std::clamp(unix_us, kMinUs, kMaxUs);

  const sys_time<microseconds> t{microseconds{unix_us}};
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<microseconds> tod{t - day};
  char buf[40];
  const int n = std::snprintf(
      buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", static_cast<int>(ymd.year()),
      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
      static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
      static_cast<int>(tod.seconds().count()), static_cast<int>(tod.subseconds().count()));
  out->append(buf, static_cast<size_t>(n));
}

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
  std::string timestamp;
  AppendRfc3339Micros(hit.detected_unix_us(), &timestamp);
  w->Field("@timestamp", timestamp);
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
  if (!hit.service_event().kind().empty()) return FormatServiceEventJson(hit);
  std::string out;
  out.reserve(256 + hit.raw_event().size() + 128 * static_cast<size_t>(hit.enrichments_size()));
  JsonWriter w(&out);
  BeginRecord(hit, &w);

  w.Key("event");
  w.BeginObject();
  w.Field("kind", "enrichment");
  w.Field("id", hit.id());
  w.Field("original", hit.raw_event());
  if (hit.event_unix_us() != 0) {
    std::string start;
    AppendRfc3339Micros(hit.event_unix_us(), &start);
    w.Field("start", start);
  }
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
    if (hit.window_start_unix_us() != 0) {
      std::string start;
      AppendRfc3339Micros(hit.window_start_unix_us(), &start);
      w.Field("window_start", start);
    }
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
    if (e.first_seen_unix_ms() != 0) {
      std::string t;
      AppendRfc3339Micros(e.first_seen_unix_ms() * 1000, &t);
      w.Field("first_seen", t);
    }
    if (e.last_seen_unix_ms() != 0) {
      std::string t;
      AppendRfc3339Micros(e.last_seen_unix_ms() * 1000, &t);
      w.Field("last_seen", t);
    }
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
  return out;
}

}  // namespace iocd
