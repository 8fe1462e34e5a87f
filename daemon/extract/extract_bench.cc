// extract_bench: parse + field-aware extraction throughput on real log files.
//
// Workloads, one per file in the log directory (default: $IOCD_SOURCE_DIR/../shared/data/logs,
// or IOCD_LOGS_DIR):
//   parse_extract/<file>  EventParser::Parse + ExtractFromEvent on every line (what the
//                         daemon does per event)
//   extract_text/<file>   ExtractObservables over each whole line (the free-text scanner
//                         alone, no parsing)
// Single-threaded: MB/s (bytes_per_second) is per core. Lines are pre-split; framing is
// not measured. IOCD_EXTRACT_ISA=portable|sse2|ssse3|avx2|avx512 forces the extractor's chunk
// classifier (extract/chunk_classifier.h) instead of the best one the CPU has.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "extract/chunk_classifier.h"
#include "extract/field_extractor.h"
#include "parse/event_parser.h"

namespace {

namespace fs = std::filesystem;

struct LogFile {
  std::string contents;
  std::vector<std::string_view> lines;
  int64_t bytes = 0;  // sum of line lengths
};

std::unique_ptr<LogFile> Load(const fs::path& path) {
  auto log = std::make_unique<LogFile>();
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  log->contents = s.str();
  for (std::string_view line : iocd::SplitLines(log->contents)) {
    if (line.empty()) continue;
    log->lines.push_back(line);
    log->bytes += static_cast<int64_t>(line.size());
  }
  return log;
}

void ParseExtract(benchmark::State& state, const LogFile* log) {
  iocd::EventParser parser;
  iocd::ParsedEvent event;
  std::vector<iocd::FieldObservable> found;
  size_t observables = 0;
  for (auto _ : state) {
    for (std::string_view line : log->lines) {
      parser.Parse(line, &event);
      found.clear();
      iocd::ExtractFromEvent(event, &found);
      observables += found.size();
    }
  }
  benchmark::DoNotOptimize(observables);
  state.SetBytesProcessed(state.iterations() * log->bytes);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(log->lines.size()));
}

void ExtractText(benchmark::State& state, const LogFile* log) {
  std::vector<iocd::Observable> found;
  size_t observables = 0;
  for (auto _ : state) {
    for (std::string_view line : log->lines) {
      found.clear();
      iocd::ExtractObservables(line, &found);
      observables += found.size();
    }
  }
  benchmark::DoNotOptimize(observables);
  state.SetBytesProcessed(state.iterations() * log->bytes);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(log->lines.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (const char* isa = std::getenv("IOCD_EXTRACT_ISA")) {
    const std::string name = isa;
    const iocd::ChunkIsa chosen = name == "portable" ? iocd::ChunkIsa::kPortable
                                  : name == "sse2"   ? iocd::ChunkIsa::kSse2
                                  : name == "ssse3"  ? iocd::ChunkIsa::kSsse3
                                  : name == "avx2"   ? iocd::ChunkIsa::kAvx2
                                                     : iocd::ChunkIsa::kAvx512;
    if (!iocd::SetChunkIsaForTesting(chosen)) {
      std::fprintf(stderr, "IOCD_EXTRACT_ISA=%s: not available on this CPU\n", isa);
      return 1;
    }
  }
  fs::path dir;
  if (const char* env = std::getenv("IOCD_LOGS_DIR")) {
    dir = env;
  } else {
    const char* src = std::getenv("IOCD_SOURCE_DIR");
    dir = fs::path(src != nullptr ? src : ".") / ".." / "shared" / "data" / "logs";
  }
  std::vector<std::unique_ptr<LogFile>> logs;
  std::error_code ec;
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  if (files.empty()) {
    std::fprintf(stderr, "no log files in %s (set IOCD_LOGS_DIR or IOCD_SOURCE_DIR)\n", dir.c_str());
    return 1;
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& path : files) {
    logs.push_back(Load(path));
    const LogFile* log = logs.back().get();
    std::string name = path.filename().string();
    benchmark::RegisterBenchmark(("parse_extract/" + name).c_str(), ParseExtract, log);
    benchmark::RegisterBenchmark(("extract_text/" + name).c_str(), ExtractText, log);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
