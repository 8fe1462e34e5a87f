#include "harness/run_command.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

extern char** environ;

namespace iocd::testing {

CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& stdin_text) {
  CommandResult result;
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return result;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    close(err[0]);
    result.err = "cannot run " + argv[0];
    return result;
  }
  // Feed stdin and drain both outputs together so no pipe fills up.
  signal(SIGPIPE, SIG_IGN);
  size_t written = 0;
  int in_fd = in[1];
  if (stdin_text.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  bool out_open = true, err_open = true;
  char buf[4096];
  while (out_open || err_open || in_fd >= 0) {
    pollfd fds[3] = {{out_open ? out[0] : -1, POLLIN, 0}, {err_open ? err[0] : -1, POLLIN, 0}, {in_fd, POLLOUT, 0}};
    if (poll(fds, 3, -1) < 0 && errno != EINTR) break;
    if (fds[0].revents != 0) {
      ssize_t n = read(out[0], buf, sizeof(buf));
      if (n > 0) result.out.append(buf, n); else out_open = false;
    }
    if (fds[1].revents != 0) {
      ssize_t n = read(err[0], buf, sizeof(buf));
      if (n > 0) result.err.append(buf, n); else err_open = false;
    }
    if (in_fd >= 0 && fds[2].revents != 0) {
      ssize_t n = write(in_fd, stdin_text.data() + written, stdin_text.size() - written);
      if (n > 0) written += n;
      if (n < 0 || written == stdin_text.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
  }
  close(out[0]);
  close(err[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace iocd::testing
