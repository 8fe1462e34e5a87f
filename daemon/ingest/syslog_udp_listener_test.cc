#include "ingest/syslog_udp_listener.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace iocd {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;

// Runs a UDP listener on 127.0.0.1:0; the handler records messages and can be held.
class UdpHarness {
 public:
  explicit UdpHarness(size_t max_message_bytes = SyslogUdpListener::kMaxDatagramBytes, int rcvbuf = 0) {
    SyslogUdpListener::Options o;
    o.name = "udp";
    o.endpoint = udp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
    o.max_message_bytes = max_message_bytes;
    o.receive_buffer_bytes = rcvbuf;
    auto listener = SyslogUdpListener::Create(io_, o, [this](const ReceivedEvent& e) {
      std::unique_lock lock(mu_);
      EXPECT_EQ(e.input, "udp");
      messages_.emplace_back(e.message);
      senders_.emplace_back(e.sender);
      cv_.notify_all();
      cv_.wait(lock, [&] { return !hold_; });
    });
    EXPECT_TRUE(listener.ok()) << listener.status().ToString();
    listener_ = std::move(listener).value();
  }
  ~UdpHarness() {
    Release();
    Stop();
  }

  void Run() {
    listener_->Start();
    thread_ = std::thread([this] { io_.run(); });
  }
  void Stop() {
    listener_->Stop();
    if (thread_.joinable()) thread_.join();
  }
  void Hold() {
    std::lock_guard lock(mu_);
    hold_ = true;
  }
  void Release() {
    std::lock_guard lock(mu_);
    hold_ = false;
    cv_.notify_all();
  }
  // Waits until `pred` holds for the messages (bounded: a hang guard); returns them.
  std::vector<std::string> WaitFor(const std::function<bool(const std::vector<std::string>&)>& pred,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return pred(messages_); });
    return messages_;
  }
  std::vector<std::string> WaitForCount(size_t n) {
    return WaitFor([n](const std::vector<std::string>& m) { return m.size() >= n; });
  }
  std::vector<std::string> senders() {
    std::lock_guard lock(mu_);
    return senders_;
  }

  asio::io_context& io() { return io_; }
  SyslogUdpListener& listener() { return *listener_; }
  uint16_t port() const { return listener_->local_endpoint().port(); }

 private:
  asio::io_context io_;
  std::unique_ptr<SyslogUdpListener> listener_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  std::vector<std::string> messages_;
  std::vector<std::string> senders_;
};

class Sender {
 public:
  explicit Sender(uint16_t port) : socket_(io_), to_(asio::ip::make_address("127.0.0.1"), port) {
    socket_.open(udp::v4());
  }
  void Send(const std::string& datagram) { socket_.send_to(asio::buffer(datagram), to_); }
  uint16_t port() { return socket_.local_endpoint().port(); }

 private:
  asio::io_context io_;
  udp::socket socket_;
  udp::endpoint to_;
};

TEST(SyslogUdpListenerTest, OneMessagePerDatagramWithTrailingNewlineStripped) {
  UdpHarness h;
  h.Run();
  Sender s(h.port());
  s.Send("<13>one\n");
  s.Send("");
  s.Send("\n");
  s.Send("two\nstill two");
  s.Send("three\r\n");
  EXPECT_EQ(h.WaitForCount(3), (std::vector<std::string>{"<13>one", "two\nstill two", "three"}));
  EXPECT_EQ(h.senders()[0], "127.0.0.1:" + std::to_string(s.port()));
  EXPECT_EQ(h.listener().protocol(), "syslog-udp");
  EXPECT_EQ(h.listener().address(), "127.0.0.1:" + std::to_string(h.port()));
}

TEST(SyslogUdpListenerTest, OversizedDatagramsAreDiscardedAndCounted) {
  UdpHarness h(/*max_message_bytes=*/16);
  h.Run();
  Sender s(h.port());
  s.Send(std::string(100, 'x'));
  s.Send(std::string(16, 'y'));
  s.Send(std::string(60000, 'z'));
  s.Send("\xFF binary");
  EXPECT_EQ(h.WaitForCount(2), (std::vector<std::string>{std::string(16, 'y'), "\xFF binary"}));
  IngestStats st = h.listener().stats();
  EXPECT_EQ(st.oversized, 2u);
  EXPECT_EQ(st.frame_errors, 2u);
  EXPECT_EQ(st.messages, 2u);
  EXPECT_EQ(st.non_utf8, 1u);
}

TEST(SyslogUdpListenerTest, StopHandsOnWhatTheKernelQueued) {
  UdpHarness h;
  Sender s(h.port());
  for (int i = 0; i < 3; ++i) s.Send("queued " + std::to_string(i));
  h.listener().Start();
  h.listener().Stop();
  h.io().run();  // returns once the listener has drained and closed
  EXPECT_EQ(h.WaitForCount(3), (std::vector<std::string>{"queued 0", "queued 1", "queued 2"}));
}

TEST(SyslogUdpListenerTest, KernelDropsWhileTheHandlerIsBusyAreCountedExactly) {
  UdpHarness h(SyslogUdpListener::kMaxDatagramBytes, /*rcvbuf=*/4096);
  h.Hold();
  h.Run();
  Sender s(h.port());
  s.Send("first");
  h.WaitForCount(1);  // the handler now blocks: the socket's small buffer overflows
  const int flood = 2000;
  for (int i = 0; i < flood; ++i) s.Send("flood " + std::to_string(i) + std::string(100, '.'));
  h.Release();
  // A datagram sent after the flood carries the kernel's final drop count. It can itself be
  // dropped while the queue drains, so it is sent again until one arrives.
  int sentinels = 0;
  auto has_sentinel = [](const std::vector<std::string>& m) { return !m.empty() && m.back() == "sentinel"; };
  for (; sentinels < 100; ++sentinels) {
    s.Send("sentinel");
    if (has_sentinel(h.WaitFor(has_sentinel, std::chrono::milliseconds(200)))) {
      ++sentinels;
      break;
    }
  }
  h.Stop();  // receives any sentinel still queued
  IngestStats st = h.listener().stats();
  const uint64_t sent = 1 + flood + sentinels;
  EXPECT_GT(st.datagrams_dropped, 0u);
  EXPECT_EQ(st.messages + st.datagrams_dropped, sent)
      << st.messages << " received, " << st.datagrams_dropped << " dropped";
}

TEST(SyslogUdpListenerTest, UtilLinuxLoggerOverUdp) {
  if (std::system("logger --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "util-linux logger not installed";
  UdpHarness h;
  h.Run();
  std::string cmd = "logger --udp -n 127.0.0.1 -P " + std::to_string(h.port()) + " -t iocdtest 'udp hello 1.2.3.4'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::vector<std::string> got = h.WaitForCount(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].rfind("<13>1 ", 0), 0u) << got[0];  // RFC 5424, user.notice
  EXPECT_NE(got[0].find(" iocdtest "), std::string::npos) << got[0];
  EXPECT_EQ(got[0].substr(got[0].size() - 17), "udp hello 1.2.3.4") << got[0];
}

}  // namespace
}  // namespace iocd
