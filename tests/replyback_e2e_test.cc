// End-to-end ReplyBack (docs/replyback.md), as a CyberTrace client uses it: the real iocd
// with a small feed, a plain TCP client that sends the flags line and then events and reads
// the detections back on the same socket, and a TCP listener standing in for the SIEM (the
// hits go there too).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "harness/e2e_util.h"
#include "harness/iocd_process.h"
#include "harness/line_receiver.h"

namespace iocd::testing {
namespace {

// A blocking TCP client on 127.0.0.1 that reads LF-terminated lines.
class LineClient {
 public:
  explicit LineClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~LineClient() { ::close(fd_); }

  bool connected() const { return connected_; }

  void Send(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }
  void CloseWrite() { ::shutdown(fd_, SHUT_WR); }

  // The next line without its LF; "<eof>" when the server closed, "<timeout>" after 30 s
  // (a hang guard, not a synchronisation).
  std::string ReadLine() {
    for (;;) {
      size_t lf = buffer_.find('\n');
      if (lf != std::string::npos) {
        std::string line = buffer_.substr(0, lf);
        buffer_.erase(0, lf + 1);
        return line;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 30000) != 1) return "<timeout>";
      char chunk[4096];
      ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) return buffer_.empty() ? "<eof>" : "<eof with partial line " + buffer_ + ">";
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

class ReplyBackEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_ / "feed.txt", "198.51.100.7\nevil-domain.com\n" + std::string(kSentinel) + "\n");
    WriteFile(dir_ / "iocd.yaml", SiemInputAndPlainFeedYaml(dir_) +
                                      "outputs:\n"
                                      "  - {name: siem, protocol: tcp, address: 127.0.0.1:" +
                                      std::to_string(siem_.port()) + ", format: json, spool: {disabled: true}}\n");
    iocd_ = std::make_unique<IocdProcess>(IOCD_BINARY, std::vector<std::string>{"--config", dir_ / "iocd.yaml"});
    ASSERT_TRUE(iocd_->Start());
    ASSERT_TRUE(iocd_->WaitForLog("iocd ready")) << iocd_->log();
    port_ = iocd_->InputPort("siem");
  }

  TempDir dir_;
  LineReceiver siem_;
  std::unique_ptr<IocdProcess> iocd_;
  int port_ = 0;
};

// The hits among the SIEM's lines up to the sentinel's (service events, if an output
// carries them, are not what these tests are about).
std::vector<std::string> HitsUpToSentinel(LineReceiver& siem) {
  std::vector<std::string> hits;
  for (const std::string& line : siem.WaitFor(IsSentinelHit)) {
    if (line.find(R"("kind":"enrichment")") != std::string::npos) hits.push_back(line);
  }
  return hits;
}

TEST_F(ReplyBackEndToEndTest, HitsThenLookupFinishedPerEventAndPingPong) {
  LineClient client(port_);
  ASSERT_TRUE(client.connected());
  client.Send("X-KF-SendFinishedEventX-KF-ReplyBack\n");
  client.Send("<13>Nov 22 03:25:46 web1 proxy: GET http://evil-domain.com/x from 198.51.100.7\n");
  EXPECT_EQ(client.ReadLine(),
            "Category=e2e|MatchedIndicator=evil-domain.com|IndicatorType=domain|SourceId=web1|RecordContext={}");
  EXPECT_EQ(client.ReadLine(),
            "Category=e2e|MatchedIndicator=198.51.100.7|IndicatorType=ipv4|SourceId=web1|RecordContext={}");
  EXPECT_EQ(client.ReadLine(), "LookupFinished");

  client.Send("nothing to see at 192.0.2.1\nPING\n");
  EXPECT_EQ(client.ReadLine(), "LookupFinished");  // checked, no detection
  EXPECT_EQ(client.ReadLine(), "PONG");

  client.Send(std::string("<13>Nov 22 03:25:47 web2 app: last ") + kSentinel + "\n");
  EXPECT_EQ(client.ReadLine(), std::string("Category=e2e|MatchedIndicator=") + kSentinel +
                                   "|IndicatorType=domain|SourceId=web2|RecordContext={}");
  EXPECT_EQ(client.ReadLine(), "LookupFinished");
  client.CloseWrite();
  EXPECT_EQ(client.ReadLine(), "<eof>");

  // The configured outputs got the same three hits.
  std::vector<std::string> received = HitsUpToSentinel(siem_);
  ASSERT_EQ(received.size(), 3u) << ::testing::PrintToString(received);
  EXPECT_EQ(Summarize(received[0]), "evil-domain.com|domain => e2e:evil-domain.com:domain");
  EXPECT_EQ(Summarize(received[1]), "198.51.100.7|ipv4 => e2e:198.51.100.7:ipv4");
  EXPECT_EQ(Summarize(received[2]), SentinelSummary());
}

TEST_F(ReplyBackEndToEndTest, CyberTracePingAsFirstMessage) {
  LineClient client(port_);
  ASSERT_TRUE(client.connected());
  client.Send("X-KF-ReplyBackPING\n");
  EXPECT_EQ(client.ReadLine(), "PONG");
  client.CloseWrite();
  EXPECT_EQ(client.ReadLine(), "<eof>");
}

TEST_F(ReplyBackEndToEndTest, NormalConnectionGetsNothingBack) {
  LineClient client(port_);
  ASSERT_TRUE(client.connected());
  client.Send("seen 198.51.100.7\nX-KF-SendFinishedEventX-KF-ReplyBack\nPING\n" + std::string(kSentinel) + "\n");
  client.CloseWrite();
  EXPECT_EQ(client.ReadLine(), "<eof>");  // the server closed without writing a byte
  std::vector<std::string> received = HitsUpToSentinel(siem_);
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(Summarize(received[0]), "198.51.100.7|ipv4 => e2e:198.51.100.7:ipv4");
  EXPECT_EQ(Summarize(received[1]), SentinelSummary());
}

}  // namespace
}  // namespace iocd::testing
