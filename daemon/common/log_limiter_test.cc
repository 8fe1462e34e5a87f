#include "common/log_limiter.h"

#include <gtest/gtest.h>

namespace iocd {
namespace {

using std::chrono::seconds;

TEST(LogLimiterTest, FirstEventLoggedThenAtMostOneLinePerIntervalWithCount) {
  LogLimiter limiter(seconds(30));
  const LogLimiter::Clock::time_point t0{seconds(1000)};
  const struct {
    int at_s;
    uint64_t want;
  } steps[] = {
      {0, 1},   // first failure: logged at once
      {1, 0},   // suppressed
      {29, 0},  // suppressed
      {30, 3},  // interval passed: reports itself and the two suppressed
      {31, 0}, {100, 2}, {130, 1},
  };
  for (const auto& s : steps) {
    EXPECT_EQ(limiter.Record(t0 + seconds(s.at_s)), s.want) << "at " << s.at_s << " s";
  }
  EXPECT_EQ(limiter.suppressed(), 0u);
  EXPECT_EQ(limiter.Record(t0 + seconds(131)), 0u);
  EXPECT_EQ(limiter.suppressed(), 1u);
  limiter.Reset();
  EXPECT_EQ(limiter.Record(t0 + seconds(132)), 1u);
}

}  // namespace
}  // namespace iocd
