#include "ingest/syslog_tcp_listener.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <condition_variable>
#include <thread>
#include <vector>

namespace iocd {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// Runs a listener on 127.0.0.1:0 in a background io_context and records what it hands out.
class ListenerHarness {
 public:
  explicit ListenerHarness(size_t max_message_bytes = 1 << 20, size_t max_connections = 16) {
    SyslogTcpListener::Options options;
    options.name = "test";
    options.endpoint = tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
    options.max_message_bytes = max_message_bytes;
    options.max_connections = max_connections;
    auto listener = SyslogTcpListener::Create(io_, options, [this](const ReceivedEvent& e) {
      std::lock_guard lock(mu_);
      EXPECT_EQ(e.input, "test");
      senders_.emplace_back(e.sender);
      messages_.emplace_back(e.message);
      cv_.notify_all();
    });
    EXPECT_TRUE(listener.ok()) << listener.status().ToString();
    listener_ = std::move(listener).value();
    listener_->Start();
    thread_ = std::thread([this] { io_.run(); });
  }

  ~ListenerHarness() {
    listener_->Stop();
    thread_.join();
  }

  uint16_t port() const { return listener_->local_endpoint().port(); }
  SyslogTcpListener& listener() { return *listener_; }

  // Waits (bounded, as a failure guard only) until n messages have arrived.
  std::vector<std::string> WaitForMessages(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return messages_.size() >= n; });
    return messages_;
  }
  std::vector<std::string> senders() {
    std::lock_guard lock(mu_);
    return senders_;
  }

  // Stops the listener and waits for the io_context to run out of work.
  void StopAndJoin() {
    listener_->Stop();
    thread_.join();
    thread_ = std::thread([] {});
  }

 private:
  asio::io_context io_;
  std::unique_ptr<SyslogTcpListener> listener_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> messages_;
  std::vector<std::string> senders_;
};

tcp::socket Connect(asio::io_context& io, uint16_t port) {
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  return s;
}

TEST(SyslogTcpListenerTest, DeliversBothFramingsInOrder) {
  ListenerHarness h;
  asio::io_context client_io;
  tcp::socket s = Connect(client_io, h.port());
  asio::write(s, asio::buffer(std::string("<13>first line\n10 <13>second<14>third\r\n")));
  EXPECT_EQ(h.WaitForMessages(3),
            (std::vector<std::string>{"<13>first line", "<13>second", "<14>third"}));
  EXPECT_EQ(h.senders()[0].rfind("127.0.0.1:", 0), 0u) << h.senders()[0];
}

TEST(SyslogTcpListenerTest, LastMessageWithoutNewlineCountsAtClose) {
  ListenerHarness h;
  asio::io_context client_io;
  {
    tcp::socket s = Connect(client_io, h.port());
    asio::write(s, asio::buffer(std::string("one\ntwo")));
  }
  EXPECT_EQ(h.WaitForMessages(2), (std::vector<std::string>{"one", "two"}));
}

TEST(SyslogTcpListenerTest, OversizedMessageIsDiscardedAndCounted) {
  ListenerHarness h(/*max_message_bytes=*/16);
  asio::io_context client_io;
  tcp::socket s = Connect(client_io, h.port());
  asio::write(s, asio::buffer(std::string(100, 'x') + "\nsmall\n"));
  EXPECT_EQ(h.WaitForMessages(1), (std::vector<std::string>{"small"}));
  EXPECT_EQ(h.listener().stats().frame_errors, 1u);
}

TEST(SyslogTcpListenerTest, ConnectionsBeyondTheLimitAreClosed) {
  ListenerHarness h(1 << 20, /*max_connections=*/1);
  asio::io_context client_io;
  tcp::socket first = Connect(client_io, h.port());
  asio::write(first, asio::buffer(std::string("a\n")));
  ASSERT_EQ(h.WaitForMessages(1).size(), 1u);  // the first connection is registered

  tcp::socket second = Connect(client_io, h.port());
  char byte;
  boost::system::error_code ec;
  asio::read(second, asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
  EXPECT_EQ(h.listener().stats().connections_rejected, 1u);

  asio::write(first, asio::buffer(std::string("b\n")));
  EXPECT_EQ(h.WaitForMessages(2), (std::vector<std::string>{"a", "b"}));
}

TEST(SyslogTcpListenerTest, StopProcessesWhatWasReceivedThenCloses) {
  ListenerHarness h;
  asio::io_context client_io;
  tcp::socket s = Connect(client_io, h.port());
  asio::write(s, asio::buffer(std::string("first\n")));
  ASSERT_EQ(h.WaitForMessages(1).size(), 1u);
  asio::write(s, asio::buffer(std::string("tail without newline")));
  // The client stays connected; Stop must still return once the tail is handled.
  h.StopAndJoin();
  EXPECT_EQ(h.WaitForMessages(2), (std::vector<std::string>{"first", "tail without newline"}));
  char byte;
  boost::system::error_code ec;
  asio::read(s, asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

TEST(SyslogTcpListenerTest, BindFailureIsReported) {
  ListenerHarness h;
  asio::io_context io;
  SyslogTcpListener::Options options;
  options.name = "dup";
  options.endpoint = tcp::endpoint(asio::ip::make_address("127.0.0.1"), h.port());
  auto second = SyslogTcpListener::Create(io, options, [](const ReceivedEvent&) {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kIoError);
  EXPECT_NE(second.status().message().find("input dup: cannot bind 127.0.0.1:"), std::string::npos)
      << second.status().message();
}

}  // namespace
}  // namespace iocd
