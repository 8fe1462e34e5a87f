#include "parse/syslog_header.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace iocd {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Want {
  SyslogFormat format;
  int priority;
  std::string timestamp;
  std::string hostname;
  std::string app;
  std::string procid;
  std::string msgid;
  std::string body;
  Fields sd = {};
};

struct Case {
  const char* name;
  std::string input;
  Want want;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      // RFC 3164 and its variants.
      {"bsd_full", "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick",
       {SyslogFormat::kRfc3164, 34, "Oct 11 22:14:15", "mymachine", "su", "", "",
        "'su root' failed for lonvick"}},
      {"bsd_no_pri", "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186",
       {SyslogFormat::kRfc3164, -1, "Dec 10 06:55:46", "LabSZ", "sshd", "24200", "",
        "Invalid user webmaster from 173.234.31.186"}},
      {"bsd_space_padded_day", "<13>Feb  5 01:02:03 host app[1]: x",
       {SyslogFormat::kRfc3164, 13, "Feb  5 01:02:03", "host", "app", "1", "", "x"}},
      {"bsd_tag_with_parens", "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass",
       {SyslogFormat::kRfc3164, -1, "Jun 14 15:16:01", "combo", "sshd(pam_unix)", "19939", "",
        "check pass"}},
      {"bsd_no_hostname", "Jun 02 16:34:55 zscaler-nss: LEEF:1.0|Zscaler|NSS-FW|5.5|Drop|a=b",
       {SyslogFormat::kRfc3164, -1, "Jun 02 16:34:55", "", "zscaler-nss", "", "",
        "LEEF:1.0|Zscaler|NSS-FW|5.5|Drop|a=b"}},
      {"bsd_host_then_cef", "<14>Sep 19 08:26:10 fw01 CEF:0|V|P|1|2|n|3|src=1.2.3.4",
       {SyslogFormat::kRfc3164, 14, "Sep 19 08:26:10", "fw01", "", "", "",
        "CEF:0|V|P|1|2|n|3|src=1.2.3.4"}},
      {"bsd_no_tag", "<14>Sep 19 08:26:10 fw01 something happened",
       {SyslogFormat::kRfc3164, 14, "Sep 19 08:26:10", "fw01", "", "", "", "something happened"}},
      {"bsd_with_year", "Jan 17 2020 08:52:10 fw postfix/smtpd[7]: hi",
       {SyslogFormat::kRfc3164, -1, "Jan 17 2020 08:52:10", "fw", "postfix/smtpd", "7", "", "hi"}},
      {"bsd_millis", "Jan 17 08:52:10.123 fw app: hi",
       {SyslogFormat::kRfc3164, -1, "Jan 17 08:52:10.123", "fw", "app", "", "", "hi"}},
      {"iso_timestamp", "<30>2024-03-01T10:00:00.5+01:00 web-1 nginx: GET /",
       {SyslogFormat::kRfc3164, 30, "2024-03-01T10:00:00.5+01:00", "web-1", "nginx", "", "",
        "GET /"}},
      {"pri_only", "<13>just a message",
       {SyslogFormat::kRfc3164, 13, "", "", "", "", "", "just a message"}},
      {"no_header", "1157689312.049   5006 10.105.21.199 TCP_MISS/200",
       {SyslogFormat::kNone, -1, "", "", "", "", "", "1157689312.049   5006 10.105.21.199 TCP_MISS/200"}},
      {"bad_pri", "<192>Oct 11 22:14:15 h a: m",
       {SyslogFormat::kNone, -1, "", "", "", "", "", "<192>Oct 11 22:14:15 h a: m"}},
      {"json_body", "Oct 11 22:14:15 h {\"a\":1}",
       {SyslogFormat::kRfc3164, -1, "Oct 11 22:14:15", "h", "", "", "", "{\"a\":1}"}},
      {"empty", "", {SyslogFormat::kNone, -1, "", "", "", "", "", ""}},
      // RFC 5424.
      {"rfc5424_example1",
       "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xEF\xBB\xBF'su root' failed",
       {SyslogFormat::kRfc5424, 34, "2003-10-11T22:14:15.003Z", "mymachine.example.com", "su", "",
        "ID47", "'su root' failed"}},
      {"rfc5424_nil_everything", "<165>1 - - - - - -",
       {SyslogFormat::kRfc5424, 165, "", "", "", "", "", ""}},
      {"rfc5424_sd",
       "<165>1 2003-10-11T22:14:15.003Z host evntslog 88 ID47 [exampleSDID@32473 iut=\"3\" "
       "eventSource=\"Appl\\\"ic\\\\at\\]ion\" eventID=\"1011\"][examplePriority@32473 class=\"high\"] "
       "An application event",
       {SyslogFormat::kRfc5424, 165, "2003-10-11T22:14:15.003Z", "host", "evntslog", "88", "ID47",
        "An application event",
        {{"sd.exampleSDID@32473.iut", "3"},
         {"sd.exampleSDID@32473.eventSource", "Appl\"ic\\at]ion"},
         {"sd.exampleSDID@32473.eventID", "1011"},
         {"sd.examplePriority@32473.class", "high"}}}},
      {"rfc5424_sd_other_backslash_kept", "<1>1 - h a - - [x p=\"C:\\dir\"] m",
       {SyslogFormat::kRfc5424, 1, "", "h", "a", "", "", "m", {{"sd.x.p", "C:\\dir"}}}},
      {"rfc5424_sd_no_msg", "<1>1 - h a - - [x p=\"v\"]",
       {SyslogFormat::kRfc5424, 1, "", "h", "a", "", "", "", {{"sd.x.p", "v"}}}},
      {"rfc5424_bad_sd", "<1>1 - h a - - [x p=v] m",
       {SyslogFormat::kRfc5424, 1, "", "h", "a", "", "", "[x p=v] m"}},
      {"rfc5424_unterminated_sd", "<1>1 - h a - - [x p=\"v",
       {SyslogFormat::kRfc5424, 1, "", "h", "a", "", "", "[x p=\"v"}},
      {"rfc5424_truncated", "<1>1 2003-10-11T22:14:15Z host",
       {SyslogFormat::kRfc5424, 1, "2003-10-11T22:14:15Z", "host", "", "", "", ""}},
  };
  return cases;
}

class SyslogHeaderTest : public ::testing::TestWithParam<Case> {};

TEST_P(SyslogHeaderTest, Parses) {
  const Case& c = GetParam();
  ParsedEvent event;
  ParseSyslogHeader(c.input, &event);
  const SyslogHeader& h = event.header;
  EXPECT_EQ(h.format, c.want.format);
  EXPECT_EQ(h.priority, c.want.priority);
  EXPECT_EQ(h.timestamp, c.want.timestamp);
  EXPECT_EQ(h.hostname, c.want.hostname);
  EXPECT_EQ(h.app_name, c.want.app);
  EXPECT_EQ(h.procid, c.want.procid);
  EXPECT_EQ(h.msgid, c.want.msgid);
  EXPECT_EQ(event.body, c.want.body);
  Fields got;
  for (const EventField& f : event.fields) got.emplace_back(std::string(f.name), std::string(f.value));
  EXPECT_EQ(got, c.want.sd);
}

INSTANTIATE_TEST_SUITE_P(Table, SyslogHeaderTest, ::testing::ValuesIn(Cases()),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(SyslogHeaderTest, MalformedStructuredDataSaysWhere) {
  ParsedEvent event;
  ParseSyslogHeader("<1>1 - h a - - [x p=v] m", &event);
  EXPECT_EQ(event.error, "malformed structured data at byte 19");
  ParsedEvent ok;
  ParseSyslogHeader("<1>1 - h a - - [x p=\"v\"] m", &ok);
  EXPECT_EQ(ok.error, "");
}

TEST(SyslogHeaderTest, PriorityFacilitySeverity) {
  ParsedEvent event;
  ParseSyslogHeader("<165>1 - - - - - -", &event);
  EXPECT_EQ(event.header.facility(), 20);
  EXPECT_EQ(event.header.severity(), 5);
  EXPECT_EQ(event.header.version, 1);
}

TEST(SyslogHeaderTest, UnixTime) {
  ParsedEvent event;
  ParseSyslogHeader("<34>1 2003-10-11T22:14:15.003Z h a - - - m", &event);
  ASSERT_TRUE(event.header.unix_us.has_value());
  EXPECT_EQ(*event.header.unix_us, int64_t{1065910455003000});
  // A BSD timestamp has no year: no unix time.
  ParseSyslogHeader("<34>Oct 11 22:14:15 h a: m", &event);
  EXPECT_FALSE(event.header.unix_us.has_value());
}

TEST(SyslogHeaderTest, IsoTimestamps) {
  EXPECT_EQ(ParseIsoTimestamp("1970-01-01T00:00:00Z"), int64_t{0});
  EXPECT_EQ(ParseIsoTimestamp("2000-03-01T00:00:00Z"), int64_t{951868800} * 1000000);
  EXPECT_EQ(ParseIsoTimestamp("2018-07-05T15:01:09.820360-0400"), int64_t{1530817269820360});
  EXPECT_EQ(ParseIsoTimestamp("2003-08-24T05:14:15.000003-07:00"), int64_t{1061727255000003});
  EXPECT_EQ(ParseIsoTimestamp("2024-02-29T12:00:00+00:00"), int64_t{1709208000} * 1000000);
  EXPECT_EQ(ParseIsoTimestamp("2024-02-29T12:00:00"), std::nullopt);  // no zone
  EXPECT_EQ(ParseIsoTimestamp("2024-13-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseIsoTimestamp("2024-01-01T00:00Z"), std::nullopt);
  EXPECT_EQ(ParseIsoTimestamp(""), std::nullopt);
}

}  // namespace
}  // namespace iocd
