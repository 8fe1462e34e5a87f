// feedbench: feed load and reload benchmark. See feedbench.h and docs/PERFORMANCE.md.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "feedbench.h"

int main(int argc, char** argv) {
  CLI::App app{"feedbench: feed parse/import throughput per format and reload time"};
  iocd::bench::FeedBenchOptions options;
  options.work_dir = (std::filesystem::temp_directory_path() / "iocd-feedbench").string();
  app.add_option("--work-dir", options.work_dir, "Scratch directory (stores and feed files)");
  app.add_option("--load", options.load_sizes, "Indicator counts for the per-format load workloads");
  app.add_option("--reload", options.reload_sizes, "Indicator counts for the reload workloads");
  CLI11_PARSE(app, argc, argv);
  int rc = iocd::bench::RunFeedBench(options, std::cout);
  std::filesystem::remove_all(options.work_dir);
  return rc;
}
