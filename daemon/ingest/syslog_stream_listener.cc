#include "ingest/syslog_stream_listener.h"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/log_limiter.h"
#include "ingest/replyback.h"
#include "ingest/utf8.h"
#include "parse/syslog_framing.h"

namespace iocd {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using UnixStream = asio::local::stream_protocol;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kPlainReadBytes = 64 * 1024;
constexpr size_t kTlsReadBytes = 16 * 1024;  // one TLS record
constexpr auto kLogInterval = std::chrono::seconds(10);
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);
// How long a stopping listener keeps reading an established TLS connection.
constexpr auto kTlsStopGrace = std::chrono::milliseconds(500);

// Read buffer of every plain connection served on this thread. A connection reads only
// once the socket is readable and consumes the bytes before returning, so one buffer per
// thread serves them all and an idle connection holds none.
char* ThreadReadBuffer() {
  thread_local std::unique_ptr<char[]> buffer(new char[kPlainReadBytes]);
  return buffer.get();
}

// Events decoded from one read of a connection, waiting to go to the batch handler
// together. One per thread: a connection hands its batch on before its read handler
// returns, so a batch never holds two connections' events. The messages are views into
// the connection's decoder, which keeps them valid until its next Append(): every path
// that decodes (Consume, FlushDecoder) hands the batch on before it returns.
struct PendingBatch {
  std::vector<ReceivedEvent> events;
  size_t bytes = 0;  // of the events' messages
};

PendingBatch& ThreadBatch() {
  thread_local PendingBatch batch;
  return batch;
}

std::string FormatEndpoint(const tcp::endpoint& ep) {
  std::string host = ep.address().to_string();
  if (ep.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

const char* TransportName(SyslogStreamListener::Transport t) {
  switch (t) {
    case SyslogStreamListener::Transport::kTcp:
      return "syslog-tcp";
    case SyslogStreamListener::Transport::kTls:
      return "syslog-tls";
    case SyslogStreamListener::Transport::kUnix:
      return "syslog-unix";
  }
  return "?";
}

class SessionBase;

// State shared by the listener and its connections (which may outlive its methods).
struct Shared {
  std::string name;
  EventHandler handler;
  EventBatchHandler batch_handler;  // optional
  InputIdleHandler idle_handler;    // optional
  size_t max_message_bytes = 0;
  size_t max_connections = 0;
  std::chrono::milliseconds idle_timeout{0};
  bool reply_back = true;
  size_t reply_max_pending_bytes = 0;

  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> idle_closed{0};
  std::atomic<uint64_t> tls_failures{0};
  std::atomic<uint64_t> messages{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> non_utf8{0};
  std::atomic<uint64_t> oversized{0};
  std::atomic<uint64_t> bad_octet_count{0};
  std::atomic<uint64_t> incomplete_at_close{0};
  std::atomic<uint64_t> replyback_connections{0};
  std::atomic<uint64_t> replies_sent{0};
  std::atomic<uint64_t> finished_sent{0};
  std::atomic<uint64_t> pings{0};
  std::atomic<uint64_t> reply_stalls{0};

  // Set under mu, so the accept path's check-and-insert and Stop()'s snapshot agree; read
  // without it on every read.
  std::atomic<bool> stopping{false};
  std::mutex mu;  // guards everything below
  std::set<std::shared_ptr<SessionBase>> sessions;
  LogLimiter frame_error_log{kLogInterval};
  LogLimiter idle_log{kLogInterval};
  LogLimiter tls_log{kLogInterval};
  LogLimiter accept_log{kLogInterval};

  bool Stopping() const { return stopping.load(std::memory_order_acquire); }
  // How many events to report now (0: stay silent); see LogLimiter.
  uint64_t Record(LogLimiter& limiter) {
    std::lock_guard lock(mu);
    return limiter.Record(Clock::now());
  }
};

// The transport-independent half of a connection: framing, counting, handing on, and the
// ReplyBack protocol (ingest/replyback.h): replies are queued in replies_ on the strand and
// written by the transport half.
class SessionBase : public std::enable_shared_from_this<SessionBase>, public ReplyChannel {
 public:
  SessionBase(std::shared_ptr<Shared> shared, std::string sender)
      : shared_(std::move(shared)), sender_(std::move(sender)), decoder_(shared_->max_message_bytes) {}
  virtual ~SessionBase() = default;

  // Both may be called from any thread; the work runs on the connection's strand.
  virtual void Start() = 0;
  // Cancels the pending operation; its handler, seeing the listener stopping, processes
  // what was already received, then closes.
  virtual void Drain() = 0;

  // ReplyChannel: called by the handler, on the strand, during Consume().
  void Send(std::string_view line) override {
    QueueReply(line);
    shared_->replies_sent.fetch_add(1, std::memory_order_relaxed);
  }

 protected:
  void QueueReply(std::string_view line) {
    replies_.append(line);
    replies_.push_back('\n');
  }

  void Consume(std::string_view bytes) {
    shared_->bytes.fetch_add(bytes.size(), std::memory_order_relaxed);
    decoder_.Append(bytes);
    for (;;) {
      SyslogFrameDecoder::Frame frame = decoder_.Next();
      if (frame.kind == SyslogFrameDecoder::Kind::kNeedMore) break;
      Handle(frame);
    }
    HandOnBatch();
  }

  // End of stream: a last message without LF still counts; a cut octet frame is an error.
  void FlushDecoder() {
    for (;;) {
      SyslogFrameDecoder::Frame frame = decoder_.Finish();
      if (frame.kind == SyslogFrameDecoder::Kind::kNeedMore) break;
      Handle(frame);
      if (frame.kind == SyslogFrameDecoder::Kind::kError) break;
    }
    HandOnBatch();
    Idle();
  }

  // The connection goes back to waiting (or ends): deferred per-batch work is done now.
  void Idle() {
    if (shared_->idle_handler) shared_->idle_handler();
  }

  // Batch handler only: queues a message for the batch, or hands it on alone when large.
  void Batch(std::string_view message) {
    PendingBatch& batch = ThreadBatch();
    if (message.size() > SyslogStreamListener::kMaxBatchedMessageBytes) {
      HandOnBatch();
      const ReceivedEvent event{shared_->name, sender_, message, nullptr};
      shared_->batch_handler(std::span<const ReceivedEvent>(&event, 1));
      return;
    }
    if (batch.events.size() == SyslogStreamListener::kMaxBatchEvents ||
        batch.bytes + message.size() > SyslogStreamListener::kMaxBatchBytes) {
      HandOnBatch();
    }
    batch.events.push_back(ReceivedEvent{shared_->name, sender_, message, nullptr});
    batch.bytes += message.size();
  }

  void HandOnBatch() {
    CountBatched();
    PendingBatch& batch = ThreadBatch();
    if (batch.events.empty()) return;
    shared_->batch_handler(batch.events);
    batch.events.clear();
    batch.bytes = 0;
  }

  // Adds the messages queued by Batch() since the last call to the input's counters.
  void CountBatched() {
    if (uncounted_messages_ == 0) return;
    shared_->messages.fetch_add(uncounted_messages_, std::memory_order_relaxed);
    if (uncounted_non_utf8_ > 0) shared_->non_utf8.fetch_add(uncounted_non_utf8_, std::memory_order_relaxed);
    uncounted_messages_ = 0;
    uncounted_non_utf8_ = 0;
  }

  void Handle(const SyslogFrameDecoder::Frame& frame) {
    const bool first = first_frame_;
    first_frame_ = false;
    if (frame.kind == SyslogFrameDecoder::Kind::kMessage) {
      if (first && shared_->reply_back) {
        if (std::optional<ReplyBackRequest> request = ParseReplyBackFlags(frame.message)) {
          reply_mode_ = true;
          send_finished_ = request->send_finished;
          shared_->replyback_connections.fetch_add(1, std::memory_order_relaxed);
          if (request->ping) Pong();
          return;
        }
      }
      if (reply_mode_ && IsReplyBackPing(frame.message)) {
        Pong();
        return;
      }
      const bool utf8 = IsValidUtf8(frame.message);
      if (shared_->batch_handler && !reply_mode_) {
        // Counted with the batch, in one atomic add each, before the handler sees it.
        ++uncounted_messages_;
        if (!utf8) ++uncounted_non_utf8_;
        Batch(frame.message);
        return;
      }
      shared_->messages.fetch_add(1, std::memory_order_relaxed);
      if (!utf8) shared_->non_utf8.fetch_add(1, std::memory_order_relaxed);
      shared_->handler(ReceivedEvent{shared_->name, sender_, frame.message, reply_mode_ ? this : nullptr});
      if (send_finished_) {
        QueueReply(kLookupFinished);
        shared_->finished_sent.fetch_add(1, std::memory_order_relaxed);
      }
      return;
    }
    if (frame.kind != SyslogFrameDecoder::Kind::kError) return;
    // The decoder's counters say which kind of error this was.
    const SyslogFrameDecoder::Counters& now = decoder_.counters();
    shared_->oversized.fetch_add(now.oversized - seen_.oversized, std::memory_order_relaxed);
    shared_->bad_octet_count.fetch_add(now.bad_octet_count - seen_.bad_octet_count, std::memory_order_relaxed);
    shared_->incomplete_at_close.fetch_add(now.incomplete_at_close - seen_.incomplete_at_close,
                                           std::memory_order_relaxed);
    seen_ = now;
    if (uint64_t report = shared_->Record(shared_->frame_error_log); report > 0) {
      spdlog::warn("input {}: frame from {} at byte {} discarded: {} ({} frame errors since last report)",
                   shared_->name, sender_, frame.offset, frame.error, report);
    }
  }

  void Pong() {
    QueueReply(kReplyBackPong);
    shared_->pings.fetch_add(1, std::memory_order_relaxed);
  }

  std::shared_ptr<Shared> shared_;
  std::string sender_;
  SyslogFrameDecoder decoder_;
  SyslogFrameDecoder::Counters seen_{};
  uint64_t uncounted_messages_ = 0;  // batched, not yet in shared_->messages (see CountBatched)
  uint64_t uncounted_non_utf8_ = 0;
  bool first_frame_ = true;
  bool reply_mode_ = false;
  bool send_finished_ = false;
  std::string replies_;  // queued replies, not yet handed to a write
};

// One connection over a plain socket (TCP, Unix) or TLS over TCP.
template <class Socket, bool kTls>
class StreamSession final : public SessionBase {
 public:
  using Stream = std::conditional_t<kTls, ssl::stream<Socket>, Socket>;

  StreamSession(Socket socket, std::shared_ptr<Shared> shared, std::string sender)
    requires(!kTls)
      : SessionBase(std::move(shared), std::move(sender)), stream_(std::move(socket)),
        timer_(stream_.get_executor()) {}
  StreamSession(Socket socket, ssl::context& context, std::shared_ptr<Shared> shared, std::string sender)
    requires(kTls)
      : SessionBase(std::move(shared), std::move(sender)), stream_(std::move(socket), context),
        timer_(stream_.get_executor()) {}

  void Start() override {
    asio::post(stream_.get_executor(), [self = Self()] {
      if (self->shared_->Stopping()) {
        self->Close();
        return;
      }
      self->last_activity_ = Clock::now();
      self->ArmTimer();
      if constexpr (kTls) {
        self->stream_.async_handshake(ssl::stream_base::server,
                                      [self](boost::system::error_code ec) { self->OnHandshake(ec); });
      } else {
        boost::system::error_code ec;
        self->stream_.non_blocking(true, ec);
        self->WaitRead();
      }
    });
  }

  void Drain() override {
    asio::post(stream_.get_executor(), [self = Self()] {
      if (self->closed_) return;
      self->timer_.cancel();
      if constexpr (kTls) {
        // A cancelled TLS read may leave bytes it took from the socket inside the TLS
        // engine, so TLS connections are not cancelled: reading goes on for a short grace
        // period, then the connection is finished. A handshake in progress is just closed.
        if (!self->tls_buffer_) {
          self->Close();
          return;
        }
        self->timer_.expires_after(kTlsStopGrace);
        self->timer_.async_wait([self](boost::system::error_code ec) {
          if (!ec && !self->closed_) self->Finish();
        });
      } else {
        boost::system::error_code ignored;
        self->Lowest().cancel(ignored);
      }
    });
  }

 private:
  std::shared_ptr<StreamSession> Self() { return std::static_pointer_cast<StreamSession>(shared_from_this()); }

  auto& Lowest() {
    if constexpr (kTls) {
      return stream_.lowest_layer();
    } else {
      return stream_;
    }
  }

  // --- plain sockets: wait for readability, then read into the thread's buffer.
  void WaitRead() {
    stream_.async_wait(Socket::wait_read, [self = Self()](boost::system::error_code ec) { self->OnReadable(ec); });
  }

  void OnReadable(boost::system::error_code ec) {
    if (closed_) return;
    if (!ec) {
      char* buffer = ThreadReadBuffer();
      // A read that fills the buffer probably left more in the kernel: read again at once
      // (a few times at most, for fairness) instead of going back to the reactor.
      for (size_t reads = 0; reads < SyslogStreamListener::kReadsPerWakeup; ++reads) {
        boost::system::error_code read_ec;
        size_t n = stream_.read_some(asio::buffer(buffer, kPlainReadBytes), read_ec);
        if (n > 0) {
          last_activity_ = Clock::now();
          Consume(std::string_view(buffer, n));
          StartWrite();
        }
        if (read_ec && read_ec != asio::error::would_block && read_ec != asio::error::try_again) {
          Finish();  // EOF or reset
          return;
        }
        if (n < kPlainReadBytes || closed_ || shared_->Stopping() || RepliesBacklogged()) break;
      }
      Idle();
    }
    if (shared_->Stopping()) {
      DrainOnStrand();
      return;
    }
    if (ec && ec != asio::error::operation_aborted) {
      Finish();
      return;
    }
    ReadOrPause();
  }

  // --- TLS: handshake, then read records into the connection's buffer.
  void OnHandshake(boost::system::error_code ec) {
    if (closed_) return;
    if (ec) {
      if (ec != asio::error::operation_aborted) {
        shared_->tls_failures.fetch_add(1, std::memory_order_relaxed);
        if (uint64_t report = shared_->Record(shared_->tls_log); report > 0) {
          spdlog::warn("input {}: TLS handshake with {} failed: {} ({} failures since last report)", shared_->name,
                       sender_, ec.message(), report);
        }
      }
      Close();
      return;
    }
    if (shared_->Stopping()) {
      Close();
      return;
    }
    tls_buffer_ = std::make_unique<char[]>(kTlsReadBytes);
    last_activity_ = Clock::now();
    ReadOrPause();
  }

  // Bytes the next TLS read can take at once: decrypted ones in OpenSSL or any on the socket.
  bool TlsInputWaiting() {
    if constexpr (kTls) {
      if (SSL_pending(stream_.native_handle()) > 0) return true;
      boost::system::error_code available_ec;
      const size_t available = Lowest().available(available_ec);
      return !available_ec && available > 0;
    } else {
      return false;
    }
  }

  void ReadTls() {
    stream_.async_read_some(asio::buffer(tls_buffer_.get(), kTlsReadBytes),
                            [self = Self()](boost::system::error_code ec, size_t n) { self->OnTlsRead(ec, n); });
  }

  void OnTlsRead(boost::system::error_code ec, size_t n) {
    if (closed_) return;
    if (n > 0) {
      last_activity_ = Clock::now();
      Consume(std::string_view(tls_buffer_.get(), n));
      StartWrite();
      // As a plain socket does after the reads of one wake-up: idle only when nothing
      // more is waiting. Otherwise the next read completes at once and its batch wakes
      // delivery (or defers it to the batch after), never later than the next batch.
      if (ec || shared_->Stopping() || RepliesBacklogged() || !TlsInputWaiting()) Idle();
    }
    if (ec) {
      Finish();  // close_notify, EOF without it, or reset
      return;
    }
    ReadOrPause();
  }

  // --- ReplyBack writes. One write at a time; replies queued meanwhile go in the next.
  // While the queued and in-flight replies reach reply_max_pending_bytes the connection is
  // not read (so the queue grows at most by the replies to one read's events); the
  // completed write that brings it below resumes reading.
  bool RepliesBacklogged() const {
    return replies_.size() + in_flight_.size() >= shared_->reply_max_pending_bytes;
  }

  void ReadOrPause() {
    if (RepliesBacklogged()) {
      read_paused_ = true;
      shared_->reply_stalls.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if constexpr (kTls) {
      ReadTls();
    } else {
      WaitRead();
    }
  }

  void StartWrite() {
    if (writing_ || replies_.empty() || closed_) return;
    writing_ = true;
    in_flight_.swap(replies_);
    asio::async_write(stream_, asio::buffer(in_flight_),
                      [self = Self()](boost::system::error_code ec, size_t) { self->OnWritten(ec); });
  }

  void OnWritten(boost::system::error_code ec) {
    writing_ = false;
    in_flight_.clear();
    if (closed_) return;
    if (ec) {
      if constexpr (!kTls) {
        // Stop() cancelled the write: a paused connection drains here, any other in its
        // cancelled read.
        if (shared_->Stopping() && !finishing_) {
          if (read_paused_) {
            read_paused_ = false;
            DrainOnStrand();
          }
          return;
        }
      }
      Close();  // the client reset the connection: nobody to reply to
      return;
    }
    last_activity_ = Clock::now();  // the client is reading: not idle
    StartWrite();
    if (finishing_) {
      if (!writing_) Close();
      return;
    }
    if (read_paused_ && !RepliesBacklogged()) {
      read_paused_ = false;
      ReadOrPause();
    }
  }

  // --- common.
  // Plain sockets: reads what the kernel already holds without waiting, then finishes.
  void DrainOnStrand() {
    if (closed_) return;
    boost::system::error_code ec;
    Lowest().non_blocking(true, ec);
    char* buffer = ThreadReadBuffer();
    while (!ec) {
      size_t n = stream_.read_some(asio::buffer(buffer, kPlainReadBytes), ec);
      if (n > 0) Consume(std::string_view(buffer, n));
    }
    Finish();
  }

  void ArmTimer() {
    if (shared_->idle_timeout.count() == 0) return;
    timer_.expires_at(last_activity_ + shared_->idle_timeout);
    timer_.async_wait([self = Self()](boost::system::error_code ec) { self->OnTimer(ec); });
  }

  void OnTimer(boost::system::error_code ec) {
    if (ec || closed_ || shared_->Stopping()) return;
    if (Clock::now() - last_activity_ < shared_->idle_timeout) {
      ArmTimer();
      return;
    }
    shared_->idle_closed.fetch_add(1, std::memory_order_relaxed);
    if (uint64_t report = shared_->Record(shared_->idle_log); report > 0) {
      spdlog::info("input {}: closed connection from {}: idle for {} ms ({} idle closes since last report)",
                   shared_->name, sender_, shared_->idle_timeout.count(), report);
    }
    // Replies still queued stay unsent: a client idle for this long is not reading them.
    if (!finishing_) FlushDecoder();
    Close();
  }

  // End of input: hands on what is left, then closes once the replies are written (at
  // once when stopping or called a second time, e.g. by the idle timer).
  void Finish() {
    if (!finishing_) {
      FlushDecoder();
      StartWrite();
      if (writing_ && !shared_->Stopping()) {
        finishing_ = true;
        return;
      }
    }
    Close();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    boost::system::error_code ignored;
    Lowest().shutdown(Socket::shutdown_both, ignored);
    Lowest().close(ignored);
    std::shared_ptr<SessionBase> self = shared_from_this();
    std::lock_guard lock(shared_->mu);
    shared_->sessions.erase(self);
  }

  Stream stream_;
  asio::steady_timer timer_;
  Clock::time_point last_activity_{};
  std::unique_ptr<char[]> tls_buffer_;  // TLS only, allocated after the handshake
  std::string in_flight_;               // replies being written
  bool writing_ = false;
  bool read_paused_ = false;  // too many replies queued: not reading
  bool finishing_ = false;    // input ended; closing once the replies are written
  bool closed_ = false;
};

std::string UnixPeer(int fd) {
  struct ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) return "unix:pid=" + std::to_string(cred.pid);
  return "unix";
}

}  // namespace

class SyslogStreamListener::Impl {
 public:
  virtual ~Impl() = default;
  virtual void Start() = 0;
  virtual void Stop() = 0;
  virtual std::string address() const = 0;

  Options options;
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
};

namespace {

template <class Protocol, bool kTls>
class AcceptorImpl final : public SyslogStreamListener::Impl {
 public:
  using Socket = typename Protocol::socket;

  // The acceptor and its retry timer live on one strand: Start() and Stop() may race.
  explicit AcceptorImpl(asio::io_context& io)
      : io_(io), acceptor_(asio::make_strand(io)), retry_(acceptor_.get_executor()) {}
  ~AcceptorImpl() override { RemoveSocketFile(); }

  Status Open(const typename Protocol::endpoint& endpoint, const std::string& shown) {
    auto fail = [&](const boost::system::error_code& ec, std::string_view what) -> Status {
      return Status::IoError("input " + options.name + ": cannot " + std::string(what) + " " + shown + ": " +
                             ec.message());
    };
    boost::system::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (ec) return fail(ec, "open socket for");
    if constexpr (std::is_same_v<Protocol, tcp>) {
      acceptor_.set_option(typename Protocol::acceptor::reuse_address(true), ec);
      if (ec) return fail(ec, "set SO_REUSEADDR on");
    }
    acceptor_.bind(endpoint, ec);
    if (ec) return fail(ec, "bind");
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail(ec, "listen on");
    local_endpoint_ = acceptor_.local_endpoint(ec);
    if (ec) return fail(ec, "read the address of");
    return Status::Ok();
  }

  typename Protocol::endpoint local_endpoint() const { return local_endpoint_; }
  ssl::context* tls_context = nullptr;  // kTls; owned below
  std::unique_ptr<ssl::context> owned_context;
  std::string socket_file;  // Unix: removed at Stop()

  void Start() override {
    asio::post(acceptor_.get_executor(), [this] { Accept(); });
  }

  void Stop() override {
    asio::post(acceptor_.get_executor(), [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      retry_.cancel();
    });
    RemoveSocketFile();
    std::set<std::shared_ptr<SessionBase>> sessions;
    {
      std::lock_guard lock(shared->mu);
      shared->stopping.store(true, std::memory_order_release);
      sessions = shared->sessions;
    }
    for (const auto& s : sessions) s->Drain();
  }

  std::string address() const override {
    if constexpr (std::is_same_v<Protocol, tcp>) {
      return FormatEndpoint(local_endpoint_);
    } else {
      return options.unix_path;
    }
  }

 private:
  void RemoveSocketFile() {
    std::string path;
    {
      std::lock_guard lock(file_mu_);
      path.swap(socket_file);
    }
    if (!path.empty()) ::unlink(path.c_str());
  }

  void Accept() {
    if (!acceptor_.is_open()) return;  // stopped
    acceptor_.async_accept(asio::make_strand(io_), [this](boost::system::error_code ec, Socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (ec) {
        // Out of descriptors and the like: the peer sees a closed socket; retry shortly
        // rather than spin.
        if (uint64_t report = shared->Record(shared->accept_log); report > 0) {
          spdlog::warn("input {}: accept failed: {} ({} failures since last report)", options.name, ec.message(),
                       report);
        }
        retry_.expires_after(kAcceptRetry);
        retry_.async_wait([this](boost::system::error_code tec) {
          if (!tec) Accept();
        });
        return;
      }
      OnAccepted(std::move(socket));
      Accept();
    });
  }

  void OnAccepted(Socket socket) {
    std::shared_ptr<SessionBase> session;
    {
      std::lock_guard lock(shared->mu);
      if (shared->stopping) return;
      if (shared->sessions.size() >= shared->max_connections) {
        shared->rejected.fetch_add(1, std::memory_order_relaxed);
      } else {
        std::string sender;
        if constexpr (std::is_same_v<Protocol, tcp>) {
          boost::system::error_code ec;
          tcp::endpoint peer = socket.remote_endpoint(ec);
          sender = ec ? "unknown" : FormatEndpoint(peer);
        } else {
          sender = UnixPeer(socket.native_handle());
        }
        if constexpr (kTls) {
          session = std::make_shared<StreamSession<Socket, true>>(std::move(socket), *tls_context, shared,
                                                                  std::move(sender));
        } else {
          session = std::make_shared<StreamSession<Socket, false>>(std::move(socket), shared, std::move(sender));
        }
        shared->sessions.insert(session);
        shared->accepted.fetch_add(1, std::memory_order_relaxed);
      }
    }
    if (session) {
      session->Start();
    } else {
      boost::system::error_code ignored;
      socket.close(ignored);
    }
  }

  asio::io_context& io_;
  typename Protocol::acceptor acceptor_;
  asio::steady_timer retry_;
  typename Protocol::endpoint local_endpoint_;
  std::mutex file_mu_;
};

Status LoadTls(const SyslogStreamListener::Options& o, ssl::context& ctx) {
  auto fail = [&](const std::string& what, const boost::system::error_code& ec) {
    return Status::IoError("input " + o.name + ": " + what + ": " + ec.message());
  };
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx.use_certificate_chain_file(o.tls.cert_file, ec);
  if (ec) return fail("cannot load certificate chain " + o.tls.cert_file, ec);
  ctx.use_private_key_file(o.tls.key_file, ssl::context::pem, ec);
  if (ec) return fail("cannot load private key " + o.tls.key_file, ec);
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    return Status::IoError("input " + o.name + ": private key " + o.tls.key_file + " does not match certificate " +
                           o.tls.cert_file);
  }
  if (!o.tls.ca_file.empty()) {
    ctx.load_verify_file(o.tls.ca_file, ec);
    if (ec) return fail("cannot load CA file " + o.tls.ca_file, ec);
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.tls.ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(ctx.native_handle(), names);
    }
    ctx.set_verify_mode(o.tls.require_client_cert ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert
                                                  : ssl::verify_peer);
  } else {
    ctx.set_verify_mode(ssl::verify_none);
  }
  return Status::Ok();
}

// A socket file at `path` that nobody accepts on is stale: remove it. Anything else there
// is an error.
Status PrepareUnixPath(const std::string& name, const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Status::IoError("input " + name + ": cannot stat " + path + ": " + std::strerror(errno));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return Status::IoError("input " + name + ": " + path + " exists and is not a socket; remove it or change path");
  }
  asio::io_context probe_io;
  UnixStream::socket probe(probe_io);
  boost::system::error_code ec;
  probe.connect(UnixStream::endpoint(path), ec);
  if (!ec) return Status::IoError("input " + name + ": " + path + " is in use by another process");
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Status::IoError("input " + name + ": cannot remove stale socket " + path + ": " + std::strerror(errno));
  }
  spdlog::info("input {}: removed stale socket {}", name, path);
  return Status::Ok();
}

}  // namespace

SyslogStreamListener::SyslogStreamListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SyslogStreamListener::~SyslogStreamListener() = default;

Result<std::unique_ptr<SyslogStreamListener>> SyslogStreamListener::Create(asio::io_context& io, Options options,
                                                                          EventHandler handler,
                                                                          EventBatchHandler batch_handler,
                                                                          InputIdleHandler idle_handler) {
  std::unique_ptr<Impl> impl;
  tcp::endpoint bound;
  const std::string name = options.name;
  switch (options.transport) {
    case Transport::kTcp: {
      auto a = std::make_unique<AcceptorImpl<tcp, false>>(io);
      a->options = options;
      if (Status s = a->Open(options.endpoint, FormatEndpoint(options.endpoint)); !s.ok()) return s;
      bound = a->local_endpoint();
      impl = std::move(a);
      break;
    }
    case Transport::kTls: {
      auto a = std::make_unique<AcceptorImpl<tcp, true>>(io);
      a->options = options;
      a->owned_context = std::make_unique<ssl::context>(ssl::context::tls_server);
      if (Status s = LoadTls(options, *a->owned_context); !s.ok()) return s;
      a->tls_context = a->owned_context.get();
      if (Status s = a->Open(options.endpoint, FormatEndpoint(options.endpoint)); !s.ok()) return s;
      bound = a->local_endpoint();
      impl = std::move(a);
      break;
    }
    case Transport::kUnix: {
      if (options.unix_path.empty()) return Status::InvalidArgument("input " + name + ": no socket path");
      if (Status s = PrepareUnixPath(name, options.unix_path); !s.ok()) return s;
      auto a = std::make_unique<AcceptorImpl<UnixStream, false>>(io);
      a->options = options;
      if (Status s = a->Open(UnixStream::endpoint(options.unix_path), options.unix_path); !s.ok()) return s;
      a->socket_file = options.unix_path;
      if (::chmod(options.unix_path.c_str(), options.unix_mode) != 0) {
        return Status::IoError("input " + name + ": cannot chmod " + options.unix_path + ": " + std::strerror(errno));
      }
      impl = std::move(a);
      break;
    }
  }
  impl->shared->name = name;
  impl->shared->handler = std::move(handler);
  impl->shared->batch_handler = std::move(batch_handler);
  impl->shared->idle_handler = std::move(idle_handler);
  impl->shared->max_message_bytes = std::max<size_t>(1, options.max_message_bytes);
  impl->shared->max_connections = options.max_connections;
  impl->shared->idle_timeout = options.idle_timeout;
  impl->shared->reply_back = options.reply_back;
  impl->shared->reply_max_pending_bytes = std::max<size_t>(1, options.reply_max_pending_bytes);
  std::unique_ptr<SyslogStreamListener> listener(new SyslogStreamListener(std::move(impl)));
  listener->local_endpoint_ = bound;
  return listener;
}

const std::string& SyslogStreamListener::name() const { return impl_->options.name; }
std::string_view SyslogStreamListener::protocol() const { return TransportName(impl_->options.transport); }
std::string SyslogStreamListener::address() const { return impl_->address(); }
void SyslogStreamListener::Start() { impl_->Start(); }
void SyslogStreamListener::Stop() { impl_->Stop(); }

IngestStats SyslogStreamListener::stats() const {
  const Shared& sh = *impl_->shared;
  IngestStats s;
  s.connections_accepted = sh.accepted.load(std::memory_order_relaxed);
  s.connections_rejected = sh.rejected.load(std::memory_order_relaxed);
  s.idle_closed = sh.idle_closed.load(std::memory_order_relaxed);
  s.tls_handshake_failures = sh.tls_failures.load(std::memory_order_relaxed);
  s.messages = sh.messages.load(std::memory_order_relaxed);
  s.bytes = sh.bytes.load(std::memory_order_relaxed);
  s.non_utf8 = sh.non_utf8.load(std::memory_order_relaxed);
  s.oversized = sh.oversized.load(std::memory_order_relaxed);
  s.bad_octet_count = sh.bad_octet_count.load(std::memory_order_relaxed);
  s.incomplete_at_close = sh.incomplete_at_close.load(std::memory_order_relaxed);
  s.frame_errors = s.oversized + s.bad_octet_count + s.incomplete_at_close;
  s.replyback_connections = sh.replyback_connections.load(std::memory_order_relaxed);
  s.replies_sent = sh.replies_sent.load(std::memory_order_relaxed);
  s.finished_sent = sh.finished_sent.load(std::memory_order_relaxed);
  s.pings = sh.pings.load(std::memory_order_relaxed);
  s.reply_stalls = sh.reply_stalls.load(std::memory_order_relaxed);
  std::lock_guard lock(impl_->shared->mu);
  s.connections_open = impl_->shared->sessions.size();
  return s;
}

}  // namespace iocd
