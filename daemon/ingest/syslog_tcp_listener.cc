#include "ingest/syslog_tcp_listener.h"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "common/log_limiter.h"
#include "parse/syslog_framing.h"

namespace iocd {

namespace asio = boost::asio;
using asio::ip::tcp;

struct SyslogTcpListener::Shared {
  std::string name;
  EventHandler handler;
  size_t max_message_bytes;
  size_t max_connections;

  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> messages{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> frame_errors{0};

  std::mutex mu;  // guards everything below
  bool stopping = false;
  std::set<std::shared_ptr<Connection>> connections;
  LogLimiter frame_error_log{std::chrono::seconds(10)};
};

class SyslogTcpListener::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<Shared> shared)
      : socket_(std::move(socket)), shared_(std::move(shared)), decoder_(shared_->max_message_bytes) {
    boost::system::error_code ec;
    tcp::endpoint peer = socket_.remote_endpoint(ec);
    if (!ec) {
      sender_ = peer.address().is_v6() ? "[" + peer.address().to_string() + "]:" : peer.address().to_string() + ":";
      sender_ += std::to_string(peer.port());
    } else {
      sender_ = "unknown";
    }
  }

  void Start() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      bool stopping;
      {
        std::lock_guard lock(self->shared_->mu);
        stopping = self->shared_->stopping;
      }
      if (stopping) {
        self->DrainOnStrand();
      } else {
        self->Read();
      }
    });
  }

  // Cancels the pending read; its handler, seeing the listener stopping, drains what the
  // kernel already holds, flushes the decoder and closes.
  void Drain() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      boost::system::error_code ignored;
      if (!self->closed_) self->socket_.cancel(ignored);
    });
  }

 private:
  void Read() {
    socket_.async_read_some(asio::buffer(buffer_),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              self->OnRead(ec, n);
                            });
  }

  void OnRead(boost::system::error_code ec, size_t n) {
    if (n > 0) Consume(std::string_view(buffer_.data(), n));
    if (closed_) return;
    bool stopping;
    {
      std::lock_guard lock(shared_->mu);
      stopping = shared_->stopping;
    }
    if (stopping && (!ec || ec == asio::error::operation_aborted)) {
      DrainOnStrand();
      return;
    }
    if (ec) {
      // EOF or reset; a last message without LF still counts.
      Finish();
      return;
    }
    Read();
  }

  void DrainOnStrand() {
    if (closed_) return;
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);
    while (!ec) {
      size_t n = socket_.read_some(asio::buffer(buffer_), ec);
      if (n > 0) Consume(std::string_view(buffer_.data(), n));
    }
    Finish();
  }

  void Consume(std::string_view bytes) {
    shared_->bytes.fetch_add(bytes.size(), std::memory_order_relaxed);
    decoder_.Append(bytes);
    for (;;) {
      SyslogFrameDecoder::Frame frame = decoder_.Next();
      if (frame.kind == SyslogFrameDecoder::Kind::kNeedMore) break;
      Handle(frame);
    }
  }

  void Handle(const SyslogFrameDecoder::Frame& frame) {
    if (frame.kind == SyslogFrameDecoder::Kind::kMessage) {
      shared_->messages.fetch_add(1, std::memory_order_relaxed);
      shared_->handler(ReceivedEvent{shared_->name, sender_, frame.message});
      return;
    }
    if (frame.kind == SyslogFrameDecoder::Kind::kError) {
      shared_->frame_errors.fetch_add(1, std::memory_order_relaxed);
      uint64_t report;
      {
        std::lock_guard lock(shared_->mu);
        report = shared_->frame_error_log.Record(LogLimiter::Clock::now());
      }
      if (report > 0) {
        spdlog::warn("input {}: frame from {} at byte {} discarded: {} ({} such errors since last report)",
                     shared_->name, sender_, frame.offset, frame.error, report);
      }
    }
  }

  void Finish() {
    for (;;) {
      SyslogFrameDecoder::Frame frame = decoder_.Finish();
      if (frame.kind == SyslogFrameDecoder::Kind::kNeedMore) break;
      Handle(frame);
      if (frame.kind == SyslogFrameDecoder::Kind::kError) break;
    }
    Close();
  }

  void Close() {
    closed_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    std::lock_guard lock(shared_->mu);
    shared_->connections.erase(shared_from_this());
  }

  tcp::socket socket_;
  std::shared_ptr<Shared> shared_;
  SyslogFrameDecoder decoder_;
  std::string sender_;
  std::array<char, 64 * 1024> buffer_;
  bool closed_ = false;
};

SyslogTcpListener::SyslogTcpListener(asio::io_context& io, Options options, EventHandler handler)
    : io_(io), options_(std::move(options)), acceptor_(io), shared_(std::make_shared<Shared>()) {
  shared_->name = options_.name;
  shared_->handler = std::move(handler);
  shared_->max_message_bytes = options_.max_message_bytes;
  shared_->max_connections = options_.max_connections;
}

SyslogTcpListener::~SyslogTcpListener() = default;

Result<std::unique_ptr<SyslogTcpListener>> SyslogTcpListener::Create(asio::io_context& io, Options options,
                                                                    EventHandler handler) {
  std::unique_ptr<SyslogTcpListener> listener(new SyslogTcpListener(io, std::move(options), std::move(handler)));
  const tcp::endpoint& ep = listener->options_.endpoint;
  auto fail = [&](const boost::system::error_code& ec, std::string_view what) -> Status {
    return Status::IoError("input " + listener->options_.name + ": cannot " + std::string(what) + " " +
                           ep.address().to_string() + ":" + std::to_string(ep.port()) + ": " + ec.message());
  };
  boost::system::error_code ec;
  listener->acceptor_.open(ep.protocol(), ec);
  if (ec) return fail(ec, "open socket for");
  listener->acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (ec) return fail(ec, "set SO_REUSEADDR on");
  listener->acceptor_.bind(ep, ec);
  if (ec) return fail(ec, "bind");
  listener->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ec, "listen on");
  listener->local_endpoint_ = listener->acceptor_.local_endpoint(ec);
  if (ec) return fail(ec, "read the address of");
  return listener;
}

void SyslogTcpListener::Start() {
  asio::post(acceptor_.get_executor(), [this] { Accept(); });
}

void SyslogTcpListener::Accept() {
  acceptor_.async_accept(asio::make_strand(io_), [this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors and the like: keep accepting; the peer sees a closed socket.
      spdlog::warn("input {}: accept failed: {}", options_.name, ec.message());
    } else {
      std::shared_ptr<Connection> conn;
      {
        std::lock_guard lock(shared_->mu);
        if (shared_->stopping) return;
        if (shared_->connections.size() >= shared_->max_connections) {
          shared_->rejected.fetch_add(1, std::memory_order_relaxed);
        } else {
          conn = std::make_shared<Connection>(std::move(socket), shared_);
          shared_->connections.insert(conn);
          shared_->accepted.fetch_add(1, std::memory_order_relaxed);
        }
      }
      if (conn) {
        conn->Start();
      } else {
        boost::system::error_code ignored;
        socket.close(ignored);
      }
    }
    Accept();
  });
}

void SyslogTcpListener::Stop() {
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  std::set<std::shared_ptr<Connection>> connections;
  {
    std::lock_guard lock(shared_->mu);
    shared_->stopping = true;
    connections = shared_->connections;
  }
  for (const auto& conn : connections) conn->Drain();
}

IngestStats SyslogTcpListener::stats() const {
  IngestStats s;
  s.connections_accepted = shared_->accepted.load(std::memory_order_relaxed);
  s.connections_rejected = shared_->rejected.load(std::memory_order_relaxed);
  s.messages = shared_->messages.load(std::memory_order_relaxed);
  s.bytes = shared_->bytes.load(std::memory_order_relaxed);
  s.frame_errors = shared_->frame_errors.load(std::memory_order_relaxed);
  std::lock_guard lock(shared_->mu);
  s.connections_open = shared_->connections.size();
  return s;
}

}  // namespace iocd
