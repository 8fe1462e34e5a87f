// ReplyBack on SyslogStreamListener (ingest/replyback.h): real sockets on 127.0.0.1:0 and
// a Unix socket in a temp dir; the handler stands in for the event processor.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <condition_variable>
#include <istream>
#include <mutex>
#include <thread>
#include <vector>

#include "common/temp_dir.h"
#include "ingest/syslog_stream_listener.h"

namespace iocd {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using UnixStream = asio::local::stream_protocol;

// For message "big": kBigLines replies of kBigLineBytes each; otherwise one "hit <message>".
constexpr size_t kBigLines = 200;
constexpr size_t kBigLineBytes = 64 * 1024;

struct Seen {
  std::string message;
  bool had_reply = false;
};

// A listener on two io threads whose handler replies "hit <message>" on ReplyBack
// connections and records every event.
class ReplyHarness {
 public:
  explicit ReplyHarness(SyslogStreamListener::Options options) {
    auto listener = SyslogStreamListener::Create(io_, std::move(options), [this](const ReceivedEvent& e) {
      if (e.reply != nullptr) {
        if (e.message == "big") {
          for (size_t i = 0; i < kBigLines; ++i) e.reply->Send(std::string(kBigLineBytes - 1, 'a' + i % 26));
        } else {
          e.reply->Send("hit " + std::string(e.message));
        }
      }
      std::lock_guard lock(mu_);
      seen_.push_back({std::string(e.message), e.reply != nullptr});
      cv_.notify_all();
    });
    EXPECT_TRUE(listener.ok()) << listener.status().ToString();
    listener_ = std::move(listener).value();
    listener_->Start();
    for (auto& t : threads_) t = std::thread([this] { io_.run(); });
  }
  ~ReplyHarness() {
    listener_->Stop();
    for (auto& t : threads_) t.join();
  }

  uint16_t port() const { return listener_->local_endpoint().port(); }
  IngestStats stats() const { return listener_->stats(); }

  std::vector<Seen> WaitForEvents(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(20), [&] { return seen_.size() >= n; });
    return seen_;
  }

 private:
  asio::io_context io_;
  std::unique_ptr<SyslogStreamListener> listener_;
  std::thread threads_[2];
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Seen> seen_;
};

SyslogStreamListener::Options TcpOptions() {
  SyslogStreamListener::Options o;
  o.name = "rb";
  o.endpoint = tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
  return o;
}

tcp::socket Connect(asio::io_context& io, uint16_t port) {
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  return s;
}

// Reads until the server closes; everything it sent.
template <class Socket>
std::string ReadAll(Socket& s) {
  std::string all;
  boost::system::error_code ec;
  asio::read(s, asio::dynamic_buffer(all), ec);
  EXPECT_EQ(ec, asio::error::eof);
  return all;
}

// Sends `bytes`, ends the sending side and returns all the server sent before closing.
template <class Socket>
std::string SendAndReadAll(Socket& s, const std::string& bytes) {
  asio::write(s, asio::buffer(bytes));
  s.shutdown(Socket::shutdown_send);
  return ReadAll(s);
}

template <class Socket>
std::string ReadLine(Socket& s, asio::streambuf& buf) {
  asio::read_until(s, buf, '\n');
  std::istream in(&buf);
  std::string line;
  std::getline(in, line);
  return line;
}

TEST(ReplyBackListenerTest, RepliesThenLookupFinishedPerEventAndFlushesAtEnd) {
  ReplyHarness h(TcpOptions());
  asio::io_context io;
  tcp::socket s = Connect(io, h.port());
  // Everything queued is written before the server closes.
  EXPECT_EQ(SendAndReadAll(s, "X-KF-SendFinishedEventX-KF-ReplyBack\nfirst 1.2.3.4\nsecond\n"),
            "hit first 1.2.3.4\nLookupFinished\nhit second\nLookupFinished\n");

  std::vector<Seen> seen = h.WaitForEvents(2);
  ASSERT_EQ(seen.size(), 2u);  // the flags line is not an event
  EXPECT_EQ(seen[0].message, "first 1.2.3.4");
  EXPECT_EQ(seen[1].message, "second");
  for (const Seen& e : seen) EXPECT_TRUE(e.had_reply);
  IngestStats st = h.stats();
  EXPECT_EQ(st.messages, 2u);
  EXPECT_EQ(st.replyback_connections, 1u);
  EXPECT_EQ(st.replies_sent, 2u);
  EXPECT_EQ(st.finished_sent, 2u);
  EXPECT_EQ(st.pings, 0u);
}

TEST(ReplyBackListenerTest, PingIsAnsweredAndIsNoEvent) {
  ReplyHarness h(TcpOptions());
  asio::io_context io;
  tcp::socket s = Connect(io, h.port());
  asio::streambuf buf;
  // CyberTrace's connection test: the flags followed by PING as the first message.
  asio::write(s, asio::buffer(std::string("X-KF-ReplyBackX-KF-SaveStatisticPING\n")));
  EXPECT_EQ(ReadLine(s, buf), "PONG");
  asio::write(s, asio::buffer(std::string("PING\nevent\nPING \n")));
  EXPECT_EQ(ReadLine(s, buf), "PONG");
  EXPECT_EQ(ReadLine(s, buf), "hit event");  // no LookupFinished: not asked for
  EXPECT_EQ(ReadLine(s, buf), "hit PING ");  // not exactly PING: an event
  std::vector<Seen> seen = h.WaitForEvents(2);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].message, "event");
  EXPECT_EQ(seen[1].message, "PING ");
  IngestStats st = h.stats();
  EXPECT_EQ(st.pings, 2u);
  EXPECT_EQ(st.replyback_connections, 1u);
  EXPECT_EQ(st.finished_sent, 0u);
  EXPECT_EQ(st.messages, 2u);
}

TEST(ReplyBackListenerTest, FlagsOnlyCountAsFirstMessage) {
  ReplyHarness h(TcpOptions());
  asio::io_context io;
  tcp::socket s = Connect(io, h.port());
  // Normal mode: nothing comes back.
  EXPECT_EQ(SendAndReadAll(s, "hello\nX-KF-SendFinishedEventX-KF-ReplyBack\nPING\n"), "");
  std::vector<Seen> seen = h.WaitForEvents(3);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1].message, "X-KF-SendFinishedEventX-KF-ReplyBack");
  EXPECT_EQ(seen[2].message, "PING");
  for (const Seen& e : seen) EXPECT_FALSE(e.had_reply);
  IngestStats st = h.stats();
  EXPECT_EQ(st.replyback_connections, 0u);
  EXPECT_EQ(st.pings, 0u);
  EXPECT_EQ(st.messages, 3u);
}

TEST(ReplyBackListenerTest, DisabledTreatsFlagsAsAnEvent) {
  SyslogStreamListener::Options o = TcpOptions();
  o.reply_back = false;
  ReplyHarness h(o);
  asio::io_context io;
  tcp::socket s = Connect(io, h.port());
  EXPECT_EQ(SendAndReadAll(s, "X-KF-ReplyBack\nPING\n"), "");
  std::vector<Seen> seen = h.WaitForEvents(2);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].message, "X-KF-ReplyBack");
  EXPECT_FALSE(seen[0].had_reply);
  EXPECT_EQ(h.stats().replyback_connections, 0u);
}

TEST(ReplyBackListenerTest, UnixSocketRepliesToo) {
  TempDir dir;
  SyslogStreamListener::Options o;
  o.name = "rb";
  o.transport = SyslogStreamListener::Transport::kUnix;
  o.unix_path = dir.path() + "/in.sock";
  ReplyHarness h(o);
  asio::io_context io;
  UnixStream::socket s(io);
  s.connect(UnixStream::endpoint(o.unix_path));
  EXPECT_EQ(SendAndReadAll(s, "X-KF-SendFinishedEventX-KF-ReplyBack\nx\n"), "hit x\nLookupFinished\n");
}

// A client that does not read its replies: once max pending bytes are queued the
// connection is not read any more (counted as a stall); other connections go on; when the
// client reads, everything arrives complete and in order.
TEST(ReplyBackListenerTest, UnreadRepliesPauseReadingOfThatConnectionOnly) {
  SyslogStreamListener::Options o = TcpOptions();
  o.reply_max_pending_bytes = 1 << 20;
  ReplyHarness h(o);
  asio::io_context io;
  tcp::socket slow(io);
  slow.open(tcp::v4());
  slow.set_option(asio::socket_base::receive_buffer_size(64 * 1024));  // bounds what the kernel absorbs
  slow.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), h.port()));
  // 12.5 MiB of replies to one event: more than the kernel buffers take.
  asio::write(slow, asio::buffer(std::string("X-KF-SendFinishedEventX-KF-ReplyBack\nbig\n")));
  // Waits (bounded, as a failure guard only) for the stall.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (h.stats().reply_stalls == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_EQ(h.stats().reply_stalls, 1u);
  asio::write(slow, asio::buffer(std::string("after\n")));

  // Another connection is served meanwhile.
  tcp::socket other = Connect(io, h.port());
  asio::write(other, asio::buffer(std::string("X-KF-ReplyBack\nquick\n")));
  asio::streambuf other_buf;
  EXPECT_EQ(ReadLine(other, other_buf), "hit quick");

  asio::streambuf buf;
  for (size_t i = 0; i < kBigLines; ++i) {
    std::string line = ReadLine(slow, buf);
    ASSERT_EQ(line.size(), kBigLineBytes - 1) << i;
    ASSERT_EQ(line.front(), 'a' + i % 26) << i;
  }
  EXPECT_EQ(ReadLine(slow, buf), "LookupFinished");
  EXPECT_EQ(ReadLine(slow, buf), "hit after");
  EXPECT_EQ(ReadLine(slow, buf), "LookupFinished");
  IngestStats st = h.stats();
  EXPECT_EQ(st.reply_stalls, 1u);
  EXPECT_EQ(st.replyback_connections, 2u);
  EXPECT_EQ(st.replies_sent, kBigLines + 2);
  EXPECT_EQ(st.messages, 3u);
}

}  // namespace
}  // namespace iocd
