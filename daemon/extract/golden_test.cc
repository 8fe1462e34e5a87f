// Golden tests: the exact observables, with their fields, on every line of every real log
// file in ../shared/data/logs (skipped when absent) and of the in-repo fixtures in
// tests/data/logs. Golden files live in tests/data/golden (<log file>.golden, one line per
// input line, see DescribeLines()). To regenerate after a deliberate change:
//   build-x/bin/extract_golden ../shared/data/logs tests/data/golden
// and review the diff line by line.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "extract/field_extractor.h"

namespace iocd {
namespace {

namespace fs = std::filesystem;

fs::path SourceDir() {
  const char* dir = std::getenv("IOCD_SOURCE_DIR");
  return dir != nullptr ? fs::path(dir) : fs::current_path();
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Compares line by line so a failure names the file and line.
void CompareWithGolden(const fs::path& log, const fs::path& golden_dir) {
  fs::path golden_path = golden_dir / (log.filename().string() + ".golden");
  ASSERT_TRUE(fs::exists(golden_path)) << "no golden file for " << log;
  std::istringstream got(DescribeLines(ReadFile(log)));
  std::istringstream want(ReadFile(golden_path));
  std::string got_line;
  std::string want_line;
  int line = 0;
  for (;;) {
    bool more_got = static_cast<bool>(std::getline(got, got_line));
    bool more_want = static_cast<bool>(std::getline(want, want_line));
    ++line;
    if (!more_got && !more_want) break;
    ASSERT_EQ(more_got, more_want) << log.filename() << ": line count differs at line " << line;
    EXPECT_EQ(got_line, want_line) << log.filename() << ":" << line;
  }
}

TEST(GoldenTest, RealLogs) {
  fs::path logs = SourceDir() / ".." / "shared" / "data" / "logs";
  if (!fs::is_directory(logs)) GTEST_SKIP() << "no real logs at " << logs;
  int files = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(logs)) {
    if (!e.is_regular_file()) continue;
    SCOPED_TRACE(e.path().filename().string());
    CompareWithGolden(e.path(), SourceDir() / "tests" / "data" / "golden");
    ++files;
  }
  EXPECT_GT(files, 0);
}

}  // namespace
}  // namespace iocd
