// output_bench: hits/s per format (rendering only) and per output with the durable spool
// on (Submit -> RocksDB spool -> delivery thread -> file, until every hit is delivered).
// Not part of ctest. Run: <build>/bin/output_bench (figures in docs/PERFORMANCE.md).
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/temp_dir.h"
#include "output/hit_format.h"
#include "output/spooled_output.h"
#include "spool/hit_spool.h"

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

// One spooled output `config`; each iteration opens a fresh spool (fsynced when `sync`),
// has `threads` threads submit hit_count typical hits (interleaved) and, when
// `until_delivered`, waits until the output has delivered them all. Only the submitting
// (and delivering) is timed.
void RunSpooled(benchmark::State& state, iocd::config::Output config, int threads, bool until_delivered,
                std::chrono::milliseconds backoff_base, const std::string& label, bool sync = false,
                int hit_count = 20000) {
  const auto total = static_cast<uint64_t>(hit_count);
  std::vector<std::shared_ptr<const iocd::hit::Hit>> hits;
  for (int i = 0; i < hit_count; ++i) hits.push_back(TypicalHit(i));
  for (auto _ : state) {
    state.PauseTiming();
    TempDir dir("iocd-bench");
    SpooledOutputsOptions o;
    o.spool_path = dir.path() + "/spool";
    if (config.protocol() == iocd::config::OUTPUT_PROTOCOL_FILE) config.set_path(dir.path() + "/hits.log");
    o.outputs = {config};
    o.backoff_base = backoff_base;
    o.sync = sync;
    // TCP counts a hit delivered confirm_delay (default 2 s) after its bytes were
    // acknowledged, to catch a reset that follows; that adds latency, not cost, so the
    // benchmark measures throughput without it.
    o.confirm_delay = std::chrono::milliseconds(0);
    auto out = SpooledOutputs::Open(o);
    state.ResumeTiming();
    std::vector<std::thread> submitters;
    for (int t = 0; t < threads; ++t) {
      submitters.emplace_back([&, t] {
        for (int i = t; i < hit_count; i += threads) (*out)->Submit(hits[static_cast<size_t>(i)]);
      });
    }
    for (auto& th : submitters) th.join();
    while (until_delivered && (*out)->output_stats()[0].second.delivered < total) std::this_thread::yield();
    state.PauseTiming();
    if ((*out)->spool_stats().next_seq != total) state.SkipWithError("hits missing from the spool");
    (*out)->Shutdown(std::chrono::steady_clock::now());
    out = Status::Internal("closed");
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * hit_count);
  state.SetLabel(label);
}

iocd::config::Output FileOutput(iocd::config::OutputFormat format) {
  auto config = Config(format);
  config.set_protocol(iocd::config::OUTPUT_PROTOCOL_FILE);
  return config;
}

// One thread submits to a spooled file output, until every hit is delivered.
void BM_SpooledFile(benchmark::State& state) {
  const auto format = static_cast<iocd::config::OutputFormat>(state.range(0));
  RunSpooled(state, FileOutput(format), 1, true, std::chrono::milliseconds(100),
             iocd::config::OutputFormat_Name(format) + " file, spool on");
}
BENCHMARK(BM_SpooledFile)->DenseRange(1, 5)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

// As BM_SpooledFile (json), with the hits submitted by range(0) threads at once, as the
// daemon's input threads do: concurrent submitters share spool writes (group commit).
void BM_SpooledFileThreads(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  RunSpooled(state, FileOutput(iocd::config::OUTPUT_FORMAT_JSON), threads, true, std::chrono::milliseconds(100),
             "json file, spool on, " + std::to_string(threads) + " submitting threads");
}
BENCHMARK(BM_SpooledFileThreads)->Arg(1)->Arg(4)->Arg(16)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

// A receiver on 127.0.0.1 that reads and discards everything: TCP (every connection, one
// after another) or UDP datagrams, on its own thread, until destroyed.
class DrainReceiver {
 public:
  explicit DrainReceiver(int type) : type_(type) {
    fd_ = ::socket(AF_INET, type, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len);
    if (type == SOCK_STREAM) ::listen(fd_, 16);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    if (type == SOCK_DGRAM) {
      const int size = 8 << 20;
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    }
    thread_ = std::thread([this] { Run(); });
  }
  ~DrainReceiver() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  void Run() {
    std::vector<char> buf(1 << 16);
    while (!stop_) {
      if (type_ == SOCK_DGRAM) {
        if (::recv(fd_, buf.data(), buf.size(), 0) < 0 && stop_) return;
        continue;
      }
      int conn = ::accept(fd_, nullptr, nullptr);
      if (conn < 0) return;
      while (::read(conn, buf.data(), buf.size()) > 0) {
      }
      ::close(conn);
    }
  }

  int type_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// One thread submits json hits to a spooled tcp or udp output whose receiver reads and
// discards them, until every hit is delivered (tcp: written and acknowledged by the peer's
// kernel; udp: sent).
void BM_SpooledNetwork(benchmark::State& state) {
  const bool tcp = state.range(0) == 0;
  DrainReceiver receiver(tcp ? SOCK_STREAM : SOCK_DGRAM);
  auto config = Config(iocd::config::OUTPUT_FORMAT_JSON);
  config.set_protocol(tcp ? iocd::config::OUTPUT_PROTOCOL_TCP : iocd::config::OUTPUT_PROTOCOL_UDP);
  config.set_address(receiver.address());
  RunSpooled(state, config, 1, true, std::chrono::milliseconds(100),
             std::string("json ") + (tcp ? "tcp" : "udp") + ", spool on");
}
BENCHMARK(BM_SpooledNetwork)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

// The cost of Submit() alone (what ingest pays per hit): range(0) threads submit to a
// spooled output whose receiver is down (connection refused, 10 s backoff), so nothing is
// delivered meanwhile.
void BM_SpoolSubmit(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  auto config = Config(iocd::config::OUTPUT_FORMAT_JSON);
  config.set_protocol(iocd::config::OUTPUT_PROTOCOL_TCP);
  config.set_address("127.0.0.1:1");
  RunSpooled(state, config, threads, false, std::chrono::seconds(10),
             "spool append only, " + std::to_string(threads) + " submitting threads");
}
BENCHMARK(BM_SpoolSubmit)->Arg(1)->Arg(4)->Arg(16)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

// As BM_SpoolSubmit with `spool: {sync: true}` (every spool write fsynced), 2000 hits:
// where group commit matters most, since one fsync then covers a whole group.
void BM_SpoolSubmitSync(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  auto config = Config(iocd::config::OUTPUT_FORMAT_JSON);
  config.set_protocol(iocd::config::OUTPUT_PROTOCOL_TCP);
  config.set_address("127.0.0.1:1");
  RunSpooled(state, config, threads, false, std::chrono::seconds(10),
             "spool append only, sync, " + std::to_string(threads) + " submitting threads", /*sync=*/true, 2000);
}
BENCHMARK(BM_SpoolSubmitSync)->Arg(1)->Arg(16)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();


// A backlog confirmed at once: one Ack moves the consumer's cursor over range(0) stored
// records (a SIEM back after an outage confirms a burst of resent hits), while another
// thread appends one 700-byte record at a time, as ingest's Submit does. Counters: the
// Ack's time, and the longest and the mean Append from just before the Ack to its end.
void BM_SpoolAppendDuringAck(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  const std::string value(700, 'h');
  double ack_ms = 0, longest_us = 0, append_us = 0;
  uint64_t appends = 0;
  for (auto _ : state) {
    state.PauseTiming();
    TempDir dir("iocd-bench");
    SpoolOptions options;
    options.path = dir.path() + "/spool";
    options.consumers = {"siem"};
    options.max_records = 0;
    options.max_bytes = 0;
    auto spool = HitSpool::Open(options);
    if (!spool.ok()) {
      state.SkipWithError(spool.status().ToString().c_str());
      return;
    }
    HitSpool& s = **spool;
    const std::vector<std::string_view> batch(1000, value);
    for (uint64_t i = 0; i < n; i += batch.size()) (void)s.AppendBatch(batch);
    state.ResumeTiming();
    std::atomic<bool> started{false}, done{false};
    std::thread appender([&] {
      while (!done.load(std::memory_order_acquire)) {
        const auto t0 = std::chrono::steady_clock::now();
        (void)s.Append(value);
        const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
        longest_us = std::max(longest_us, us);
        append_us += us;
        ++appends;
        started.store(true, std::memory_order_release);
      }
    });
    while (!started.load(std::memory_order_acquire)) std::this_thread::yield();
    const auto t0 = std::chrono::steady_clock::now();
    (void)s.Ack("siem", n);
    ack_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    done.store(true, std::memory_order_release);
    appender.join();
  }
  const double iterations = static_cast<double>(state.iterations());
  state.counters["ack_ms"] = ack_ms / iterations;
  state.counters["append_max_us"] = longest_us;
  state.counters["append_mean_us"] = appends == 0 ? 0 : append_us / static_cast<double>(appends);
}
BENCHMARK(BM_SpoolAppendDuringAck)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond)->Iterations(5)->UseRealTime();

}  // namespace
}  // namespace iocd

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
