// IocdProcess: the real iocd binary as a child process, as an operator would run it.
//
// Start() spawns it with a config file; its stderr (the log) is read by a thread and kept,
// so a test can wait for a log line (the daemon's documented readiness and reload lines)
// instead of sleeping. Ports are discovered from the "input NAME listening on ADDR:PORT"
// line, so configs can use port 0. The destructor kills a process still running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace iocd::testing {

class IocdProcess {
 public:
  IocdProcess(std::string binary, std::vector<std::string> args);
  ~IocdProcess();

  // Spawns the process; false if it could not be started.
  bool Start();
  // Waits until a log line containing `text` has appeared `count` times in total. Returns
  // false (with the log in `log()`) if the process exits or `timeout` passes first; the
  // timeout only guards against a hang, it is not a synchronisation.
  bool WaitForLog(const std::string& text, size_t count = 1,
                  std::chrono::seconds timeout = std::chrono::seconds(30));
  // Port of the named input, from its "listening on" line (after WaitForLog("iocd ready")).
  int InputPort(const std::string& input_name);
  void Signal(int signo);
  // Waits for exit; returns the exit code, or -1 (killed by a signal, or timeout).
  int Wait(std::chrono::seconds timeout = std::chrono::seconds(30));
  std::string log();
  size_t CountLog(const std::string& text);

 private:
  void ReadLoop(int fd);

  std::string binary_;
  std::vector<std::string> args_;
  pid_t pid_ = -1;
  int exit_code_ = -2;  // -2: still running
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string log_;
  bool eof_ = false;
};

}  // namespace iocd::testing
