#include "parse/event_parser.h"

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

TEST(EventParserTest, DetectsFormats) {
  struct Case {
    std::string input;
    BodyFormat format;
  };
  const Case cases[] = {
      {"<14>Sep 19 08:26:10 fw CEF:0|V|P|1|2|N|3|src=1.2.3.4", BodyFormat::kCef},
      {"LEEF:1.0|V|P|1|E|src=1.2.3.4", BodyFormat::kLeef},
      {"<4>1 2019-11-21T13:44:36Z h app 1 - - {\"a\":\"b\"}", BodyFormat::kJson},
      {"[{\"a\":\"b\"}]", BodyFormat::kJson},
      {"Oct 11 22:14:15 h app: user=x src=1.2.3.4", BodyFormat::kKv},
      {"[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok", BodyFormat::kText},
      {"Oct 11 22:14:15 h app: hello world", BodyFormat::kText},
  };
  EventParser parser;
  ParsedEvent event;
  for (const Case& c : cases) {
    parser.Parse(c.input, &event);
    EXPECT_EQ(event.format, c.format) << c.input;
    EXPECT_EQ(event.error, "") << c.input;
  }
  EXPECT_EQ(parser.counters().events, 7u);
  EXPECT_EQ(parser.counters().malformed, 0u);
  EXPECT_EQ(parser.counters().by_format[static_cast<size_t>(BodyFormat::kJson)], 2u);
}

TEST(EventParserTest, StructuredDataThenBodyFields) {
  EventParser parser;
  ParsedEvent event;
  parser.Parse("<165>1 2003-10-11T22:14:15.003Z h app - - [ids@1 sig=\"7\"] src=1.2.3.4 act=drop",
               &event);
  EXPECT_EQ(Collect(event), (Fields{{"sd.ids@1.sig", "7"}, {"src", "1.2.3.4"}, {"act", "drop"}}));
}

TEST(EventParserTest, MalformedBodyFallsBackToTextKeepingStructuredData) {
  EventParser parser;
  ParsedEvent event;
  parser.Parse("<1>1 - h a - - [x p=\"v\"] CEF:0|only|three", &event);
  EXPECT_EQ(event.format, BodyFormat::kText);
  EXPECT_EQ(event.error, "CEF header has 2 of 7 fields at byte 11");
  EXPECT_EQ(Collect(event), (Fields{{"sd.x.p", "v"}, {"message", "CEF:0|only|three"}}));
  parser.Parse("{\"unterminated\": ", &event);
  EXPECT_EQ(event.format, BodyFormat::kText);
  EXPECT_EQ(Collect(event), (Fields{{"message", "{\"unterminated\": "}}));
  EXPECT_EQ(parser.counters().malformed, 2u);
}

TEST(EventParserTest, TextIsOneMessageField) {
  EventParser parser;
  ParsedEvent event;
  parser.Parse("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user x from 173.234.31.186", &event);
  EXPECT_EQ(Collect(event), (Fields{{"message", "Invalid user x from 173.234.31.186"}}));
  parser.Parse("", &event);
  EXPECT_TRUE(event.fields.empty());
}

TEST(EventParserTest, EventReuseKeepsNoStaleState) {
  EventParser parser;
  ParsedEvent event;
  parser.Parse("<1>1 - h a - - [x p=\"a\\\"b\"] m", &event);
  EXPECT_EQ(event.header.hostname, "h");
  parser.Parse("plain", &event);
  EXPECT_EQ(event.header.hostname, "");
  EXPECT_EQ(event.header.format, SyslogFormat::kNone);
  EXPECT_EQ(Collect(event), (Fields{{"message", "plain"}}));
}

}  // namespace
}  // namespace iocd
