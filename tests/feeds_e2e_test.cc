// End-to-end tests of feed handling with the real iocd: allowlists, a crash in the middle
// of a large update, and a reload while events stream in.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "harness/e2e_util.h"
#include "harness/iocd_process.h"
#include "harness/line_receiver.h"
#include "harness/run_command.h"

namespace iocd::testing {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

class FeedsEndToEndTest : public ::testing::Test {
 protected:
  // A config with one plain feed "e2e" at feed.txt and the given extra YAML.
  std::string WriteConfig(const std::string& extra = "") {
    std::string path = dir_ / "iocd.yaml";
    WriteFile(path, SiemInputAndPlainFeedYaml(dir_) +
                        "    max_shrink: 1\n"
                        "outputs:\n"
                        "  - name: siem\n"
                        "    protocol: tcp\n"
                        "    address: 127.0.0.1:" + std::to_string(siem_.port()) + "\n" + extra);
    return path;
  }

  std::unique_ptr<IocdProcess> StartIocd(const std::string& config) {
    auto p = std::make_unique<IocdProcess>(IOCD_BINARY, std::vector<std::string>{"--config", config});
    EXPECT_TRUE(p->Start());
    EXPECT_TRUE(p->WaitForLog("iocd ready", 1, std::chrono::seconds(120))) << p->log();
    return p;
  }

  CommandResult Iocctl(std::vector<std::string> args) {
    args.insert(args.begin(), IOCCTL_BINARY);
    return RunCommand(args);
  }

  TempDir dir_;
  LineReceiver siem_;
};

TEST_F(FeedsEndToEndTest, AllowlistedObservablesProduceNoHitAndAreCounted) {
  // The feed lists a documentation address and loopback by mistake, as real feeds do.
  WriteFile(dir_ / "feed.txt", std::string("192.0.2.10\n127.0.0.1\nevil-allow.example.org\n") + kSentinel + "\n");
  auto iocd = StartIocd(WriteConfig("allowlists:\n"
                                    "  - name: reserved\n"
                                    "    path: " + SourceDir() + "/config/allowlists/reserved.txt\n" +
                                    "    format: plain\n"));
  std::vector<std::string> hits = SendAndCollect(
      siem_, iocd->InputPort("siem"),
      {"deny from 192.0.2.10", "probe to 127.0.0.1", "GET http://evil-allow.example.org/x HTTP/1.1"});
  std::vector<std::string> expected = {
      "evil-allow.example.org|domain => e2e:evil-allow.example.org:domain",
      SentinelSummary(),
  };
  std::sort(expected.begin(), expected.end());
  EXPECT_THAT(hits, ElementsAreArray(expected));

  CommandResult status = Iocctl({"--socket", dir_ / "state/control.sock", "status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("allowlist reserved: 2 hits suppressed"));
  EXPECT_THAT(status.out, HasSubstr("feed e2e: 4 indicators, 0 malformed, 0 unsupported, 2 hits suppressed"));
}

std::string AddressFeed(uint32_t first, int count) {
  std::string out;
  out.reserve(count * 16);
  for (int i = 0; i < count; ++i) {
    uint32_t a = first + static_cast<uint32_t>(i);
    out += std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." + std::to_string((a >> 8) & 255) +
           "." + std::to_string(a & 255) + "\n";
  }
  return out + kSentinel + "\n";
}

TEST_F(FeedsEndToEndTest, SigkillDuringALargeUpdateLeavesOldOrNewNeverAMix) {
  constexpr int kOld = 300000, kNew = 200000;
  WriteFile(dir_ / "feed.txt", AddressFeed(0x2d000000, kOld));  // 45.0.0.0 ...
  std::string config = WriteConfig();
  {
    auto iocd = StartIocd(config);
    ASSERT_THAT(iocd->log(), HasSubstr("feed e2e: imported 300001 indicators"));
    WriteFile(dir_ / "feed.txt", AddressFeed(0x2e000000, kNew));  // 46.0.0.0 ...
    size_t reloads = iocd->CountLog("SIGHUP: reloading feeds");
    iocd->Signal(SIGHUP);
    ASSERT_TRUE(iocd->WaitForLog("SIGHUP: reloading feeds", reloads + 1)) << iocd->log();
    // The reload is now reading, parsing or writing 200k indicators: kill it there.
    iocd->Signal(SIGKILL);
    EXPECT_EQ(iocd->Wait(), -1);
  }
  CommandResult info = Iocctl({"store-info", "--state-dir", dir_ / "state", "--json"});
  ASSERT_EQ(info.exit_code, 0) << info.out << info.err;  // 0: every feed's entries match its count
  auto json = nlohmann::json::parse(info.out);
  ASSERT_EQ(json["feeds"].size(), 1u) << info.out;
  uint64_t count = json["feeds"][0]["indicator_count"].get<uint64_t>();
  EXPECT_TRUE(count == kOld + 1 || count == kNew + 1) << count;
  EXPECT_EQ(json["feeds"][0]["stored_entries"].get<uint64_t>(), count);

  // A restart completes the update (or finds it complete) and matches the new version.
  auto iocd = StartIocd(config);
  EXPECT_TRUE(iocd->log().find("feed e2e: imported 200001 indicators") != std::string::npos ||
              iocd->log().find("unchanged, 200001 indicators") != std::string::npos)
      << iocd->log();
  std::vector<std::string> hits =
      SendAndCollect(siem_, iocd->InputPort("siem"), {"old 45.0.0.7", "new 46.0.0.7"});
  std::vector<std::string> expected = {"46.0.0.7|ipv4 => e2e:46.0.0.7:ipv4", SentinelSummary()};
  std::sort(expected.begin(), expected.end());
  EXPECT_THAT(hits, ElementsAreArray(expected));
}

int ConnectTcp(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

TEST_F(FeedsEndToEndTest, ReloadWhileEventsStreamGivesEveryEventOneVerdict) {
  WriteFile(dir_ / "feed.txt", std::string("old-verdict.example.net\n") + kSentinel + "\n");
  auto iocd = StartIocd(WriteConfig());
  int fd = ConnectTcp(iocd->InputPort("siem"));
  ASSERT_GE(fd, 0);

  // Every event names both domains; only the feed version it is matched against decides
  // which one hits. The sender runs until told to stop.
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::thread sender([&] {
    for (int seq = 0; !stop.load() && seq < 2000000; ++seq) {
      // At most 20000 events in flight: well inside the output's queue, so none is dropped.
      if (seq >= 20000 && !siem_.WaitForCount(static_cast<size_t>(seq - 20000))) break;
      std::string batch = "<13>stream seq=" + std::to_string(seq) + " old-verdict.example.net new-verdict.example.net\n";
      if (!SendAll(fd, batch)) break;
      sent.store(seq + 1);
    }
  });

  ASSERT_TRUE(siem_.WaitForCount(500));

  WriteFile(dir_ / "feed.txt", std::string("new-verdict.example.net\n") + kSentinel + "\n");
  size_t loads = iocd->CountLog("feeds loaded");
  iocd->Signal(SIGHUP);
  ASSERT_TRUE(iocd->WaitForLog("feeds loaded", loads + 1)) << iocd->log();
  // Let the stream run on the new version for a while, then end it with the sentinel.
  ASSERT_FALSE(siem_.WaitFor([](const std::string& l) { return l.find("new-verdict") != std::string::npos; })
                   .empty());
  stop.store(true);
  sender.join();
  ASSERT_TRUE(SendAll(fd, std::string("<13>end ") + kSentinel + "\n"));
  std::vector<std::string> lines = siem_.WaitFor(IsSentinelHit, std::chrono::seconds(120));
  close(fd);
  ASSERT_FALSE(lines.empty());

  // Exactly one hit per event sent, old verdicts first, then new ones, never both.
  const int total = sent.load();
  std::vector<int> verdict(total, 0);  // 1 old, 2 new
  std::regex seq_re("seq=([0-9]+) ");
  int last_seq = -1;
  bool switched = false;
  for (const auto& line : lines) {
    if (IsSentinelHit(line)) continue;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(line, m, seq_re)) << line;
    int seq = std::stoi(m[1]);
    ASSERT_LT(seq, total);
    EXPECT_EQ(verdict[seq], 0) << "event " << seq << " got two verdicts";
    bool is_new = line.find("\"atomic\":\"new-verdict.example.net\"") != std::string::npos;
    verdict[seq] = is_new ? 2 : 1;
    EXPECT_GT(seq, last_seq) << "hits out of order";
    last_seq = seq;
    if (is_new) switched = true;
    EXPECT_FALSE(switched && !is_new) << "event " << seq << " matched the old version after the new one";
  }
  int missing = static_cast<int>(std::count(verdict.begin(), verdict.end(), 0));
  EXPECT_EQ(missing, 0) << "of " << total << " events";
  EXPECT_GE(std::count(verdict.begin(), verdict.end(), 1), 500);
  EXPECT_GE(std::count(verdict.begin(), verdict.end(), 2), 1);
}

}  // namespace
}  // namespace iocd::testing
