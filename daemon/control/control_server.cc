#include "control/control_server.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>

#include "control/control_protocol.h"

namespace iocd {

namespace asio = boost::asio;
using Local = asio::local::stream_protocol;

namespace {

struct Command {
  std::string help;
  ControlHandler handler;             // one of these two is set
  AsyncControlHandler async_handler;
};

std::string Errno(int err) { return std::strerror(err); }

// Whether a process accepts connections on the socket file `path`: true if a connect
// succeeds, false on ECONNREFUSED (a stale file); other failures are errors.
Result<bool> SomeoneListens(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IoError("cannot create a socket: " + Errno(errno));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  int err = errno;
  ::close(fd);
  if (rc == 0) return true;
  // EAGAIN: a listener whose backlog is full is still a listener.
  if (err == EAGAIN) return true;
  if (err == ECONNREFUSED) return false;
  return Status::IoError("control socket " + path + " exists and cannot be probed: " + Errno(err));
}

}  // namespace

class ControlConnection;

struct ControlServer::Shared {
  Shared(asio::io_context& io_context, std::string socket_path, Options opts)
      : io(io_context),
        path(std::move(socket_path)),
        options(opts),
        acceptor(asio::make_strand(io_context)),
        accept_retry(acceptor.get_executor()) {}

  asio::io_context& io;
  const std::string path;
  const Options options;
  std::map<std::string, Command> commands;  // written before Start() only

  Local::acceptor acceptor;       // used on its own strand only
  asio::steady_timer accept_retry;  // same strand
  dev_t bound_dev = 0;              // identity of the socket file this server bound
  ino_t bound_ino = 0;

  std::mutex mu;  // guards what follows
  bool stopping = false;
  std::set<std::shared_ptr<ControlConnection>> connections;  // served (not rejected) ones

  void Accept(const std::shared_ptr<Shared>& self);
};

// One client connection. Everything runs on the connection's strand (the socket's
// executor), except PostReply, which may be called from any thread and posts to it.
class ControlConnection : public std::enable_shared_from_this<ControlConnection> {
 public:
  ControlConnection(Local::socket socket, std::shared_ptr<ControlServer::Shared> shared, bool counted)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), shared_(std::move(shared)), counted_(counted) {}

  // Serves the connection: reads the request, or, for a connection over the limit, answers busy.
  void Start() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      if (self->closed_) return;
      if (!self->counted_) {
        self->Respond("ERR busy\n");
        return;
      }
      self->phase_ = Phase::kReading;
      self->ArmTimer();
      self->Read();
    });
  }

  // Closes without an answer (server stopping).
  void Abort() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->Close(); });
  }

  void PostReply(Status status, std::string body) {
    asio::post(socket_.get_executor(), [self = shared_from_this(), status = std::move(status),
                                        body = std::move(body)]() mutable {
      if (self->closed_ || self->phase_ != Phase::kHandling) return;
      self->Respond(FormatControlResponse(body, status));
    });
  }

 private:
  enum class Phase { kStarting, kReading, kHandling, kWriting };

  void ArmTimer() {
    uint64_t gen = ++timer_gen_;
    timer_.expires_after(shared_->options.idle_timeout);
    timer_.async_wait([self = shared_from_this(), gen](boost::system::error_code ec) {
      if (ec || self->closed_ || gen != self->timer_gen_) return;
      self->OnIdle();
    });
  }

  void DisarmTimer() {
    ++timer_gen_;
    timer_.cancel();
  }

  void OnIdle() {
    if (phase_ == Phase::kReading) {
      // Stop reading (the pending read completes aborted and is ignored) and say why.
      phase_ = Phase::kHandling;
      boost::system::error_code ignored;
      socket_.cancel(ignored);
      Respond("ERR idle timeout\n");
    } else if (phase_ == Phase::kWriting) {
      Close();  // the client does not read its response
    }
  }

  void Read() {
    socket_.async_read_some(asio::buffer(buffer_.data() + filled_, buffer_.size() - filled_),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              self->OnRead(ec, n);
                            });
  }

  void OnRead(boost::system::error_code ec, size_t n) {
    if (closed_ || phase_ != Phase::kReading) return;
    size_t scanned = filled_;
    filled_ += n;
    const char* begin = buffer_.data();
    const char* lf = std::find(begin + scanned, begin + filled_, '\n');
    if (lf != begin + filled_) {
      Dispatch(std::string_view(begin, static_cast<size_t>(lf - begin)));
      return;
    }
    if (ec) {
      // End of file after a last line without "\n" still is a request; anything else ends here.
      if (ec == asio::error::eof && filled_ > 0) {
        Dispatch(std::string_view(begin, filled_));
      } else {
        Close();
      }
      return;
    }
    if (filled_ == buffer_.size()) {
      // No "\n" in kMaxControlRequestBytes + 2 bytes: too long even with a "\r\n" ending.
      phase_ = Phase::kHandling;
      Respond(FormatControlResponse(
          "", Status::InvalidArgument("request too long (at most " + std::to_string(kMaxControlRequestBytes) +
                                      " bytes)")));
      return;
    }
    Read();
  }

  void Dispatch(std::string_view line) {
    phase_ = Phase::kHandling;
    DisarmTimer();
    Result<std::vector<std::string>> words = ParseControlRequest(line);
    if (!words.ok()) {
      Respond(FormatControlResponse("", words.status()));
      return;
    }
    std::string command = std::move(words->front());
    std::vector<std::string> args(std::make_move_iterator(words->begin() + 1),
                                  std::make_move_iterator(words->end()));
    if (command == "help") {
      Respond(FormatControlResponse(HelpText(), Status::Ok()));
      return;
    }
    auto it = shared_->commands.find(command);
    if (it == shared_->commands.end()) {
      Respond(FormatControlResponse("", Status::InvalidArgument("unknown command '" + command + "' (try help)")));
      return;
    }
    if (it->second.handler) {
      std::string out;
      Status status = it->second.handler(args, &out);
      Respond(FormatControlResponse(out, status));
      return;
    }
    // The guard answers for a handler that drops `reply` without calling it.
    struct ReplyGuard {
      explicit ReplyGuard(std::shared_ptr<ControlConnection> c) : conn(std::move(c)) {}
      ~ReplyGuard() {
        if (!done.exchange(true)) conn->PostReply(Status::Internal("internal error: the request was dropped"), "");
      }
      std::shared_ptr<ControlConnection> conn;
      std::atomic<bool> done{false};
    };
    auto guard = std::make_shared<ReplyGuard>(shared_from_this());
    ControlReply reply = [guard](Status status, std::string body) {
      if (guard->done.exchange(true)) return;
      guard->conn->PostReply(std::move(status), std::move(body));
    };
    it->second.async_handler(std::move(args), std::move(reply));
  }

  std::string HelpText() const {
    std::map<std::string, std::string> lines = {{"help", "list commands"}};
    for (const auto& [name, command] : shared_->commands) lines[name] = command.help;
    size_t width = 0;
    for (const auto& [name, help] : lines) width = std::max(width, name.size());
    std::string out;
    for (const auto& [name, help] : lines) {
      out += name;
      out.append(width - name.size() + 2, ' ');
      out += help;
      out += '\n';
    }
    return out;
  }

  void Respond(std::string response) {
    phase_ = Phase::kWriting;
    response_ = std::move(response);
    ArmTimer();
    asio::async_write(socket_, asio::buffer(response_),
                      [self = shared_from_this()](boost::system::error_code, size_t) { self->Close(); });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    // Leave the set before closing, so a client that sees end-of-file can count on its slot
    // being free again.
    if (counted_) {
      std::lock_guard lock(shared_->mu);
      shared_->connections.erase(shared_from_this());
    }
    DisarmTimer();
    boost::system::error_code ignored;
    socket_.shutdown(Local::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  Local::socket socket_;
  asio::steady_timer timer_;
  std::shared_ptr<ControlServer::Shared> shared_;
  const bool counted_;
  Phase phase_ = Phase::kStarting;
  bool closed_ = false;
  uint64_t timer_gen_ = 0;
  // The request line, its "\r\n" included; bounded, so a client cannot grow it.
  std::array<char, kMaxControlRequestBytes + 2> buffer_;
  size_t filled_ = 0;
  std::string response_;
};

void ControlServer::Shared::Accept(const std::shared_ptr<Shared>& self) {
  acceptor.async_accept(asio::make_strand(io), [self](boost::system::error_code ec, Local::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      {
        std::lock_guard lock(self->mu);
        if (self->stopping) return;
      }
      // Out of descriptors and the like: try again shortly instead of spinning.
      spdlog::warn("control socket {}: accept failed: {}", self->path, ec.message());
      self->accept_retry.expires_after(std::chrono::milliseconds(100));
      self->accept_retry.async_wait([self](boost::system::error_code wait_ec) {
        if (!wait_ec) self->Accept(self);
      });
      return;
    }
    std::shared_ptr<ControlConnection> conn;
    {
      // Checked under the same lock as Stop() copies the set, so no connection escapes it.
      std::lock_guard lock(self->mu);
      if (self->stopping) return;
      bool counted = self->connections.size() < self->options.max_clients;
      conn = std::make_shared<ControlConnection>(std::move(socket), self, counted);
      if (counted) self->connections.insert(conn);
    }
    conn->Start();
    self->Accept(self);
  });
}

ControlServer::ControlServer(asio::io_context& io, std::string path, Options options)
    : io_(io), path_(path), shared_(std::make_shared<Shared>(io, std::move(path), options)) {}

ControlServer::~ControlServer() { Stop(); }

Result<std::unique_ptr<ControlServer>> ControlServer::Create(asio::io_context& io, std::string path) {
  return Create(io, std::move(path), Options());
}

Result<std::unique_ptr<ControlServer>> ControlServer::Create(asio::io_context& io, std::string path,
                                                             Options options) {
  const std::string what = "control socket " + path;
  if (path.empty()) return Status::InvalidArgument("control socket path is empty");
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    return Status::IoError(what + ": path too long for a Unix socket (" + std::to_string(path.size()) +
                           " bytes, at most " + std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                           "); use a shorter state_dir or control_socket");
  }
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Status::IoError(what + " exists and is not a socket; refusing to replace it");
    }
    Result<bool> listens = SomeoneListens(path);
    if (!listens.ok()) return listens.status();
    if (*listens) {
      return Status::IoError(what + " is in use by another process (is another iocd running with this state_dir?)");
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Status::IoError("cannot remove stale " + what + ": " + Errno(errno));
    }
  }

  std::unique_ptr<ControlServer> server(new ControlServer(io, path, options));
  Shared& shared = *server->shared_;
  boost::system::error_code ec;
  shared.acceptor.open(Local(), ec);
  if (ec) return Status::IoError("cannot create " + what + ": " + ec.message());
  shared.acceptor.bind(Local::endpoint(path), ec);
  if (ec) return Status::IoError("cannot bind " + what + ": " + ec.message());
  // Between bind and listen nobody can connect, so the mode is set before anyone can use it.
  if (::chmod(path.c_str(), 0600) != 0 || ::stat(path.c_str(), &st) != 0) {
    int err = errno;
    ::unlink(path.c_str());
    return Status::IoError("cannot chmod " + what + ": " + Errno(err));
  }
  shared.bound_dev = st.st_dev;
  shared.bound_ino = st.st_ino;
  shared.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    ::unlink(path.c_str());
    return Status::IoError("cannot listen on " + what + ": " + ec.message());
  }
  return server;
}

void ControlServer::Register(std::string command, std::string help, ControlHandler handler) {
  assert(command != "help" && !command.empty() && command.find_first_of(" \t\n") == std::string::npos);
  assert(!shared_->commands.contains(command));
  shared_->commands[std::move(command)] = Command{std::move(help), std::move(handler), nullptr};
}

void ControlServer::RegisterAsync(std::string command, std::string help, AsyncControlHandler handler) {
  assert(command != "help" && !command.empty() && command.find_first_of(" \t\n") == std::string::npos);
  assert(!shared_->commands.contains(command));
  shared_->commands[std::move(command)] = Command{std::move(help), nullptr, std::move(handler)};
}

void ControlServer::Start() {
  asio::post(shared_->acceptor.get_executor(), [shared = shared_] {
    {
      std::lock_guard lock(shared->mu);
      if (shared->stopping) return;
    }
    shared->Accept(shared);
  });
}

void ControlServer::Stop() {
  std::set<std::shared_ptr<ControlConnection>> connections;
  {
    std::lock_guard lock(shared_->mu);
    if (shared_->stopping) return;
    shared_->stopping = true;
    connections = shared_->connections;
  }
  // Remove the file only if it is still ours: a successor may have replaced it already.
  struct stat st;
  if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == shared_->bound_dev && st.st_ino == shared_->bound_ino) {
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
      spdlog::warn("cannot remove control socket {}: {}", path_, Errno(errno));
    }
  }
  // Connections first: until the acceptor closes, its pending accept keeps the io_context
  // running, so the aborts are queued before it can run out of work.
  for (const auto& conn : connections) conn->Abort();
  asio::post(shared_->acceptor.get_executor(), [shared = shared_] {
    boost::system::error_code ignored;
    shared->acceptor.close(ignored);
    shared->accept_retry.cancel();
  });
}

}  // namespace iocd
