// End-to-end test of the counters (docs/metrics.md): the real iocd with metrics_listen on
// 127.0.0.1:0, events sent with logger, the counters read with `iocctl metrics` over the
// control socket and with curl over HTTP, as Prometheus would scrape them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "harness/e2e_util.h"
#include "harness/iocd_process.h"
#include "harness/line_receiver.h"
#include "harness/run_command.h"

namespace iocd::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(MetricsEndToEndTest, CountersOverTheControlSocketAndHttp) {
  TempDir dir;
  LineReceiver siem;
  WriteFile(dir / "feed.txt", "198.51.100.7\nevil-domain.com\n" + std::string(kSentinel) + "\n");
  WriteFile(dir / "iocd.yaml", SiemInputAndPlainFeedYaml(dir) +
                                   "metrics_listen: 127.0.0.1:0\n"
                                   "outputs:\n"
                                   "  - {name: soc, protocol: tcp, address: 127.0.0.1:" +
                                   std::to_string(siem.port()) + "}\n");
  IocdProcess iocd(IOCD_BINARY, {"--config", dir / "iocd.yaml"});
  ASSERT_TRUE(iocd.Start());
  ASSERT_TRUE(iocd.WaitForLog("iocd ready")) << iocd.log();
  std::smatch m;
  const std::string log = iocd.log();
  ASSERT_TRUE(std::regex_search(log, m, std::regex("metrics at http://(127\\.0\\.0\\.1:[0-9]+)/metrics"))) << log;
  const std::string url = "http://" + m[1].str() + "/metrics";

  std::vector<std::string> hits =
      SendAndCollect(siem, iocd.InputPort("siem"), {"a 198.51.100.7", "nothing here", "b evil-domain.com"});
  ASSERT_EQ(hits.size(), 3u) << ::testing::PrintToString(hits);

  // Every event has been processed and every hit counted before the sentinel's hit left.
  const auto expected = AllOf(HasSubstr("\n# TYPE iocd_events_total counter\niocd_events_total 4\n"),
                              HasSubstr("\niocd_hits_total 3\n"), HasSubstr("\niocd_observables_total 3\n"),
                              HasSubstr("\niocd_input_messages_total{input=\"siem\"} 4\n"),
                              HasSubstr("\niocd_input_frames_discarded_total{input=\"siem\",reason=\"oversized\"} 0\n"),
                              HasSubstr("\n# TYPE iocd_input_connections_open gauge\n"),
                              HasSubstr("\niocd_index_indicators 3\n"), HasSubstr("\niocd_feed_indicators{feed=\"e2e\"} 3\n"),
                              HasSubstr("\niocd_service_events_total{kind=\"started\"} 1\n"));
  CommandResult ctl = RunCommand({IOCCTL_BINARY, "--socket", dir / "state/control.sock", "metrics"});
  EXPECT_EQ(ctl.exit_code, 0) << ctl.err;
  EXPECT_THAT(ctl.out, expected);

  CommandResult curl = RunCommand({"curl", "-sS", "--max-time", "30", "-D", "-", url});
  if (curl.exit_code == 127 || (curl.exit_code == -1 && curl.out.empty())) {
    GTEST_SKIP() << "curl is not installed (tools/bootstrap.sh installs it)";
  }
  EXPECT_EQ(curl.exit_code, 0) << curl.err;
  EXPECT_THAT(curl.out, HasSubstr("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(curl.out, HasSubstr("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
  EXPECT_THAT(curl.out, expected);
  CommandResult missing = RunCommand({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "http://" + m[1].str() + "/"});
  EXPECT_EQ(missing.out, "404");
}

}  // namespace
}  // namespace iocd::testing
