// RunLoad: the socket side of iocload (see iocload.h). Blocking sockets, one thread per
// group of sender connections and one poll() thread receiving hits.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <limits>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "control/control_client.h"
#include "iocload.h"

namespace iocd::iocload {
namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch()).count();
}

// A socket descriptor closed on destruction.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

std::string Errno(std::string_view what) { return fmt::format("{}: {}", what, std::strerror(errno)); }

// "IP:port" or "[IPv6]:port" (addresses only, no names).
Result<sockaddr_storage> ParseAddress(std::string_view text, socklen_t* len) {
  sockaddr_storage ss{};
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return Status::InvalidArgument(fmt::format("'{}' is not IP:port", text));
  std::string host(text.substr(0, colon));
  std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return Status::InvalidArgument(fmt::format("'{}': bad port", text));
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &a->sin6_addr) != 1) {
      return Status::InvalidArgument(fmt::format("'{}': bad IPv6 address", text));
    }
    *len = sizeof(sockaddr_in6);
    return ss;
  }
  auto* a = reinterpret_cast<sockaddr_in*>(&ss);
  a->sin_family = AF_INET;
  a->sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &a->sin_addr) != 1) {
    return Status::InvalidArgument(fmt::format("'{}': bad IPv4 address (give an address, not a name)", text));
  }
  *len = sizeof(sockaddr_in);
  return ss;
}

Result<Fd> Connect(const std::string& host, uint16_t port) {
  std::string target = host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                                            : fmt::format("{}:{}", host, port);
  socklen_t len = 0;
  auto addr = ParseAddress(target, &len);
  if (!addr.ok()) return addr.status();
  Fd fd(::socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return Status::IoError(Errno("socket"));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), len) != 0) {
    return Status::IoError(Errno(fmt::format("connect to {}", target)));
  }
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

Status WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError(Errno("send to iocd"));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// The hit receiver: accepts iocd's output connections and matches hit lines to stamps.
class HitReceiver {
 public:
  HitReceiver(int64_t run_start_ns, const std::vector<std::unique_ptr<std::atomic<uint64_t>>>* sent_per_conn)
      : run_start_ns_(run_start_ns), sent_per_conn_(sent_per_conn) {}

  Status Listen(const std::string& address) {
    socklen_t len = 0;
    auto addr = ParseAddress(address, &len);
    if (!addr.ok()) return addr.status();
    listener_ = Fd(::socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (listener_.get() < 0) return Status::IoError(Errno("socket"));
    int one = 1;
    ::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&*addr), len) != 0) {
      return Status::IoError(Errno(fmt::format("bind hit listener {}", address)));
    }
    if (::listen(listener_.get(), 16) != 0) return Status::IoError(Errno("listen"));
    sockaddr_storage bound{};
    socklen_t bound_len = sizeof bound;
    ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &bound_len);
    port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    return Status::Ok();
  }
  uint16_t port() const { return port_; }

  // Room for this many hit events without growing (allocating) while the run is timed.
  void Reserve(size_t events) {
    samples_.reserve(events);
    seen_.reserve(events);
  }

  void Start() { thread_ = std::thread([this] { Loop(); }); }
  void StopAndJoin() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

  // Waits until iocd's output has connected, at most `timeout`.
  bool WaitConnected(std::chrono::duration<double> timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return connected_; });
  }

  uint64_t hit_lines() const { return hit_lines_.load(std::memory_order_relaxed); }
  uint64_t hit_events() const { return hit_events_.load(std::memory_order_relaxed); }
  // Valid after StopAndJoin.
  uint64_t unstamped() const { return unstamped_; }
  // Samples with send_offset_ns holding the absolute send time (RunLoad rebases them).
  std::vector<LatencySample> TakeSamples() { return std::move(samples_); }

 private:
  struct Client {
    Fd fd;
    LineSplitter splitter;
  };

  void Loop() {
    std::vector<std::unique_ptr<Client>> clients;
    std::vector<pollfd> fds;
    char buf[1 << 16];
    while (!stop_.load()) {
      fds.clear();
      fds.push_back({listener_.get(), POLLIN, 0});
      for (auto& c : clients) fds.push_back({c->fd.get(), POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) {
          auto c = std::make_unique<Client>();
          c->fd = Fd(fd);
          clients.push_back(std::move(c));
          std::lock_guard lock(mu_);
          connected_ = true;
          cv_.notify_all();
        }
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        Client& c = *clients[i - 1];
        ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
        if (n > 0) {
          const int64_t now = NowNs();
          c.splitter.Feed({buf, static_cast<size_t>(n)}, [&](std::string_view line) { OnLine(line, now); });
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
          c.fd.Reset();  // iocd closed it (it reconnects with a new connection)
        }
      }
      std::erase_if(clients, [](const auto& c) { return c->fd.get() < 0; });
    }
  }

  void OnLine(std::string_view line, int64_t now_ns) {
    if (line.empty()) return;
    hit_lines_.fetch_add(1, std::memory_order_relaxed);
    std::optional<Stamp> s = FindStamp(line);
    // Only stamps of this run: a hit re-sent from an earlier run's unconfirmed tail has an
    // older send time.
    if (!s || s->send_ns < run_start_ns_ || s->conn >= sent_per_conn_->size() ||
        s->seq >= (*sent_per_conn_)[s->conn]->load(std::memory_order_acquire)) {
      ++unstamped_;
      return;
    }
    if (!seen_.insert((static_cast<uint64_t>(s->conn) << 40) | s->seq).second) return;  // a re-sent duplicate
    samples_.push_back({s->send_ns, now_ns - s->send_ns});
    hit_events_.fetch_add(1, std::memory_order_relaxed);
  }

  const int64_t run_start_ns_;
  const std::vector<std::unique_ptr<std::atomic<uint64_t>>>* sent_per_conn_;
  Fd listener_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool connected_ = false;
  std::atomic<uint64_t> hit_lines_{0}, hit_events_{0};
  uint64_t unstamped_ = 0;
  std::unordered_set<uint64_t> seen_;
  std::vector<LatencySample> samples_;
};

struct SenderResult {
  Status status = Status::Ok();
  uint64_t events = 0;
  uint64_t bytes = 0;
  uint64_t stamped = 0;
  uint64_t expected_hits = 0;
  int64_t last_write_ns = 0;
};

// Events per write when unpaced (about 20 KB of 300-byte events).
constexpr uint64_t kBatch = 64;

struct SenderPlan {
  std::vector<uint32_t> conn_ids;
  double rate = 0;            // this thread's share
  uint64_t max_events = 0;    // this thread's share; 0 = no limit
  size_t pool_offset = 0;
};

void RunSender(const SenderPlan& plan, const std::vector<Fd>& conns, const EventPool& pool, Framing framing,
               int64_t start_ns, int64_t end_ns, std::vector<std::unique_ptr<std::atomic<uint64_t>>>* sent_per_conn,
               SenderResult* result) {
  Pacer pacer(plan.rate, start_ns);
  std::string buf, event;
  size_t next_line = plan.pool_offset % pool.lines.size();
  size_t rr = 0;
  for (;;) {
    const int64_t now = NowNs();
    if (now >= end_ns) break;
    uint64_t budget = kBatch;
    if (!pacer.unpaced()) budget = std::min(budget, pacer.DueBy(now) - result->events);
    if (plan.max_events > 0) budget = std::min(budget, plan.max_events - result->events);
    if (plan.max_events > 0 && result->events >= plan.max_events) break;
    if (budget == 0) {
      const int64_t due = std::min(pacer.NextDueNs(result->events), end_ns);
      std::this_thread::sleep_for(std::chrono::nanoseconds(due - now));  // pacing, not synchronisation
      continue;
    }
    const uint32_t conn = plan.conn_ids[rr++ % plan.conn_ids.size()];
    std::atomic<uint64_t>& conn_seq = *(*sent_per_conn)[conn];
    uint64_t seq = conn_seq.load(std::memory_order_relaxed);
    buf.clear();
    for (uint64_t k = 0; k < budget; ++k) {
      const std::string& line = pool.lines[next_line];
      if (pool.may_hit[next_line]) {
        event.assign(line);
        AppendStamp({conn, seq, now}, &event);
        AppendFramed(framing, event, &buf);
        ++result->stamped;
        if (pool.hits_known) ++result->expected_hits;
      } else {
        AppendFramed(framing, line, &buf);
      }
      ++seq;
      if (++next_line == pool.lines.size()) next_line = 0;
    }
    // Published before the bytes leave, so the receiver never sees a stamp it cannot place.
    conn_seq.store(seq, std::memory_order_release);
    if (Status s = WriteAll(conns[conn].get(), buf); !s.ok()) {
      result->status = s;
      return;
    }
    result->events += budget;
    result->bytes += buf.size();
    result->last_write_ns = NowNs();
  }
}

// About how many distinct events will come back with hits (stamped events), plus a
// margin; capped so a long unpaced run does not reserve gigabytes up front.
size_t ExpectedHitEvents(const LoadOptions& options, const EventPool& pool) {
  const double share = static_cast<double>(pool.hit_lines) / static_cast<double>(pool.lines.size());
  double events = static_cast<double>(options.events);
  if (events == 0 && options.rate > 0) events = options.rate * options.duration_s;
  if (events == 0) events = 1e6 * std::max(options.duration_s, 1.0);  // unpaced: about 1M events/s at most
  return static_cast<size_t>(std::min(events * share * 1.1 + 1024, 2e6));
}

Result<DaemonCounters> ReadCounters(const std::string& socket) {
  auto body = ControlRequest(socket, "status", std::chrono::seconds(10));
  if (!body.ok()) return body.status();
  return ParseStatusCounters(*body);
}

// Hits iocd's outputs have not delivered yet (confirmed and acknowledged in its spool).
Result<uint64_t> ReadPendingHits(const std::string& socket) {
  auto body = ControlRequest(socket, "metrics", std::chrono::seconds(10));
  if (!body.ok()) return body.status();
  return SumMetric(*body, "iocd_output_hits_pending");
}

}  // namespace

Result<LoadReport> RunLoad(const LoadOptions& options, const EventPool& pool, std::ostream& log) {
  if (pool.lines.empty()) return Status::InvalidArgument("no events to send");
  if (options.connections == 0 || options.threads == 0) {
    return Status::InvalidArgument("connections and threads must be at least 1");
  }
  if (options.duration_s <= 0 && options.events == 0) return Status::InvalidArgument("give a duration or an event count");
  const uint32_t threads = std::min(options.threads, options.connections);
  LoadReport report;

  std::vector<std::unique_ptr<std::atomic<uint64_t>>> sent_per_conn;
  for (uint32_t i = 0; i < options.connections; ++i) sent_per_conn.push_back(std::make_unique<std::atomic<uint64_t>>(0));
  const int64_t run_start_ns = NowNs();

  std::unique_ptr<HitReceiver> receiver;
  if (options.receive_hits) {
    receiver = std::make_unique<HitReceiver>(run_start_ns, &sent_per_conn);
    if (Status s = receiver->Listen(options.hit_listen); !s.ok()) return s;
    if (options.on_hit_listening) options.on_hit_listening(receiver->port());
    receiver->Reserve(ExpectedHitEvents(options, pool));
    receiver->Start();
    if (options.hit_connect_timeout_s > 0) {
      log << "iocload: waiting for iocd's hit output to connect to port " << receiver->port() << "\n";
      if (!receiver->WaitConnected(std::chrono::duration<double>(options.hit_connect_timeout_s))) {
        receiver->StopAndJoin();
        return Status::Unavailable(fmt::format("no hit output connected to port {} within {} s", receiver->port(),
                                               options.hit_connect_timeout_s));
      }
    }
  }
  auto stop_receiver = [&] {
    if (receiver) receiver->StopAndJoin();
  };

  DaemonCounters before;
  if (!options.control_socket.empty()) {
    auto c = ReadCounters(options.control_socket);
    if (!c.ok()) {
      stop_receiver();
      return c.status();
    }
    before = *c;
    report.have_counters = true;
  }
  const bool await_confirmed = receiver && options.confirm_timeout_s > 0 && !options.control_socket.empty();
  if (receiver && !options.control_socket.empty()) {
    auto pending = ReadPendingHits(options.control_socket);
    if (!pending.ok()) {
      stop_receiver();
      return pending.status();
    }
    report.pending_at_start = *pending;
  }

  std::vector<Fd> conns;
  for (uint32_t i = 0; i < options.connections; ++i) {
    auto fd = Connect(options.host, options.port);
    if (!fd.ok()) {
      stop_receiver();
      return fd.status();
    }
    conns.push_back(std::move(fd).value());
  }

  std::vector<SenderPlan> plans(threads);
  for (uint32_t i = 0; i < options.connections; ++i) plans[i % threads].conn_ids.push_back(i);
  for (uint32_t t = 0; t < threads; ++t) {
    plans[t].rate = options.rate / threads;
    if (options.events > 0) plans[t].max_events = options.events / threads + (t < options.events % threads ? 1 : 0);
    plans[t].pool_offset = pool.lines.size() * t / threads;
  }
  const int64_t start_ns = NowNs();
  const int64_t end_ns = options.duration_s > 0 ? start_ns + static_cast<int64_t>(options.duration_s * 1e9)
                                                : std::numeric_limits<int64_t>::max();
  log << fmt::format("iocload: sending on {} connection(s) from {} thread(s), rate {}\n", options.connections, threads,
                     options.rate > 0 ? fmt::format("{:.0f}/s", options.rate) : std::string("unlimited"));
  std::vector<SenderResult> results(threads);
  std::vector<std::thread> senders;
  for (uint32_t t = 0; t < threads; ++t) {
    senders.emplace_back([&, t] {
      RunSender(plans[t], conns, pool, options.framing, start_ns, end_ns, &sent_per_conn, &results[t]);
    });
  }
  for (auto& t : senders) t.join();
  int64_t last_write_ns = start_ns;
  for (const auto& r : results) {
    if (!r.status.ok()) {
      stop_receiver();
      return r.status;
    }
    report.sent_events += r.events;
    report.sent_bytes += r.bytes;
    report.stamped_events += r.stamped;
    report.expected_hit_events += r.expected_hits;
    last_write_ns = std::max(last_write_ns, r.last_write_ns);
  }
  report.send_seconds = static_cast<double>(last_write_ns - start_ns) * 1e-9;
  report.sent_per_second = report.send_seconds > 0 ? static_cast<double>(report.sent_events) / report.send_seconds : 0;
  conns.clear();  // like a shipper that is done: iocd still processes what it has received

  // Drain: until iocd has processed every event and every hit it counted has arrived, or
  // nothing changed for drain_timeout_s.
  const int64_t drain_start = NowNs();
  int64_t last_change = drain_start;
  uint64_t last_events = 0, last_hits = 0;
  for (;;) {
    DaemonCounters delta;
    if (report.have_counters) {
      auto c = ReadCounters(options.control_socket);
      if (!c.ok()) {
        stop_receiver();
        return c.status();
      }
      delta = {c->events - before.events, c->observables - before.observables, c->hits - before.hits,
               c->suppressed - before.suppressed};
      report.daemon_delta = delta;
    }
    const uint64_t hits_in = receiver ? receiver->hit_lines() : 0;
    bool done = true;
    if (report.have_counters) {
      done = delta.events >= report.sent_events && (!receiver || hits_in >= delta.hits);
    } else if (receiver) {
      done = pool.hits_known && receiver->hit_events() >= report.expected_hit_events;
    }
    const int64_t now = NowNs();
    if (done) {
      report.drained = true;
      break;
    }
    if (delta.events != last_events || hits_in != last_hits) {
      last_events = delta.events;
      last_hits = hits_in;
      last_change = now;
    }
    if (static_cast<double>(now - last_change) * 1e-9 >= options.drain_timeout_s) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling iocd's counters
  }
  report.drain_seconds = static_cast<double>(NowNs() - drain_start) * 1e-9;
  if (await_confirmed && report.drained) {
    // Stay connected until iocd has confirmed every hit (see confirm_timeout_s), so the
    // next receiver does not start with them resent.
    const int64_t confirm_start = NowNs();
    for (;;) {
      auto pending = ReadPendingHits(options.control_socket);
      if (!pending.ok()) {
        stop_receiver();
        return pending.status();
      }
      if (*pending == 0) {
        report.confirmed = true;
        break;
      }
      if (static_cast<double>(NowNs() - confirm_start) * 1e-9 >= options.confirm_timeout_s) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling iocd's metrics
    }
    report.confirm_seconds = static_cast<double>(NowNs() - confirm_start) * 1e-9;
  }
  stop_receiver();
  if (receiver) {
    report.hit_lines = receiver->hit_lines();
    report.hit_events = receiver->hit_events();
    report.unstamped_hits = receiver->unstamped();
    std::vector<LatencySample> samples = receiver->TakeSamples();
    std::vector<int64_t> latencies;
    latencies.reserve(samples.size());
    for (LatencySample& s : samples) {
      s.send_offset_ns -= start_ns;
      latencies.push_back(s.latency_ns);
    }
    report.latency = Summarize(std::move(latencies));
    report.slowest = Slowest(samples, 5);
    if (options.keep_samples) report.samples = std::move(samples);
  }
  return report;
}

}  // namespace iocd::iocload
