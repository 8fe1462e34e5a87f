// Runs a program (no shell) with optional stdin text, collecting stdout and stderr.
#pragma once

#include <string>
#include <vector>

namespace iocd::testing {

struct CommandResult {
  int exit_code = -1;  // -1 if it could not be run or was killed by a signal
  std::string out;
  std::string err;
};

// argv[0] is looked up in PATH. Blocks until the program exits.
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& stdin_text = "");

}  // namespace iocd::testing
