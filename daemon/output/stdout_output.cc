#include "output/stdout_output.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

#include "common/log_limiter.h"
#include "output/hit_json.h"

namespace iocd {
namespace {

// Writes all of `data` to `fd`, retrying on EINTR, partial writes and (for a descriptor a
// parent left non-blocking) EAGAIN. Returns 0 or the errno of the failure.
int WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n >= 0) {
      data += n;
      size -= static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, -1) < 0 && errno != EINTR) return errno;
      continue;
    }
    return errno;
  }
  return 0;
}

class FdHitOutput final : public HitOutput {
 public:
  FdHitOutput(std::string name, int fd) : name_(std::move(name)), fd_(fd) {}

  const std::string& name() const override { return name_; }

  void Submit(std::shared_ptr<const iocd::hit::Hit> hit) override {
    submitted_.fetch_add(1, std::memory_order_relaxed);
    std::string line = FormatHitJson(*hit);
    line.push_back('\n');
    std::lock_guard lock(mu_);
    if (shut_down_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const int err = WriteAll(fd_, line.data(), line.size());
    if (err == 0) {
      delivered_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    dropped_.fetch_add(1, std::memory_order_relaxed);
    if (const uint64_t n = write_errors_.Record(LogLimiter::Clock::now()); n > 0) {
      spdlog::error(
          "output {}: writing a hit to fd {} failed: {} ({} hit(s) dropped since "
          "the last report)",
          name_, fd_, std::strerror(err), n);
    }
  }

  void Shutdown(std::chrono::steady_clock::time_point /*deadline*/) override {
    // Writes are synchronous: nothing is queued, so there is nothing to flush.
    std::lock_guard lock(mu_);
    shut_down_ = true;
  }

  OutputStats stats() const override {
    OutputStats s;
    s.submitted = submitted_.load(std::memory_order_relaxed);
    s.delivered = delivered_.load(std::memory_order_relaxed);
    s.dropped = dropped_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  const std::string name_;
  const int fd_;
  std::mutex mu_;                                      // serialises writes so lines stay whole
  bool shut_down_ = false;                             // guarded by mu_
  LogLimiter write_errors_{std::chrono::seconds(30)};  // guarded by mu_
  std::atomic<uint64_t> submitted_{0}, delivered_{0}, dropped_{0};
};

}  // namespace

std::unique_ptr<HitOutput> NewFdHitOutput(std::string name, int fd) {
  return std::make_unique<FdHitOutput>(std::move(name), fd);
}

}  // namespace iocd
