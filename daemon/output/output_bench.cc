// output_bench: hits/s per format (rendering only) and per output with the durable spool
// on (Submit -> RocksDB spool -> delivery thread -> file, until every hit is delivered).
// Not part of ctest. Run: build/daemon/output/output_bench (figures in docs/PERFORMANCE.md).
#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "common/temp_dir.h"
#include "output/hit_format.h"
#include "output/spooled_output.h"

namespace iocd {
namespace {

// A typical hit: one IPv4 observable, two enrichments with a little context, a 200-byte event.
std::shared_ptr<iocd::hit::Hit> TypicalHit(int i) {
  auto hit = std::make_shared<iocd::hit::Hit>();
  hit->set_id("00065c1e2a7b3f0001a2b3c4" + std::to_string(1000000000 + i));
  hit->set_detected_unix_us(1795317947123456 + i);
  hit->set_input("siem");
  hit->set_sender("127.0.0.1:51234");
  hit->set_syslog_host("fw01");
  hit->set_syslog_app("kernel");
  std::string raw = "<13>Nov 22 03:25:47 fw01 kernel: DROP IN=eth0 OUT= SRC=198.51.100.7 DST=10.0.0.5 LEN=60 TOS=0x00 "
                    "PREC=0x00 TTL=52 ID=54321 DF PROTO=TCP SPT=44321 DPT=443 WINDOW=64240 RES=0x00 SYN URGP=0";
  hit->set_raw_event(raw);
  hit->set_raw_event_size(raw.size());
  hit->set_observable("198.51.100.7");
  hit->set_observable_type("ipv4");
  hit->set_field("message");
  for (const char* feed : {"abuse", "c2"}) {
    auto* e = hit->add_enrichments();
    e->set_feed(feed);
    e->set_indicator("198.51.100.0/24");
    e->set_indicator_type("cidr4");
    e->set_confidence(80);
    e->add_tags("botnet");
    e->set_threat("Emotet");
    auto* c = e->add_context();
    c->set_key("threat");
    c->set_value("Emotet");
    c = e->add_context();
    c->set_key("first_seen");
    c->set_value("2024-05-01");
  }
  return hit;
}

iocd::config::Output Config(iocd::config::OutputFormat format) {
  iocd::config::Output o;
  o.set_name("bench");
  o.set_format(format);
  o.set_line_template("%Date% %Category% %MatchedIndicator% %SourceId% %RecordContext%");
  return o;
}

void BM_Format(benchmark::State& state) {
  const auto format = static_cast<iocd::config::OutputFormat>(state.range(0));
  auto f = MakeHitFormatter(Config(format));
  auto hit = TypicalHit(1);
  std::string out;
  size_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    (*f)->Format(*hit, &out);
    bytes += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetLabel(iocd::config::OutputFormat_Name(format));
}
BENCHMARK(BM_Format)->DenseRange(1, 5);

// Submit n hits to a spooled file output and wait until all are delivered.
void BM_SpooledFile(benchmark::State& state) {
  const auto format = static_cast<iocd::config::OutputFormat>(state.range(0));
  constexpr int kHits = 20000;
  std::vector<std::shared_ptr<const iocd::hit::Hit>> hits;
  for (int i = 0; i < kHits; ++i) hits.push_back(TypicalHit(i));
  for (auto _ : state) {
    state.PauseTiming();
    TempDir dir("iocd-bench");
    SpooledOutputsOptions o;
    o.spool_path = dir.path() + "/spool";
    auto config = Config(format);
    config.set_protocol(iocd::config::OUTPUT_PROTOCOL_FILE);
    config.set_path(dir.path() + "/hits.log");
    o.outputs = {config};
    auto out = SpooledOutputs::Open(o);
    state.ResumeTiming();
    for (const auto& h : hits) (*out)->Submit(h);
    while ((*out)->output_stats()[0].second.delivered < kHits) std::this_thread::yield();
    state.PauseTiming();
    (*out)->Shutdown(std::chrono::steady_clock::now());
    out = Status::Internal("closed");
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kHits);
  state.SetLabel(iocd::config::OutputFormat_Name(format) + " file, spool on");
}
BENCHMARK(BM_SpooledFile)->DenseRange(1, 5)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace
}  // namespace iocd

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
