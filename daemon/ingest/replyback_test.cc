#include "ingest/replyback.h"

#include <gtest/gtest.h>

#include <string>

namespace iocd {
namespace {

struct FlagsCase {
  std::string message;
  bool is_flags;
  bool send_finished;
  bool save_statistic;
  bool ping;
};

TEST(ReplyBackFlagsTest, Table) {
  const FlagsCase cases[] = {
      {"X-KF-ReplyBack", true, false, false, false},
      {"X-KF-SendFinishedEventX-KF-ReplyBack", true, true, false, false},
      {"X-KF-ReplyBackX-KF-SendFinishedEvent", true, true, false, false},
      {"X-KF-SendFinishedEventX-KF-ReplyBackX-KF-SaveStatistic", true, true, true, false},
      {"X-KF-ReplyBackX-KF-SaveStatistic", true, false, true, false},
      {"X-KF-ReplyBackPING", true, false, false, true},
      {"X-KF-SendFinishedEventX-KF-ReplyBackPING", true, true, false, true},
      // Not flags lines: ordinary events.
      {"", false, false, false, false},
      {"PING", false, false, false, false},
      {"X-KF-SendFinishedEvent", false, false, false, false},       // no X-KF-ReplyBack
      {"X-KF-SaveStatistic", false, false, false, false},
      {"x-kf-replyback", false, false, false, false},               // flags are case-sensitive
      {"X-KF-ReplyBack ", false, false, false, false},              // trailing space
      {" X-KF-ReplyBack", false, false, false, false},
      {"X-KF-ReplyBackX-KF-ReplyBack", false, false, false, false},  // repeated flag
      {"X-KF-ReplyBackPINGX-KF-SaveStatistic", false, false, false, false},  // PING not last
      {"X-KF-ReplyBackPONG", false, false, false, false},
      {"X-KF-ReplyBack hello 1.2.3.4", false, false, false, false},
      {"<13>Nov 22 03:25:46 host app: X-KF-ReplyBack", false, false, false, false},
  };
  for (const FlagsCase& c : cases) {
    SCOPED_TRACE(c.message);
    std::optional<ReplyBackRequest> r = ParseReplyBackFlags(c.message);
    ASSERT_EQ(r.has_value(), c.is_flags);
    if (!r) continue;
    EXPECT_EQ(r->send_finished, c.send_finished);
    EXPECT_EQ(r->save_statistic, c.save_statistic);
    EXPECT_EQ(r->ping, c.ping);
  }
}

TEST(ReplyBackFlagsTest, PingIsExactlyPing) {
  EXPECT_TRUE(IsReplyBackPing("PING"));
  EXPECT_FALSE(IsReplyBackPing("PING "));
  EXPECT_FALSE(IsReplyBackPing("ping"));
  EXPECT_FALSE(IsReplyBackPing("PINGPING"));
  EXPECT_FALSE(IsReplyBackPing(""));
}

}  // namespace
}  // namespace iocd
