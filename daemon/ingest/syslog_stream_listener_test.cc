#include "ingest/syslog_stream_listener.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <span>
#include <thread>
#include <vector>

#include "common/temp_dir.h"
#include "ingest/test_certs.h"

namespace iocd {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using UnixStream = asio::local::stream_protocol;

SyslogStreamListener::Options TcpOptions() {
  SyslogStreamListener::Options o;
  o.name = "test";
  o.endpoint = tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
  o.max_connections = 16;
  return o;
}

// Runs a listener in a background io_context (two threads) and records what it hands out.
// Batched: with a batch handler too, recording each batch's size (and, for events through
// the per-event handler, 0), and an idle handler; trail() lists both in call order.
class ListenerHarness {
 public:
  explicit ListenerHarness(SyslogStreamListener::Options options = TcpOptions(), bool batched = false) {
    EventBatchHandler batch_handler;
    InputIdleHandler idle_handler;
    if (batched) {
      batch_handler = [this](std::span<const ReceivedEvent> events) {
        std::lock_guard lock(mu_);
        batches_.push_back(events.size());
        trail_.push_back("batch " + std::to_string(events.size()));
        for (const ReceivedEvent& e : events) Record(e);
      };
      idle_handler = [this] {
        std::lock_guard lock(mu_);
        trail_.push_back("idle");
        cv_.notify_all();
      };
    }
    auto listener = SyslogStreamListener::Create(
        io_, options,
        [this](const ReceivedEvent& e) {
          std::lock_guard lock(mu_);
          batches_.push_back(0);
          Record(e);
        },
        std::move(batch_handler), std::move(idle_handler));
    EXPECT_TRUE(listener.ok()) << listener.status().ToString();
    listener_ = std::move(listener).value();
    listener_->Start();
    for (auto& t : threads_) t = std::thread([this] { io_.run(); });
  }

  ~ListenerHarness() { StopAndJoin(); }

  uint16_t port() const { return listener_->local_endpoint().port(); }
  SyslogStreamListener& listener() { return *listener_; }

  // Waits (bounded, as a failure guard only) until n messages have arrived.
  std::vector<std::string> WaitForMessages(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(20), [&] { return messages_.size() >= n; });
    return messages_;
  }
  std::vector<std::string> messages() {
    std::lock_guard lock(mu_);
    return messages_;
  }
  std::vector<std::string> senders() {
    std::lock_guard lock(mu_);
    return senders_;
  }
  std::vector<size_t> batches() {
    std::lock_guard lock(mu_);
    return batches_;
  }
  // Waits (bounded, as a failure guard only) until n messages have arrived and the idle
  // handler has been called after the last batch; returns the trail.
  std::vector<std::string> WaitForIdleAfter(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(20),
                 [&] { return messages_.size() >= n && !trail_.empty() && trail_.back() == "idle"; });
    return trail_;
  }

  // Stops the listener and waits for the io_context to run out of work.
  void StopAndJoin() {
    if (stopped_) return;
    stopped_ = true;
    listener_->Stop();
    for (auto& t : threads_) t.join();
  }

 private:
  void Record(const ReceivedEvent& e) {  // mu_ held
    EXPECT_EQ(e.input, "test");
    senders_.emplace_back(e.sender);
    messages_.emplace_back(e.message);
    cv_.notify_all();
  }

  asio::io_context io_;
  std::unique_ptr<SyslogStreamListener> listener_;
  std::thread threads_[2];
  bool stopped_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> messages_;
  std::vector<std::string> senders_;
  std::vector<size_t> batches_;
  std::vector<std::string> trail_;
};

tcp::socket Connect(asio::io_context& io, uint16_t port) {
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  return s;
}

// Blocks until the server closes the connection; the error it ended with.
template <class Stream>
boost::system::error_code ReadUntilClosed(Stream& s) {
  char byte;
  boost::system::error_code ec;
  while (!ec) asio::read(s, asio::buffer(&byte, 1), ec);
  return ec;
}

// ---------------------------------------------------------------- TCP basics

TEST(SyslogStreamListenerTest, DeliversBothFramingsInOrder) {
  ListenerHarness h;
  asio::io_context client_io;
  tcp::socket s = Connect(client_io, h.port());
  asio::write(s, asio::buffer(std::string("<13>first line\n10 <13>second<14>third\r\n")));
  EXPECT_EQ(h.WaitForMessages(3), (std::vector<std::string>{"<13>first line", "<13>second", "<14>third"}));
  EXPECT_EQ(h.senders()[0].rfind("127.0.0.1:", 0), 0u) << h.senders()[0];
  EXPECT_EQ(h.listener().protocol(), "syslog-tcp");
  EXPECT_EQ(h.listener().address(), "127.0.0.1:" + std::to_string(h.port()));
}

TEST(SyslogStreamListenerTest, LastMessageWithoutNewlineCountsAtClose) {
  ListenerHarness h;
  asio::io_context client_io;
  {
    tcp::socket s = Connect(client_io, h.port());
    asio::write(s, asio::buffer(std::string("one\ntwo")));
  }
  EXPECT_EQ(h.WaitForMessages(2), (std::vector<std::string>{"one", "two"}));
}

TEST(SyslogStreamListenerTest, ConnectionsBeyondTheLimitAreClosed) {
  auto options = TcpOptions();
  options.max_connections = 1;
  ListenerHarness h(options);
  asio::io_context client_io;
  tcp::socket first = Connect(client_io, h.port());
  asio::write(first, asio::buffer(std::string("a\n")));
  ASSERT_EQ(h.WaitForMessages(1).size(), 1u);  // the first connection is registered

  tcp::socket second = Connect(client_io, h.port());
  EXPECT_EQ(ReadUntilClosed(second), asio::error::eof);
  EXPECT_EQ(h.listener().stats().connections_rejected, 1u);

  asio::write(first, asio::buffer(std::string("b\n")));
  EXPECT_EQ(h.WaitForMessages(2), (std::vector<std::string>{"a", "b"}));
}

TEST(SyslogStreamListenerTest, StopProcessesWhatWasReceivedThenCloses) {
  ListenerHarness h;
  asio::io_context client_io;
  tcp::socket s = Connect(client_io, h.port());
  asio::write(s, asio::buffer(std::string("first\n")));
  ASSERT_EQ(h.WaitForMessages(1).size(), 1u);
  asio::write(s, asio::buffer(std::string("tail without newline")));
  // The client stays connected; Stop must still return once the tail is handled.
  h.StopAndJoin();
  EXPECT_EQ(h.messages(), (std::vector<std::string>{"first", "tail without newline"}));
  boost::system::error_code ec = ReadUntilClosed(s);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

// ---------------------------------------------------------------- batch handler

TEST(SyslogStreamListenerTest, BatchHandlerGetsEveryMessageInOrderInBoundedBatches) {
  ListenerHarness h(TcpOptions(), /*batched=*/true);
  std::vector<std::string> expected;
  std::string wire;
  for (int i = 0; i < 300; ++i) {
    expected.push_back("<13>event " + std::to_string(i));
    wire += expected.back() + "\n";
  }
  expected.push_back(std::string(SyslogStreamListener::kMaxBatchedMessageBytes + 1, 'L'));  // handed alone
  wire += expected.back() + "\n";
  expected.push_back("octet counted");
  wire += "13 octet counted";
  expected.push_back("last");
  wire += "last\n";
  asio::io_context client_io;
  tcp::socket s = Connect(client_io, h.port());
  asio::write(s, asio::buffer(wire));
  EXPECT_EQ(h.WaitForMessages(expected.size()), expected);

  size_t total = 0;
  size_t at = 0;  // index of the batch's first message
  for (size_t size : h.batches()) {
    EXPECT_GE(size, 1u) << "no event went to the per-event handler";
    EXPECT_LE(size, SyslogStreamListener::kMaxBatchEvents);
    if (at <= 300 && 300 < at + size) {
      EXPECT_EQ(size, 1u) << "the large message comes alone";
    }
    total += size;
    at += size;
  }
  EXPECT_EQ(total, expected.size());
  EXPECT_EQ(h.listener().stats().messages, expected.size());
}

// Batched messages are views into the connection's decoder until the batch is handed on:
// frames discarded after them in the same read (a bad octet count, an oversized line, an
// oversized octet count, ending the buffer) must leave them intact. Counted exactly.
TEST(SyslogStreamListenerTest, BatchedMessagesSurviveFramesDiscardedAfterThem) {
  SyslogStreamListener::Options options = TcpOptions();
  options.max_message_bytes = 100;
  ListenerHarness h(options, /*batched=*/true);
  asio::io_context client_io;
  std::vector<std::string> expected;
  for (const std::string& tail : {std::string("0 bad\n"), std::string(150, 'x') + "\n", std::string("999 cut")}) {
    tcp::socket s = Connect(client_io, h.port());
    asio::write(s, asio::buffer("<13>first\n<13>second \xFF\n" + tail));
    expected.push_back("<13>first");
    expected.push_back("<13>second \xFF");
    EXPECT_EQ(h.WaitForMessages(expected.size()), expected) << tail;
  }
  IngestStats stats = h.listener().stats();
  EXPECT_EQ(stats.messages, 6u);
  EXPECT_EQ(stats.non_utf8, 3u);
  EXPECT_EQ(stats.bad_octet_count, 1u);
  EXPECT_EQ(stats.oversized, 2u);
}

// Every batch is followed by an idle call before the connection waits for its socket
// again, so work deferred per batch is never left behind: after each write the last call
// is "idle", and every message went through a batch.
TEST(SyslogStreamListenerTest, IdleHandlerFollowsTheBatchesOfEachRead) {
  ListenerHarness h(TcpOptions(), /*batched=*/true);
  asio::io_context client_io;
  tcp::socket s = Connect(client_io, h.port());
  std::string wire;
  for (int i = 0; i < 600; ++i) wire += "<13>event " + std::to_string(i) + "\n";
  asio::write(s, asio::buffer(wire));
  std::vector<std::string> trail = h.WaitForIdleAfter(600);
  ASSERT_FALSE(trail.empty());
  EXPECT_EQ(trail.back(), "idle");
  EXPECT_EQ(h.messages().size(), 600u);
  asio::write(s, asio::buffer(std::string("one more\n")));
  trail = h.WaitForIdleAfter(601);
  ASSERT_GE(trail.size(), 2u);
  EXPECT_EQ(trail[trail.size() - 2], "batch 1");
  EXPECT_EQ(trail.back(), "idle");
  size_t batched = 0;
  for (const std::string& t : trail) {
    if (t != "idle") batched += std::stoul(t.substr(6));
  }
  EXPECT_EQ(batched, 601u);
  // The end of the connection: a last line without LF is handed on, then idle.
  asio::write(s, asio::buffer(std::string("tail")));
  s.close();
  trail = h.WaitForIdleAfter(602);
  ASSERT_GE(trail.size(), 2u);
  EXPECT_EQ(trail[trail.size() - 2], "batch 1");
  EXPECT_EQ(trail.back(), "idle");
  EXPECT_EQ(h.messages().back(), "tail");
}

TEST(SyslogStreamListenerTest, BatchHandlerKeepsFrameErrorsAndStopBehaviour) {
  auto options = TcpOptions();
  options.max_message_bytes = 1000;
  ListenerHarness h(options, /*batched=*/true);
  asio::io_context client_io;
  tcp::socket s = Connect(client_io, h.port());
  asio::write(s, asio::buffer("a\n" + std::string(5000, 'x') + "\nb\n"));
  ASSERT_EQ(h.WaitForMessages(2).size(), 2u);
  asio::write(s, asio::buffer(std::string("tail without newline")));
  h.StopAndJoin();
  EXPECT_EQ(h.messages(), (std::vector<std::string>{"a", "b", "tail without newline"}));
  IngestStats stats = h.listener().stats();
  EXPECT_EQ(stats.oversized, 1u);
  EXPECT_EQ(stats.messages, 3u);
}

TEST(SyslogStreamListenerTest, ReplyBackConnectionsUseThePerEventHandlerEvenWithABatchHandler) {
  ListenerHarness h(TcpOptions(), /*batched=*/true);
  asio::io_context client_io;
  tcp::socket s = Connect(client_io, h.port());
  asio::write(s, asio::buffer(std::string("X-KF-ReplyBack\none\ntwo\n")));
  EXPECT_EQ(h.WaitForMessages(2), (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(h.batches(), (std::vector<size_t>{0, 0}));
}

TEST(SyslogStreamListenerTest, BindFailureIsReported) {
  ListenerHarness h;
  asio::io_context io;
  auto options = TcpOptions();
  options.name = "dup";
  options.endpoint.port(h.port());
  auto second = SyslogStreamListener::Create(io, options, [](const ReceivedEvent&) {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kIoError);
  EXPECT_NE(second.status().message().find("input dup: cannot bind 127.0.0.1:"), std::string::npos)
      << second.status().message();
}

// ---------------------------------------------------------------- abuse, each beside a well-behaved client

// Sends lines on its own connection and closes it; the listener has them all once they
// arrived (the caller waits for the count).
void SendWellBehaved(asio::io_context& io, uint16_t port, int n) {
  tcp::socket s = Connect(io, port);
  std::string batch;
  for (int i = 0; i < n; ++i) batch += "good " + std::to_string(i) + "\n";
  asio::write(s, asio::buffer(batch));
}

std::vector<std::string> GoodLines(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back("good " + std::to_string(i));
  return v;
}

TEST(SyslogStreamListenerTest, OversizedMessagesAreDiscardedAndCountedWhileOthersFlow) {
  auto options = TcpOptions();
  options.max_message_bytes = 1000;
  ListenerHarness h(options);
  asio::io_context client_io;
  tcp::socket abuser = Connect(client_io, h.port());
  // LF-framed and octet-counted, each larger than the limit, then a small one.
  asio::write(abuser, asio::buffer(std::string(5000, 'x') + "\n" + "2000 " + std::string(2000, 'y') + "ok\n"));
  SendWellBehaved(client_io, h.port(), 3);
  abuser.close();
  std::vector<std::string> got = h.WaitForMessages(4);
  std::vector<std::string> good = GoodLines(3);
  for (const auto& g : good) EXPECT_NE(std::find(got.begin(), got.end(), g), got.end()) << g;
  EXPECT_NE(std::find(got.begin(), got.end(), "ok"), got.end());
  EXPECT_EQ(got.size(), 4u);
  IngestStats s = h.listener().stats();
  EXPECT_EQ(s.oversized, 2u);
  EXPECT_EQ(s.frame_errors, 2u);
  EXPECT_EQ(s.messages, 4u);
}

TEST(SyslogStreamListenerTest, BadOctetCountAndCutFramesAreCountedByReason) {
  ListenerHarness h;
  asio::io_context client_io;
  {
    tcp::socket abuser = Connect(client_io, h.port());
    asio::write(abuser, asio::buffer(std::string("05 leading zero\nafter\n0 \n100 cut short")));
  }
  SendWellBehaved(client_io, h.port(), 2);
  std::vector<std::string> got = h.WaitForMessages(3);
  EXPECT_NE(std::find(got.begin(), got.end(), "after"), got.end());
  // Both connections are done once their messages are in and the abuser's close was seen.
  h.StopAndJoin();
  IngestStats s = h.listener().stats();
  EXPECT_EQ(s.messages, 3u);
  EXPECT_EQ(s.bad_octet_count, 2u);
  EXPECT_EQ(s.incomplete_at_close, 1u);
  EXPECT_EQ(s.frame_errors, 3u);
}

TEST(SyslogStreamListenerTest, BinaryGarbageIsPassedOnAsBytesAndNonUtf8Counted) {
  ListenerHarness h;
  asio::io_context client_io;
  std::string garbage;
  for (int i = 1; i < 256; ++i) {
    if (i != '\n') garbage += static_cast<char>(i);  // NUL is a terminator too: 0 excluded
  }
  tcp::socket abuser = Connect(client_io, h.port());
  asio::write(abuser, asio::buffer(garbage + "\n" + "caf\xC3\xA9 ok\n" + "\xFF\xFE\n"));
  std::vector<std::string> got = h.WaitForMessages(3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], garbage);
  EXPECT_EQ(got[1], "caf\xC3\xA9 ok");
  EXPECT_EQ(got[2], "\xFF\xFE");
  SendWellBehaved(client_io, h.port(), 2);
  h.WaitForMessages(5);
  IngestStats s = h.listener().stats();
  EXPECT_EQ(s.messages, 5u);
  EXPECT_EQ(s.non_utf8, 2u);
  EXPECT_EQ(s.frame_errors, 0u);
}

TEST(SyslogStreamListenerTest, ThousandIdleConnectionsDoNotStopAWellBehavedClient) {
  // Two descriptors per connection in this process (client and server side).
  long limit = ::sysconf(_SC_OPEN_MAX);
  const int idle = static_cast<int>(std::min<long>(1000, (limit - 64) / 2));
  ASSERT_GT(idle, 10) << "descriptor limit too low: " << limit;
  auto options = TcpOptions();
  options.max_connections = idle + 1;
  ListenerHarness h(options);
  asio::io_context client_io;
  std::vector<tcp::socket> idlers;
  for (int i = 0; i < idle; ++i) idlers.push_back(Connect(client_io, h.port()));
  // Accepted in order, so once the late client's lines arrived every idler was accepted.
  tcp::socket good = Connect(client_io, h.port());
  asio::write(good, asio::buffer(std::string("good 0\ngood 1\ngood 2\ngood 3\ngood 4\n")));
  EXPECT_EQ(h.WaitForMessages(5), GoodLines(5));
  IngestStats s = h.listener().stats();
  EXPECT_EQ(s.connections_accepted, static_cast<uint64_t>(idle) + 1);
  EXPECT_EQ(s.connections_rejected, 0u);
  EXPECT_EQ(s.idle_closed, 0u);
  // One over the limit (the good client is still connected) is refused.
  tcp::socket extra = Connect(client_io, h.port());
  EXPECT_EQ(ReadUntilClosed(extra), asio::error::eof);
  EXPECT_EQ(h.listener().stats().connections_rejected, 1u);
}

TEST(SyslogStreamListenerTest, IdleConnectionsAreClosedAndCounted) {
  auto options = TcpOptions();
  options.max_connections = 64;
  options.idle_timeout = std::chrono::milliseconds(300);
  ListenerHarness h(options);
  asio::io_context client_io;
  std::vector<tcp::socket> idlers;
  for (int i = 0; i < 20; ++i) idlers.push_back(Connect(client_io, h.port()));
  // A partial line is flushed when the idle connection is closed.
  asio::write(idlers[0], asio::buffer(std::string("partial")));
  SendWellBehaved(client_io, h.port(), 3);
  for (auto& s : idlers) EXPECT_EQ(ReadUntilClosed(s), asio::error::eof);
  std::vector<std::string> got = h.WaitForMessages(4);
  EXPECT_NE(std::find(got.begin(), got.end(), "partial"), got.end());
  IngestStats s = h.listener().stats();
  EXPECT_EQ(s.idle_closed, 20u);
  EXPECT_EQ(s.messages, 4u);
}

// ---------------------------------------------------------------- Unix sockets

SyslogStreamListener::Options UnixOptions(const std::string& path) {
  SyslogStreamListener::Options o;
  o.name = "test";
  o.transport = SyslogStreamListener::Transport::kUnix;
  o.unix_path = path;
  return o;
}

TEST(SyslogStreamListenerTest, UnixSocketDeliversWithPeerPidAndModeThenUnlinks) {
  TempDir dir("iocd-ingest");
  std::string path = dir.path() + "/log.sock";
  {
    ListenerHarness h(UnixOptions(path));
    struct stat st;
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0660u);
    EXPECT_EQ(h.listener().address(), path);
    EXPECT_EQ(h.listener().protocol(), "syslog-unix");
    asio::io_context client_io;
    UnixStream::socket s(client_io);
    s.connect(UnixStream::endpoint(path));
    asio::write(s, asio::buffer(std::string("<13>over unix\n7 octets!")));
    EXPECT_EQ(h.WaitForMessages(2), (std::vector<std::string>{"<13>over unix", "octets!"}));
    EXPECT_EQ(h.senders()[0], "unix:pid=" + std::to_string(::getpid()));
    h.StopAndJoin();
    EXPECT_FALSE(std::filesystem::exists(path));
  }
}

TEST(SyslogStreamListenerTest, UnixSocketReplacesStaleSocketAndRefusesLiveOrOtherFiles) {
  TempDir dir("iocd-ingest");
  std::string path = dir.path() + "/log.sock";
  {
    // A stale socket: bound, then closed without unlinking.
    asio::io_context io;
    UnixStream::acceptor stale(io, UnixStream::endpoint(path));
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  auto options = UnixOptions(path);
  options.unix_mode = 0600;
  ListenerHarness h(options);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  asio::io_context io;
  auto live = SyslogStreamListener::Create(io, UnixOptions(path), [](const ReceivedEvent&) {});
  ASSERT_FALSE(live.ok());
  EXPECT_EQ(live.status().message(), "input test: " + path + " is in use by another process");

  std::string file = dir.path() + "/regular";
  std::FILE* f = std::fopen(file.c_str(), "w");
  std::fclose(f);
  auto regular = SyslogStreamListener::Create(io, UnixOptions(file), [](const ReceivedEvent&) {});
  ASSERT_FALSE(regular.ok());
  EXPECT_EQ(regular.status().message(),
            "input test: " + file + " exists and is not a socket; remove it or change path");
}

// ---------------------------------------------------------------- TLS

class TlsTest : public ::testing::Test {
 protected:
  TlsTest() : dir_("iocd-tls"), pki_(testing::MakeTestPki(dir_.path())) {}

  SyslogStreamListener::Options TlsOptions(bool with_ca, bool require) {
    SyslogStreamListener::Options o = TcpOptions();
    o.transport = SyslogStreamListener::Transport::kTls;
    o.tls.cert_file = pki_.server_cert;
    o.tls.key_file = pki_.server_key;
    if (with_ca) o.tls.ca_file = pki_.ca_cert;
    o.tls.require_client_cert = require;
    return o;
  }

  // A client context that trusts the test CA and checks the server's name, optionally
  // presenting a certificate.
  ssl::context ClientContext(const std::string& cert = "", const std::string& key = "") {
    ssl::context ctx(ssl::context::tls_client);
    ctx.load_verify_file(pki_.ca_cert);
    ctx.set_verify_mode(ssl::verify_peer);
    if (!cert.empty()) {
      ctx.use_certificate_chain_file(cert);
      ctx.use_private_key_file(key, ssl::context::pem);
    }
    return ctx;
  }

  TempDir dir_;
  testing::TestPki pki_;
};

using TlsStream = ssl::stream<tcp::socket>;

std::unique_ptr<TlsStream> TlsConnect(asio::io_context& io, ssl::context& ctx, uint16_t port,
                                      boost::system::error_code* ec) {
  auto s = std::make_unique<TlsStream>(io, ctx);
  s->set_verify_callback(ssl::host_name_verification("localhost"));
  s->lowest_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  s->handshake(ssl::stream_base::client, *ec);
  return s;
}

TEST_F(TlsTest, DeliversBothFramingsOverTls) {
  ListenerHarness h(TlsOptions(false, false));
  EXPECT_EQ(h.listener().protocol(), "syslog-tls");
  asio::io_context io;
  ssl::context ctx = ClientContext();
  boost::system::error_code ec;
  auto s = TlsConnect(io, ctx, h.port(), &ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_GE(SSL_version(s->native_handle()), TLS1_2_VERSION);
  asio::write(*s, asio::buffer(std::string("<13>tls line\n12 <13>octets!\nlast")));
  s->shutdown(ec);  // close_notify; the LF-less last line counts at close
  EXPECT_EQ(h.WaitForMessages(3), (std::vector<std::string>{"<13>tls line", "<13>octets!\n", "last"}));
}

TEST_F(TlsTest, IdleHandlerFollowsEachReadOverTls) {
  ListenerHarness h(TlsOptions(false, false), /*batched=*/true);
  asio::io_context io;
  ssl::context ctx = ClientContext();
  boost::system::error_code ec;
  auto s = TlsConnect(io, ctx, h.port(), &ec);
  ASSERT_FALSE(ec) << ec.message();
  asio::write(*s, asio::buffer(std::string("<13>a\n<13>b\n")));
  std::vector<std::string> trail = h.WaitForIdleAfter(2);
  ASSERT_FALSE(trail.empty());
  EXPECT_EQ(trail.back(), "idle");
  EXPECT_EQ(h.messages(), (std::vector<std::string>{"<13>a", "<13>b"}));
}

TEST_F(TlsTest, RequiredClientCertificateIsVerified) {
  ListenerHarness h(TlsOptions(true, true));
  asio::io_context io;
  {
    ssl::context ctx = ClientContext(pki_.client_cert, pki_.client_key);
    boost::system::error_code ec;
    auto s = TlsConnect(io, ctx, h.port(), &ec);
    ASSERT_FALSE(ec) << ec.message();
    asio::write(*s, asio::buffer(std::string("from a trusted client\n")));
    EXPECT_EQ(h.WaitForMessages(1), std::vector<std::string>{"from a trusted client"});
  }
  for (int variant = 0; variant < 2; ++variant) {
    // No certificate, then one from an unrelated CA: the server ends the handshake.
    ssl::context ctx = variant == 0 ? ClientContext() : ClientContext(pki_.other_client_cert, pki_.other_client_key);
    boost::system::error_code ec;
    auto s = TlsConnect(io, ctx, h.port(), &ec);
    // With TLS 1.3 the client may finish its side first; its first read then fails.
    // Either way, the server has counted the failure once it closed the connection.
    // (A TLS alert ends the client's reads before the server has closed: wait for EOF.)
    if (!ec) {
      asio::write(*s, asio::buffer(std::string("must not arrive\n")), ec);
      ReadUntilClosed(*s);
    }
    ReadUntilClosed(s->next_layer());
  }
  IngestStats s = h.listener().stats();
  EXPECT_EQ(s.tls_handshake_failures, 2u);
  EXPECT_EQ(s.messages, 1u);
  EXPECT_EQ(h.messages(), std::vector<std::string>{"from a trusted client"});
}

TEST_F(TlsTest, OldProtocolVersionsAreRefused) {
  ListenerHarness h(TlsOptions(false, false));
  asio::io_context io;
  ssl::context ctx = ClientContext();
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_VERSION);
  SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_1_VERSION);
  SSL_CTX_set_security_level(ctx.native_handle(), 0);
  boost::system::error_code ec;
  auto s = TlsConnect(io, ctx, h.port(), &ec);
  EXPECT_TRUE(ec);
  ReadUntilClosed(s->next_layer());
  h.StopAndJoin();
  EXPECT_EQ(h.listener().stats().tls_handshake_failures, 1u);
}

TEST_F(TlsTest, BadCertificateFilesFailAtCreate) {
  asio::io_context io;
  auto options = TlsOptions(false, false);
  options.tls.key_file = pki_.client_key;  // does not match the server certificate
  auto mismatched = SyslogStreamListener::Create(io, options, [](const ReceivedEvent&) {});
  ASSERT_FALSE(mismatched.ok());
  EXPECT_EQ(mismatched.status().message(),
            "input test: cannot load private key " + pki_.client_key + ": key values mismatch");
  options.tls.cert_file = dir_.path() + "/missing.pem";
  auto missing = SyslogStreamListener::Create(io, options, [](const ReceivedEvent&) {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message().rfind("input test: cannot load certificate chain " + options.tls.cert_file, 0),
            0u)
      << missing.status().message();
}

TEST_F(TlsTest, StopProcessesWhatWasReceived) {
  ListenerHarness h(TlsOptions(false, false));
  asio::io_context io;
  ssl::context ctx = ClientContext();
  boost::system::error_code ec;
  auto s = TlsConnect(io, ctx, h.port(), &ec);
  ASSERT_FALSE(ec) << ec.message();
  asio::write(*s, asio::buffer(std::string("first\n")));
  ASSERT_EQ(h.WaitForMessages(1).size(), 1u);
  asio::write(*s, asio::buffer(std::string("tail without newline")));
  // The client stays connected; Stop must still return once the tail is handled.
  h.StopAndJoin();
  EXPECT_EQ(h.messages(), (std::vector<std::string>{"first", "tail without newline"}));
  EXPECT_EQ(h.listener().stats().connections_open, 0u);
}

}  // namespace
}  // namespace iocd
