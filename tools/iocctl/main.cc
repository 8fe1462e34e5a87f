// iocctl: see iocctl.h.
#include <iostream>
#include <string>
#include <vector>

#include "iocctl.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return iocd::RunIocctl(args, std::cout, std::cerr);
}
