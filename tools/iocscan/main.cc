// iocscan: scan log files for the indicators of iocd's feeds. See iocscan.h and
// docs/iocscan.md. Exit status: 0 success, 1 an input could not be read or hits could not
// be written, 2 usage, config or feed errors.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <set>

#include "app/feed_source.h"
#include "config/config.h"
#include "iocscan.h"

namespace {

using Clock = std::chrono::steady_clock;

int UsageError(const std::string& message) {
  std::cerr << "iocscan: " << message << "\n";
  return 2;
}

// CPU seconds (user + system) the process has used, over all threads.
double CpuSeconds() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  auto secs = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return secs(usage.ru_utime) + secs(usage.ru_stime);
}

double MaxRssMb() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

std::string FormatNames() {
  std::string names;
  for (int f = iocd::config::FeedFormat_MIN; f <= iocd::config::FeedFormat_MAX; ++f) {
    if (!iocd::config::FeedFormat_IsValid(f) || f == 0) continue;
    if (!names.empty()) names += ", ";
    names += iocd::FormatName(static_cast<iocd::config::FeedFormat>(f));
  }
  return names;
}

std::optional<iocd::config::FeedFormat> ParseFormat(const std::string& name) {
  for (int f = iocd::config::FeedFormat_MIN; f <= iocd::config::FeedFormat_MAX; ++f) {
    if (!iocd::config::FeedFormat_IsValid(f) || f == 0) continue;
    auto format = static_cast<iocd::config::FeedFormat>(f);
    if (iocd::FormatName(format) == name) return format;
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "iocscan: match log files (or stdin) against iocd threat feeds; one JSON hit per line on "
      "stdout"};
  std::string config_path;
  std::vector<std::string> feed_paths, formats, allowlist_paths, inputs;
  iocd::scan::ScanOptions options;
  double now_seconds = -1;
  bool count_only = false;
  app.add_option("--config", config_path, "iocd YAML config: scan with its feeds and allowlists");
  // allow_extra_args(false): each --feed/--format takes exactly one value, so the log files
  // that follow are not swallowed.
  app.add_option("--feed", feed_paths, "Feed file to load (repeatable)")->allow_extra_args(false);
  app.add_option("--format", formats,
                 "Format of the --feed files: once for all, or once per --feed in the same order "
                 "(default: plain)")
      ->allow_extra_args(false);
  app.add_option("--allowlist", allowlist_paths,
                 "Plain allowlist file: matches it covers are not hits (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--threads", options.threads, "Worker threads")
      ->default_val(1)
      ->check(CLI::Range(1, 64));
  app.add_option("--now", now_seconds,
                 "Detection time written into hits, Unix seconds (default: the clock)");
  app.add_flag("--count", count_only, "Print only the summary, no hits");
  app.add_flag("--profile", options.profile, "Also report time spent extracting and matching");
  bool no_prefilter = false;
  app.add_flag("--no-prefilter", no_prefilter,
               "Extract every line, even those the prefilter proves cannot hit (same hits; "
               "observables= then counts every line's observables)");
  app.add_option("inputs", inputs, "Log files to scan; none or '-' reads stdin");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (config_path.empty() && feed_paths.empty())
    return UsageError("give --config FILE or --feed FILE (see --help)");
  if (!formats.empty() && formats.size() != 1 && formats.size() != feed_paths.size()) {
    return UsageError("give --format once, or once per --feed (" +
                      std::to_string(feed_paths.size()) + ")");
  }
  if (now_seconds >= 0) options.now_unix_us = static_cast<int64_t>(now_seconds * 1e6);

  const auto load_start = Clock::now();
  iocd::config::Config config;
  if (!config_path.empty()) {
    auto loaded = iocd::LoadConfigFile(config_path);
    if (!loaded.ok()) return UsageError(loaded.status().message());
    config = std::move(*loaded);
  }
  std::set<std::string> names;
  for (const auto& feed : config.feeds()) names.insert(feed.name());
  for (size_t i = 0; i < feed_paths.size(); ++i) {
    const std::string format_name = formats.empty()       ? "plain"
                                    : formats.size() == 1 ? formats[0]
                                                          : formats[i];
    auto format = ParseFormat(format_name);
    if (!format)
      return UsageError("unknown --format '" + format_name + "' (one of: " + FormatNames() + ")");
    auto* feed = config.add_feeds();
    std::string name = std::filesystem::path(feed_paths[i]).filename().string();
    for (int n = 2; names.count(name) != 0; ++n) {
      name = std::filesystem::path(feed_paths[i]).filename().string() + "#" + std::to_string(n);
    }
    names.insert(name);
    feed->set_name(name);
    feed->set_path(feed_paths[i]);
    feed->set_format(*format);
  }
  for (const std::string& path : allowlist_paths) {
    auto* list = config.add_allowlists();
    list->set_name(std::filesystem::path(path).filename().string());
    list->set_path(path);
    list->set_format(iocd::config::FEED_FORMAT_PLAIN);
  }
  iocd::ApplyDefaults(&config);

  std::vector<iocd::scan::FeedLoadReport> reports;
  auto index = iocd::scan::ScanIndex::Load(config, &reports);
  if (!index.ok()) return UsageError(index.status().message());
  size_t feeds = 0, allowlists = 0;
  for (const auto& r : reports) {
    (r.allowlist ? allowlists : feeds)++;
    std::cerr << "iocscan: " << (r.allowlist ? "allowlist " : "feed ") << r.name << ": "
              << r.indicators << " indicators";
    if (!r.errors.empty()) {
      std::cerr << ", " << r.errors.size() << " malformed (first: line " << r.errors.front().line
                << ": " << r.errors.front().message << ")";
    }
    if (r.rejected != 0) std::cerr << ", " << r.rejected << " rejected by the index";
    if (r.dropped_by_allowlist != 0)
      std::cerr << ", " << r.dropped_by_allowlist << " dropped by allowlists";
    if (r.unsupported != 0) std::cerr << ", " << r.unsupported << " unsupported";
    if (r.skipped != 0) std::cerr << ", " << r.skipped << " skipped";
    std::cerr << "\n";
  }
  const double load_seconds = std::chrono::duration<double>(Clock::now() - load_start).count();
  std::cerr << "iocscan: loaded " << (*index)->index().size() << " distinct indicators from "
            << feeds << " feeds and " << allowlists << " allowlists in " << load_seconds << " s\n";

  std::ios::sync_with_stdio(false);
  std::ostream& out = std::cout;
  options.prefilter = !no_prefilter;
  options.write_hits = !count_only;
  if (options.prefilter) std::cerr << "iocscan: " << (*index)->prefilter().Describe() << "\n";
  iocd::scan::Scanner scanner(index->get(), options);
  if (inputs.empty()) inputs.push_back("-");
  int rc = 0;
  const auto scan_start = Clock::now();
  const double cpu_start = CpuSeconds();
  for (const std::string& input : inputs) {
    int fd = 0;
    if (input != "-") {
      fd = ::open(input.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        std::cerr << "iocscan: cannot open " << input << ": " << std::strerror(errno) << "\n";
        rc = 1;
        continue;
      }
    }
    iocd::Status s = scanner.ScanFd(fd, input, out);
    if (fd != 0) ::close(fd);
    if (!s.ok()) {
      std::cerr << "iocscan: " << s.message() << "\n";
      rc = 1;
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - scan_start).count();
  // CPU time is what the scan costs per core even when other work shares the machine.
  const double cpu_seconds = CpuSeconds() - cpu_start;
  const auto& st = scanner.stats();
  std::cerr << fmt::format(
      "iocscan: lines={} bytes={} observables={} hits={} hit_lines={} suppressed={} seconds={:.3f} "
      "mb_per_s={:.1f} threads={} max_rss_mb={:.1f} cpu_s={:.3f} mb_per_cpu_s={:.1f} "
      "prefiltered={}\n",
      st.lines, st.bytes, st.observables, st.hits, st.hit_lines, st.suppressed, seconds,
      static_cast<double>(st.bytes) / 1e6 / std::max(seconds, 1e-9), options.threads, MaxRssMb(),
      cpu_seconds, static_cast<double>(st.bytes) / 1e6 / std::max(cpu_seconds, 1e-9),
      options.prefilter ? std::to_string(st.prefiltered) : std::string("off"));
  if (options.profile) {
    // CPU seconds; "other" is reading, line splitting, rendering hits and the profile's own
    // clock reads.
    std::cerr << fmt::format("iocscan: profile cpu_s extract={:.3f} match={:.3f} other={:.3f}\n",
                             st.extract_seconds, st.match_seconds,
                             std::max(0.0, cpu_seconds - st.extract_seconds - st.match_seconds));
  }
  return rc;
}
