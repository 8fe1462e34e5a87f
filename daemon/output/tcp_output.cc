#include "output/tcp_output.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <charconv>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "common/log_limiter.h"
#include "output/hit_json.h"

namespace iocd {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using HitPtr = std::shared_ptr<const iocd::hit::Hit>;

long long Millis(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

class TcpHitOutput final : public HitOutput {
 public:
  explicit TcpHitOutput(TcpOutputOptions options)
      : opts_(std::move(options)),
        target_(opts_.host.find(':') == std::string::npos ? opts_.host + ":" + opts_.port
                                                          : "[" + opts_.host + "]:" + opts_.port),
        work_(asio::make_work_guard(io_)),
        resolver_(io_),
        socket_(io_),
        backoff_timer_(io_),
        deadline_timer_(io_),
        backoff_(opts_.backoff_base),
        problem_log_(opts_.log_interval),
        connected_log_(opts_.log_interval) {
    if (opts_.queue_size == 0) opts_.queue_size = 1;
    if (opts_.max_batch_hits == 0) opts_.max_batch_hits = 1;
    asio::post(io_, [this] { StartConnect(); });
    thread_ = std::thread([this] { Run(); });
  }

  ~TcpHitOutput() override { Shutdown(Clock::now()); }

  const std::string& name() const override { return opts_.name; }

  void Submit(HitPtr hit) override {
    submitted_.fetch_add(1, std::memory_order_relaxed);
    HitPtr evicted;  // released after the lock: the last reference frees the hit
    bool wake = false;
    {
      std::lock_guard lock(mu_);
      if (!accepting_) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      if (queue_.size() >= opts_.queue_size) {
        evicted = std::move(queue_.front());
        queue_.pop_front();
        dropped_.fetch_add(1, std::memory_order_relaxed);
      }
      queue_.push_back(std::move(hit));
      wake = !wake_pending_;
      wake_pending_ = true;
    }
    if (wake) asio::post(io_, [this] { OnWake(); });
  }

  void Shutdown(Clock::time_point deadline) override {
    std::lock_guard shutdown_lock(shutdown_mu_);
    if (shut_down_) return;
    shut_down_ = true;
    {
      std::lock_guard lock(mu_);
      accepting_ = false;
    }
    asio::post(io_, [this, deadline] { BeginStop(deadline); });
    thread_.join();
    // The io thread is gone; its state is ours now.
    uint64_t left = inflight_.size();
    inflight_.clear();
    {
      std::lock_guard lock(mu_);
      left += queue_.size();
      queue_.clear();
    }
    if (left > 0) {
      dropped_.fetch_add(left, std::memory_order_relaxed);
      spdlog::warn("output {}: shut down with {} undelivered hit(s) to {}; they are dropped",
                   opts_.name, left, target_);
    }
  }

  OutputStats stats() const override {
    OutputStats s;
    s.submitted = submitted_.load(std::memory_order_relaxed);
    s.delivered = delivered_.load(std::memory_order_relaxed);
    s.dropped = dropped_.load(std::memory_order_relaxed);
    s.connect_failures = connect_failures_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  enum class State { kBackoff, kConnecting, kConnected };

  // Everything below runs on the io thread only.

  void Run() {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        // Handlers do not throw by design; keep the output alive if one does (bad_alloc).
        spdlog::error("output {}: unexpected exception in the io thread: {}", opts_.name, e.what());
      }
    }
  }

  void StartConnect() {
    state_ = State::kConnecting;
    resolver_.async_resolve(
        opts_.host, opts_.port, [this](const error_code& ec, tcp::resolver::results_type results) {
          if (finished_) return;
          if (ec) {
            OnConnectFailed("resolving", ec);
            return;
          }
          asio::async_connect(socket_, results,
                              [this](const error_code& cec, const tcp::endpoint& peer) {
                                if (finished_) return;
                                if (cec) {
                                  OnConnectFailed("connecting to", cec);
                                  return;
                                }
                                // Connecting to a local port nobody listens on can yield a
                                // connection to ourselves when the kernel picks that same
                                // port as our source port.
                                error_code lec;
                                if (socket_.local_endpoint(lec) == peer && !lec) {
                                  OnConnectFailed("connecting to", asio::error::connection_refused);
                                  return;
                                }
                                OnConnected(peer);
                              });
        });
  }

  void OnConnectFailed(const char* what, const error_code& ec) {
    connect_failures_.fetch_add(1, std::memory_order_relaxed);
    error_code ignored;
    socket_.close(ignored);
    const Clock::duration delay = backoff_;
    if (const uint64_t n = problem_log_.Record(Clock::now()); n > 0) {
      spdlog::warn(
          "output {}: {} {} failed: {}; retrying in {} ms ({} connection problem(s) since the "
          "last report; hits queue in memory meanwhile)",
          opts_.name, what, target_, ec.message(), Millis(delay), n);
    }
    ScheduleReconnect();
  }

  void ScheduleReconnect() {
    state_ = State::kBackoff;
    backoff_timer_.expires_after(backoff_);
    backoff_ = std::min(backoff_ * 2, opts_.backoff_cap);
    // Also runs, aborted, when BeginStop cancels the wait to retry at once.
    backoff_timer_.async_wait([this](const error_code&) {
      if (finished_ || state_ != State::kBackoff) return;
      StartConnect();
    });
  }

  void OnConnected(const tcp::endpoint& peer) {
    state_ = State::kConnected;
    error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);  // we batch ourselves
    socket_.set_option(asio::socket_base::keep_alive(true), ignored);
    if (connected_log_.Record(Clock::now()) > 0) {
      spdlog::info("output {}: connected to {} ({})", opts_.name, target_,
                   peer.address().to_string());
    }
    StartIdleRead();
    StartWrite();
  }

  // Receivers send nothing; a read completes only when the receiver closes or the connection
  // fails, which is how an idle broken connection is noticed.
  void StartIdleRead() {
    socket_.async_read_some(asio::buffer(read_buf_),
                            [this, gen = conn_gen_](const error_code& ec, size_t) {
                              if (finished_ || gen != conn_gen_) return;
                              if (ec) {
                                OnConnectionLost(ec);
                                return;
                              }
                              StartIdleRead();  // discard what the receiver sent
                            });
  }

  void OnConnectionLost(const error_code& ec) {
    if (state_ != State::kConnected) return;
    ++conn_gen_;
    error_code ignored;
    socket_.close(ignored);
    if (const uint64_t n = problem_log_.Record(Clock::now()); n > 0) {
      spdlog::warn(
          "output {}: connection to {} lost: {}; reconnecting in {} ms ({} connection "
          "problem(s) since the last report)",
          opts_.name, target_, ec == asio::error::eof ? "closed by the receiver" : ec.message(),
          Millis(backoff_), n);
    }
    ScheduleReconnect();
  }

  // True if the receiver has closed its end. Checked before each write: writing to a closed
  // peer succeeds locally and the data is lost, so a close must be seen before writing.
  bool PeerClosed() {
    char c;
    const ssize_t n = ::recv(socket_.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return true;
    return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  }

  void OnWake() {
    {
      std::lock_guard lock(mu_);
      wake_pending_ = false;
    }
    StartWrite();
  }

  void StartWrite() {
    if (finished_ || state_ != State::kConnected || writing_) return;
    write_buf_.clear();
    line_ends_.clear();
    while (inflight_.size() < opts_.max_batch_hits && write_buf_.size() < opts_.max_batch_bytes) {
      HitPtr hit;
      {
        std::lock_guard lock(mu_);
        if (queue_.empty()) break;
        hit = std::move(queue_.front());
        queue_.pop_front();
      }
      write_buf_ += FormatHitJson(*hit);
      write_buf_.push_back('\n');
      line_ends_.push_back(write_buf_.size());
      inflight_.push_back(std::move(hit));
    }
    if (inflight_.empty()) {
      if (stopping_) Finish();
      return;
    }
    if (PeerClosed()) {
      RequeueInflight(0);
      OnConnectionLost(asio::error::eof);
      return;
    }
    writing_ = true;
    asio::async_write(socket_, asio::buffer(write_buf_),
                      [this, gen = conn_gen_](const error_code& ec, size_t written) {
                        OnWriteDone(gen, ec, written);
                      });
  }

  void OnWriteDone(uint64_t gen, const error_code& ec, size_t written) {
    writing_ = false;
    if (finished_) return;
    const size_t done = static_cast<size_t>(
        std::upper_bound(line_ends_.begin(), line_ends_.end(), written) - line_ends_.begin());
    delivered_.fetch_add(done, std::memory_order_relaxed);
    if (!ec) {
      inflight_.clear();
      backoff_ = opts_.backoff_base;  // the connection works
      StartWrite();
      return;
    }
    RequeueInflight(done);
    if (gen == conn_gen_) {
      OnConnectionLost(ec);
    } else {
      StartWrite();  // the connection was already replaced; send on the new one
    }
  }

  // Puts inflight_[from..] back at the head of the queue, in order. The queue may now exceed
  // its bound; the oldest hits go, as on Submit.
  void RequeueInflight(size_t from) {
    std::vector<HitPtr> evicted;
    {
      std::lock_guard lock(mu_);
      for (size_t i = inflight_.size(); i > from; --i) {
        queue_.push_front(std::move(inflight_[i - 1]));
      }
      while (queue_.size() > opts_.queue_size) {
        evicted.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    dropped_.fetch_add(evicted.size(), std::memory_order_relaxed);
    inflight_.clear();
  }

  void BeginStop(Clock::time_point deadline) {
    stopping_ = true;
    deadline_timer_.expires_at(deadline);
    deadline_timer_.async_wait([this](const error_code&) {
      if (!finished_) Finish();
    });
    bool empty;
    {
      std::lock_guard lock(mu_);
      empty = queue_.empty();
    }
    if (empty && !writing_) {
      Finish();
    } else if (state_ == State::kConnected) {
      StartWrite();
    } else if (state_ == State::kBackoff) {
      backoff_timer_.cancel();  // one last attempt now rather than after the backoff
    }
  }

  void Finish() {
    finished_ = true;
    error_code ignored;
    if (state_ == State::kConnected) socket_.shutdown(tcp::socket::shutdown_send, ignored);
    socket_.close(ignored);
    resolver_.cancel();
    backoff_timer_.cancel();
    deadline_timer_.cancel();
    work_.reset();
    io_.stop();
  }

  TcpOutputOptions opts_;
  const std::string target_;  // "host:port" for logs

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  tcp::resolver resolver_;
  tcp::socket socket_;
  asio::steady_timer backoff_timer_;
  asio::steady_timer deadline_timer_;

  // Owned by the io thread (and by Shutdown() once the thread has joined).
  State state_ = State::kConnecting;
  uint64_t conn_gen_ = 0;  // bumped when a connection is lost; stale handlers compare it
  Clock::duration backoff_;
  bool writing_ = false;
  bool stopping_ = false;
  bool finished_ = false;
  std::vector<HitPtr> inflight_;   // hits in the write in progress, in order
  std::vector<size_t> line_ends_;  // offset just past each inflight_ line in write_buf_
  std::string write_buf_;
  std::array<char, 4096> read_buf_;
  LogLimiter problem_log_;    // connect failures and lost connections
  LogLimiter connected_log_;  // successful connects, so a flapping receiver cannot flood

  mutable std::mutex mu_;
  std::deque<HitPtr> queue_;   // guarded by mu_
  bool accepting_ = true;      // guarded by mu_
  bool wake_pending_ = false;  // guarded by mu_: an OnWake is posted and has not run

  std::mutex shutdown_mu_;
  bool shut_down_ = false;  // guarded by shutdown_mu_

  std::atomic<uint64_t> submitted_{0}, delivered_{0}, dropped_{0}, connect_failures_{0};

  std::thread thread_;  // last: starts after everything it uses exists
};

}  // namespace

std::unique_ptr<HitOutput> NewTcpHitOutput(TcpOutputOptions options) {
  return std::make_unique<TcpHitOutput>(std::move(options));
}

Status SplitHostPort(std::string_view address, std::string* host, std::string* port) {
  const std::string quoted = "\"" + std::string(address) + "\"";
  std::string_view h, p;
  if (!address.empty() && address.front() == '[') {
    const size_t close = address.find(']');
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("address " + quoted + ": '[' without ']'");
    }
    h = address.substr(1, close - 1);
    if (close + 1 >= address.size() || address[close + 1] != ':') {
      return Status::InvalidArgument("address " + quoted + ": expected ':port' after ']'");
    }
    p = address.substr(close + 2);
  } else {
    const size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) {
      return Status::InvalidArgument("address " + quoted + ": expected host:port");
    }
    h = address.substr(0, colon);
    p = address.substr(colon + 1);
    if (h.find(':') != std::string_view::npos) {
      return Status::InvalidArgument("address " + quoted +
                                     ": write an IPv6 address in brackets, [addr]:port");
    }
  }
  if (h.empty()) return Status::InvalidArgument("address " + quoted + ": host is empty");
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (p.empty() || ec != std::errc() || end != p.data() + p.size() || value == 0 || value > 65535) {
    return Status::InvalidArgument("address " + quoted + ": port must be a number 1..65535");
  }
  *host = std::string(h);
  *port = std::string(p);
  return Status::Ok();
}

}  // namespace iocd
