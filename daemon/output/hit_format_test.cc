#include "output/hit_format.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>

#include "output/text_escape.h"

namespace iocd {
namespace {

#define FFFD "\xEF\xBF\xBD"

std::string Cef(std::string_view v) {
  std::string out;
  AppendCefValue(v, &out);
  return out;
}
std::string CefHeader(std::string_view v) {
  std::string out;
  AppendCefHeader(v, &out);
  return out;
}
std::string Leef(std::string_view v, char d) {
  std::string out;
  AppendLeefValue(v, d, &out);
  return out;
}
std::string Sd(std::string_view v) {
  std::string out;
  AppendSdParamValue(v, &out);
  return out;
}

// The examples of the CEF specification (ArcSight "Implementing ArcSight CEF", character
// encoding section): pipes and backslashes in the header, equal signs and backslashes in
// extension values, and multi-line values written with \n.
TEST(CefEscapingTest, SpecExamples) {
  EXPECT_EQ(CefHeader("detected a | in message"), "detected a \\| in message");
  EXPECT_EQ(CefHeader("detected a \\ in packet"), "detected a \\\\ in packet");
  EXPECT_EQ(CefHeader("a=b"), "a=b");  // '=' needs no escape in the header
  EXPECT_EQ(Cef("blocked a = sign"), "blocked a \\= sign");
  EXPECT_EQ(Cef("c:\\program files"), "c:\\\\program files");
  EXPECT_EQ(Cef("Detected a threat.\nNo action needed."), "Detected a threat.\\nNo action needed.");
  EXPECT_EQ(Cef("a|b"), "a|b");  // '|' needs no escape in extensions
  EXPECT_EQ(Cef("cr\rlf"), "cr\\rlf");
}

TEST(LeefEscapingTest, DelimiterBackslashAndLineBreaks) {
  EXPECT_EQ(Leef("a^b\\c=d", '^'), "a\\^b\\\\c=d");
  EXPECT_EQ(Leef("tab\there", '\t'), "tab here");  // a tab value cannot hold a raw tab
  EXPECT_EQ(Leef("tab\there", '^'), "tab\there");
  EXPECT_EQ(Leef("l1\nl2", '^'), "l1\\nl2");
  std::string header;
  AppendLeefHeader("Ven|dor\\", &header);
  EXPECT_EQ(header, "Ven\\|dor\\\\");
}

// RFC 5424 section 6.3.3: '"', '\' and ']' MUST be escaped in PARAM-VALUE; a backslash
// before any other character is kept as is by receivers.
TEST(Rfc5424EscapingTest, ParamValueAndNames) {
  EXPECT_EQ(Sd("say \"hi\""), "say \\\"hi\\\"");
  EXPECT_EQ(Sd("C:\\dir"), "C:\\\\dir");
  EXPECT_EQ(Sd("[x]"), "[x\\]");
  EXPECT_EQ(Sd("a=b|c"), "a=b|c");
  EXPECT_EQ(Sd("caf\xC3\xA9 \xFF"), "caf\xC3\xA9 " FFFD);
  EXPECT_EQ(SdName("threat"), "threat");
  EXPECT_EQ(SdName("a b=c]d\"e"), "a_b_c_d_e");
  EXPECT_EQ(SdName(""), "_");
  EXPECT_EQ(SdName("caf\xC3\xA9"), "caf__");
  EXPECT_EQ(SdName(std::string(40, 'k')), std::string(32, 'k'));
}

TEST(TextEscapeTest, ControlsAndInvalidUtf8) {
  std::string out;
  AppendEscaped(std::string("a\0b\x7f" "c\td\xE2\x82", 9), "", /*keep_tab=*/false, &out);
  EXPECT_EQ(out, "a b c d" FFFD FFFD);
  EXPECT_EQ(Utf8Prefix("caf\xC3\xA9!", 4), "caf");
  EXPECT_EQ(Utf8Prefix("caf\xC3\xA9!", 5), "caf\xC3\xA9");
  EXPECT_EQ(Utf8Prefix("\xE2\x82\xAC\xE2\x82\xAC", 4), "\xE2\x82\xAC");
  EXPECT_EQ(Utf8Prefix("abc", 10), "abc");
}

// AppendEscaped copies runs; this is the rule it implements, byte by byte.
std::string EscapedByteByByte(std::string_view value, std::string_view specials, bool keep_tab) {
  std::string out;
  AppendValidUtf8(value, &out, [&](unsigned char c) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (specials.find(static_cast<char>(c)) != std::string_view::npos) {
      out += '\\';
      out += static_cast<char>(c);
    } else if ((c < 0x20 && !(c == '\t' && keep_tab)) || c == 0x7F) {
      out += ' ';
    } else {
      out += static_cast<char>(c);
    }
  });
  return out;
}

TEST(TextEscapeTest, RunCopiesEqualTheByteRule) {
  // Values of 0-70 bytes: mostly plain text, with every kind of byte the rule treats
  // (controls, DEL, specials, valid and broken UTF-8) at random places, including the
  // first and the last byte; every specials set the formats use; TAB kept or not.
  const std::string_view pieces[] = {"a", "Z", "0", " ", "/", ":", "\t", "\n", "\r",
                                     std::string_view("\0", 1), "\x1f", "\x7f", "|", "=",
                                     "\\", "]", "\"", "^", "\xC3\xA9", "\xE2\x82\xAC",
                                     "\xF0\x9F\x98\x80", "\xC3", "\xE2\x82", "\xFF", "\x80",
                                     "\xED\xA0\x80", "\xC0\xAF"};
  const std::string_view specials[] = {"", "\\|", "\\=", "\\", "\"\\]", "\\^", "=\t"};
  uint64_t state = 0x9E3779B97F4A7C15u;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  size_t treated_values = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string value;
    const size_t parts = next() % 40;
    for (size_t k = 0; k < parts; ++k) {
      // Three in four parts plain letters, so runs of several bytes form.
      value += next() % 4 != 0 ? std::string_view("abc") : pieces[next() % std::size(pieces)];
    }
    const std::string_view sp = specials[next() % std::size(specials)];
    const bool keep_tab = next() % 2 == 0;
    std::string out = "prefix:";
    AppendEscaped(value, sp, keep_tab, &out);
    const std::string expected = "prefix:" + EscapedByteByByte(value, sp, keep_tab);
    ASSERT_EQ(out, expected) << "value of " << value.size() << " bytes, specials \"" << sp
                             << "\", keep_tab " << keep_tab;
    if (out.size() != 7 + value.size() || out.compare(7, std::string::npos, value) != 0) {
      ++treated_values;
    }
  }
  // Most values had something to treat, so the test covered more than plain copies.
  EXPECT_GT(treated_values, 15000u);
}

// A hit whose every value needs escaping in some format.
iocd::hit::Hit NastyHit() {
  iocd::hit::Hit hit;
  hit.set_id("00065c1e2a7b3f0001a2b3c40000000007");
  hit.set_detected_unix_us(1795317947123456);  // 2026-11-22T03:25:47.123456Z
  hit.set_event_unix_us(1795317946000000);
  hit.set_input("siem|in");
  hit.set_sender("127.0.0.1:51234");
  hit.set_syslog_host("web=1");
  hit.set_syslog_app("app]x");
  hit.set_raw_event("<13>Nov 22 03:25:46 web=1 app]x: GET \"http://evil.example/a=b|c\\d]\"\nnext line caf\xC3\xA9 \xFF");
  hit.set_raw_event_size(hit.raw_event().size());
  hit.set_observable("http://evil.example/a=b|c\\d]");
  hit.set_observable_type("url");
  hit.set_field("message");
  auto* e = hit.add_enrichments();
  e->set_feed("feed|one");
  e->set_indicator("http://evil.example/a=b|c\\d]");
  e->set_indicator_type("url");
  e->set_confidence(80);
  e->add_tags("c2");
  e->set_threat("Emo\"tet\"");
  e->set_reference("https://ref.example/x?a=1");
  e->set_first_seen_unix_ms(1795000000000);
  auto* c = e->add_context();
  c->set_key("threat");
  c->set_value("Emo\"tet\"");
  c = e->add_context();
  c->set_key("note key");
  c->set_value("line1\nline2 \xE2\x9C\x93");
  auto* e2 = hit.add_enrichments();
  e2->set_feed("second");
  e2->set_indicator("evil.example");
  e2->set_indicator_type("domain");
  return hit;
}

// `hit` in `format`, with the options every golden uses.
std::string RenderHit(const iocd::hit::Hit& hit, iocd::config::OutputFormat format, const std::string& tmpl = "",
                      uint32_t max_raw = 0) {
  iocd::config::Output config;
  config.set_format(format);
  config.set_leef_delimiter("^");
  config.set_syslog_hostname("iocd-host");
  config.set_line_template(tmpl);
  config.set_raw_event_max_bytes(max_raw);
  auto f = MakeHitFormatter(config);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  std::string out;
  (*f)->Format(hit, &out);
  return out;
}

std::string Render(iocd::config::OutputFormat format, const std::string& extra_template = "", uint32_t max_raw = 0) {
  return RenderHit(NastyHit(), format, extra_template, max_raw);
}

constexpr char kTemplate[] =
    "%Date% iocd: Category=%Category% MatchedIndicator=%MatchedIndicator% SourceId=%SourceId% "
    "threat=%threat% missing=%nosuch% 100%% RecordContext=%RecordContext%";

// Goldens live in daemon/output/testdata/golden_<format>.txt (one line, no LF at the end).
// IOCD_UPDATE_GOLDEN=1 rewrites them; review the diff before committing.
void ExpectGolden(const std::string& name, const std::string& actual) {
  const char* root = std::getenv("IOCD_SOURCE_DIR");
  const std::string path =
      std::string(root != nullptr ? root : ".") + "/daemon/output/testdata/golden_" + name + ".txt";
  if (std::getenv("IOCD_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << actual;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "missing golden " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(actual, ss.str()) << "golden " << path;
  EXPECT_EQ(actual.find('\n'), std::string::npos);
  EXPECT_EQ(actual.find('\r'), std::string::npos);
}

TEST(HitFormatGoldenTest, Json) { ExpectGolden("json", Render(iocd::config::OUTPUT_FORMAT_JSON)); }
TEST(HitFormatGoldenTest, Cef) { ExpectGolden("cef", Render(iocd::config::OUTPUT_FORMAT_CEF)); }
TEST(HitFormatGoldenTest, Leef) { ExpectGolden("leef", Render(iocd::config::OUTPUT_FORMAT_LEEF)); }
TEST(HitFormatGoldenTest, Rfc5424) { ExpectGolden("rfc5424", Render(iocd::config::OUTPUT_FORMAT_RFC5424)); }
TEST(HitFormatGoldenTest, Template) {
  ExpectGolden("template", Render(iocd::config::OUTPUT_FORMAT_TEMPLATE, kTemplate));
}

// A service event whose every value needs escaping in some format.
iocd::hit::Hit NastyServiceEvent() {
  iocd::hit::Hit hit;
  hit.set_id("00065c1e2a7b3f0001a2b3c40000000008");
  hit.set_detected_unix_us(1795317947123456);
  auto* ev = hit.mutable_service_event();
  ev->set_kind("feed_failed");
  ev->set_severity("error");
  ev->set_subject("feed|one=x]");
  ev->set_message("feed 'feed|one=x]' failed: line 12: bad \"indicator\"\nnext \xFF");
  auto* d = ev->add_details();
  d->set_key("line");
  d->set_value("12");
  d = ev->add_details();
  d->set_key("reason key");
  d->set_value("bad=val|x\\]");
  return hit;
}

constexpr char kServiceTemplate[] =
    "%Date% %Category% kind=%ServiceEvent% severity=%Severity% subject=%Subject% msg=%Message% "
    "details=%Details% observable=%MatchedIndicator% count=%Count%";

TEST(ServiceEventGoldenTest, Json) {
  ExpectGolden("service_json", RenderHit(NastyServiceEvent(), iocd::config::OUTPUT_FORMAT_JSON));
}
TEST(ServiceEventGoldenTest, Cef) {
  ExpectGolden("service_cef", RenderHit(NastyServiceEvent(), iocd::config::OUTPUT_FORMAT_CEF));
}
TEST(ServiceEventGoldenTest, Leef) {
  ExpectGolden("service_leef", RenderHit(NastyServiceEvent(), iocd::config::OUTPUT_FORMAT_LEEF));
}
TEST(ServiceEventGoldenTest, Rfc5424) {
  ExpectGolden("service_rfc5424", RenderHit(NastyServiceEvent(), iocd::config::OUTPUT_FORMAT_RFC5424));
}
TEST(ServiceEventGoldenTest, Template) {
  ExpectGolden("service_template",
               RenderHit(NastyServiceEvent(), iocd::config::OUTPUT_FORMAT_TEMPLATE, kServiceTemplate));
}

TEST(ServiceEventTest, SignatureIdsPerKind) {
  const std::pair<std::string, std::string> kCases[] = {
      {"started", "KL_ALERT_ServiceStarted"},
      {"stopped", "KL_ALERT_ServiceStopped"},
      {"feed_updated", "KL_ALERT_UpdatedFeed"},
      {"feed_failed", "KL_ALERT_FailedToUpdateFeed"},
      {"feed_outdated", "KL_ALERT_OutdatedFeed"},
      {"output_backlog_high", "KL_ALERT_OutputBacklogHigh"},
      {"spool_overflow", "KL_ALERT_SpoolOverflow"},
      {"some-new kind", "KL_ALERT_SomeNewKind"},
  };
  for (const auto& [kind, id] : kCases) {
    iocd::hit::Hit hit;
    hit.mutable_service_event()->set_kind(kind);
    hit.mutable_service_event()->set_severity("info");
    EXPECT_EQ(RenderHit(hit, iocd::config::OUTPUT_FORMAT_TEMPLATE, "%Category%"), id);
    const std::string cef = RenderHit(hit, iocd::config::OUTPUT_FORMAT_CEF);
    EXPECT_TRUE(cef.starts_with("CEF:0|iocd|iocd|1.0|" + id + "|" + kind + "|3|")) << cef;
  }
}

TEST(ServiceEventTest, SeverityPerFormat) {
  iocd::hit::Hit hit;
  hit.mutable_service_event()->set_kind("started");
  for (const auto& [severity, number, pri, kind] :
       {std::tuple<std::string, std::string, std::string, std::string>{"info", "3", "<134>", "event"},
        {"warning", "6", "<132>", "alert"},
        {"error", "8", "<131>", "alert"},
        {"", "5", "<133>", "event"}}) {
    hit.mutable_service_event()->set_severity(severity);
    EXPECT_NE(RenderHit(hit, iocd::config::OUTPUT_FORMAT_CEF).find("|" + number + "|"), std::string::npos);
    EXPECT_NE(RenderHit(hit, iocd::config::OUTPUT_FORMAT_LEEF).find("^sev=" + number + "^"), std::string::npos);
    EXPECT_TRUE(RenderHit(hit, iocd::config::OUTPUT_FORMAT_RFC5424).starts_with(pri));
    const std::string json = RenderHit(hit, iocd::config::OUTPUT_FORMAT_JSON);
    EXPECT_NE(json.find("\"kind\":\"" + kind + "\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"severity\":" + number + "}"), std::string::npos) << json;
  }
}

// NastyHit standing for five sightings, sent as the window's summary.
iocd::hit::Hit SuppressedHit() {
  iocd::hit::Hit hit = NastyHit();
  hit.set_count(5);
  hit.set_summary(true);
  hit.set_window_start_unix_us(1795317900000000);
  return hit;
}

TEST(SuppressionGoldenTest, Json) { ExpectGolden("suppressed_json", RenderHit(SuppressedHit(), iocd::config::OUTPUT_FORMAT_JSON)); }
TEST(SuppressionGoldenTest, Cef) { ExpectGolden("suppressed_cef", RenderHit(SuppressedHit(), iocd::config::OUTPUT_FORMAT_CEF)); }
TEST(SuppressionGoldenTest, Leef) { ExpectGolden("suppressed_leef", RenderHit(SuppressedHit(), iocd::config::OUTPUT_FORMAT_LEEF)); }
TEST(SuppressionGoldenTest, Rfc5424) {
  ExpectGolden("suppressed_rfc5424", RenderHit(SuppressedHit(), iocd::config::OUTPUT_FORMAT_RFC5424));
}
TEST(SuppressionGoldenTest, Template) {
  ExpectGolden("suppressed_template", RenderHit(SuppressedHit(), iocd::config::OUTPUT_FORMAT_TEMPLATE,
                                                "%HitId% count=%Count% summary=%Summary% window=%WindowStart%"));
}

TEST(SuppressionTest, OrdinaryHitShowsNoSuppressionFields) {
  iocd::hit::Hit hit = NastyHit();
  hit.set_count(1);
  for (auto format : {iocd::config::OUTPUT_FORMAT_JSON, iocd::config::OUTPUT_FORMAT_CEF, iocd::config::OUTPUT_FORMAT_LEEF,
                      iocd::config::OUTPUT_FORMAT_RFC5424}) {
    EXPECT_EQ(RenderHit(hit, format), Render(format)) << format;
  }
  EXPECT_EQ(RenderHit(hit, iocd::config::OUTPUT_FORMAT_TEMPLATE, "%Count% %Summary% [%WindowStart%]"), "1 false []");
  hit.set_count(0);
  EXPECT_EQ(RenderHit(hit, iocd::config::OUTPUT_FORMAT_TEMPLATE, "%Count%"), "1");
  hit.set_count(2);  // count > 1 without a summary: shown
  EXPECT_NE(RenderHit(hit, iocd::config::OUTPUT_FORMAT_CEF).find(" cnt=2 msg="), std::string::npos);
}

TEST(HitFormatTest, RawEventTruncatedAtUtf8BoundaryAndMarked) {
  iocd::config::Output config;
  config.set_format(iocd::config::OUTPUT_FORMAT_TEMPLATE);
  config.set_line_template("%RawEvent%");
  config.set_raw_event_max_bytes(4);
  auto f = MakeHitFormatter(config);
  ASSERT_TRUE(f.ok());
  iocd::hit::Hit hit;
  hit.set_raw_event("caf\xC3\xA9 au lait");
  std::string out;
  (*f)->Format(hit, &out);
  EXPECT_EQ(out, "caf[truncated]");

  config.set_format(iocd::config::OUTPUT_FORMAT_JSON);
  auto j = MakeHitFormatter(config);
  ASSERT_TRUE(j.ok());
  out.clear();
  (*j)->Format(hit, &out);
  EXPECT_NE(out.find(R"("original":"caf[truncated]")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("original_size":13)"), std::string::npos) << out;
}

TEST(HitFormatTest, BadOptionsAreRejected) {
  iocd::config::Output config;
  config.set_format(iocd::config::OUTPUT_FORMAT_TEMPLATE);
  EXPECT_FALSE(MakeHitFormatter(config).ok());  // no template
  config.set_line_template("%Date");
  auto r = MakeHitFormatter(config);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "line_template: '%' at offset 0 has no closing '%' (write %% for a literal %)");
  config.set_line_template("%a b%");
  EXPECT_FALSE(MakeHitFormatter(config).ok());
  config.set_format(iocd::config::OUTPUT_FORMAT_LEEF);
  config.set_leef_delimiter("==");
  EXPECT_FALSE(MakeHitFormatter(config).ok());
}

}  // namespace
// A source's context rules (docs/rules.md) in every format; %<RuleName>% in templates.
TEST(EventContextTest, EveryFormatCarriesTheRuleValues) {
  iocd::hit::Hit hit = NastyHit();
  auto* user = hit.add_event_context();
  user->set_key("user");
  user->set_value("al|ice");
  const std::string json = RenderHit(hit, iocd::config::OUTPUT_FORMAT_JSON);
  EXPECT_NE(json.find(R"("event_context":{"user":"al|ice"})"), std::string::npos) << json;
  const std::string cef = RenderHit(hit, iocd::config::OUTPUT_FORMAT_CEF);
  EXPECT_NE(cef.find("flexString1Label=ruleContext flexString1=user\\=al|ice"), std::string::npos) << cef;
  const std::string leef = RenderHit(hit, iocd::config::OUTPUT_FORMAT_LEEF);
  EXPECT_NE(leef.find("ruleContext=user=al|ice"), std::string::npos) << leef;
  const std::string sd = RenderHit(hit, iocd::config::OUTPUT_FORMAT_RFC5424);
  EXPECT_NE(sd.find(R"(rule.user="al|ice")"), std::string::npos) << sd;
  EXPECT_EQ(RenderHit(hit, iocd::config::OUTPUT_FORMAT_TEMPLATE, "u=%user%"), "u=al|ice");
  // Without context rules nothing is added (the goldens above hold that byte for byte).
  EXPECT_EQ(RenderHit(NastyHit(), iocd::config::OUTPUT_FORMAT_JSON).find("event_context"), std::string::npos);
}

}  // namespace iocd
