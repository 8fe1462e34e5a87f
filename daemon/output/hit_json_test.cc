#include "output/hit_json.h"

#include "output/text_escape.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace iocd {
namespace {

// U+FFFD as UTF-8.
#define FFFD "\xEF\xBF\xBD"

iocd::hit::Hit FullHit() {
  iocd::hit::Hit hit;
  hit.set_id("0193f1c2-7a1b-7000-8000-000000000001");
  hit.set_detected_unix_us(1795317947123456);  // 2026-11-22T03:25:47.123456Z
  hit.set_input("siem");
  hit.set_sender("127.0.0.1:51234");
  hit.set_raw_event("<13>Nov 22 03:25:47 web1 app: connect from 10.1.2.3");
  hit.set_observable("10.1.2.3");
  hit.set_observable_type("ipv4");
  hit.set_field("message");
  auto* e = hit.add_enrichments();
  e->set_feed("demo");
  e->set_indicator("10.0.0.0/8");
  e->set_indicator_type("cidr4");
  auto* c = e->add_context();
  c->set_key("threat");
  c->set_value("Emotet");
  c = e->add_context();
  c->set_key("comment");
  c->set_value("botnet C2");
  return hit;
}

TEST(FormatHitJsonTest, FullHit) {
  EXPECT_EQ(FormatHitJson(FullHit()),
            R"({"@timestamp":"2026-11-22T03:25:47.123456Z",)"
            R"("event":{"kind":"enrichment","id":"0193f1c2-7a1b-7000-8000-000000000001",)"
            R"("original":"<13>Nov 22 03:25:47 web1 app: connect from 10.1.2.3"},)"
            R"("iocd":{"input":"siem"},)"
            R"("log":{"source":{"address":"127.0.0.1:51234"}},)"
            R"("threat":{"enrichments":[{"feed":{"name":"demo"},)"
            R"("indicator":{"type":"cidr4","name":"10.0.0.0/8",)"
            R"("context":{"threat":"Emotet","comment":"botnet C2"}},)"
            R"("matched":{"atomic":"10.1.2.3","field":"message","type":"ipv4"}}]}})");
}

TEST(FormatHitJsonTest, EmptyHitHasEveryField) {
  EXPECT_EQ(FormatHitJson(iocd::hit::Hit()),
            R"({"@timestamp":"1970-01-01T00:00:00.000000Z",)"
            R"("event":{"kind":"enrichment","id":"","original":""},)"
            R"("iocd":{"input":""},"log":{"source":{"address":""}},)"
            R"("threat":{"enrichments":[]}})");
}

TEST(FormatHitJsonTest, MultipleEnrichmentsInOrderEachWithMatched) {
  iocd::hit::Hit hit;
  hit.set_id("h2");
  hit.set_detected_unix_us(0);
  hit.set_input("in");
  hit.set_sender("[::1]:600");
  hit.set_raw_event("GET http://a.evil.com/x");
  hit.set_observable("a.evil.com");
  hit.set_observable_type("domain");
  hit.set_field("message");
  auto* e = hit.add_enrichments();
  e->set_feed("f1");
  e->set_indicator("a.evil.com");
  e->set_indicator_type("domain");
  auto* c = e->add_context();
  c->set_key("k");
  c->set_value("v");
  e = hit.add_enrichments();  // empty context
  e->set_feed("f2");
  e->set_indicator("evil.com");
  e->set_indicator_type("domain");
  EXPECT_EQ(FormatHitJson(hit),
            R"({"@timestamp":"1970-01-01T00:00:00.000000Z",)"
            R"("event":{"kind":"enrichment","id":"h2","original":"GET http://a.evil.com/x"},)"
            R"("iocd":{"input":"in"},"log":{"source":{"address":"[::1]:600"}},)"
            R"("threat":{"enrichments":[)"
            R"({"feed":{"name":"f1"},"indicator":{"type":"domain","name":"a.evil.com",)"
            R"("context":{"k":"v"}},)"
            R"("matched":{"atomic":"a.evil.com","field":"message","type":"domain"}},)"
            R"({"feed":{"name":"f2"},"indicator":{"type":"domain","name":"evil.com",)"
            R"("context":{}},)"
            R"("matched":{"atomic":"a.evil.com","field":"message","type":"domain"}}]}})");
}

TEST(FormatHitJsonTest, RepeatedContextKeyKeepsFirstPositionAndLastValue) {
  iocd::hit::Hit hit;
  auto* e = hit.add_enrichments();
  for (const auto& [k, v] : {std::pair{"a", "1"}, {"b", "2"}, {"a", "3"}, {"c", "4"}}) {
    auto* c = e->add_context();
    c->set_key(k);
    c->set_value(v);
  }
  const std::string json = FormatHitJson(hit);
  EXPECT_NE(json.find(R"("context":{"a":"3","b":"2","c":"4"})"), std::string::npos) << json;
}

TEST(FormatHitJsonTest, RawEventWithControlAndInvalidBytesStaysOneValidLine) {
  iocd::hit::Hit hit;
  hit.set_raw_event(std::string("a\"b\\c\nd\te\0f\xff", 12) + "\xc3\xa9");
  auto* e = hit.add_enrichments();
  auto* c = e->add_context();
  c->set_key("note\n");
  c->set_value("\"q\"");
  const std::string json = FormatHitJson(hit);
  EXPECT_NE(json.find(R"("original":"a\"b\\c\nd\te\u0000f)" FFFD "\xc3\xa9\""), std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("context":{"note\n":"\"q\""})"), std::string::npos) << json;
  EXPECT_EQ(json.find('\n'), std::string::npos);
}

struct EscapeCase {
  const char* name;
  std::string in;
  std::string want;  // without the surrounding quotes
};

TEST(AppendJsonStringTest, Table) {
  const EscapeCase cases[] = {
      {"empty", "", ""},
      {"plain", "hello world", "hello world"},
      {"quote", "say \"hi\"", R"(say \"hi\")"},
      {"backslash", R"(C:\temp\x)", R"(C:\\temp\\x)"},
      {"slash untouched", "a/b", "a/b"},
      {"newline", "a\nb", R"(a\nb)"},
      {"tab", "a\tb", R"(a\tb)"},
      {"cr bs ff", "\r\b\f", R"(\r\b\f)"},
      {"nul", std::string("a\0b", 3), R"(a\u0000b)"},
      {"other controls", "\x01\x1f\x1b", R"(\u0001\u001f\u001b)"},
      {"del passes", "\x7f", "\x7f"},
      {"2-byte", "caf\xc3\xa9", "caf\xc3\xa9"},
      {"3-byte", "\xe2\x82\xac 5", "\xe2\x82\xac 5"},
      {"4-byte", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
      {"U+2028 passes", "\xe2\x80\xa8", "\xe2\x80\xa8"},
      {"max code point", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"},
      {"ff fe", "\xff\xfe", FFFD FFFD},
      {"lone continuation", "a\x80z", "a" FFFD "z"},
      {"truncated 3-byte at end", "a\xe2\x82", "a" FFFD FFFD},
      {"truncated 3-byte mid",
       "\xe2\x82"
       "A",
       FFFD FFFD "A"},
      {"truncated 2-byte at end", "\xc3", FFFD},
      {"truncated 4-byte", "\xf0\x9f\x98", FFFD FFFD FFFD},
      {"overlong 2-byte", "\xc0\xaf", FFFD FFFD},
      {"overlong c1", "\xc1\xbf", FFFD FFFD},
      {"overlong 3-byte", "\xe0\x80\xaf", FFFD FFFD FFFD},
      {"overlong 4-byte", "\xf0\x80\x80\xaf", FFFD FFFD FFFD FFFD},
      {"surrogate", "\xed\xa0\x80", FFFD FFFD FFFD},
      {"above U+10FFFF", "\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD},
      {"f5", "\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD},
      {"invalid then valid", "\xff\xc3\xa9\"", FFFD "\xc3\xa9\\\""},
  };
  for (const auto& c : cases) {
    std::string out = "x";
    AppendJsonString(c.in, &out);
    EXPECT_EQ(out, "x\"" + c.want + "\"") << c.name;
  }
}

// The escaping AppendJsonString promises, one byte at a time (the oracle for its run-wise
// copying): the same rules as the table above.
std::string EscapeBytewise(std::string_view in) {
  std::string out = "\"";
  AppendValidUtf8(in, &out, [&](unsigned char c) {
    static constexpr char kHex[] = "0123456789abcdef";
    const char* named = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b" : c == '\f' ? "\\f"
                      : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : nullptr;
    if (named != nullptr) {
      out += named;
    } else if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += static_cast<char>(c);
    }
  });
  return out + "\"";
}

TEST(AppendJsonStringTest, EveryByteAtEveryPositionOfARun) {
  // Each byte value alone, at the start, inside and at the end of plain runs, and next to
  // a 2-byte sequence: the copied runs must join the escapes exactly.
  for (int b = 0; b < 256; ++b) {
    const std::string byte(1, static_cast<char>(b));
    for (const std::string& in : {byte, byte + "plain text", "plain text" + byte, "ab" + byte + "cd",
                                  "caf\xc3\xa9" + byte + byte + "z \"q\""}) {
      std::string out = "x";
      AppendJsonString(in, &out);
      EXPECT_EQ(out, "x" + EscapeBytewise(in)) << "byte " << b;
    }
  }
}

TEST(AppendHitJsonTest, AppendsExactlyWhatFormatHitJsonReturns) {
  iocd::hit::Hit hit = FullHit();
  hit.set_event_unix_us(1795317946000000);
  hit.set_count(3);
  hit.set_window_start_unix_us(1795317900000000);
  hit.mutable_enrichments(0)->set_first_seen_unix_ms(1795000000123);
  hit.mutable_enrichments(0)->set_last_seen_unix_ms(1795300000456);
  hit.mutable_enrichments(0)->set_confidence(80);
  iocd::hit::Hit service;
  service.set_id("s1");
  service.mutable_service_event()->set_kind("feed_failed");
  service.mutable_service_event()->set_severity("error");
  for (const iocd::hit::Hit& h : {hit, service}) {
    std::string out = "before\n";
    AppendHitJson(h, &out);
    EXPECT_EQ(out, "before\n" + FormatHitJson(h));
  }
  // Every timestamp field, in the form AppendRfc3339Micros gives.
  const std::string json = FormatHitJson(hit);
  for (const char* want : {R"("@timestamp":"2026-11-22T03:25:47.123456Z")", R"("start":"2026-11-22T03:25:46.000000Z")",
                           R"("window_start":"2026-11-22T03:25:00.000000Z")", R"("count":3)", R"("confidence":80)"}) {
    EXPECT_NE(json.find(want), std::string::npos) << want << " in " << json;
  }
}

TEST(AppendRfc3339MicrosTest, Table) {
  const struct {
    int64_t unix_us;
    const char* want;
  } cases[] = {
      {0, "1970-01-01T00:00:00.000000Z"},
      {1, "1970-01-01T00:00:00.000001Z"},
      {-1, "1969-12-31T23:59:59.999999Z"},
      {1795317947123456, "2026-11-22T03:25:47.123456Z"},
      {951868799000001, "2000-02-29T23:59:59.000001Z"},
      {-2208988800LL * 1000000, "1900-01-01T00:00:00.000000Z"},
      {253402300799LL * 1000000 + 999999, "9999-12-31T23:59:59.999999Z"},
      {std::numeric_limits<int64_t>::max(), "9999-12-31T23:59:59.999999Z"},
      {std::numeric_limits<int64_t>::min(), "0000-01-01T00:00:00.000000Z"},
  };
  for (const auto& c : cases) {
    std::string out;
    AppendRfc3339Micros(c.unix_us, &out);
    EXPECT_EQ(out, c.want) << c.unix_us;
  }
}

}  // namespace
}  // namespace iocd
