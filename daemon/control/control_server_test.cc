#include "control/control_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "common/temp_dir.h"
#include "control/control_client.h"

namespace iocd {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Collects the reply callbacks of an asynchronous handler so a test decides when to answer.
class HeldReplies {
 public:
  void Add(ControlReply reply) {
    std::lock_guard lock(mu_);
    replies_.push_back(std::move(reply));
    cv_.notify_all();
  }
  // Waits (bounded, as a failure guard only) until n replies are held.
  bool WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 30s, [&] { return replies_.size() >= n; });
  }
  std::vector<ControlReply> Take() {
    std::lock_guard lock(mu_);
    return std::move(replies_);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ControlReply> replies_;
};

// A ControlServer on <tmp>/control.sock served by a background io_context thread, with an
// "echo" (sync), "fail" (sync, error) and "hold" (async, answered by the test) command.
class ServerHarness {
 public:
  explicit ServerHarness(ControlServer::Options options = {}, bool run = true)
      : path_(dir_.path() + "/control.sock") {
    auto server = ControlServer::Create(io_, path_, options);
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    if (!server.ok()) return;
    server_ = std::move(server).value();
    server_->Register("echo", "echo WORD...  print the words", [](const std::vector<std::string>& args,
                                                                   std::string* out) {
      for (const std::string& a : args) *out += a + "\n";
      return Status::Ok();
    });
    server_->Register("fail", "fail  always fails", [](const std::vector<std::string>&, std::string* out) {
      *out = "partial";
      return Status::NotFound("no feed 'x'");
    });
    server_->RegisterAsync("hold", "hold  answered later",
                           [this](std::vector<std::string>, ControlReply reply) { held_.Add(std::move(reply)); });
    server_->Start();
    if (run) Run();
  }

  // Starts the io_context thread (when the constructor was told not to).
  void Run() {
    thread_ = std::thread([this] { io_.run(); });
  }

  // Returns once the io_context has processed a timer expiring `d` from now, so every
  // timer of the server that expires earlier has fired (asio fires timers in expiry order).
  void LetTimePass(std::chrono::milliseconds d) {
    asio::steady_timer timer(io_, d);
    std::promise<void> fired;
    timer.async_wait([&](boost::system::error_code) { fired.set_value(); });
    fired.get_future().wait();
  }

  ~ServerHarness() {
    held_.Take().clear();  // dropped replies must not outlive the io_context
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
  }

  const std::string& path() const { return path_; }
  const std::string& dir() const { return dir_.path(); }
  ControlServer& server() { return *server_; }
  asio::io_context& io() { return io_; }
  HeldReplies& held() { return held_; }

 private:
  TempDir dir_;
  std::string path_;
  asio::io_context io_;
  std::unique_ptr<ControlServer> server_;
  HeldReplies held_;
  std::thread thread_;
};

Result<ControlResponse> Ask(const std::string& path, std::string_view line) {
  return ControlExchange(path, line, 30s);
}

int ConnectRaw(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  timeval guard{30, 0};  // a failure guard only: a broken server must not hang the test
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof(guard));
  return fd;
}

// Everything the server sends until it closes the connection.
std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Sends raw bytes (optionally ending the client's side), returns the raw response.
std::string RawExchange(const std::string& path, std::string_view bytes, bool shutdown_write) {
  int fd = ConnectRaw(path);
  EXPECT_GE(fd, 0);
  if (fd < 0) return "";
  if (!bytes.empty()) {
    EXPECT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), ssize_t(bytes.size()));
  }
  if (shutdown_write) ::shutdown(fd, SHUT_WR);
  std::string out = ReadAll(fd);
  ::close(fd);
  return out;
}

TEST(ControlServerTest, SyncHandlerGetsArgumentsAfterTheCommand) {
  ServerHarness h;
  Result<ControlResponse> r = Ask(h.path(), "echo  a\tb c");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(r->body, "a\nb\nc\n");
  EXPECT_EQ(RawExchange(h.path(), "echo x\n", false), "x\nOK\n");
}

TEST(ControlServerTest, HandlerErrorBecomesErrAfterTheBody) {
  ServerHarness h;
  EXPECT_EQ(RawExchange(h.path(), "fail\n", false), "partial\nERR no feed 'x'\n");
  Result<ControlResponse> r = Ask(h.path(), "fail");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->body, "partial\n");
  EXPECT_EQ(r->error, "no feed 'x'");

  Result<std::string> body = ControlRequest(h.path(), "fail", 30s);
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(body.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(body.status().message(), "no feed 'x'");
  Result<std::string> echoed = ControlRequest(h.path(), "echo y", 30s);
  ASSERT_TRUE(echoed.ok());
  EXPECT_EQ(*echoed, "y\n");
}

TEST(ControlServerTest, HelpListsCommandsSorted) {
  ServerHarness h;
  EXPECT_EQ(RawExchange(h.path(), "help\n", false),
            "echo  echo WORD...  print the words\n"
            "fail  fail  always fails\n"
            "help  list commands\n"
            "hold  hold  answered later\n"
            "OK\n");
}

TEST(ControlServerTest, UnknownAndMalformedRequests) {
  ServerHarness h;
  EXPECT_EQ(RawExchange(h.path(), "frobnicate now\n", false), "ERR unknown command 'frobnicate' (try help)\n");
  EXPECT_EQ(RawExchange(h.path(), "\n", false), "ERR empty request (try help)\n");
  EXPECT_EQ(RawExchange(h.path(), "echo \xff\n", false), "ERR request is not valid UTF-8 (byte 5)\n");
  // Only the first line is a request; the rest is ignored.
  EXPECT_EQ(RawExchange(h.path(), "echo a\r\necho b\n", false), "a\nOK\n");
}

TEST(ControlServerTest, LastLineWithoutNewlineBeforeEndOfFile) {
  ServerHarness h;
  EXPECT_EQ(RawExchange(h.path(), "echo z", true), "z\nOK\n");
  // End of file with nothing sent: closed without an answer.
  EXPECT_EQ(RawExchange(h.path(), "", true), "");
}

TEST(ControlServerTest, RequestSizeLimit) {
  ServerHarness h;
  std::string at_limit = "echo " + std::string(kMaxControlRequestBytes - 5, 'a');
  ASSERT_EQ(at_limit.size(), 4096u);
  Result<ControlResponse> ok = Ask(h.path(), at_limit);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(ok->ok);
  EXPECT_EQ(ok->body, std::string(4091, 'a') + "\n");

  Result<ControlResponse> over = Ask(h.path(), at_limit + "a");
  ASSERT_TRUE(over.ok()) << over.status().ToString();
  EXPECT_FALSE(over->ok);
  EXPECT_EQ(over->error, "request too long (at most 4096 bytes)");

  // Far over the limit, without a newline in the first 4 KiB: the server answers without
  // reading the rest, and the client still gets the answer.
  Result<ControlResponse> huge = Ask(h.path(), std::string(1 << 20, 'b'));
  ASSERT_TRUE(huge.ok()) << huge.status().ToString();
  EXPECT_FALSE(huge->ok);
  EXPECT_EQ(huge->error, "request too long (at most 4096 bytes)");
}

TEST(ControlServerTest, AsyncHandlerDoesNotBlockTheLoopAndMayReplyFromAnyThread) {
  ServerHarness h;
  Result<ControlResponse> slow = Status::Internal("not run");
  std::thread client([&] { slow = Ask(h.path(), "hold"); });
  ASSERT_TRUE(h.held().WaitFor(1));
  // The held request does not keep others waiting.
  Result<ControlResponse> quick = Ask(h.path(), "echo quick");
  ASSERT_TRUE(quick.ok());
  EXPECT_EQ(quick->body, "quick\n");

  std::vector<ControlReply> replies = h.held().Take();
  std::thread worker([&] {
    replies[0](Status::Ok(), "reloaded 3 feeds");
    replies[0](Status::Internal("second reply"), "ignored");  // only the first counts
  });
  worker.join();
  client.join();
  ASSERT_TRUE(slow.ok()) << slow.status().ToString();
  EXPECT_TRUE(slow->ok);
  EXPECT_EQ(slow->body, "reloaded 3 feeds\n");
}

TEST(ControlServerTest, AsyncErrorAndDroppedReply) {
  ServerHarness h;
  Result<ControlResponse> failed = Status::Internal("not run");
  Result<ControlResponse> dropped = Status::Internal("not run");
  std::thread c1([&] { failed = Ask(h.path(), "hold"); });
  ASSERT_TRUE(h.held().WaitFor(1));
  std::thread c2([&] { dropped = Ask(h.path(), "hold"); });
  ASSERT_TRUE(h.held().WaitFor(2));
  std::vector<ControlReply> replies = h.held().Take();
  replies[0](Status::IoError("feed a: cannot read x.txt"), "");
  replies.clear();  // replies[1] dropped without being called
  c1.join();
  c2.join();
  ASSERT_TRUE(failed.ok());
  EXPECT_FALSE(failed->ok);
  EXPECT_EQ(failed->error, "feed a: cannot read x.txt");
  ASSERT_TRUE(dropped.ok());
  EXPECT_FALSE(dropped->ok);
  EXPECT_EQ(dropped->error, "internal error: the request was dropped");
}

TEST(ControlServerTest, ClientsBeyondTheLimitAreToldBusy) {
  ControlServer::Options options;
  options.max_clients = 16;
  ServerHarness h(options);
  std::vector<Result<ControlResponse>> results(16, Status::Internal("not run"));
  std::vector<std::thread> clients;
  for (size_t i = 0; i < 16; ++i) {
    clients.emplace_back([&, i] { results[i] = Ask(h.path(), "hold"); });
  }
  ASSERT_TRUE(h.held().WaitFor(16));  // 16 connections are being served

  Result<ControlResponse> busy = Ask(h.path(), "echo 17th");
  ASSERT_TRUE(busy.ok()) << busy.status().ToString();
  EXPECT_FALSE(busy->ok);
  EXPECT_EQ(busy->error, "busy");
  EXPECT_EQ(RawExchange(h.path(), "", false), "ERR busy\n");

  std::vector<ControlReply> replies = h.held().Take();
  for (size_t i = 0; i < replies.size(); ++i) replies[i](Status::Ok(), "done " + std::to_string(i));
  replies.clear();
  for (std::thread& t : clients) t.join();
  std::set<std::string> bodies;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->ok);
    bodies.insert(r->body);
  }
  EXPECT_EQ(bodies.size(), 16u);  // each client got its own answer

  // Every slot is free again once its client has seen the end of its response.
  Result<ControlResponse> after = Ask(h.path(), "echo again");
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->ok);
  EXPECT_EQ(after->body, "again\n");
}

TEST(ControlServerTest, IdleClientIsClosed) {
  ControlServer::Options options;
  options.idle_timeout = 20ms;
  ServerHarness h(options, /*run=*/false);
  int silent = ConnectRaw(h.path());
  ASSERT_GE(silent, 0);
  int unfinished = ConnectRaw(h.path());
  ASSERT_GE(unfinished, 0);
  ASSERT_EQ(::send(unfinished, "ech", 3, MSG_NOSIGNAL), 3);  // a line without its end
  h.Run();
  EXPECT_EQ(ReadAll(silent), "ERR idle timeout\n");
  EXPECT_EQ(ReadAll(unfinished), "ERR idle timeout\n");
  ::close(silent);
  ::close(unfinished);
}

TEST(ControlServerTest, TimeSpentInAHandlerIsNotIdle) {
  ControlServer::Options options;
  options.idle_timeout = 1ms;
  ServerHarness h(options, /*run=*/false);
  // The request is sent before the server accepts it, so a 1 ms idle timer cannot cut it off.
  int fd = ConnectRaw(h.path());
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::send(fd, "hold\n", 5, MSG_NOSIGNAL), 5);
  h.Run();
  ASSERT_TRUE(h.held().WaitFor(1));
  // Far past the idle timeout while the handler works: the connection must stay open.
  h.LetTimePass(20ms);
  std::vector<ControlReply> replies = h.held().Take();
  replies[0](Status::Ok(), "late");
  replies.clear();
  EXPECT_EQ(ReadAll(fd), "late\nOK\n");
  ::close(fd);
}

TEST(ControlServerTest, SocketIsPrivateToTheOwner) {
  ServerHarness h;
  struct stat st;
  ASSERT_EQ(::stat(h.path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST(ControlServerTest, StopRemovesTheSocketFile) {
  ServerHarness h;
  ASSERT_TRUE(std::filesystem::exists(h.path()));
  h.server().Stop();
  EXPECT_FALSE(std::filesystem::exists(h.path()));
  h.server().Stop();  // idempotent
  Result<ControlResponse> r = Ask(h.path(), "help");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_EQ(r.status().message(),
            "cannot connect to " + h.path() + ": no such file (is iocd running with this state_dir?)");
}

TEST(ControlServerTest, StopClosesConnectionsWaitingForAReply) {
  ServerHarness h;
  Result<ControlResponse> r = Status::Internal("not run");
  std::thread client([&] { r = Ask(h.path(), "hold"); });
  ASSERT_TRUE(h.held().WaitFor(1));
  h.server().Stop();
  client.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_EQ(r.status().message(), h.path() + ": empty response (the connection closed before OK or ERR)");
  std::vector<ControlReply> replies = h.held().Take();
  replies[0](Status::Ok(), "too late");  // discarded, harmless
}

TEST(ControlServerTest, StaleSocketFileIsReplaced) {
  TempDir dir;
  std::string path = dir.path() + "/control.sock";
  {
    // A socket file nobody listens on, as a crashed daemon leaves it.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ::close(fd);
  }
  ASSERT_TRUE(std::filesystem::is_socket(path));
  Result<ControlResponse> refused = Ask(path, "help");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(),
            "cannot connect to " + path + ": connection refused (iocd is not running; the socket file is stale)");

  asio::io_context io;
  auto server = ControlServer::Create(io, path);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  (*server)->Start();
  std::thread t([&] { io.run(); });
  Result<ControlResponse> r = Ask(path, "help");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "help  list commands\n");
  (*server)->Stop();
  t.join();
}

TEST(ControlServerTest, SecondServerOnALivePathIsRefused) {
  ServerHarness h;
  asio::io_context io;
  auto second = ControlServer::Create(io, h.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kIoError);
  EXPECT_EQ(second.status().message(), "control socket " + h.path() +
                                           " is in use by another process (is another iocd running with this "
                                           "state_dir?)");
  // The first server is untouched.
  Result<ControlResponse> r = Ask(h.path(), "echo still");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "still\n");
}

TEST(ControlServerTest, RefusesToReplaceAFileThatIsNotASocket) {
  TempDir dir;
  std::string path = dir.path() + "/control.sock";
  std::ofstream(path) << "keep me\n";
  asio::io_context io;
  auto server = ControlServer::Create(io, path);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().message(), "control socket " + path + " exists and is not a socket; refusing to replace it");
  std::ifstream in(path);
  std::string content;
  std::getline(in, content);
  EXPECT_EQ(content, "keep me");

  Result<ControlResponse> r = Ask(path, "help");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "cannot connect to " + path + ": not a socket");
}

TEST(ControlServerTest, PathErrors) {
  TempDir dir;
  asio::io_context io;
  std::string too_long = dir.path() + "/" + std::string(120, 's');
  auto server = ControlServer::Create(io, too_long);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.status().message(), ::testing::HasSubstr("path too long for a Unix socket"));

  auto no_dir = ControlServer::Create(io, dir.path() + "/missing/control.sock");
  ASSERT_FALSE(no_dir.ok());
  EXPECT_EQ(no_dir.status().message(),
            "cannot bind control socket " + dir.path() + "/missing/control.sock: No such file or directory");
}

TEST(ControlServerTest, PermissionDeniedIsNamed) {
  if (::geteuid() == 0) GTEST_SKIP() << "root bypasses socket file permissions";
  ServerHarness h;
  ASSERT_EQ(::chmod(h.path().c_str(), 0), 0);
  Result<ControlResponse> r = Ask(h.path(), "help");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "cannot connect to " + h.path() +
                                      ": permission denied (the socket is private to the user iocd runs as)");
}

}  // namespace
}  // namespace iocd
