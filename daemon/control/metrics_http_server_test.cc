#include "control/metrics_http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace iocd {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

// A server on 127.0.0.1:0 whose io_context runs on its own thread.
class MetricsHttpServerTest : public ::testing::Test {
 protected:
  void StartServer(MetricsHttpServer::Options options = {}) {
    auto server = MetricsHttpServer::Create(
        io_, "127.0.0.1", 0,
        [this] { return "iocd_events_total " + std::to_string(++scrapes_) + "\n"; }, options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    server_->Start();
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();  // returns once the server's work is gone
  }

  tcp::socket Connect() {
    tcp::socket s(client_io_);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    return s;
  }
  // Sends `request` on a new connection and reads until the server closes it.
  std::string Exchange(const std::string& request) {
    tcp::socket s = Connect();
    asio::write(s, asio::buffer(request));
    return ReadToEnd(s);
  }
  static std::string ReadToEnd(tcp::socket& s) {
    std::string out;
    boost::system::error_code ec;
    asio::read(s, asio::dynamic_buffer(out), ec);  // ends with eof (or reset)
    return out;
  }

  asio::io_context io_;
  asio::io_context client_io_;
  std::unique_ptr<MetricsHttpServer> server_;
  std::thread thread_;
  std::atomic<int> scrapes_{0};
};

TEST_F(MetricsHttpServerTest, GetMetricsReturnsTheHandlersTextInPrometheusFormat) {
  StartServer();
  EXPECT_EQ(server_->address(), "127.0.0.1:" + std::to_string(server_->port()));
  std::string r = Exchange("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(r, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(r, HasSubstr("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
  EXPECT_THAT(r, HasSubstr("Content-Length: 20\r\n"));
  EXPECT_THAT(r, ::testing::EndsWith("\r\n\r\niocd_events_total 1\n"));
}

TEST_F(MetricsHttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer();
  std::string r = Exchange(
      "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /metrics?name[]=x HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(r, HasSubstr("iocd_events_total 1\n"));
  EXPECT_THAT(r, HasSubstr("iocd_events_total 2\n"));
  EXPECT_THAT(r, ::testing::EndsWith("iocd_events_total 3\n"));
  EXPECT_EQ(scrapes_.load(), 3);
}

TEST_F(MetricsHttpServerTest, OtherPathsMethodsAndBadRequests) {
  StartServer();
  EXPECT_THAT(Exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), StartsWith("HTTP/1.1 404 Not Found"));
  std::string post = Exchange("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(post, StartsWith("HTTP/1.1 405 Method Not Allowed"));
  EXPECT_THAT(post, HasSubstr("Allow: GET\r\n"));
  EXPECT_THAT(Exchange("\x01\x02 garbage\r\n\r\n"), StartsWith("HTTP/1.1 400 Bad Request"));
  // A body is refused, and so are headers over 8 KiB.
  EXPECT_THAT(Exchange("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"),
              StartsWith("HTTP/1.1 400 Bad Request"));
  EXPECT_THAT(Exchange("GET /metrics HTTP/1.1\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n"),
              StartsWith("HTTP/1.1 400 Bad Request"));
  EXPECT_EQ(scrapes_.load(), 0);
  // The server still answers.
  EXPECT_THAT(Exchange("GET /metrics HTTP/1.0\r\n\r\n"), StartsWith("HTTP/1.1 200 OK"));
}

TEST_F(MetricsHttpServerTest, ClientsOverTheLimitAreClosedAndIdleOnesTimeOut) {
  StartServer({.idle_timeout = 200ms, .max_clients = 1});
  tcp::socket idle = Connect();
  // The idle client holds the only slot until its timeout closes it; a second client
  // connecting meanwhile is closed at once or served after that, never left hanging.
  EXPECT_EQ(ReadToEnd(idle), "");
  EXPECT_THAT(Exchange("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
              StartsWith("HTTP/1.1 200 OK"));
}

TEST(MetricsHttpServerCreateTest, BadAddressAndPortInUse) {
  asio::io_context io;
  auto bad = MetricsHttpServer::Create(io, "localhost", 0, [] { return std::string(); });
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "metrics_listen localhost:0: not an IP address");
  auto first = MetricsHttpServer::Create(io, "127.0.0.1", 0, [] { return std::string(); });
  ASSERT_TRUE(first.ok());
  const uint16_t port = (*first)->port();
  auto second = MetricsHttpServer::Create(io, "127.0.0.1", port, [] { return std::string(); });
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().message(),
            "metrics_listen 127.0.0.1:" + std::to_string(port) + ": Address already in use");
}

}  // namespace
}  // namespace iocd
