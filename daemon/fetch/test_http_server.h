// Test-only helpers for http_fetcher_test: a small HTTP(S) server on 127.0.0.1:0 and a
// throw-away PKI made at test time. Not part of iocd_fetch; compiled into the test only.
//
// TestHttpServer serves one connection at a time on its own thread: accept, (TLS
// handshake), read one request, record it, answer with what the handler returns, half-close
// and wait for the client to close. The destructor stops and joins the thread. requests()
// may be called from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace iocd::testing {

struct TestRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lower case

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct TestResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool chunked = false;  // Transfer-Encoding: chunked instead of Content-Length
  // When set, Content-Length announces this many bytes but only `body` is sent.
  uint64_t announced_length = 0;
};

using TestHandler = std::function<TestResponse(const TestRequest&)>;

class TestHttpServer {
 public:
  // HTTPS when tls is non-null (it must outlive the server).
  explicit TestHttpServer(TestHandler handler, boost::asio::ssl::context* tls = nullptr);
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  uint16_t port() const { return port_; }
  // "http[s]://HOST:PORT" + path.
  std::string Url(std::string_view path, std::string_view host = "127.0.0.1") const;
  std::vector<TestRequest> requests() const;

 private:
  void Serve();
  void ServeConnection(boost::asio::ip::tcp::socket socket);

  TestHandler handler_;
  boost::asio::ssl::context* tls_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  bool stopping_ = false;  // guarded by mu_
  mutable std::mutex mu_;
  std::vector<TestRequest> requests_;
  std::thread thread_;
};

struct TestPki {
  std::string ca_cert_pem;      // self-signed CA "iocd test CA"
  std::string server_cert_pem;  // CN=localhost with the given subjectAltName, signed by the CA
  std::string server_key_pem;   // EC P-256
};

// Builds a fresh CA and server certificate with the OpenSSL 3 API; `server_san` is in
// OpenSSL config syntax. Throws std::runtime_error on an OpenSSL failure (tests only).
TestPki MakeTestPki(const char* server_san = "DNS:localhost,IP:127.0.0.1");

// gzip-compresses data (deflate, gzip wrapper), for serving test bodies.
std::string GzipForTest(std::string_view data);

}  // namespace iocd::testing
