// iocd: threat-intelligence matching daemon. Parses the command line and hands over to
// app/Daemon; everything else lives in the components under daemon/.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "app/daemon.h"
#include "config/config.h"
#include "rules/source_rules.h"

namespace {

iocd::Result<iocd::config::Config> Load(const std::string& path) {
  return path.empty() ? iocd::DefaultConfig() : iocd::LoadConfigFile(path);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"iocd: matches syslog events against threat-intelligence feeds and forwards enriched hits"};
  std::string config_path;
  std::string check_path;
  bool print_default = false;
  app.add_option("-c,--config", config_path, "YAML config file (default: the embedded default config)");
  app.add_option("--check-config", check_path, "Validate a config file and exit (0 if valid)");
  app.add_flag("--print-default-config", print_default, "Print the embedded default config and exit");
  app.set_version_flag("--version", "iocd 0.1.0");
  CLI11_PARSE(app, argc, argv);
  // A reader of stdout that goes away must not kill the daemon; writes then fail and count.
  std::signal(SIGPIPE, SIG_IGN);

  // Logs go to stderr: stdout carries hits for the stdout output.
  auto logger = spdlog::stderr_color_mt("iocd");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");

  if (print_default) {
    std::cout << iocd::EmbeddedDefaultConfig();
    return 0;
  }
  if (!check_path.empty()) {
    auto loaded = iocd::LoadConfigFileWithPositions(check_path);
    if (!loaded.ok()) {
      std::cerr << loaded.status().message() << "\n";
      return 1;
    }
    // Source rule patterns are compiled too, so a bad regex is caught here with its line.
    if (auto rules = iocd::SourceRules::Build(*loaded); !rules.ok()) {
      std::cerr << rules.status().message() << "\n";
      return 1;
    }
    std::cout << check_path << ": OK\n";
    return 0;
  }

  auto config = Load(config_path);
  if (!config.ok()) {
    std::cerr << "iocd: " << config.status().message() << "\n";
    return 1;
  }
  spdlog::set_level(spdlog::level::from_str(config->logging().level()));
  spdlog::info("iocd 0.1.0 starting with {}", config_path.empty() ? "the embedded default config" : config_path);

  iocd::Daemon::Options options;
  options.config = std::move(config).value();
  options.config_path = config_path;
  auto daemon = iocd::Daemon::Create(std::move(options));
  if (!daemon.ok()) {
    spdlog::critical("cannot start: {}", daemon.status().ToString());
    return 1;
  }
  return (*daemon)->Run();
}
