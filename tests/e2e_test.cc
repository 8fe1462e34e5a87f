// End-to-end: the real iocd binary, a real feed file, util-linux logger as the sender and a
// TCP listener standing in for the SIEM. Each test reads like an operator's session.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "harness/e2e_util.h"
#include "harness/iocd_process.h"
#include "harness/line_receiver.h"
#include "harness/run_command.h"

namespace iocd::testing {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

class EndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_ / "feed.txt",
              "# iocd end-to-end feed: one indicator of each type\n"
              "107.148.149[.]156          # defanged address\n"
              "2001:db8:dead::1\n"
              "198.51.100.0/24\n"
              "2001:db8:beef::/48\n"
              "evil-domain.com\n"
              "singamofing[.]com\n"
              "http://bad-url.net/gate.php\n"
              "hxxp://defanged-url[.]org/payload.bin\n"
              "0a1b2c3d4e5f60718293a4b5c6d7e8f9\n"
              "00112233445566778899aabbccddeeff00112233\n"
              "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
              "this is not an indicator\n" +
                  std::string(kSentinel) + "\n");
    WriteFile(dir_ / "feed.csv",
              "# value;threat\n"
              "107.148.149.156;Emotet C2\n"
              "other-evil.org;Phishing\n");
  }

  std::string WriteConfig() {
    std::string path = dir_ / "iocd.yaml";
    WriteFile(path, SiemInputAndPlainFeedYaml(dir_) +
                        "  - name: threats\n"
                        "    path: " + (dir_ / "feed.csv") +
                        "\n"
                        "    format: csv\n"
                        "    csv: {delimiter: \";\", value_column: 1, context_columns: {threat: 2}}\n"
                        "outputs:\n"
                        "  - name: siem\n"
                        "    protocol: tcp\n"
                        "    address: 127.0.0.1:" + std::to_string(siem_.port()) +
                        "\n"
                        "    format: json\n");
    return path;
  }

  // Starts iocd and waits for its readiness line.
  std::unique_ptr<IocdProcess> StartIocd() {
    auto p = std::make_unique<IocdProcess>(IOCD_BINARY, std::vector<std::string>{"--config", WriteConfig()});
    EXPECT_TRUE(p->Start());
    EXPECT_TRUE(p->WaitForLog("iocd ready")) << p->log();
    return p;
  }

  TempDir dir_;
  LineReceiver siem_;
};

TEST_F(EndToEndTest, EveryIndicatorTypeMatchesAndCleanLinesDoNot) {
  auto iocd = StartIocd();
  int port = iocd->InputPort("siem");
  ASSERT_GT(port, 0) << iocd->log();
  // The malformed feed line is reported with its location; the rest loaded.
  EXPECT_THAT(iocd->log(), HasSubstr((dir_ / "feed.txt") + ":13: "));

  std::vector<std::string> hits = SendAndCollect(
      siem_, port,
      {
          "connection from 107.148.149.156 port 443 allowed",
          "dst=2001:db8:dead::1 proto=tcp",
          "src=198.51.100.77 action=blocked",
          "flow to 2001:db8:beef:1::5 dropped",
          "DNS query for a.b.evil-domain.com type A",
          "resolved singamofing.com",
          "GET http://bad-url.net/gate.php HTTP/1.1",
          "fetched http://defanged-url.org/payload.bin",
          "file md5=0A1B2C3D4E5F60718293A4B5C6D7E8F9 written",
          "sha1 00112233445566778899AABBCCDDEEFF00112233 seen",
          "sha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
          // Clean: no listed indicator, a look-alike domain, another page on a listed URL's host.
          "user alice logged in from 10.1.2.3",
          "lookup notevil-domain.com and evil-domain.co",
          "GET http://bad-url.net/other.php HTTP/1.1",
      });
  std::vector<std::string> expected = {
      "00112233445566778899AABBCCDDEEFF00112233|sha1 => e2e:00112233445566778899aabbccddeeff00112233:sha1",
      "0A1B2C3D4E5F60718293A4B5C6D7E8F9|md5 => e2e:0a1b2c3d4e5f60718293a4b5c6d7e8f9:md5",
      "107.148.149.156|ipv4 => e2e:107.148.149.156:ipv4 threats:107.148.149.156:ipv4",
      "198.51.100.77|ipv4 => e2e:198.51.100.0/24:cidr4",
      "2001:db8:beef:1::5|ipv6 => e2e:2001:db8:beef::/48:cidr6",
      "2001:db8:dead::1|ipv6 => e2e:2001:db8:dead::1:ipv6",
      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08|sha256 => "
      "e2e:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08:sha256",
      "a.b.evil-domain.com|domain => e2e:evil-domain.com:domain",
      "http://bad-url.net/gate.php|url => e2e:http://bad-url.net/gate.php:url",
      "http://defanged-url.org/payload.bin|url => e2e:http://defanged-url.org/payload.bin:url",
      "singamofing.com|domain => e2e:singamofing.com:domain",
      SentinelSummary(),
  };
  std::sort(expected.begin(), expected.end());
  EXPECT_THAT(hits, ElementsAreArray(expected));
}

TEST_F(EndToEndTest, OctetCountedFramingMatchesToo) {
  auto iocd = StartIocd();
  int port = iocd->InputPort("siem");
  ASSERT_GT(port, 0) << iocd->log();
  std::vector<std::string> hits = SendAndCollect(
      siem_, port, {"octet framed: 107.148.149.156", "clean octet framed line", "visit other-evil.org now"},
      /*octet_count=*/true);
  std::vector<std::string> expected = {
      "107.148.149.156|ipv4 => e2e:107.148.149.156:ipv4 threats:107.148.149.156:ipv4",
      "other-evil.org|domain => threats:other-evil.org:domain",
      SentinelSummary(),
  };
  std::sort(expected.begin(), expected.end());
  EXPECT_THAT(hits, ElementsAreArray(expected));
}

TEST_F(EndToEndTest, HitCarriesEventAndFeedContext) {
  auto iocd = StartIocd();
  int port = iocd->InputPort("siem");
  ASSERT_GT(port, 0) << iocd->log();
  SendAndCollect(siem_, port, {"connection from 107.148.149.156 port 443 allowed"});
  std::vector<std::string> lines = siem_.lines();
  ASSERT_EQ(lines.size(), 2u);
  auto hit = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(hit["iocd"]["input"], "siem");
  EXPECT_THAT(hit["log"]["source"]["address"].get<std::string>(), ::testing::StartsWith("127.0.0.1:"));
  EXPECT_THAT(hit["event"]["original"].get<std::string>(),
              ::testing::EndsWith("connection from 107.148.149.156 port 443 allowed"));
  EXPECT_FALSE(hit["event"]["id"].get<std::string>().empty());
  EXPECT_FALSE(hit["@timestamp"].get<std::string>().empty());
  const auto& enrichments = hit["threat"]["enrichments"];
  ASSERT_EQ(enrichments.size(), 2u);
  EXPECT_EQ(enrichments[0]["indicator"]["context"]["comment"], "defanged address");
  EXPECT_EQ(enrichments[1]["feed"]["name"], "threats");
  EXPECT_EQ(enrichments[1]["indicator"]["context"]["threat"], "Emotet C2");
  EXPECT_EQ(enrichments[1]["matched"]["field"], "message");
}

TEST_F(EndToEndTest, SighupReloadsChangedFeedWithoutRestart) {
  auto iocd = StartIocd();
  int port = iocd->InputPort("siem");
  ASSERT_GT(port, 0) << iocd->log();
  std::vector<std::string> before =
      SendAndCollect(siem_, port, {"to removed-later.example.net", "to added-later.example.net"});
  EXPECT_THAT(before, ElementsAreArray({SentinelSummary()}));

  // Add one indicator, drop evil-domain.com, then reload.
  std::string feed = ReadFile(dir_ / "feed.txt");
  feed.replace(feed.find("evil-domain.com\n"), 16, "added-later.example.net\n");
  WriteFile(dir_ / "feed.txt", feed);
  size_t loads = iocd->CountLog("feeds loaded");
  iocd->Signal(SIGHUP);
  ASSERT_TRUE(iocd->WaitForLog("feeds loaded", loads + 1)) << iocd->log();
  EXPECT_THAT(iocd->log(), HasSubstr("feed e2e: imported 12 indicators"));

  std::vector<std::string> after =
      SendAndCollect(siem_, port, {"to evil-domain.com", "to added-later.example.net"});
  std::vector<std::string> expected = {
      "added-later.example.net|domain => e2e:added-later.example.net:domain",
      SentinelSummary(),
  };
  std::sort(expected.begin(), expected.end());
  EXPECT_THAT(after, ElementsAreArray(expected));
}

TEST_F(EndToEndTest, SigtermExitsCleanlyAndRestartDoesNotReimport) {
  {
    auto iocd = StartIocd();
    EXPECT_THAT(iocd->log(), HasSubstr("feed e2e: imported 12 indicators"));
    iocd->Signal(SIGTERM);
    EXPECT_EQ(iocd->Wait(), 0) << iocd->log();
    EXPECT_THAT(iocd->log(), HasSubstr("iocd stopped"));
  }
  auto iocd = StartIocd();
  EXPECT_THAT(iocd->log(), HasSubstr("unchanged, 12 indicators"));
  EXPECT_THAT(iocd->log(), ::testing::Not(HasSubstr("feed e2e: imported")));
  // The index is rebuilt from the store: matching works without a re-import.
  std::vector<std::string> hits = SendAndCollect(siem_, iocd->InputPort("siem"), {"to singamofing.com"});
  std::vector<std::string> expected = {"singamofing.com|domain => e2e:singamofing.com:domain", SentinelSummary()};
  std::sort(expected.begin(), expected.end());
  EXPECT_THAT(hits, ElementsAreArray(expected));
}

TEST(CheckConfigTest, ReportsFileLineAndKey) {
  TempDir dir;
  std::string path = dir / "bad.yaml";
  WriteFile(path,
            "state_dir: ./var\n"
            "inputs:\n"
            "  - name: siem\n"
            "    protocol: syslog-tcp\n"
            "    listen: 127.0.0.1:99999\n"
            "    colour: blue\n");
  CommandResult r = RunCommand({IOCD_BINARY, "--check-config", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(path + ":5:"));
  EXPECT_THAT(r.err, HasSubstr("inputs[0].listen"));
  EXPECT_THAT(r.err, HasSubstr(path + ":6:"));
  EXPECT_THAT(r.err, HasSubstr("colour"));

  std::string good = dir / "good.yaml";
  WriteFile(good, "inputs:\n  - name: siem\n    protocol: syslog-tcp\n");
  CommandResult ok = RunCommand({IOCD_BINARY, "--check-config", good});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST(DefaultConfigTest, EmbeddedDefaultIsValid) {
  CommandResult r = RunCommand({IOCD_BINARY, "--print-default-config"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("listen: 127.0.0.1:9999"));
  TempDir dir;
  WriteFile(dir / "default.yaml", r.out);
  CommandResult check = RunCommand({IOCD_BINARY, "--check-config", dir / "default.yaml"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
}

}  // namespace
}  // namespace iocd::testing
