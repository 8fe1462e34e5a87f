#include "output/hit_format.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

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

TEST(LeefDelimiterTest, CharactersAndHexCodes) {
  EXPECT_EQ(*ParseLeefDelimiter("^"), '^');
  EXPECT_EQ(*ParseLeefDelimiter("x09"), '\t');
  EXPECT_EQ(*ParseLeefDelimiter("0x5E"), '^');
  EXPECT_FALSE(ParseLeefDelimiter("X7c").ok());  // '|' is refused
  EXPECT_FALSE(ParseLeefDelimiter("=").ok());
  EXPECT_FALSE(ParseLeefDelimiter("a").ok());
  EXPECT_FALSE(ParseLeefDelimiter("x0a").ok());
  EXPECT_FALSE(ParseLeefDelimiter("xZZ").ok());
  EXPECT_FALSE(ParseLeefDelimiter("tab").ok());
  EXPECT_FALSE(ParseLeefDelimiter("").ok());
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

std::string Render(iocd::config::OutputFormat format, const std::string& extra_template = "",
                   uint32_t max_raw = 0) {
  iocd::config::Output config;
  config.set_format(format);
  config.set_leef_delimiter("^");
  config.set_syslog_hostname("iocd-host");
  config.set_line_template(extra_template);
  config.set_raw_event_max_bytes(max_raw);
  auto f = MakeHitFormatter(config);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  std::string out;
  (*f)->Format(NastyHit(), &out);
  return out;
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
}  // namespace iocd
