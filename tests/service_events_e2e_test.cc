// End-to-end tests of service events with the real iocd: a spooled tcp output that takes
// only service events (events: service) receives started, feed_failed (with the reason and
// line), feed_updated (with exact counts), feed_removed, feed_outdated and stopped, as JSON
// lines.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>

#include "harness/e2e_util.h"
#include "harness/iocd_process.h"
#include "harness/line_receiver.h"
#include "harness/run_command.h"

namespace iocd::testing {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

class ServiceEventsEndToEndTest : public ::testing::Test {
 protected:
  std::string WriteConfig(const std::string& feed_options = "", const std::string& extra = "") {
    std::string path = dir_ / "iocd.yaml";
    WriteFile(path, SiemInputAndPlainFeedYaml(dir_) + "    max_shrink: 1\n" + feed_options +
                        "outputs:\n"
                        "  - name: soc\n"
                        "    protocol: tcp\n"
                        "    address: 127.0.0.1:" +
                        std::to_string(soc_.port()) + "\n" + "    events: service\n" + extra);
    return path;
  }

  std::unique_ptr<IocdProcess> StartIocd(const std::string& config) {
    auto p =
        std::make_unique<IocdProcess>(IOCD_BINARY, std::vector<std::string>{"--config", config});
    EXPECT_TRUE(p->Start());
    EXPECT_TRUE(p->WaitForLog("iocd ready", 1, std::chrono::seconds(60))) << p->log();
    return p;
  }

  // The first service event of `kind` (about `subject`) received, waiting for it; null JSON
  // on timeout.
  Json WaitForEvent(const std::string& kind, const std::string& subject = "") {
    auto matches = [&](const std::string& line) {
      Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
      return j.is_object() && j.contains("event") && j["event"].value("action", "") == kind &&
             (subject.empty() || j["iocd"]["service"].value("subject", "") == subject);
    };
    for (const std::string& line : soc_.WaitFor(matches)) {
      if (matches(line)) return Json::parse(line);
    }
    ADD_FAILURE() << "no " << kind << " event; received:\n"
                  << ::testing::PrintToString(soc_.lines());
    return Json();
  }

  CommandResult Reload(const std::string& feed) {
    return RunCommand({IOCCTL_BINARY, "--socket", dir_ / "state/control.sock", "reload", feed});
  }

  TempDir dir_;
  LineReceiver soc_;
};

TEST_F(ServiceEventsEndToEndTest, StartedFeedFailedFeedUpdatedFeedRemovedStopped) {
  WriteFile(dir_ / "feed.txt", std::string("1.2.3.4\nevil.example.com\n") + kSentinel + "\n");
  auto iocd = StartIocd(WriteConfig());

  Json first_import = WaitForEvent("feed_updated", "e2e");
  EXPECT_EQ(first_import["iocd"]["service"]["details"]["added"], "3") << first_import.dump();
  EXPECT_EQ(first_import["iocd"]["service"]["details"]["removed"], "0");

  Json started = WaitForEvent("started");
  ASSERT_TRUE(started.is_object());
  EXPECT_EQ(started["log"]["level"], "info");
  EXPECT_EQ(started["iocd"]["service"]["details"]["feeds"], "1") << started.dump();
  EXPECT_EQ(started["iocd"]["service"]["details"]["indicators"], "3");
  EXPECT_EQ(started["iocd"]["service"]["details"]["version"], "0.1.0");
  EXPECT_EQ(started["event"]["id"].get<std::string>().size(), 32u);

  // The feed is replaced with garbage: the reload keeps the previous version and says why.
  WriteFile(dir_ / "feed.txt", "!!! not an indicator\n%%% neither\n");
  CommandResult r = Reload("e2e");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  Json failed = WaitForEvent("feed_failed", "e2e");
  ASSERT_TRUE(failed.is_object());
  EXPECT_EQ(failed["event"]["kind"], "alert");
  EXPECT_EQ(failed["log"]["level"], "error");
  const Json& details = failed["iocd"]["service"]["details"];
  EXPECT_THAT(details["reason"].get<std::string>(),
              HasSubstr("holds a valid indicator (2 malformed)"))
      << failed.dump();
  EXPECT_EQ(details["line"], "1");
  EXPECT_EQ(details["previous_version_kept"], "true");
  EXPECT_EQ(details["indicators"], "3");
  EXPECT_THAT(failed["message"].get<std::string>(),
              HasSubstr("keeping the previous version (3 indicators)"));

  // A good update: one indicator gone, two new.
  WriteFile(dir_ / "feed.txt",
            std::string("1.2.3.4\nnew.example.org\n5.6.7.8\n") + kSentinel + "\n");
  soc_.Clear();
  r = Reload("e2e");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  Json updated = WaitForEvent("feed_updated", "e2e");
  ASSERT_TRUE(updated.is_object());
  const Json& u = updated["iocd"]["service"]["details"];
  EXPECT_EQ(u["indicators"], "4") << updated.dump();
  EXPECT_EQ(u["added"], "2");
  EXPECT_EQ(u["removed"], "1");
  EXPECT_EQ(u["changed"], "0");
  EXPECT_EQ(u["version"].get<std::string>().size(), 16u);

  // The feed is disabled in the config: SIGHUP re-reads it and removes the feed.
  WriteConfig("    enabled: false\n");
  iocd->Signal(SIGHUP);
  Json removed = WaitForEvent("feed_removed", "e2e");
  ASSERT_TRUE(removed.is_object());
  EXPECT_EQ(removed["log"]["level"], "info");
  EXPECT_EQ(removed["iocd"]["service"]["details"]["removed"], "4") << removed.dump();

  iocd->Signal(SIGTERM);
  EXPECT_EQ(iocd->Wait(), 0) << iocd->log();
  Json stopped = WaitForEvent("stopped");
  ASSERT_TRUE(stopped.is_object());
  EXPECT_EQ(stopped["iocd"]["service"]["details"]["reason"], "SIGTERM");
  // Ordinary hits never reach an events: service output.
  for (const std::string& line : soc_.lines()) EXPECT_THAT(line, HasSubstr("\"service\"")) << line;
}

TEST_F(ServiceEventsEndToEndTest, AFeedNotUpdatedForOutdatedAfterRaisesFeedOutdatedOnce) {
  WriteFile(dir_ / "feed.txt", std::string(kSentinel) + "\n");
  auto iocd = StartIocd(
      WriteConfig("    outdated_after: 1s\n", "service_events:\n  check_interval: 200ms\n"));
  Json outdated = WaitForEvent("feed_outdated", "e2e");
  ASSERT_TRUE(outdated.is_object());
  EXPECT_EQ(outdated["log"]["level"], "warning");
  EXPECT_EQ(outdated["iocd"]["service"]["details"]["outdated_after_s"], "1") << outdated.dump();
  iocd->Signal(SIGTERM);
  EXPECT_EQ(iocd->Wait(), 0);
  WaitForEvent("stopped");
  size_t outdated_events = 0;
  for (const std::string& line : soc_.lines())
    outdated_events += line.find("\"feed_outdated\"") != std::string::npos;
  EXPECT_EQ(outdated_events, 1u);
}

// The suppression window with the real daemon: three sightings of one indicator from one
// host in a 1 s window give one hit, then (when the window closes) one summary hit with
// count 3, a copy of the first hit.
TEST_F(ServiceEventsEndToEndTest, SuppressionWindowSendsOneHitThenASummaryWithTheCount) {
  WriteFile(dir_ / "feed.txt", std::string("evil.example.com\n") + kSentinel + "\n");
  const std::string config = dir_ / "iocd.yaml";
  WriteFile(config, SiemInputAndPlainFeedYaml(dir_) +
                        "suppression:\n  window: 1s\n"
                        "outputs:\n"
                        "  - name: siem-out\n"
                        "    protocol: tcp\n"
                        "    address: 127.0.0.1:" + std::to_string(soc_.port()) + "\n");
  auto iocd = StartIocd(config);
  std::vector<std::string> summaries = SendAndCollect(
      soc_, iocd->InputPort("siem"),
      {"GET http://evil.example.com/a", "GET http://evil.example.com/b", "GET http://evil.example.com/c"});
  // Up to the sentinel: one hit for the domain (and the URLs' host lookups fold into it).
  size_t domain_hits = 0;
  for (const auto& s : summaries) domain_hits += s.rfind("evil.example.com|", 0) == 0;
  EXPECT_EQ(domain_hits, 1u) << ::testing::PrintToString(summaries);

  auto is_summary = [](const std::string& line) {
    Json j = Json::parse(line, nullptr, false);
    return j.is_object() && j.contains("iocd") && j["iocd"].contains("suppression") &&
           j["iocd"]["suppression"].value("summary", false) &&
           j["threat"]["enrichments"][0]["matched"]["atomic"] == "evil.example.com";
  };
  Json summary;
  for (const std::string& line : soc_.WaitFor(is_summary)) {
    if (is_summary(line)) summary = Json::parse(line);
  }
  ASSERT_TRUE(summary.is_object()) << ::testing::PrintToString(soc_.lines());
  EXPECT_EQ(summary["iocd"]["suppression"]["count"], 3) << summary.dump();
  EXPECT_TRUE(summary["iocd"]["suppression"].contains("window_start"));
  iocd->Signal(SIGTERM);
  EXPECT_EQ(iocd->Wait(), 0) << iocd->log();
}

}  // namespace
}  // namespace iocd::testing
