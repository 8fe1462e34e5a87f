#include "output/hit_format.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>
#include <vector>

#include "output/hit_json.h"
#include "output/text_escape.h"

namespace iocd {
namespace {

using iocd::hit::Enrichment;
using iocd::hit::Hit;

constexpr char kVendor[] = "iocd";
constexpr char kProduct[] = "iocd";
constexpr char kVersion[] = "1.0";
constexpr char kTruncatedMark[] = "[truncated]";
// RFC 5612 documentation enterprise number: iocd has no IANA number of its own.
constexpr char kSdSuffix[] = "@32473";

// The raw event as rendered: cut to max_bytes at a UTF-8 boundary and marked.
std::string_view RawEvent(const Hit& hit, uint32_t max_bytes, std::string* storage) {
  if (max_bytes == 0 || hit.raw_event().size() <= max_bytes) return hit.raw_event();
  *storage = std::string(Utf8Prefix(hit.raw_event(), max_bytes));
  *storage += kTruncatedMark;
  return *storage;
}

std::optional<uint32_t> MaxConfidence(const Hit& hit) {
  std::optional<uint32_t> best;
  for (const auto& e : hit.enrichments()) {
    if (e.has_confidence() && (!best || e.confidence() > *best)) best = e.confidence();
  }
  return best;
}

// The first non-empty threat among the enrichments (most specific first).
std::string_view Threat(const Hit& hit) {
  for (const auto& e : hit.enrichments()) {
    if (!e.threat().empty()) return e.threat();
  }
  return {};
}

std::string Joined(const Hit& hit, const std::string& (Enrichment::*get)() const) {
  std::string out;
  for (const auto& e : hit.enrichments()) {
    const std::string& v = (e.*get)();
    if (v.empty()) continue;
    // Distinct values only, in order.
    bool seen = false;
    for (const auto& prev : hit.enrichments()) {
      if (&prev == &e) break;
      if ((prev.*get)() == v) seen = true;
    }
    if (seen) continue;
    if (!out.empty()) out.push_back(',');
    out += v;
  }
  return out;
}

using ContextFields = google::protobuf::RepeatedPtrField<iocd::store::ContextField>;

// "k=v; k=v".
std::string JoinedFields(const ContextFields& fields) {
  std::string out;
  for (const auto& c : fields) {
    if (!out.empty()) out += "; ";
    out += c.key();
    out.push_back('=');
    out += c.value();
  }
  return out;
}

// The first enrichment's context as "k=v; k=v".
std::string ContextText(const Hit& hit) {
  return hit.enrichments_size() == 0 ? std::string() : JoinedFields(hit.enrichments(0).context());
}

bool IsService(const Hit& hit) { return !hit.service_event().kind().empty(); }

// The signature id of a service event kind: CyberTrace's KL_ALERT_* names where it has
// one, otherwise "KL_ALERT_" + the kind in CamelCase ("output_backlog_high" ->
// "KL_ALERT_OutputBacklogHigh").
std::string SignatureId(std::string_view kind) {
  static constexpr std::pair<std::string_view, std::string_view> kKnown[] = {
      {"started", "ServiceStarted"},
      {"stopped", "ServiceStopped"},
      {"feed_updated", "UpdatedFeed"},
      {"feed_failed", "FailedToUpdateFeed"},
      {"feed_outdated", "OutdatedFeed"},
  };
  std::string out = "KL_ALERT_";
  for (const auto& [k, name] : kKnown) {
    if (k == kind) return out += name;
  }
  bool upper = true;
  for (char c : kind) {
    if (c == '_' || c == '-' || c == ' ') {
      upper = true;
      continue;
    }
    out.push_back(upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
    upper = false;
  }
  return out;
}

std::string Rfc3339(int64_t unix_us) {
  std::string s;
  AppendRfc3339Micros(unix_us, &s);
  return s;
}

const Enrichment& FirstOrEmpty(const Hit& hit) {
  return hit.enrichments_size() > 0 ? hit.enrichments(0) : Enrichment::default_instance();
}

class JsonFormatter final : public HitFormatter {
 public:
  explicit JsonFormatter(uint32_t max_raw) : max_raw_(max_raw) {}
  void Format(const Hit& hit, std::string* out) const override {
    if (max_raw_ == 0 || hit.raw_event().size() <= max_raw_) {
      AppendHitJson(hit, out);
      return;
    }
    Hit copy = hit;
    std::string storage;
    copy.set_raw_event(std::string(RawEvent(hit, max_raw_, &storage)));
    if (copy.raw_event_size() == 0) copy.set_raw_event_size(hit.raw_event().size());
    AppendHitJson(copy, out);
  }

 private:
  uint32_t max_raw_;
};

// Appends "key=value" pairs separated by one space or a delimiter, escaping each value.
class Extensions {
 public:
  Extensions(std::string* out, char separator, void (*escape)(std::string_view, char, std::string*), char escape_arg)
      : out_(out), separator_(separator), escape_(escape), escape_arg_(escape_arg) {}
  void operator()(std::string_view key, std::string_view value) {
    if (!first_) out_->push_back(separator_);
    first_ = false;
    out_->append(key);
    out_->push_back('=');
    escape_(value, escape_arg_, out_);
  }

 private:
  std::string* out_;
  char separator_;
  void (*escape_)(std::string_view, char, std::string*);
  char escape_arg_;
  bool first_ = true;
};

void CefValue(std::string_view value, char, std::string* out) { AppendCefValue(value, out); }

class CefFormatter final : public HitFormatter {
 public:
  explicit CefFormatter(uint32_t max_raw) : max_raw_(max_raw) {}
  void Format(const Hit& hit, std::string* out) const override {
    if (IsService(hit)) return FormatService(hit, out);
    const std::optional<uint32_t> confidence = MaxConfidence(hit);
    const uint32_t severity = confidence ? std::min<uint32_t>(10, (*confidence + 5) / 10) : 5;
    Header(hit.observable_type(), "Indicator match: " + hit.observable(), severity, out);
    Extensions ext(out, ' ', CefValue, 0);
    const Enrichment& e0 = FirstOrEmpty(hit);
    ext("rt", std::to_string(hit.detected_unix_us() / 1000));
    if (hit.event_unix_us() != 0) ext("start", std::to_string(hit.event_unix_us() / 1000));
    ext("externalId", hit.id());
    if (std::string_view threat = Threat(hit); !threat.empty()) ext("cat", threat);
    if (!hit.syslog_host().empty()) ext("dvchost", hit.syslog_host());
    if (!hit.syslog_app().empty()) ext("deviceProcessName", hit.syslog_app());
    ext("deviceInboundInterface", hit.input());
    ext("cs1Label", "observable");
    ext("cs1", hit.observable());
    ext("cs2Label", "field");
    ext("cs2", hit.field());
    ext("cs3Label", "feeds");
    ext("cs3", Joined(hit, &Enrichment::feed));
    ext("cs4Label", "indicator");
    ext("cs4", e0.indicator());
    ext("cs5Label", "indicatorType");
    ext("cs5", e0.indicator_type());
    ext("cs6Label", "context");
    ext("cs6", ContextText(hit));
    if (hit.event_context_size() > 0) {
      ext("flexString1Label", "ruleContext");
      ext("flexString1", JoinedFields(hit.event_context()));
    }
    if (confidence) {
      ext("cn1Label", "confidence");
      ext("cn1", std::to_string(*confidence));
    }
    ext("flexString1Label", "sender");
    ext("flexString1", hit.sender());
    if (hit.retro()) {
      ext("flexString2Label", "retro");
      ext("flexString2", "true");
    }
    if (HasSuppression(hit)) {
      ext("cnt", std::to_string(hit.count()));
      if (hit.summary()) {
        ext("cn2Label", "summary");
        ext("cn2", "1");
      }
      if (hit.window_start_unix_us() != 0) {
        ext("deviceCustomDate1Label", "windowStart");
        ext("deviceCustomDate1", std::to_string(hit.window_start_unix_us() / 1000));
      }
    }
    std::string storage;
    ext("msg", RawEvent(hit, max_raw_, &storage));
  }

 private:
  static void Header(std::string_view signature, std::string_view name, int severity, std::string* out) {
    out->append("CEF:0|");
    for (std::string_view field : {std::string_view(kVendor), std::string_view(kProduct), std::string_view(kVersion),
                                   signature, name}) {
      AppendCefHeader(field, out);
      out->push_back('|');
    }
    out->append(std::to_string(severity));
    out->push_back('|');
  }

  // Signature id KL_ALERT_*, name the event's message (its kind when empty).
  static void FormatService(const Hit& hit, std::string* out) {
    const iocd::hit::ServiceEvent& ev = hit.service_event();
    Header(SignatureId(ev.kind()), ev.message().empty() ? ev.kind() : ev.message(),
           ServiceEventSeverity(ev.severity()), out);
    Extensions ext(out, ' ', CefValue, 0);
    ext("rt", std::to_string(hit.detected_unix_us() / 1000));
    if (!hit.id().empty()) ext("externalId", hit.id());
    ext("cat", "service");
    ext("act", ev.kind());
    ext("cs1Label", "subject");
    ext("cs1", ev.subject());
    ext("cs2Label", "severity");
    ext("cs2", ev.severity());
    ext("cs3Label", "details");
    ext("cs3", JoinedFields(ev.details()));
    ext("msg", ev.message());
  }

  uint32_t max_raw_;
};

class LeefFormatter final : public HitFormatter {
 public:
  LeefFormatter(uint32_t max_raw, char delimiter, std::string delimiter_text)
      : max_raw_(max_raw), delim_(delimiter), delim_text_(std::move(delimiter_text)) {}
  void Format(const Hit& hit, std::string* out) const override {
    if (IsService(hit)) return FormatService(hit, out);
    Header(hit.observable_type(), out);
    Extensions attr(out, delim_, AppendLeefValue, delim_);
    Time(hit, attr);
    const std::optional<uint32_t> confidence = MaxConfidence(hit);
    attr("sev", std::to_string(confidence ? std::max<uint32_t>(1, std::min<uint32_t>(10, (*confidence + 5) / 10)) : 5));
    if (std::string_view threat = Threat(hit); !threat.empty()) attr("cat", threat);
    attr("hitId", hit.id());
    attr("observable", hit.observable());
    attr("observableType", hit.observable_type());
    attr("field", hit.field());
    const Enrichment& e0 = FirstOrEmpty(hit);
    attr("feed", Joined(hit, &Enrichment::feed));
    attr("indicator", e0.indicator());
    attr("indicatorType", e0.indicator_type());
    if (confidence) attr("confidence", std::to_string(*confidence));
    attr("context", ContextText(hit));
    if (hit.event_context_size() > 0) attr("ruleContext", JoinedFields(hit.event_context()));
    attr("input", hit.input());
    attr("sender", hit.sender());
    if (!hit.syslog_host().empty()) attr("syslogHost", hit.syslog_host());
    if (!hit.syslog_app().empty()) attr("syslogApp", hit.syslog_app());
    if (hit.event_unix_us() != 0) attr("eventTime", Rfc3339(hit.event_unix_us()));
    if (hit.retro()) attr("retro", "true");
    if (HasSuppression(hit)) {
      attr("count", std::to_string(hit.count()));
      if (hit.summary()) attr("summary", "true");
      if (hit.window_start_unix_us() != 0) attr("windowStart", Rfc3339(hit.window_start_unix_us()));
    }
    std::string storage;
    attr("rawEvent", RawEvent(hit, max_raw_, &storage));
  }

 private:
  void Header(std::string_view event_id, std::string* out) const {
    out->append("LEEF:2.0|");
    for (std::string_view field : {std::string_view(kVendor), std::string_view(kProduct), std::string_view(kVersion),
                                   event_id}) {
      AppendLeefHeader(field, out);
      out->push_back('|');
    }
    out->append(delim_text_);
    out->push_back('|');
  }

  // LEEF's devTime with an explicit pattern: millisecond precision, UTC.
  static void Time(const Hit& hit, Extensions& attr) {
    std::string t = Rfc3339(hit.detected_unix_us());
    t.erase(t.size() - 4, 3);  // "...47.123456Z" -> "...47.123Z"
    attr("devTime", t);
    attr("devTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSX");
  }

  // Event id KL_ALERT_*.
  void FormatService(const Hit& hit, std::string* out) const {
    const iocd::hit::ServiceEvent& ev = hit.service_event();
    Header(SignatureId(ev.kind()), out);
    Extensions attr(out, delim_, AppendLeefValue, delim_);
    Time(hit, attr);
    attr("sev", std::to_string(ServiceEventSeverity(ev.severity())));
    attr("cat", "service");
    if (!hit.id().empty()) attr("hitId", hit.id());
    attr("action", ev.kind());
    attr("severity", ev.severity());
    attr("subject", ev.subject());
    attr("details", JoinedFields(ev.details()));
    attr("msg", ev.message());
  }

  uint32_t max_raw_;
  char delim_;
  std::string delim_text_;
};

// HOSTNAME / APP-NAME of the header: printable US-ASCII, bounded, "-" when empty.
std::string HeaderToken(std::string_view value, size_t max_len) {
  std::string out;
  for (char c : value) {
    if (out.size() == max_len) break;
    out.push_back(c > 32 && c < 127 ? c : '_');
  }
  return out.empty() ? "-" : out;
}

class Rfc5424Formatter final : public HitFormatter {
 public:
  Rfc5424Formatter(uint32_t max_raw, std::string hostname, std::string app)
      : max_raw_(max_raw), hostname_(HeaderToken(hostname, 255)), app_(HeaderToken(app, 48)) {}
  void Format(const Hit& hit, std::string* out) const override {
    if (IsService(hit)) return FormatService(hit, out);
    // PRI 132: facility local0 (16), severity warning (4).
    Header(132, hit, "hit", out);
    auto param = [&](std::string_view name, std::string_view value) { Param(name, value, out); };
    out->append("[iocd");
    out->append(kSdSuffix);
    param("id", hit.id());
    param("observable", hit.observable());
    param("type", hit.observable_type());
    param("field", hit.field());
    param("input", hit.input());
    param("sender", hit.sender());
    if (hit.event_unix_us() != 0) param("eventTime", Rfc3339(hit.event_unix_us()));
    if (!hit.syslog_host().empty()) param("syslogHost", hit.syslog_host());
    if (!hit.syslog_app().empty()) param("syslogApp", hit.syslog_app());
    if (!hit.rule_set().empty()) param("ruleSet", hit.rule_set());
    for (const auto& c : hit.event_context()) param("rule." + c.key(), c.value());
    if (hit.retro()) param("retro", "true");
    if (HasSuppression(hit)) {
      param("count", std::to_string(hit.count()));
      if (hit.summary()) param("summary", "true");
      if (hit.window_start_unix_us() != 0) param("windowStart", Rfc3339(hit.window_start_unix_us()));
    }
    out->push_back(']');
    for (int i = 0; i < hit.enrichments_size(); ++i) {
      const Enrichment& e = hit.enrichments(i);
      out->append("[enrichment");
      out->append(std::to_string(i + 1));
      out->append(kSdSuffix);
      param("feed", e.feed());
      param("indicator", e.indicator());
      param("type", e.indicator_type());
      if (e.has_confidence()) param("confidence", std::to_string(e.confidence()));
      if (!e.threat().empty()) param("threat", e.threat());
      if (!e.reference().empty()) param("reference", e.reference());
      if (e.first_seen_unix_ms() != 0) param("firstSeen", Rfc3339(e.first_seen_unix_ms() * 1000));
      if (e.last_seen_unix_ms() != 0) param("lastSeen", Rfc3339(e.last_seen_unix_ms() * 1000));
      for (const auto& tag : e.tags()) param("tag", tag);
      for (const auto& c : e.context()) param("ctx." + c.key(), c.value());
      out->push_back(']');
    }
    out->push_back(' ');
    std::string storage;
    AppendEscaped(RawEvent(hit, max_raw_, &storage), "", /*keep_tab=*/true, out);
  }

 private:
  void Header(int pri, const Hit& hit, std::string_view msgid, std::string* out) const {
    out->push_back('<');
    out->append(std::to_string(pri));
    out->append(">1 ");
    AppendRfc3339Micros(hit.detected_unix_us(), out);
    out->push_back(' ');
    out->append(hostname_);
    out->push_back(' ');
    out->append(app_);
    out->append(" - ");
    out->append(msgid);
    out->push_back(' ');
  }

  static void Param(std::string_view name, std::string_view value, std::string* out) {
    out->push_back(' ');
    out->append(SdName(name));
    out->append("=\"");
    AppendSdParamValue(value, out);
    out->push_back('"');
  }

  // MSGID "service", SD-ID iocdService, the message as MSG; PRI local0 with the event's
  // severity (info 6, warning 4, error 3, otherwise notice 5).
  void FormatService(const Hit& hit, std::string* out) const {
    const iocd::hit::ServiceEvent& ev = hit.service_event();
    const int severity = ev.severity() == "info" ? 6 : ev.severity() == "warning" ? 4 : ev.severity() == "error" ? 3 : 5;
    Header(128 + severity, hit, "service", out);
    out->append("[iocdService");
    out->append(kSdSuffix);
    if (!hit.id().empty()) Param("id", hit.id(), out);
    Param("kind", ev.kind(), out);
    Param("severity", ev.severity(), out);
    Param("subject", ev.subject(), out);
    for (const auto& d : ev.details()) Param("detail." + d.key(), d.value(), out);
    out->append("] ");
    AppendEscaped(ev.message(), "", /*keep_tab=*/true, out);
  }

  uint32_t max_raw_;
  std::string hostname_;
  std::string app_;
};

class TemplateFormatter final : public HitFormatter {
 public:
  using Segment = LineTemplateSegment;
  TemplateFormatter(uint32_t max_raw, std::vector<Segment> segments)
      : max_raw_(max_raw), segments_(std::move(segments)) {}

  void Format(const Hit& hit, std::string* out) const override {
    for (const Segment& s : segments_) {
      if (!s.placeholder) {
        out->append(s.text);
      } else {
        AppendValue(hit, s.text, out);
      }
    }
  }

 private:
  void AppendValue(const Hit& hit, const std::string& name, std::string* out) const {
    const Enrichment& e0 = FirstOrEmpty(hit);
    auto put = [&](std::string_view v) { AppendEscaped(v, "", /*keep_tab=*/true, out); };
    const iocd::hit::ServiceEvent& ev = hit.service_event();
    if (name == "Date") return put(Rfc3339(hit.detected_unix_us()));
    if (name == "Category") {
      // A service event's category is its signature id, as in CyberTrace.
      if (IsService(hit)) return put(SignatureId(ev.kind()));
      return put(e0.feed());
    }
    if (name == "MatchedIndicator") return put(hit.observable());
    if (name == "SourceId") return put(!hit.syslog_host().empty() ? hit.syslog_host() : hit.sender());
    if (name == "RecordContext") {
      out->push_back('{');
      bool first = true;
      for (const auto& c : e0.context()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(c.key(), out);
        out->push_back(':');
        AppendJsonString(c.value(), out);
      }
      out->push_back('}');
      return;
    }
    if (name == "HitId") return put(hit.id());
    if (name == "Feed") return put(Joined(hit, &Enrichment::feed));
    if (name == "Indicator") return put(e0.indicator());
    if (name == "IndicatorType") return put(e0.indicator_type());
    if (name == "ObservableType") return put(hit.observable_type());
    if (name == "Field") return put(hit.field());
    if (name == "Threat") return put(Threat(hit));
    if (name == "Reference") return put(e0.reference());
    if (name == "Confidence") {
      if (auto c = MaxConfidence(hit)) put(std::to_string(*c));
      return;
    }
    if (name == "Tags") {
      std::string tags;
      for (const auto& t : e0.tags()) tags += (tags.empty() ? "" : ",") + t;
      return put(tags);
    }
    if (name == "Input") return put(hit.input());
    if (name == "Sender") return put(hit.sender());
    if (name == "Host") return put(hit.syslog_host());
    if (name == "App") return put(hit.syslog_app());
    if (name == "EventTime") {
      if (hit.event_unix_us() != 0) put(Rfc3339(hit.event_unix_us()));
      return;
    }
    if (name == "Retro") return put(hit.retro() ? "true" : "false");
    if (name == "RawEvent") {
      std::string storage;
      return put(RawEvent(hit, max_raw_, &storage));
    }
    if (name == "ServiceEvent") return put(ev.kind());
    if (name == "Subject") return put(ev.subject());
    if (name == "Message") return put(ev.message());
    if (name == "Severity") return put(ev.severity());
    if (name == "Details") return put(JoinedFields(ev.details()));
    // Every hit stands for at least one sighting.
    if (name == "Count") return put(std::to_string(std::max<uint64_t>(1, hit.count())));
    if (name == "Summary") return put(hit.summary() ? "true" : "false");
    if (name == "WindowStart") {
      if (hit.window_start_unix_us() != 0) put(Rfc3339(hit.window_start_unix_us()));
      return;
    }
    // A source's context rule by its name (%<RuleName>%, docs/rules.md).
    for (const auto& c : hit.event_context()) {
      if (c.key() == name) return put(c.value());
    }
    // Any other name is a context field of the first enrichment: exact key first, then
    // ignoring case. Absent: empty.
    const google::protobuf::RepeatedPtrField<iocd::store::ContextField>& ctx = e0.context();
    for (const auto& c : ctx) {
      if (c.key() == name) return put(c.value());
    }
    for (const auto& c : ctx) {
      if (std::equal(c.key().begin(), c.key().end(), name.begin(), name.end(),
                     [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) ==
                                                 std::tolower(static_cast<unsigned char>(b)); })) {
        return put(c.value());
      }
    }
  }

  uint32_t max_raw_;
  std::vector<Segment> segments_;
};

std::string LocalHostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "-";
  return buf;
}

}  // namespace

void AppendCefHeader(std::string_view value, std::string* out) { AppendEscaped(value, "\\|", true, out); }
void AppendCefValue(std::string_view value, std::string* out) { AppendEscaped(value, "\\=", true, out); }
void AppendLeefHeader(std::string_view value, std::string* out) { AppendEscaped(value, "\\|", true, out); }
void AppendLeefValue(std::string_view value, char delimiter, std::string* out) {
  if (delimiter == '\t') {
    // A raw tab would split the value; it becomes a space like other control characters.
    AppendEscaped(value, "\\", /*keep_tab=*/false, out);
    return;
  }
  const char specials[] = {'\\', delimiter};
  AppendEscaped(value, std::string_view(specials, 2), /*keep_tab=*/true, out);
}
void AppendSdParamValue(std::string_view value, std::string* out) { AppendEscaped(value, "\"\\]", true, out); }

std::string SdName(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (out.size() == 32) break;
    const bool ok = c > 32 && c < 127 && c != '=' && c != ']' && c != '"';
    out.push_back(ok ? c : '_');
  }
  return out.empty() ? "_" : out;
}

Result<std::unique_ptr<HitFormatter>> MakeHitFormatter(const iocd::config::Output& config) {
  const uint32_t max_raw = config.raw_event_max_bytes();
  switch (config.format()) {
    case iocd::config::OUTPUT_FORMAT_UNSPECIFIED:
    case iocd::config::OUTPUT_FORMAT_JSON:
      return std::unique_ptr<HitFormatter>(std::make_unique<JsonFormatter>(max_raw));
    case iocd::config::OUTPUT_FORMAT_CEF:
      return std::unique_ptr<HitFormatter>(std::make_unique<CefFormatter>(max_raw));
    case iocd::config::OUTPUT_FORMAT_LEEF: {
      const std::string text = config.leef_delimiter().empty() ? "x09" : config.leef_delimiter();
      Result<char> d = ParseLeefDelimiter(text);
      if (!d.ok()) return Status::InvalidArgument("leef_delimiter " + d.status().message());
      return std::unique_ptr<HitFormatter>(std::make_unique<LeefFormatter>(max_raw, *d, text));
    }
    case iocd::config::OUTPUT_FORMAT_RFC5424:
      return std::unique_ptr<HitFormatter>(std::make_unique<Rfc5424Formatter>(
          max_raw, config.syslog_hostname().empty() ? LocalHostName() : config.syslog_hostname(),
          config.syslog_app_name().empty() ? "iocd" : config.syslog_app_name()));
    case iocd::config::OUTPUT_FORMAT_TEMPLATE: {
      if (config.line_template().empty()) {
        return Status::InvalidArgument("line_template is required for format template");
      }
      auto segments = ParseLineTemplate(config.line_template());
      if (!segments.ok()) return Status::InvalidArgument("line_template: " + segments.status().message());
      return std::unique_ptr<HitFormatter>(std::make_unique<TemplateFormatter>(max_raw, std::move(segments).value()));
    }
    default:
      return Status::InvalidArgument("unknown format " + std::to_string(config.format()));
  }
}

}  // namespace iocd
