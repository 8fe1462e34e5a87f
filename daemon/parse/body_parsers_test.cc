#include "parse/body_parsers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "parse/parse_test_util.h"

namespace iocd {
namespace {

using testutil::Collect;
using testutil::Fields;

enum class Parser { kCef, kLeef, kKv, kJson };

struct Case {
  const char* name;
  Parser parser;
  std::string input;
  Fields want;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      // The CEF spec's examples.
      {"cef_spec_example", Parser::kCef,
       "CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1 "
       "dst=2.1.2.2 spt=1232",
       {{"cefVersion", "0"}, {"deviceVendor", "Security"}, {"deviceProduct", "threatmanager"},
        {"deviceVersion", "1.0"}, {"deviceEventClassId", "100"},
        {"name", "worm successfully stopped"}, {"severity", "10"}, {"src", "10.0.0.1"},
        {"dst", "2.1.2.2"}, {"spt", "1232"}}},
      {"cef_header_escapes", Parser::kCef,
       "CEF:0|security|threatmanager|1.0|100|detected a \\| in message|10|src=10.0.0.1 "
       "act=blocked a \\| dst=1.1.1.1",
       {{"cefVersion", "0"}, {"deviceVendor", "security"}, {"deviceProduct", "threatmanager"},
        {"deviceVersion", "1.0"}, {"deviceEventClassId", "100"},
        {"name", "detected a | in message"}, {"severity", "10"}, {"src", "10.0.0.1"},
        {"act", "blocked a |"}, {"dst", "1.1.1.1"}}},
      {"cef_backslash_in_header", Parser::kCef,
       "CEF:0|security|threatmanager|1.0|100|detected a \\\\ in packet|10|act=blocked a \\\\ "
       "dst=1.1.1.1",
       {{"cefVersion", "0"}, {"deviceVendor", "security"}, {"deviceProduct", "threatmanager"},
        {"deviceVersion", "1.0"}, {"deviceEventClassId", "100"},
        {"name", "detected a \\ in packet"}, {"severity", "10"}, {"act", "blocked a \\"},
        {"dst", "1.1.1.1"}}},
      {"cef_extension_escapes", Parser::kCef,
       "CEF:0|V|P|1|2|N|3|act=that is a \\= sign msg=line1\\nline2 path=C:\\\\x "
       "request=http://e.com/?a=1&b=2 cs1Label=Rule Name cs1=",
       {{"cefVersion", "0"}, {"deviceVendor", "V"}, {"deviceProduct", "P"},
        {"deviceVersion", "1"}, {"deviceEventClassId", "2"}, {"name", "N"}, {"severity", "3"},
        {"act", "that is a = sign"}, {"msg", "line1\nline2"}, {"path", "C:\\x"},
        {"request", "http://e.com/?a=1&b=2"}, {"cs1Label", "Rule Name"}, {"cs1", ""}}},
      {"cef_text_before_first_key", Parser::kCef, "CEF:0|V|P|1|2|N|3|free text src=1.2.3.4",
       {{"cefVersion", "0"}, {"deviceVendor", "V"}, {"deviceProduct", "P"},
        {"deviceVersion", "1"}, {"deviceEventClassId", "2"}, {"name", "N"}, {"severity", "3"},
        {"message", "free text"}, {"src", "1.2.3.4"}}},
      {"cef_empty_extension", Parser::kCef, "CEF:1|V|P|1|2|N|3|",
       {{"cefVersion", "1"}, {"deviceVendor", "V"}, {"deviceProduct", "P"},
        {"deviceVersion", "1"}, {"deviceEventClassId", "2"}, {"name", "N"}, {"severity", "3"}}},
      // LEEF 1.0 (tab) and 2.0 (named delimiters).
      {"leef1_tab", Parser::kLeef,
       "LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.0\tdst=172.50.123.1\t"
       "sev=5\tcat=anomaly\tmsg=there are spaces",
       {{"leefVersion", "1.0"}, {"deviceVendor", "Microsoft"}, {"deviceProduct", "MSExchange"},
        {"deviceVersion", "4.0 SP1"}, {"eventId", "15345"}, {"src", "192.0.2.0"},
        {"dst", "172.50.123.1"}, {"sev", "5"}, {"cat", "anomaly"}, {"msg", "there are spaces"}}},
      {"leef2_caret", Parser::kLeef,
       "LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5^srcPort=81",
       {{"leefVersion", "2.0"}, {"deviceVendor", "Lancope"}, {"deviceProduct", "StealthWatch"},
        {"deviceVersion", "1.0"}, {"eventId", "41"}, {"src", "10.0.1.8"}, {"dst", "10.0.0.5"},
        {"sev", "5"}, {"srcPort", "81"}}},
      {"leef2_hex_0x09", Parser::kLeef, "LEEF:2.0|V|P|1|E|0x09|a=1\tb=x y",
       {{"leefVersion", "2.0"}, {"deviceVendor", "V"}, {"deviceProduct", "P"},
        {"deviceVersion", "1"}, {"eventId", "E"}, {"a", "1"}, {"b", "x y"}}},
      {"leef2_hex_x5e", Parser::kLeef, "LEEF:2.0|V|P|1|E|x5E|a=1^b=2",
       {{"leefVersion", "2.0"}, {"deviceVendor", "V"}, {"deviceProduct", "P"},
        {"deviceVersion", "1"}, {"eventId", "E"}, {"a", "1"}, {"b", "2"}}},
      {"leef2_unicode_xa6", Parser::kLeef, "LEEF:2.0|V|P|1|E|xa6|a=1\xC2\xA6" "b=2",
       {{"leefVersion", "2.0"}, {"deviceVendor", "V"}, {"deviceProduct", "P"},
        {"deviceVersion", "1"}, {"eventId", "E"}, {"a", "1"}, {"b", "2"}}},
      {"leef2_no_delimiter_field", Parser::kLeef, "LEEF:2.0|Zscaler|NSS|3.6|ALLOW|cat=fw\tsrc=1.2.3.4",
       {{"leefVersion", "2.0"}, {"deviceVendor", "Zscaler"}, {"deviceProduct", "NSS"},
        {"deviceVersion", "3.6"}, {"eventId", "ALLOW"}, {"cat", "fw"}, {"src", "1.2.3.4"}}},
      {"leef2_literal_backslash_t", Parser::kLeef, "LEEF:2.0|V|P|1|E|0x09|a=1\\tb=2",
       {{"leefVersion", "2.0"}, {"deviceVendor", "V"}, {"deviceProduct", "P"},
        {"deviceVersion", "1"}, {"eventId", "E"}, {"a", "1"}, {"b", "2"}}},
      {"leef_junk_and_empty", Parser::kLeef, "LEEF:1.0|T|T|4.12|42|just junk\tkey=\t",
       {{"leefVersion", "1.0"}, {"deviceVendor", "T"}, {"deviceProduct", "T"},
        {"deviceVersion", "4.12"}, {"eventId", "42"}, {"message", "just junk"}, {"key", ""}}},
      // key=value.
      {"kv_quoted", Parser::kKv,
       "date=2019-05-10 devname=\"FG 100\" srcip=10.1.1.1 msg=\"say \\\"hi\\\"\" dstip=8.8.8.8",
       {{"date", "2019-05-10"}, {"devname", "FG 100"}, {"srcip", "10.1.1.1"},
        {"msg", "say \"hi\""}, {"dstip", "8.8.8.8"}}},
      {"kv_unquoted_spaces", Parser::kKv, "user=bob reason=bad password here rhost=evil.com",
       {{"user", "bob"}, {"reason", "bad password here"}, {"rhost", "evil.com"}}},
      {"kv_unterminated_quote", Parser::kKv, "a=1 b=\"open",
       {{"a", "1"}, {"b", "\"open"}}},
      // JSON.
      {"json_nested", Parser::kJson,
       "{\"src_ip\":\"1.2.3.4\",\"port\":443,\"tls\":{\"sni\":\"l2.io\",\"ok\":true},"
       "\"answers\":[\"a.com\",\"b.com\",7],\"n\":null,\"e\":\"\"}",
       {{"src_ip", "1.2.3.4"}, {"tls.sni", "l2.io"}, {"answers", "a.com"}, {"answers", "b.com"}}},
      {"json_escapes", Parser::kJson, "{\"a\\\"b\":\"x\\ny\\u0041\"}", {{"a\"b", "x\nyA"}}},
      {"json_array_of_objects", Parser::kJson,
       "[{\"EventData\":{\"Hashes\":\"MD5=x\"}},{\"k\":\"v\"}]",
       {{"EventData.Hashes", "MD5=x"}, {"k", "v"}}},
      {"json_scalar_string", Parser::kJson, "\"just a string\"", {{"message", "just a string"}}},
  };
  return cases;
}

class BodyParsersTest : public ::testing::TestWithParam<Case> {};

TEST_P(BodyParsersTest, Parses) {
  const Case& c = GetParam();
  ParsedEvent event;
  JsonFlattener json;
  bool ok = true;
  switch (c.parser) {
    case Parser::kCef: ok = ParseCefBody(c.input, &event); break;
    case Parser::kLeef: ok = ParseLeefBody(c.input, &event); break;
    case Parser::kKv: ParseKvBody(c.input, &event); break;
    case Parser::kJson: ok = json.Flatten(c.input, &event); break;
  }
  EXPECT_TRUE(ok) << event.error;
  EXPECT_EQ(Collect(event), c.want);
}

INSTANTIATE_TEST_SUITE_P(Table, BodyParsersTest, ::testing::ValuesIn(Cases()),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(BodyParsersTest, MalformedHeaders) {
  ParsedEvent event;
  EXPECT_FALSE(ParseCefBody("CEF:0|a|b|c", &event));
  EXPECT_EQ(event.error, "CEF header has 3 of 7 fields at byte 10");
  EXPECT_FALSE(ParseLeefBody("LEEF:1.0|a|b", &event));
  EXPECT_EQ(event.error, "LEEF header has 2 of 5 fields at byte 11");
  JsonFlattener json;
  ParsedEvent bad_json;
  EXPECT_FALSE(json.Flatten("{\"a\":", &bad_json));
  EXPECT_THAT(std::string(bad_json.error), ::testing::StartsWith("invalid JSON: "));
  EXPECT_TRUE(bad_json.fields.empty());
}

TEST(BodyParsersTest, LooksLikeKv) {
  EXPECT_TRUE(LooksLikeKv("a=1 b=2"));
  EXPECT_TRUE(LooksLikeKv("date=2019 time=11:37:47 devname=\"x\""));
  EXPECT_FALSE(LooksLikeKv("a=1"));
  EXPECT_FALSE(LooksLikeKv("authentication failure; logname= uid=0"));
  EXPECT_FALSE(LooksLikeKv(""));
  EXPECT_FALSE(LooksLikeKv("=1 b=2"));
  // The first key must start the body; later keys do not make it key=value.
  EXPECT_FALSE(LooksLikeKv("GET /a?x=1 y=2"));
  EXPECT_FALSE(LooksLikeKv("msg a=1 b=2"));
  EXPECT_FALSE(LooksLikeKv(" a=1 b=2"));
  EXPECT_FALSE(LooksLikeKv("a.b-c_9"));
  EXPECT_FALSE(LooksLikeKv("a= b"));
  EXPECT_TRUE(LooksLikeKv("a.b-c_9= x=y"));
  EXPECT_TRUE(LooksLikeKv("a==1 b=2"));
}

TEST(BodyParsersTest, JsonFlattenerIsReusable) {
  JsonFlattener json;
  ParsedEvent a;
  ASSERT_TRUE(json.Flatten("{\"k\":\"first\"}", &a));
  ParsedEvent b;
  ASSERT_TRUE(json.Flatten("{\"k\":\"second\"}", &b));
  // Values are copied into each event: parsing b must not change a.
  EXPECT_EQ(a.fields[0].value, "first");
  EXPECT_EQ(b.fields[0].value, "second");
}

}  // namespace
}  // namespace iocd
