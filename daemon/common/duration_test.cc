#include "common/duration.h"

#include <gtest/gtest.h>

namespace iocd {
namespace {

TEST(ParseDurationTest, AcceptsUnitsAndSums) {
  struct Case {
    std::string_view text;
    int64_t ms;
  };
  for (const Case& c : {Case{"0", 0}, Case{"45", 45000}, Case{"500ms", 500}, Case{"30s", 30000},
                        Case{"15m", 900000}, Case{"1h", 3600000}, Case{"7d", 604800000},
                        Case{"2w", 1209600000}, Case{"1h30m", 5400000}, Case{"1m30s250ms", 90250}}) {
    auto got = ParseDuration(c.text);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.status().ToString();
    EXPECT_EQ(got->count(), c.ms) << c.text;
  }
}

TEST(ParseDurationTest, RejectsWithReason) {
  for (std::string_view bad : {"", "m", "-1s", "1x", "1.5h", "10 s", "1h30", "99999999999999999999d"}) {
    auto got = ParseDuration(bad);
    EXPECT_FALSE(got.ok()) << bad;
    if (!got.ok()) {
      EXPECT_NE(got.status().message().find("bad duration"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace iocd
