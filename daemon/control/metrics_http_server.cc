#include "control/metrics_http_server.h"

#include <mutex>
#include <optional>
#include <set>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

namespace iocd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr uint32_t kMaxHeaderBytes = 8192;
}  // namespace

class MetricsConnection;

struct MetricsHttpServer::Shared {
  Shared(asio::io_context& io_context, Handler h, Options opts)
      : io(io_context), handler(std::move(h)), options(opts), acceptor(asio::make_strand(io_context)) {}

  asio::io_context& io;
  const Handler handler;
  const Options options;
  tcp::acceptor acceptor;  // used on its own strand only

  std::mutex mu;  // guards what follows
  bool stopping = false;
  std::set<std::shared_ptr<MetricsConnection>> connections;

  void Accept(const std::shared_ptr<Shared>& self);
  void Forget(const std::shared_ptr<MetricsConnection>& conn) {
    std::lock_guard lock(mu);
    connections.erase(conn);
  }
};

// One client connection; everything runs on its strand (the stream's executor).
class MetricsConnection : public std::enable_shared_from_this<MetricsConnection> {
 public:
  MetricsConnection(tcp::socket socket, std::shared_ptr<MetricsHttpServer::Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {}

  void Start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

  void Abort() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
  }

 private:
  void Read() {
    if (closed_) return;
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(0);
    stream_.expires_after(shared_->options.idle_timeout);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->OnRead(ec);
    });
  }

  void OnRead(beast::error_code ec) {
    if (closed_) return;
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::eof) {
      Close();
      return;
    }
    if (ec) {
      Respond(http::status::bad_request, "bad request: " + ec.message() + "\n", /*keep_alive=*/false);
      return;
    }
    const auto& req = parser_->get();
    std::string_view target(req.target().data(), req.target().size());
    target = target.substr(0, target.find('?'));
    if (req.method() != http::verb::get) {
      Respond(http::status::method_not_allowed, "only GET\n", req.keep_alive());
    } else if (target != "/metrics") {
      Respond(http::status::not_found, "not found; the counters are at /metrics\n", req.keep_alive());
    } else {
      Respond(http::status::ok, shared_->handler(), req.keep_alive());
    }
  }

  void Respond(http::status status, std::string body, bool keep_alive) {
    response_ = {};
    response_.result(status);
    response_.version(11);
    response_.set(http::field::server, "iocd");
    response_.set(http::field::content_type, status == http::status::ok ? "text/plain; version=0.0.4; charset=utf-8"
                                                                        : "text/plain; charset=utf-8");
    if (status == http::status::method_not_allowed) response_.set(http::field::allow, "GET");
    response_.body() = std::move(body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    stream_.expires_after(shared_->options.idle_timeout);
    http::async_write(stream_, response_, [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
      if (ec || !keep_alive) {
        self->Close();
      } else {
        self->Read();
      }
    });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    shared_->Forget(shared_from_this());
  }

  beast::tcp_stream stream_;
  std::shared_ptr<MetricsHttpServer::Shared> shared_;
  beast::flat_buffer buffer_{kMaxHeaderBytes};
  std::optional<http::request_parser<http::empty_body>> parser_;
  http::response<http::string_body> response_;
  bool closed_ = false;
};

void MetricsHttpServer::Shared::Accept(const std::shared_ptr<Shared>& self) {
  acceptor.async_accept(asio::make_strand(io), [self](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    std::shared_ptr<MetricsConnection> conn;
    {
      std::lock_guard lock(self->mu);
      if (self->stopping) return;
      if (!ec && self->connections.size() < self->options.max_clients) {
        conn = std::make_shared<MetricsConnection>(std::move(socket), self);
        self->connections.insert(conn);
      }
    }
    if (ec) spdlog::warn("metrics endpoint: accept failed: {}", ec.message());
    if (conn) conn->Start();  // a client over the limit is closed with its socket here
    self->Accept(self);
  });
}

MetricsHttpServer::MetricsHttpServer(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

MetricsHttpServer::~MetricsHttpServer() { Stop(); }

Result<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Create(asio::io_context& io, const std::string& host,
                                                                     uint16_t port, Handler handler) {
  return Create(io, host, port, std::move(handler), Options());
}

Result<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Create(asio::io_context& io, const std::string& host,
                                                                     uint16_t port, Handler handler,
                                                                     Options options) {
  const std::string what = "metrics_listen " + host + ":" + std::to_string(port);
  boost::system::error_code ec;
  const asio::ip::address ip = asio::ip::make_address(host, ec);
  if (ec) return Status::InvalidArgument(what + ": not an IP address");
  auto shared = std::make_shared<Shared>(io, std::move(handler), options);
  const tcp::endpoint endpoint(ip, port);
  shared->acceptor.open(endpoint.protocol(), ec);
  if (!ec) shared->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) shared->acceptor.bind(endpoint, ec);
  if (!ec) shared->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::IoError(what + ": " + ec.message());
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer(shared));
  const tcp::endpoint bound = shared->acceptor.local_endpoint();
  server->port_ = bound.port();
  server->address_ = (ip.is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string()) + ":" +
                     std::to_string(server->port_);
  return server;
}

void MetricsHttpServer::Start() {
  asio::post(shared_->acceptor.get_executor(), [shared = shared_] { shared->Accept(shared); });
}

void MetricsHttpServer::Stop() {
  std::set<std::shared_ptr<MetricsConnection>> connections;
  {
    std::lock_guard lock(shared_->mu);
    if (shared_->stopping) return;
    shared_->stopping = true;
    connections = shared_->connections;
  }
  for (const auto& conn : connections) conn->Abort();
  asio::post(shared_->acceptor.get_executor(), [shared = shared_] {
    boost::system::error_code ignored;
    shared->acceptor.close(ignored);
  });
}

}  // namespace iocd
