#include "harness/line_receiver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace iocd::testing {

LineReceiver::LineReceiver() {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  listen(listen_fd_, 16);
  socklen_t len = sizeof(addr);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  pipe2(wake_, O_CLOEXEC);
  thread_ = std::thread([this] { Loop(); });
}

LineReceiver::~LineReceiver() {
  char c = 'x';
  (void)!write(wake_[1], &c, 1);
  thread_.join();
  close(listen_fd_);
  close(wake_[0]);
  close(wake_[1]);
}

void LineReceiver::Loop() {
  std::vector<int> conns;
  std::vector<std::string> partial;
  for (;;) {
    std::vector<pollfd> fds = {{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (int c : conns) fds.push_back({c, POLLIN, 0});
    if (poll(fds.data(), fds.size(), -1) < 0) continue;
    if (fds[0].revents != 0) break;
    // Only the connections that were polled have an entry in fds; one accepted now is
    // polled from the next round on.
    size_t polled = conns.size();
    if (fds[1].revents != 0) {
      int c = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) {
        conns.push_back(c);
        partial.emplace_back();
      }
    }
    for (size_t i = 0; i < polled;) {
      if (fds[i + 2].revents == 0) {
        ++i;
        continue;
      }
      char buf[65536];
      ssize_t n = read(conns[i], buf, sizeof(buf));
      if (n <= 0) {
        close(conns[i]);
        conns.erase(conns.begin() + i);
        partial.erase(partial.begin() + i);
        fds.erase(fds.begin() + i + 2);
        --polled;
        continue;
      }
      partial[i].append(buf, n);
      size_t nl;
      std::lock_guard lock(mu_);
      while ((nl = partial[i].find('\n')) != std::string::npos) {
        lines_.push_back(partial[i].substr(0, nl));
        partial[i].erase(0, nl + 1);
      }
      cv_.notify_all();
      ++i;
    }
  }
  for (int c : conns) close(c);
}

std::vector<std::string> LineReceiver::WaitFor(const std::function<bool(const std::string&)>& pred,
                                               std::chrono::seconds timeout) {
  std::unique_lock lock(mu_);
  bool ok = cv_.wait_for(lock, timeout, [&] { return std::any_of(lines_.begin(), lines_.end(), pred); });
  return ok ? lines_ : std::vector<std::string>{};
}

bool LineReceiver::WaitForCount(size_t n, std::chrono::seconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return lines_.size() >= n; });
}

size_t LineReceiver::count() {
  std::lock_guard lock(mu_);
  return lines_.size();
}

std::vector<std::string> LineReceiver::lines() {
  std::lock_guard lock(mu_);
  return lines_;
}

void LineReceiver::Clear() {
  std::lock_guard lock(mu_);
  lines_.clear();
}

}  // namespace iocd::testing
