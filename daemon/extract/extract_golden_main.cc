// extract_golden LOG_DIR OUT_DIR: writes OUT_DIR/<name>.golden for every regular file in
// LOG_DIR, holding DescribeLines() of the file (extract/field_extractor.h). The golden test
// (golden_test.cc) compares the same output with tests/data/golden.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "extract/field_extractor.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s LOG_DIR OUT_DIR\n", argv[0]);
    return 2;
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(argv[2], ec);
  int written = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(argv[1], ec)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream contents;
    contents << in.rdbuf();
    fs::path out_path = fs::path(argv[2]) / (entry.path().filename().string() + ".golden");
    std::ofstream out(out_path, std::ios::binary);
    out << iocd::DescribeLines(contents.str());
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", out_path.c_str());
      return 1;
    }
    ++written;
  }
  if (ec) {
    std::fprintf(stderr, "cannot read %s: %s\n", argv[1], ec.message().c_str());
    return 1;
  }
  std::printf("wrote %d golden files to %s\n", written, argv[2]);
  return 0;
}
