#include "ingest/syslog_udp_listener.h"

#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "common/log_limiter.h"
#include "ingest/utf8.h"

namespace iocd {

namespace asio = boost::asio;
using asio::ip::udp;

namespace {

constexpr int kBatch = 64;  // datagrams per wake-up before yielding the thread

std::string FormatEndpoint(const udp::endpoint& ep) {
  std::string host = ep.address().to_string();
  if (ep.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

std::string FormatSockaddr(const sockaddr_storage& ss) {
  udp::endpoint ep;
  if (ss.ss_family == AF_INET) {
    std::memcpy(ep.data(), &ss, sizeof(sockaddr_in));
  } else if (ss.ss_family == AF_INET6) {
    std::memcpy(ep.data(), &ss, sizeof(sockaddr_in6));
  } else {
    return "unknown";
  }
  return FormatEndpoint(ep);
}

}  // namespace

// Lives as long as a receive is pending, so Stop() may return before the work is done.
struct SyslogUdpListener::State : std::enable_shared_from_this<SyslogUdpListener::State> {
  explicit State(asio::io_context& io) : socket(asio::make_strand(io)) {}

  std::string name;
  size_t max_message_bytes = 0;
  EventHandler handler;
  udp::socket socket;
  std::unique_ptr<char[]> buffer{new char[kMaxDatagramBytes + 1]};
  bool stopping = false;  // on the strand

  std::atomic<uint64_t> datagrams{0};
  std::atomic<uint64_t> messages{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> non_utf8{0};
  std::atomic<uint64_t> oversized{0};
  std::atomic<uint64_t> dropped{0};
  LogLimiter oversize_log{std::chrono::seconds(10)};
  LogLimiter error_log{std::chrono::seconds(10)};

  void Wait() {
    socket.async_wait(udp::socket::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
      // Stop() drains and closes the socket itself.
      if (ec || self->stopping) return;
      self->ReceiveQueued(kBatch);
      self->Wait();
    });
  }

  // Receives up to `limit` datagrams (-1: all) without blocking.
  void ReceiveQueued(int limit) {
    for (int i = 0; limit < 0 || i < limit; ++i) {
      if (!ReceiveOne()) return;
    }
  }

  // False when nothing more is queued (or the socket failed).
  bool ReceiveOne() {
    sockaddr_storage from{};
    iovec iov{buffer.get(), kMaxDatagramBytes + 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(uint32_t))];
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof(from);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n = ::recvmsg(socket.native_handle(), &msg, MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EBADF) return false;
      if (errno == EINTR) return true;
      if (uint64_t report = error_log.Record(LogLimiter::Clock::now()); report > 0) {
        spdlog::warn("input {}: receive failed: {} ({} failures since last report)", name, std::strerror(errno),
                     report);
      }
      return errno != ENOTSOCK;
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
        uint32_t total;
        std::memcpy(&total, CMSG_DATA(c), sizeof(total));
        // The kernel's counter is cumulative; keep the largest value seen.
        uint64_t prev = dropped.load(std::memory_order_relaxed);
        if (total > prev) dropped.store(total, std::memory_order_relaxed);
      }
    }
    datagrams.fetch_add(1, std::memory_order_relaxed);
    const size_t size = static_cast<size_t>(n);
    bytes.fetch_add(size, std::memory_order_relaxed);
    const std::string sender = FormatSockaddr(from);
    if ((msg.msg_flags & MSG_TRUNC) || size > max_message_bytes) {
      oversized.fetch_add(1, std::memory_order_relaxed);
      if (uint64_t report = oversize_log.Record(LogLimiter::Clock::now()); report > 0) {
        spdlog::warn("input {}: datagram of {} bytes from {} discarded: exceeds {} bytes ({} since last report)", name,
                     size, sender, max_message_bytes, report);
      }
      return true;
    }
    std::string_view message(buffer.get(), size);
    while (!message.empty() && (message.back() == '\n' || message.back() == '\0')) {
      message.remove_suffix(1);
      if (!message.empty() && message.back() == '\r') message.remove_suffix(1);
    }
    if (message.empty()) return true;
    messages.fetch_add(1, std::memory_order_relaxed);
    if (!IsValidUtf8(message)) non_utf8.fetch_add(1, std::memory_order_relaxed);
    handler(ReceivedEvent{name, sender, message});
    return true;
  }
};

SyslogUdpListener::SyslogUdpListener(asio::io_context& io, Options options)
    : options_(std::move(options)), state_(std::make_shared<State>(io)) {}

SyslogUdpListener::~SyslogUdpListener() = default;

Result<std::unique_ptr<SyslogUdpListener>> SyslogUdpListener::Create(asio::io_context& io, Options options,
                                                                    EventHandler handler) {
  std::unique_ptr<SyslogUdpListener> listener(new SyslogUdpListener(io, std::move(options)));
  State& st = *listener->state_;
  st.name = listener->options_.name;
  st.max_message_bytes = std::clamp<size_t>(listener->options_.max_message_bytes, 1, kMaxDatagramBytes);
  st.handler = std::move(handler);
  const udp::endpoint& ep = listener->options_.endpoint;
  auto fail = [&](const std::string& what, const std::string& reason) -> Status {
    return Status::IoError("input " + st.name + ": cannot " + what + " " + FormatEndpoint(ep) + ": " + reason);
  };
  boost::system::error_code ec;
  st.socket.open(ep.protocol(), ec);
  if (ec) return fail("open socket for", ec.message());
  if (listener->options_.receive_buffer_bytes > 0) {
    st.socket.set_option(asio::socket_base::receive_buffer_size(listener->options_.receive_buffer_bytes), ec);
    if (ec) return fail("set SO_RCVBUF on", ec.message());
  }
  int on = 1;
  if (::setsockopt(st.socket.native_handle(), SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on)) != 0) {
    return fail("enable drop counting (SO_RXQ_OVFL) on", std::strerror(errno));
  }
  st.socket.bind(ep, ec);
  if (ec) return fail("bind", ec.message());
  listener->local_endpoint_ = st.socket.local_endpoint(ec);
  if (ec) return fail("read the address of", ec.message());
  return listener;
}

std::string SyslogUdpListener::address() const { return FormatEndpoint(local_endpoint_); }

void SyslogUdpListener::Start() {
  asio::post(state_->socket.get_executor(), [st = state_] { st->Wait(); });
}

void SyslogUdpListener::Stop() {
  asio::post(state_->socket.get_executor(), [st = state_] {
    if (st->stopping) return;
    st->stopping = true;
    st->ReceiveQueued(/*limit=*/-1);
    boost::system::error_code ignored;
    st->socket.close(ignored);
  });
}

IngestStats SyslogUdpListener::stats() const {
  const State& st = *state_;
  IngestStats s;
  s.messages = st.messages.load(std::memory_order_relaxed);
  s.bytes = st.bytes.load(std::memory_order_relaxed);
  s.non_utf8 = st.non_utf8.load(std::memory_order_relaxed);
  s.oversized = st.oversized.load(std::memory_order_relaxed);
  s.frame_errors = s.oversized;
  s.datagrams_dropped = st.dropped.load(std::memory_order_relaxed);
  return s;
}

}  // namespace iocd
