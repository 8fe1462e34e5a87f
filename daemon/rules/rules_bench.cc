// rules_bench: per-source extraction rules (rules/source_rules.h) on real proxy logs.
//
// Workloads, on each log file given (default: squid_access_beats_access1.log and
// loghub_Proxifier_2k.log in $IOCD_SOURCE_DIR/../shared/data/logs, or IOCD_LOGS_DIR):
//   rules20/<file>          Apply() of a source with 20 rules (url, ip, domain, hashes,
//                           context; 8 with a capture group) to every line
//   rules20_replace/<file>  the same source plus 2 replace rules (one with $1) and 2
//                           ignore patterns that never match
// For comparison, extract_bench's extract_text/<file> runs the built-in extractor alone.
// Single-threaded: MB/s (bytes_per_second) is per core. Exits 0 with a message when the
// logs are absent (they live outside the repository).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <iterator>
#include <string>
#include <vector>

#include "extract/field_extractor.h"
#include "rules/source_rules.h"

namespace {

namespace fs = std::filesystem;

// A log file's non-empty lines (views into contents).
struct LogFile {
  std::string contents;
  std::vector<std::string_view> lines;
  int64_t bytes = 0;

  explicit LogFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    contents.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    for (std::string_view line : iocd::SplitLines(contents)) {
      if (!line.empty()) lines.push_back(line), bytes += static_cast<int64_t>(line.size());
    }
  }
};

std::unique_ptr<iocd::SourceRules> BuildSource(bool with_replace) {
  google::protobuf::RepeatedPtrField<iocd::config::Source> sources;
  iocd::config::Source* src = sources.Add();
  src->set_name("proxy");
  static constexpr const char* kRules[][3] = {
      {"client", R"(^\d+\.\d+\s+\d+\s+(\d+\.\d+\.\d+\.\d+))", "ip"},
      {"url", R"((?i)https?://[^ ]+)", "url"},
      {"connect", R"(CONNECT ([a-z0-9.-]+):\d+)", "domain"},
      {"hier", R"(DIRECT/(\d+\.\d+\.\d+\.\d+))", "ip"},
      {"parent", R"((?:PARENT|SIBLING)_HIT/(\d+\.\d+\.\d+\.\d+))", "ip"},
      {"status", R"(TCP_[A-Z_]+/\d{3})", "context"},
      {"method", R"(\b(?:GET|POST|PUT|HEAD|CONNECT|DELETE|OPTIONS)\b)", "context"},
      {"user", R"( ([a-z][a-z0-9_]{2,}) (?:DIRECT|NONE|PARENT))", "context"},
      {"ctype", R"(\b(?:text|image|application)/[a-z0-9.+-]+)", "context"},
      {"md5", R"(\b[0-9a-f]{32}\b)", "md5"},
      {"sha1", R"(\b[0-9a-f]{40}\b)", "sha1"},
      {"sha256", R"(\b[0-9a-f]{64}\b)", "sha256"},
      {"bytes", R"(TCP_\S+ (\d+))", "context"},
      {"host", R"(https?://([a-z0-9.-]+))", "domain"},
      {"ftp", R"(ftp://[^ ]+)", "url"},
      {"any_ip", R"(\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b)", "ip"},
      {"referer", R"(ref=(\S+))", "url"},
      {"query", R"([?&]q=([^& ]+))", "context"},
      {"proxified", R"(\b[a-z0-9-]+(?:\.[a-z0-9-]+)+\.(?:com|net|org|de|ru):\d+)", "domain"},
      {"denied", R"(TCP_DENIED/\d+)", "context"},
  };
  for (const auto& r : kRules) {
    iocd::config::SourceRule* rule = src->add_rules();
    rule->set_name(r[0]);
    rule->set_regex(r[1]);
    rule->set_type(r[2]);
  }
  if (with_replace) {
    iocd::config::SourceReplace* a = src->add_replace();
    a->set_regex("hxxp");
    a->set_with("http");
    iocd::config::SourceReplace* b = src->add_replace();
    b->set_regex(R"((\w)\[\.\](\w))");
    b->set_with("$1.$2");
    src->add_ignore("^#");
    src->add_ignore("healthcheck\\.internal");
  }
  auto rules = iocd::SourceRules::Build(sources);
  if (!rules.ok()) {
    std::fprintf(stderr, "rules_bench: %s\n", rules.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*rules);
}

void ApplyRules(benchmark::State& state, const LogFile* log, const iocd::SourceRules* rules) {
  const iocd::CompiledSource* source = rules->Select("", "");
  iocd::SourceMatch m;
  size_t found = 0;
  for (auto _ : state) {
    for (std::string_view line : log->lines) {
      source->Apply(line, &m);
      found += m.observables.size() + m.context.size();
    }
  }
  state.counters["found_per_line"] =
      static_cast<double>(found) / static_cast<double>(state.iterations()) / static_cast<double>(log->lines.size());
  state.SetBytesProcessed(state.iterations() * log->bytes);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(log->lines.size()));
}

fs::path LogsDir() {
  if (const char* env = std::getenv("IOCD_LOGS_DIR")) return env;
  const char* src = std::getenv("IOCD_SOURCE_DIR");
  return fs::path(src != nullptr ? src : ".") / "../shared/data/logs";
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path dir = LogsDir();
  std::vector<std::pair<std::string, std::unique_ptr<LogFile>>> logs;
  for (const char* name : {"squid_access_beats_access1.log", "loghub_Proxifier_2k.log"}) {
    if (fs::is_regular_file(dir / name)) logs.emplace_back(name, std::make_unique<LogFile>(dir / name));
  }
  if (logs.empty()) {
    std::fprintf(stderr, "rules_bench: no logs in %s (set IOCD_LOGS_DIR or IOCD_SOURCE_DIR); skipped\n",
                 dir.c_str());
    return 0;
  }
  const std::unique_ptr<iocd::SourceRules> plain = BuildSource(false);
  const std::unique_ptr<iocd::SourceRules> replace = BuildSource(true);
  for (const auto& [name, log] : logs) {
    benchmark::RegisterBenchmark(("rules20/" + name).c_str(), ApplyRules, log.get(), plain.get());
    benchmark::RegisterBenchmark(("rules20_replace/" + name).c_str(), ApplyRules, log.get(), replace.get());
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
