#include "harness/iocd_process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <regex>

extern char** environ;

namespace iocd::testing {

IocdProcess::IocdProcess(std::string binary, std::vector<std::string> args)
    : binary_(std::move(binary)), args_(std::move(args)) {}

IocdProcess::~IocdProcess() {
  if (pid_ > 0 && exit_code_ == -2) {
    kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(10));
  }
  if (reader_.joinable()) reader_.join();
}

bool IocdProcess::Start() {
  int err[2];
  if (pipe2(err, O_CLOEXEC) != 0) return false;
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, devnull, 0);
  posix_spawn_file_actions_adddup2(&actions, devnull, 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<char*> argv;
  argv.push_back(binary_.data());
  for (auto& a : args_) argv.push_back(a.data());
  argv.push_back(nullptr);
  int rc = posix_spawn(&pid_, binary_.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(err[1]);
  close(devnull);
  if (rc != 0) {
    close(err[0]);
    pid_ = -1;
    return false;
  }
  reader_ = std::thread([this, fd = err[0]] { ReadLoop(fd); });
  return true;
}

void IocdProcess::ReadLoop(int fd) {
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    std::lock_guard lock(mu_);
    log_.append(buf, n);
    cv_.notify_all();
  }
  close(fd);
  std::lock_guard lock(mu_);
  eof_ = true;
  cv_.notify_all();
}

size_t IocdProcess::CountLog(const std::string& text) {
  std::lock_guard lock(mu_);
  size_t count = 0;
  for (size_t pos = log_.find(text); pos != std::string::npos; pos = log_.find(text, pos + 1)) ++count;
  return count;
}

bool IocdProcess::WaitForLog(const std::string& text, size_t count, std::chrono::seconds timeout) {
  std::unique_lock lock(mu_);
  auto found = [&] {
    size_t n = 0;
    for (size_t pos = log_.find(text); pos != std::string::npos; pos = log_.find(text, pos + 1)) ++n;
    return n >= count;
  };
  cv_.wait_for(lock, timeout, [&] { return found() || eof_; });
  return found();
}

int IocdProcess::InputPort(const std::string& input_name) {
  std::lock_guard lock(mu_);
  std::regex re("input " + input_name + " listening on [^ ]*:([0-9]+)");
  std::smatch m;
  if (!std::regex_search(log_, m, re)) return -1;
  return std::stoi(m[1]);
}

void IocdProcess::Signal(int signo) {
  if (pid_ > 0 && exit_code_ == -2) kill(pid_, signo);
}

int IocdProcess::Wait(std::chrono::seconds timeout) {
  if (pid_ <= 0) return -1;
  if (exit_code_ != -2) return exit_code_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (std::chrono::steady_clock::now() > deadline) return -1;
    // Polling waitpid: there is no portable way to wait on a child with a timeout.
    usleep(10 * 1000);
  }
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return exit_code_;
}

std::string IocdProcess::log() {
  std::lock_guard lock(mu_);
  return log_;
}

}  // namespace iocd::testing
