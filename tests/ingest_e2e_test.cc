// End-to-end over every input transport: the real iocd, a feed file, real clients
// (util-linux logger over UDP and a Unix stream socket, openssl s_client over TLS with a
// client certificate) and a TCP listener standing in for the SIEM. Each batch ends with the
// sentinel; a transport delivers one sender's events in order, so every earlier hit has
// arrived once the sentinel's has.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>

#include "harness/e2e_util.h"
#include "harness/iocd_process.h"
#include "harness/line_receiver.h"
#include "harness/run_command.h"
#include "ingest/test_certs.h"

namespace iocd::testing {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

class IngestEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = MakeTestPki(dir_.path());
    WriteFile(dir_ / "feed.txt", "198.51.100.7\nevil-domain.com\n" + std::string(kSentinel) + "\n");
    socket_path_ = dir_ / "log.sock";
    WriteFile(dir_ / "iocd.yaml", "state_dir: " + (dir_ / "state") +
                                      "\n"
                                      "inputs:\n"
                                      "  - {name: udp, protocol: syslog-udp, listen: 127.0.0.1:0}\n"
                                      "  - {name: unix, protocol: syslog-unix, path: " + socket_path_ + "}\n"
                                      "  - name: tls\n"
                                      "    protocol: syslog-tls\n"
                                      "    listen: 127.0.0.1:0\n"
                                      "    tls: {cert: " + pki_.server_cert + ", key: " + pki_.server_key +
                                      ", ca: " + pki_.ca_cert + ", require_client_cert: true}\n"
                                      "feeds:\n"
                                      "  - {name: e2e, path: " + (dir_ / "feed.txt") + ", format: plain}\n"
                                      "outputs:\n"
                                      "  - {name: siem, protocol: tcp, address: 127.0.0.1:" +
                                      std::to_string(siem_.port()) + ", format: json}\n");
    iocd_ = std::make_unique<IocdProcess>(IOCD_BINARY, std::vector<std::string>{"--config", dir_ / "iocd.yaml"});
    ASSERT_TRUE(iocd_->Start());
    ASSERT_TRUE(iocd_->WaitForLog("iocd ready")) << iocd_->log();
  }

  // Runs `argv` with the lines (and the sentinel last) on stdin; returns the sorted hit
  // summaries up to the sentinel's.
  std::vector<std::string> SendAndCollectWith(const std::vector<std::string>& argv, std::vector<std::string> lines) {
    siem_.Clear();
    lines.push_back(std::string("end of batch ") + kSentinel);
    std::string input;
    for (const auto& l : lines) input += l + "\n";
    CommandResult sent = RunCommand(argv, input);
    if (sent.exit_code != 0) return {argv[0] + " failed: " + sent.err};
    std::vector<std::string> received = siem_.WaitFor(IsSentinelHit);
    if (received.empty()) return {"no sentinel hit arrived"};
    std::vector<std::string> out;
    for (const auto& line : received) out.push_back(Summarize(line));
    std::sort(out.begin(), out.end());
    return out;
  }

  std::vector<std::string> Expected() {
    std::vector<std::string> e = {
        "198.51.100.7|ipv4 => e2e:198.51.100.7:ipv4",
        "evil-domain.com|domain => e2e:evil-domain.com:domain",
        SentinelSummary(),
    };
    std::sort(e.begin(), e.end());
    return e;
  }

  std::vector<std::string> OpenSslClient(bool with_cert) {
    std::vector<std::string> argv = {"openssl", "s_client", "-quiet", "-no_ign_eof", "-connect",
                                     "127.0.0.1:" + std::to_string(iocd_->InputPort("tls")), "-CAfile",
                                     pki_.ca_cert, "-verify_return_error", "-verify_ip", "127.0.0.1"};
    if (with_cert) argv.insert(argv.end(), {"-cert", pki_.client_cert, "-key", pki_.client_key});
    return argv;
  }

  TempDir dir_;
  LineReceiver siem_;
  TestPki pki_;
  std::string socket_path_;
  std::unique_ptr<IocdProcess> iocd_;
};

TEST_F(IngestEndToEndTest, LoggerOverUdp) {
  int port = iocd_->InputPort("udp");
  ASSERT_GT(port, 0) << iocd_->log();
  EXPECT_THAT(iocd_->log(), HasSubstr("(syslog-udp)"));
  std::vector<std::string> hits =
      SendAndCollectWith({"logger", "--udp", "-n", "127.0.0.1", "-P", std::to_string(port), "-t", "e2e"},
                         {"udp event from 198.51.100.7", "clean udp line", "udp lookup evil-domain.com"});
  EXPECT_THAT(hits, ElementsAreArray(Expected()));
}

TEST_F(IngestEndToEndTest, LoggerOverUnixStreamSocket) {
  EXPECT_THAT(iocd_->log(), HasSubstr("input unix listening on " + socket_path_ + " (syslog-unix)"));
  std::vector<std::string> hits = SendAndCollectWith(
      {"logger", "--socket-errors=on", "-u", socket_path_, "--tcp", "-t", "e2e"},
      {"unix event from 198.51.100.7", "clean unix line", "unix lookup evil-domain.com"});
  EXPECT_THAT(hits, ElementsAreArray(Expected()));
  // SIGTERM removes the socket file.
  iocd_->Signal(SIGTERM);
  EXPECT_EQ(iocd_->Wait(), 0);
  EXPECT_FALSE(std::filesystem::exists(socket_path_));
}

TEST_F(IngestEndToEndTest, OpenSslClientWithCertificateOverTls) {
  ASSERT_GT(iocd_->InputPort("tls"), 0) << iocd_->log();
  std::vector<std::string> hits =
      SendAndCollectWith(OpenSslClient(/*with_cert=*/true),
                         {"<13>tls event from 198.51.100.7", "<13>clean tls line", "<13>tls lookup evil-domain.com"});
  EXPECT_THAT(hits, ElementsAreArray(Expected()));
}

TEST_F(IngestEndToEndTest, TlsClientWithoutCertificateIsRejected) {
  ASSERT_GT(iocd_->InputPort("tls"), 0) << iocd_->log();
  RunCommand(OpenSslClient(/*with_cert=*/false), "<13>rejected 198.51.100.7\n");
  ASSERT_TRUE(iocd_->WaitForLog("TLS handshake with 127.0.0.1:")) << iocd_->log();
  // A certified client afterwards still gets through; the rejected event produced no hit.
  std::vector<std::string> hits =
      SendAndCollectWith(OpenSslClient(/*with_cert=*/true), {"<13>accepted evil-domain.com"});
  EXPECT_THAT(hits, ElementsAreArray(std::vector<std::string>{"evil-domain.com|domain => e2e:evil-domain.com:domain",
                                                              SentinelSummary()}));
  iocd_->Signal(SIGTERM);
  EXPECT_EQ(iocd_->Wait(), 0);
  EXPECT_THAT(iocd_->log(), HasSubstr("input tls: 2 connections (0 rejected, 0 closed idle, 1 failed TLS handshakes)"));
}

}  // namespace
}  // namespace iocd::testing
