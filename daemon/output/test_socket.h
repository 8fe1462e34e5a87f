// Test-only helpers for the output tests: a listening socket on 127.0.0.1 standing in for
// the SIEM, and an accepted connection read as LF-terminated lines or raw bytes. Every read
// takes a deadline that only guards against a hang: it returns as soon as the awaited data
// is there (or the peer closes), never by sleeping. Not thread-safe; one test thread each.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace iocd::output_test {

using Clock = std::chrono::steady_clock;

// Milliseconds until `deadline`, 0 once it has passed (for poll()).
inline int RemainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// A socket bound to 127.0.0.1:`port` (0 = any free port); listening when `type` is
// SOCK_STREAM. ok() is false when bind or listen failed (e.g. the port was taken).
class TestListener {
 public:
  explicit TestListener(int type = SOCK_STREAM, uint16_t port = 0) {
    fd_ = ::socket(AF_INET, type, 0);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        (type == SOCK_STREAM && ::listen(fd_, 16) != 0)) {
      Close();
      return;
    }
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~TestListener() { Close(); }
  TestListener(const TestListener&) = delete;
  TestListener& operator=(const TestListener&) = delete;

  bool ok() const { return fd_ >= 0; }
  uint16_t port() const { return port_; }
  int fd() const { return fd_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // The next connection's descriptor, or -1 if none arrived by `deadline`.
  int Accept(Clock::time_point deadline) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, RemainingMs(deadline)) != 1) return -1;
    return ::accept(fd_, nullptr, nullptr);
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// One accepted connection (owns the descriptor).
class TestConnection {
 public:
  explicit TestConnection(int fd) : fd_(fd) {}
  ~TestConnection() { Close(); }
  TestConnection(const TestConnection&) = delete;
  TestConnection& operator=(const TestConnection&) = delete;

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Reads until `n` complete lines have arrived (returned without their LF), the peer
  // closes, or `deadline` passes; returns the lines read so far.
  std::vector<std::string> ReadLines(size_t n, Clock::time_point deadline) {
    std::vector<std::string> lines;
    while (lines.size() < n) {
      const size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        lines.push_back(buf_.substr(0, nl));
        buf_.erase(0, nl + 1);
        continue;
      }
      if (!Fill(deadline)) break;
    }
    return lines;
  }

  // Reads until at least `n` bytes are buffered, the peer closes, or `deadline` passes;
  // returns everything buffered (not consumed).
  std::string ReadBytes(size_t n, Clock::time_point deadline) {
    while (buf_.size() < n && Fill(deadline)) {
    }
    return buf_;
  }

  // Reads until the peer closes (true) or `deadline` passes (false); `rest` gets what
  // arrived after the lines already returned.
  bool ReadToEof(Clock::time_point deadline, std::string* rest) {
    while (Fill(deadline)) {
    }
    *rest = buf_;
    return eof_;
  }

 private:
  // Appends one recv() to buf_; false on timeout, error or end of stream.
  bool Fill(Clock::time_point deadline) {
    if (eof_) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, RemainingMs(deadline)) != 1) return false;
    char chunk[65536];
    const ssize_t got = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (got <= 0) {
      eof_ = true;
      return false;
    }
    buf_.append(chunk, static_cast<size_t>(got));
    return true;
  }

  int fd_;
  std::string buf_;
  bool eof_ = false;
};

}  // namespace iocd::output_test
