// LogLimiter: decides when a repeating failure is worth a log line.
//
// The first event is logged; after that at most one line per `interval`, carrying the count
// of events since the previous line. Pure (time is passed in), not thread-safe: each user
// owns one and calls it from one thread or under its own lock.
#pragma once

#include <chrono>
#include <cstdint>

namespace iocd {

class LogLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LogLimiter(Clock::duration interval) : interval_(interval) {}

  // Records one event at `now`. Returns how many events the caller should report in a log
  // line now (this one and those suppressed since the last line), or 0 to stay silent.
  uint64_t Record(Clock::time_point now) {
    ++pending_;
    if (logged_once_ && now - last_logged_ < interval_) return 0;
    logged_once_ = true;
    last_logged_ = now;
    const uint64_t n = pending_;
    pending_ = 0;
    return n;
  }

  // Events recorded but not yet reported; the next Record() starts from a clean slate if
  // Reset() is called (e.g. after the failure cleared).
  uint64_t suppressed() const { return pending_; }
  void Reset() {
    logged_once_ = false;
    pending_ = 0;
  }

 private:
  Clock::duration interval_;
  Clock::time_point last_logged_{};
  bool logged_once_ = false;
  uint64_t pending_ = 0;
};

}  // namespace iocd
