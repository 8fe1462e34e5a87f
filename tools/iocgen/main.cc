// iocgen: synthetic indicator sets and logs (see iocgen.h). Subcommands:
//   iocgen indicators --count N [--seed S] [--mix ipv4=30,domain=25,...] [-o FILE]
//   iocgen logs --indicators FEED [--size-mb M | --lines N] [--hit-rate R] [--seed S]
//               [--name-pool N [--zipf S]] [-o FILE]
// Writes to stdout without -o; statistics go to stderr. Exit 2 on usage errors.
#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "feeds/feed_parser.h"
#include "iocgen.h"

namespace {

int Fail(const std::string& message) {
  std::cerr << "iocgen: " << message << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using iocd::iocgen::IndicatorGenOptions;
  CLI::App app{"iocgen: synthetic indicator sets and logs for iocd benchmarks"};
  app.require_subcommand(1);

  IndicatorGenOptions ind;
  std::string mix_text, ind_out;
  auto* ind_cmd = app.add_subcommand("indicators", "Write a plain feed of synthetic indicators");
  ind_cmd->add_option("--count", ind.count, "Number of indicators")->default_val(1000000);
  ind_cmd->add_option("--seed", ind.seed, "PRNG seed")->default_val(1);
  ind_cmd->add_option("--mix", mix_text,
                      "Type weights, e.g. ipv4=40,domain=30,sha256=30 (default: realistic mix)");
  ind_cmd->add_option("-o,--output", ind_out, "Output file (default: stdout)");

  iocd::iocgen::LogGenOptions logs;
  std::string feed_path, logs_out;
  double size_mb = 0;
  auto* log_cmd = app.add_subcommand("logs", "Write synthetic proxy/firewall/DNS log lines");
  log_cmd->add_option("--indicators", feed_path, "Plain feed whose indicators hit lines carry")
      ->required();
  log_cmd->add_option("--size-mb", size_mb, "Stop after this many MB (10^6 bytes)");
  log_cmd->add_option("--lines", logs.lines, "Stop after this many lines");
  log_cmd->add_option("--hit-rate", logs.hit_rate, "Fraction of lines with a matching observable")
      ->default_val(0.01);
  log_cmd->add_option("--seed", logs.seed, "PRNG seed")->default_val(1);
  log_cmd->add_option("--name-pool", logs.name_pool,
                      "Draw miss lines' DNS names and URLs from this many (0: all 65536, uniformly)")
      ->default_val(0);
  log_cmd->add_option("--zipf", logs.name_zipf,
                      "With --name-pool: rank r drawn with weight 1/r^S (0: uniformly)")
      ->default_val(0);
  log_cmd->add_option("-o,--output", logs_out, "Output file (default: stdout)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  std::ios::sync_with_stdio(false);
  const auto start = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };

  auto open_out = [](const std::string& path, std::ofstream* file) -> std::ostream* {
    if (path.empty() || path == "-") return &std::cout;
    file->open(path, std::ios::binary | std::ios::trunc);
    return *file ? file : nullptr;
  };

  if (ind_cmd->parsed()) {
    if (!mix_text.empty()) {
      auto mix = iocd::iocgen::IndicatorMix::Parse(mix_text);
      if (!mix.ok()) return Fail(mix.status().message());
      ind.mix = *mix;
    }
    std::ofstream file;
    std::ostream* out = open_out(ind_out, &file);
    if (out == nullptr) return Fail("cannot open " + ind_out);
    auto s = iocd::iocgen::GenerateIndicators(ind, *out);
    if (!s.ok()) return Fail(s.message());
    std::cerr << "iocgen: " << ind.count << " indicators in " << seconds() << " s\n";
    return 0;
  }

  if (size_mb <= 0 && logs.lines == 0) return Fail("logs: give --size-mb or --lines");
  logs.bytes = static_cast<uint64_t>(size_mb * 1e6);
  std::ifstream in(feed_path, std::ios::binary);
  if (!in) return Fail("cannot open " + feed_path);
  std::stringstream content;
  content << in.rdbuf();
  iocd::FeedParseResult parsed = iocd::ParsePlainFeed(content.str());
  std::vector<iocd::Indicator> indicators;
  indicators.reserve(parsed.indicators.size());
  for (auto& p : parsed.indicators) indicators.push_back(std::move(p.indicator));
  parsed = {};
  auto gen = iocd::iocgen::LogGenerator::Create(indicators, logs.seed);
  if (!gen.ok()) return Fail(gen.status().message());
  indicators = {};
  const double setup = seconds();
  std::ofstream file;
  std::ostream* out = open_out(logs_out, &file);
  if (out == nullptr) return Fail("cannot open " + logs_out);
  auto stats = (*gen)->Generate(logs, *out);
  if (!stats.ok()) return Fail(stats.status().message());
  const double total = seconds();
  std::cerr << "iocgen: lines=" << stats->lines << " bytes=" << stats->bytes
            << " hit_lines=" << stats->hit_lines << " candidates=" << (*gen)->hit_candidates()
            << " setup_s=" << setup << " write_s=" << (total - setup) << " mb_per_s="
            << (static_cast<double>(stats->bytes) / 1e6 / std::max(1e-9, total - setup)) << "\n";
  return 0;
}
