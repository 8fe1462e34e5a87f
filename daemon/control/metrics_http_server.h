// MetricsHttpServer: a Prometheus scrape endpoint. Answers HTTP GET /metrics with the
// text a handler returns (the daemon's counters, app/metrics.h); off unless
// Config.metrics_listen is set (docs/metrics.md).
//
// What it does: listens on one TCP address; per connection reads requests with
// Boost.Beast and answers, keeping the connection open while the client asks for it
// (HTTP/1.1 keep-alive). GET /metrics (a query string is ignored) is 200 with
// "Content-Type: text/plain; version=0.0.4; charset=utf-8"; another path is 404; another
// method 405 (with "Allow: GET"); a request that does not parse, has a body, or whose
// headers exceed 8 KiB is 400 and the connection is closed.
// Limits: at most Options::max_clients (default 16) connections at once (one more is
// closed at once); a connection idle for Options::idle_timeout (default 10 s) while a
// request or the response is in flight is closed. So memory is bounded whatever clients do.
//
// Handler: runs on the io_context thread for every GET /metrics; must be quick.
//
// Ownership: Create() returns the only handle; destroying it stops the server (as Stop()).
// Connections in progress keep the shared state alive until they finish on the io_context.
//
// Thread safety: Start() and Stop() from any thread; Stop() is idempotent. The io_context
// may be run by several threads: the acceptor and each connection have their own strand.
//
// Errors: Create() fails with IoError when the address cannot be bound or listened on
// ("metrics_listen 127.0.0.1:9514: Address already in use").
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "common/status.h"

namespace iocd {

class MetricsHttpServer {
 public:
  struct Options {
    std::chrono::milliseconds idle_timeout = std::chrono::seconds(10);
    size_t max_clients = 16;
  };
  using Handler = std::function<std::string()>;

  // Binds host:port (an IP literal; port 0 picks a free port) and listens; serving starts
  // with Start(). Runs on `io`, which must outlive the server's use of it.
  static Result<std::unique_ptr<MetricsHttpServer>> Create(boost::asio::io_context& io, const std::string& host,
                                                           uint16_t port, Handler handler);
  static Result<std::unique_ptr<MetricsHttpServer>> Create(boost::asio::io_context& io, const std::string& host,
                                                           uint16_t port, Handler handler, Options options);
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  void Start();
  // Stops accepting and closes every open connection. Returns at once; the closing
  // finishes on the io_context.
  void Stop();

  // "host:port" as bound (the real port when 0 was asked for).
  const std::string& address() const { return address_; }
  uint16_t port() const { return port_; }

  struct Shared;  // state shared with connections (metrics_http_server.cc)

 private:
  explicit MetricsHttpServer(std::shared_ptr<Shared> shared);

  std::shared_ptr<Shared> shared_;
  std::string address_;
  uint16_t port_ = 0;
};

}  // namespace iocd
