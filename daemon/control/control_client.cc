#include "control/control_client.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace iocd {

namespace {

using Clock = std::chrono::steady_clock;

// Closes the descriptor on every return path.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string ConnectError(const std::string& path, int err) {
  std::string why;
  struct stat st;
  switch (err) {
    case ENOENT:
      why = "no such file (is iocd running with this state_dir?)";
      break;
    case ECONNREFUSED:
      if (::lstat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
        why = "not a socket";
      } else {
        why = "connection refused (iocd is not running; the socket file is stale)";
      }
      break;
    case EACCES:
    case EPERM:
      why = "permission denied (the socket is private to the user iocd runs as)";
      break;
    case EAGAIN:
    case EINPROGRESS:
      why = "timed out (iocd is not accepting connections)";
      break;
    default:
      why = std::strerror(err);
  }
  return "cannot connect to " + path + ": " + why;
}

// Sets SO_SNDTIMEO and SO_RCVTIMEO to what is left until `deadline`; false if nothing is.
bool SetTimeouts(int fd, Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now());
  if (left.count() <= 0) return false;
  timeval tv;
  tv.tv_sec = static_cast<time_t>(left.count() / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(left.count() % 1000000);
  return ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0 &&
         ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0;
}

}  // namespace

Result<ControlResponse> ControlExchange(const std::string& socket_path, std::string_view line,
                                        std::chrono::milliseconds timeout) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (line.find('\n') != std::string_view::npos) {
    return Status::InvalidArgument("a control request is one line");
  }
  if (socket_path.empty() || socket_path.size() >= sizeof(sockaddr_un::sun_path)) {
    return Status::IoError("cannot connect to " + socket_path + ": path empty or too long for a Unix socket (at most " +
                           std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes)");
  }
  const Clock::time_point deadline = Clock::now() + timeout;
  const std::string timed_out = socket_path + ": no complete response within " +
                                std::to_string(timeout.count()) + " ms";
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return Status::IoError("cannot create a socket: " + std::string(std::strerror(errno)));

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  if (!SetTimeouts(fd.get(), deadline)) return Status::IoError(ConnectError(socket_path, EAGAIN));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Status::IoError(ConnectError(socket_path, errno));
  }

  std::string request(line);
  request.push_back('\n');
  size_t sent = 0;
  while (sent < request.size()) {
    if (!SetTimeouts(fd.get(), deadline)) return Status::IoError(timed_out);
    ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Status::IoError(timed_out);
    // A server that answers without reading (busy) may have closed already; its answer is
    // still waiting to be read.
    if (n < 0) break;
    sent += static_cast<size_t>(n);
  }
  ::shutdown(fd.get(), SHUT_WR);

  std::string received;
  char buf[16384];
  for (;;) {
    if (!SetTimeouts(fd.get(), deadline)) return Status::IoError(timed_out);
    ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Status::IoError(timed_out);
    // ECONNRESET: the server closed with our request unread (it answered without needing
    // it); what it sent has been read, so it ends the response like end-of-file.
    if (n == 0 || (n < 0 && errno == ECONNRESET)) break;
    if (n < 0) return Status::IoError(socket_path + ": reading the response failed: " + std::strerror(errno));
    received.append(buf, static_cast<size_t>(n));
    if (received.size() > kMaxControlResponseBytes) {
      return Status::IoError(socket_path + ": response larger than " + std::to_string(kMaxControlResponseBytes) +
                             " bytes");
    }
  }
  Result<ControlResponse> response = ParseControlResponse(received);
  if (!response.ok()) return Status::IoError(socket_path + ": " + response.status().message());
  return response;
}

Result<std::string> ControlRequest(const std::string& socket_path, const std::string& line,
                                   std::chrono::seconds timeout) {
  Result<ControlResponse> response = ControlExchange(socket_path, line, timeout);
  if (!response.ok()) return response.status();
  if (!response->ok) return Status::InvalidArgument(response->error);
  return std::move(response->body);
}

}  // namespace iocd
