// LineReceiver: a TCP listener on 127.0.0.1 (port chosen by the kernel) standing in for a
// SIEM: it accepts connections one after another and keeps every LF-terminated line.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace iocd::testing {

class LineReceiver {
 public:
  LineReceiver();
  ~LineReceiver();

  int port() const { return port_; }
  // Waits until some received line satisfies `pred`; returns every line received so far, or
  // an empty vector on timeout (a hang guard, not a synchronisation).
  std::vector<std::string> WaitFor(const std::function<bool(const std::string&)>& pred,
                                   std::chrono::seconds timeout = std::chrono::seconds(30));
  // Waits until at least n lines have arrived; false on timeout (a hang guard).
  bool WaitForCount(size_t n, std::chrono::seconds timeout = std::chrono::seconds(30));
  size_t count();
  std::vector<std::string> lines();
  // Forgets the lines received so far.
  void Clear();

 private:
  void Loop();

  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
};

}  // namespace iocd::testing
