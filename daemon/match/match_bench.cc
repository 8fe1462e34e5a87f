// match_bench: micro-benchmarks of IndicatorIndex on one core (Google Benchmark; not run by
// ctest). Each index holds IOCD_BENCH_N (default 1,000,000) random indicators of one type;
// observables are drawn from the indexed set (hit) or from the same generator with a
// different seed (miss). Workloads:
//   match_<type>_hit / _miss          one Lookup per observable
//   match_<type>_hit_batch / _miss_batch  LookupBatch over 1024 observables (prefetching)
//   match_cidr4 / match_cidr4_batch   random IPv4 addresses against N cidr4 prefixes
//   build_<type>                      IndexBuilder::Add of N indicators + Build
// Counters: items_per_second (lookups/s), bytes_per_indicator (ApproximateMemoryUsage / N),
// and on build_<type>: build_seconds (wall, IndexBuilder::Add of N + Build), build_cpu_seconds
// (the same on this thread's CPU clock: what it costs one core when the machine is shared) and
// rss_bytes_per_indicator (the process's resident set after the build minus before it, with
// the generated indicators already resident and freed heap returned with malloc_trim, / N);
// on build_<type> and the _batch workloads huge_MiB, the process's anonymous memory in
// transparent huge pages when the numbers were taken (to tell a slow run caused by 4 KiB
// pages from one caused by other processes: see docs/PERFORMANCE.md, match round 4).
// The whole issue-4 table (every type at 1M and 10M, one process per type and size):
//   daemon/match/match_table.sh build-rel/bin/match_bench
//   cmake --build build -j2 --target match_bench && build/bin/match_bench
//   IOCD_BENCH_N=10000000 build/bin/match_bench --benchmark_filter='match_(ipv4|sha256)'
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <malloc.h>
#include <unistd.h>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "indicator/indicator.h"
#include "match/indicator_index.h"

namespace iocd {
namespace {

size_t BenchSize() {
  const char* n = std::getenv("IOCD_BENCH_N");
  return n != nullptr ? static_cast<size_t>(std::strtoull(n, nullptr, 10)) : 1000000;
}

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t v = rng();
    for (size_t j = 0; j < 8 && i + j < n; ++j) out[i + j] = static_cast<char>(v >> (8 * j));
  }
  return out;
}

std::string RandomLabel(std::mt19937_64& rng, size_t min, size_t max) {
  static constexpr char kAlpha[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  const size_t n = min + rng() % (max - min + 1);
  std::string out;
  for (size_t i = 0; i < n; ++i) out.push_back(kAlpha[rng() % 36]);
  return out;
}

Indicator RandomIndicator(IndicatorType type, std::mt19937_64& rng) {
  static const char* kTlds[] = {".com", ".net", ".org", ".ru", ".info", ".co.uk", ".top", ".xyz"};
  switch (type) {
    case IndicatorType::kIpv4: return {type, RandomBytes(rng, 4)};
    case IndicatorType::kIpv6: {
      std::string key = "\x20\x01\x0d\xb8" + RandomBytes(rng, 12);
      return {type, key};
    }
    case IndicatorType::kMd5: return {type, RandomBytes(rng, 16)};
    case IndicatorType::kSha1: return {type, RandomBytes(rng, 20)};
    case IndicatorType::kSha256: return {type, RandomBytes(rng, 32)};
    case IndicatorType::kSha512: return {type, RandomBytes(rng, 64)};
    case IndicatorType::kDomain:
      return {type, RandomLabel(rng, 3, 8) + "." + RandomLabel(rng, 5, 12) + kTlds[rng() % 8]};
    case IndicatorType::kUrl:
      return {type, RandomLabel(rng, 5, 12) + kTlds[rng() % 8] + "/" + RandomLabel(rng, 3, 8) + "/" +
                        RandomLabel(rng, 4, 10) + ".php"};
    default: return {type, {}};
  }
}

// A random cidr4 with a feed-like length mix: 75% /24, 15% /25-/31, 9% /16-/23, 1% /8-/15.
Indicator RandomCidr4(std::mt19937_64& rng) {
  const uint64_t r = rng() % 100;
  const int len = r < 75 ? 24 : r < 90 ? 25 + static_cast<int>(rng() % 7)
                         : r < 99 ? 16 + static_cast<int>(rng() % 8) : 8 + static_cast<int>(rng() % 8);
  const auto addr = static_cast<uint32_t>(rng());
  const uint32_t masked = addr & (~uint32_t{0} << (32 - len));
  std::string key = {static_cast<char>(masked >> 24), static_cast<char>(masked >> 16),
                     static_cast<char>(masked >> 8), static_cast<char>(masked), static_cast<char>(len)};
  return {IndicatorType::kCidr4, key};
}

struct Fixture {
  std::shared_ptr<const IndicatorIndex> index;
  std::vector<Indicator> hits;
  std::vector<Indicator> misses;
  double build_seconds = 0;
  double build_cpu_seconds = 0;
  double rss_delta_bytes = 0;
};

// CPU seconds this thread has run: a build's cost on one core even when other processes
// share the machine (wall seconds then also count the time spent waiting for a core).
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Resident set of this process in bytes (/proc/self/statm), after handing freed heap back.
double ResidentBytes() {
  malloc_trim(0);
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

// One fixture per type, built on first use and kept for every benchmark of that type.
const Fixture& GetFixture(IndicatorType type) {
  static std::map<IndicatorType, std::unique_ptr<Fixture>> cache;
  auto& slot = cache[type];
  if (slot) return *slot;
  slot = std::make_unique<Fixture>();
  const size_t n = BenchSize();
  std::mt19937_64 rng(42);
  std::vector<Indicator> all;
  all.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    all.push_back(type == IndicatorType::kCidr4 ? RandomCidr4(rng) : RandomIndicator(type, rng));
  }
  const double rss_before = ResidentBytes();
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = ThreadCpuSeconds();
  {
    IndexBuilder builder;
    for (size_t i = 0; i < n; ++i) (void)builder.Add(all[i], static_cast<FeedId>(i % 7));
    slot->index = std::move(builder).Build();
  }
  slot->build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  slot->build_cpu_seconds = ThreadCpuSeconds() - cpu_start;
  slot->rss_delta_bytes = ResidentBytes() - rss_before;

  constexpr size_t kObservables = 1 << 20;
  std::mt19937_64 pick(7), other(1234567);
  for (size_t i = 0; i < kObservables; ++i) {
    if (type == IndicatorType::kCidr4) {
      slot->hits.push_back({IndicatorType::kIpv4, RandomBytes(other, 4)});
    } else {
      slot->hits.push_back(all[pick() % n]);
      slot->misses.push_back(RandomIndicator(type, other));
    }
  }
  return *slot;
}

// The process's anonymous memory in transparent huge pages, in MiB (AnonHugePages of
// /proc/self/smaps_rollup; 0 where the kernel does not report it): shows whether the
// index's arrays got 2 MiB pages when the lookups run.
double AnonHugeMiB() {
  std::ifstream rollup("/proc/self/smaps_rollup");
  std::string field;
  double kib = 0;
  while (rollup >> field) {
    if (field == "AnonHugePages:") {
      rollup >> kib;
      break;
    }
  }
  return kib / 1024;
}

void SetCounters(benchmark::State& state, const Fixture& f) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["bytes_per_indicator"] =
      static_cast<double>(f.index->ApproximateMemoryUsage()) / static_cast<double>(f.index->size());
  state.counters["indicators"] = static_cast<double>(f.index->size());
}

void BM_Lookup(benchmark::State& state, IndicatorType type, bool hit) {
  const Fixture& f = GetFixture(type);
  const std::vector<Indicator>& obs = hit ? f.hits : f.misses;
  std::vector<IndexMatch> out;
  size_t i = 0, matched = 0;
  for (auto _ : state) {
    out.clear();
    f.index->Lookup(obs[i], &out);
    matched += out.size();
    i = (i + 1) & (obs.size() - 1);
  }
  benchmark::DoNotOptimize(matched);
  SetCounters(state, f);
  state.counters["matches_per_lookup"] =
      static_cast<double>(matched) / static_cast<double>(std::max<int64_t>(1, state.iterations()));
}

void BM_LookupBatch(benchmark::State& state, IndicatorType type, bool hit) {
  const Fixture& f = GetFixture(type);
  const std::vector<Indicator>& obs = hit ? f.hits : f.misses;
  constexpr size_t kBatch = 1024;
  std::vector<IndexMatch> out;
  std::vector<size_t> ends;
  size_t i = 0, matched = 0;
  for (auto _ : state) {
    out.clear();
    ends.clear();
    f.index->LookupBatch(std::span<const Indicator>(obs).subspan(i, kBatch), &out, &ends);
    matched += out.size();
    i = (i + kBatch) & (obs.size() - 1);
  }
  benchmark::DoNotOptimize(matched);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  state.counters["huge_MiB"] = AnonHugeMiB();
  state.counters["bytes_per_indicator"] =
      static_cast<double>(f.index->ApproximateMemoryUsage()) / static_cast<double>(f.index->size());
}

void BM_Build(benchmark::State& state, IndicatorType type) {
  const Fixture& f = GetFixture(type);
  for (auto _ : state) {
  }
  state.counters["build_seconds"] = f.build_seconds;
  state.counters["build_cpu_seconds"] = f.build_cpu_seconds;
  state.counters["huge_MiB"] = AnonHugeMiB();
  state.counters["rss_bytes_per_indicator"] = f.rss_delta_bytes / static_cast<double>(f.index->size());
  state.counters["indicators"] = static_cast<double>(f.index->size());
  state.counters["bytes_per_indicator"] =
      static_cast<double>(f.index->ApproximateMemoryUsage()) / static_cast<double>(f.index->size());
}

void RegisterAll() {
  const std::pair<const char*, IndicatorType> kTypes[] = {
      {"ipv4", IndicatorType::kIpv4}, {"ipv6", IndicatorType::kIpv6},     {"md5", IndicatorType::kMd5},
      {"sha1", IndicatorType::kSha1}, {"sha256", IndicatorType::kSha256}, {"sha512", IndicatorType::kSha512},
      {"domain", IndicatorType::kDomain}, {"url", IndicatorType::kUrl},
  };
  for (const auto& [name, type] : kTypes) {
    const std::string n = name;
    const IndicatorType t = type;
    benchmark::RegisterBenchmark(("build_" + n).c_str(), [t](benchmark::State& s) { BM_Build(s, t); })
        ->Iterations(1);
    benchmark::RegisterBenchmark(("match_" + n + "_hit").c_str(),
                                 [t](benchmark::State& s) { BM_Lookup(s, t, true); });
    benchmark::RegisterBenchmark(("match_" + n + "_miss").c_str(),
                                 [t](benchmark::State& s) { BM_Lookup(s, t, false); });
    benchmark::RegisterBenchmark(("match_" + n + "_hit_batch").c_str(),
                                 [t](benchmark::State& s) { BM_LookupBatch(s, t, true); });
    benchmark::RegisterBenchmark(("match_" + n + "_miss_batch").c_str(),
                                 [t](benchmark::State& s) { BM_LookupBatch(s, t, false); });
  }
  benchmark::RegisterBenchmark("build_cidr4", [](benchmark::State& s) { BM_Build(s, IndicatorType::kCidr4); })
      ->Iterations(1);
  benchmark::RegisterBenchmark("match_cidr4",
                               [](benchmark::State& s) { BM_Lookup(s, IndicatorType::kCidr4, true); });
  benchmark::RegisterBenchmark("match_cidr4_batch",
                               [](benchmark::State& s) { BM_LookupBatch(s, IndicatorType::kCidr4, true); });
}

}  // namespace
}  // namespace iocd

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  iocd::RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
