// feedbench: feed load and reload benchmark. See feedbench.h and docs/PERFORMANCE.md.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "app/feed_source.h"
#include "feedbench.h"

int main(int argc, char** argv) {
  CLI::App app{"feedbench: feed parse/import throughput per format and reload time"};
  iocd::bench::FeedBenchOptions options;
  options.work_dir = (std::filesystem::temp_directory_path() / "iocd-feedbench").string();
  app.add_option("--work-dir", options.work_dir, "Scratch directory (stores and feed files)");
  app.add_option("--load", options.load_sizes, "Indicator counts for the per-format load workloads");
  app.add_option("--reload", options.reload_sizes, "Indicator counts for the reload workloads");
  app.add_option("--reader-rate", options.reader_rate,
                 "Lookups/s of the reader thread during a reload (0: flat out, taking a core)");
  app.add_option("--reload-change", options.reload_change,
                 "Fraction of the indicators a reload replaces (1: all of them, the worst case)")
      ->check(CLI::Range(0.0, 1.0));
  std::vector<std::string> formats;
  app.add_option("--format", formats, "Only these formats (plain, csv, zeek-intel, kaspersky-json, stix2, misp)");
  CLI11_PARSE(app, argc, argv);
  for (const auto& name : formats) {
    for (int f = iocd::config::FeedFormat_MIN; f <= iocd::config::FeedFormat_MAX; ++f) {
      if (iocd::config::FeedFormat_IsValid(f) &&
          iocd::FormatName(static_cast<iocd::config::FeedFormat>(f)) == name) {
        options.formats.push_back(static_cast<iocd::config::FeedFormat>(f));
      }
    }
  }
  int rc = iocd::bench::RunFeedBench(options, std::cout);
  std::filesystem::remove_all(options.work_dir);
  return rc;
}
