#include "control/control_protocol.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace iocd {
namespace {

using ::testing::ElementsAreArray;

struct RequestCase {
  std::string line;
  std::vector<std::string> words;  // expected when error is empty
  std::string error;
};

TEST(ParseControlRequestTest, Table) {
  const std::vector<RequestCase> cases = {
      {"status", {"status"}, ""},
      {"reload", {"reload"}, ""},
      {"reload abuse-ch", {"reload", "abuse-ch"}, ""},
      {"  reload \t abuse-ch  ", {"reload", "abuse-ch"}, ""},
      {"reload feed\r", {"reload", "feed"}, ""},
      {"reload caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", {"reload", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"}, ""},
      {"", {}, "empty request (try help)"},
      {" \t ", {}, "empty request (try help)"},
      {"\r", {}, "empty request (try help)"},
      {"reload \xff", {}, "request is not valid UTF-8 (byte 7)"},
      {"ab\xc3", {}, "request is not valid UTF-8 (byte 2)"},             // truncated
      {"\xc0\xaf", {}, "request is not valid UTF-8 (byte 0)"},           // overlong '/'
      {"x\xed\xa0\x80", {}, "request is not valid UTF-8 (byte 1)"},      // surrogate U+D800
      {"x\xf4\x90\x80\x80", {}, "request is not valid UTF-8 (byte 1)"},  // above U+10FFFF
      {"\x80", {}, "request is not valid UTF-8 (byte 0)"},               // stray continuation
      {"reload\x01x", {}, "request holds a control character (byte 6)"},
      {std::string("a\0b", 3), {}, "request holds a control character (byte 1)"},
      {"a\x7f", {}, "request holds a control character (byte 1)"},
      {"a\rb", {}, "request holds a control character (byte 1)"},
  };
  for (const RequestCase& c : cases) {
    SCOPED_TRACE(c.line);
    Result<std::vector<std::string>> words = ParseControlRequest(c.line);
    if (c.error.empty()) {
      ASSERT_TRUE(words.ok()) << words.status().ToString();
      EXPECT_THAT(*words, ElementsAreArray(c.words));
    } else {
      ASSERT_FALSE(words.ok());
      EXPECT_EQ(words.status().code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(words.status().message(), c.error);
    }
  }
}

TEST(ParseControlRequestTest, LengthLimitIsExclusiveOfLineEnd) {
  std::string at_limit = "x " + std::string(kMaxControlRequestBytes - 2, 'a');
  ASSERT_EQ(at_limit.size(), 4096u);
  Result<std::vector<std::string>> ok = ParseControlRequest(at_limit);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 2u);
  EXPECT_TRUE(ParseControlRequest(at_limit + "\r").ok());

  Result<std::vector<std::string>> too_long = ParseControlRequest(at_limit + "a");
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.status().message(), "request too long (at most 4096 bytes)");
}

struct ResponseCase {
  std::string bytes;
  bool parses;
  bool ok;
  std::string body;
  std::string error;  // ERR message, or the parse error when !parses
};

TEST(ParseControlResponseTest, Table) {
  const std::vector<ResponseCase> cases = {
      {"OK\n", true, true, "", ""},
      {"a\nb\nOK\n", true, true, "a\nb\n", ""},
      {"a\r\nOK\r\n", true, true, "a\r\n", ""},
      {"ERR busy\n", true, false, "", "busy"},
      {"partial\nERR feed 'x' failed: line 3\n", true, false, "partial\n", "feed 'x' failed: line 3"},
      {"ERR\n", true, false, "", ""},
      {"OKAY\n", false, false, "", "malformed response: the last line is neither OK nor ERR"},
      {"a\nb\n", false, false, "", "malformed response: the last line is neither OK nor ERR"},
      {"\n", false, false, "", "malformed response: the last line is neither OK nor ERR"},
      {"ERRbusy\n", false, false, "", "malformed response: the last line is neither OK nor ERR"},
      {"", false, false, "", "empty response (the connection closed before OK or ERR)"},
      {"a\nOK", false, false, "", "incomplete response (the connection closed before OK or ERR)"},
      {"line 1\nline 2", false, false, "", "incomplete response (the connection closed before OK or ERR)"},
  };
  for (const ResponseCase& c : cases) {
    SCOPED_TRACE(c.bytes);
    Result<ControlResponse> r = ParseControlResponse(c.bytes);
    if (!c.parses) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(r.status().message(), c.error);
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->ok, c.ok);
    EXPECT_EQ(r->body, c.body);
    EXPECT_EQ(r->error, c.error);
  }
}

TEST(FormatControlResponseTest, Table) {
  EXPECT_EQ(FormatControlResponse("", Status::Ok()), "OK\n");
  EXPECT_EQ(FormatControlResponse("a\nb\n", Status::Ok()), "a\nb\nOK\n");
  EXPECT_EQ(FormatControlResponse("a\nb", Status::Ok()), "a\nb\nOK\n");
  EXPECT_EQ(FormatControlResponse("", Status::NotFound("no feed 'x'")), "ERR no feed 'x'\n");
  EXPECT_EQ(FormatControlResponse("done 1\n", Status::IoError("feed b: line 2\nline 3\r")),
            "done 1\nERR feed b: line 2 line 3 \n");
  EXPECT_EQ(FormatControlResponse("", Status::Internal("")), "ERR failed\n");
}

TEST(FormatControlResponseTest, RoundTripsThroughParse) {
  std::string text = FormatControlResponse("x\ny", Status::Unavailable("later"));
  Result<ControlResponse> r = ParseControlResponse(text);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->body, "x\ny\n");
  EXPECT_EQ(r->error, "later");
}

}  // namespace
}  // namespace iocd
