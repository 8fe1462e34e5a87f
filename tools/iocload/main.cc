// iocload: syslog load generator and end-to-end latency meter for iocd (see iocload.h).
//   iocload --port 9999 [--connections N] [--threads T] [--framing lf|octet-counted]
//           [--rate EPS] [--duration S | --events N]
//           (--events-file FILE [--max-lines N] | --indicators FEED [--pool-lines N]
//            [--hit-rate R] [--seed S])
//           [--hit-listen IP:PORT | --no-hits] [--control-socket PATH]
//           [--confirm-timeout S] [--latency-log FILE]
// Prints the report (key: value lines) on stdout, progress on stderr. Exit 0 when the run
// completed and drained, 1 when it ran but iocd did not process every event or deliver
// every hit it counted, 2 on usage or connection errors.
#include <CLI/CLI.hpp>
#include <malloc.h>

#include <fstream>
#include <iostream>

#include "iocload.h"

namespace {

int Fail(const std::string& message) {
  std::cerr << "iocload: " << message << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace iocd::iocload;
  CLI::App app{"iocload: send syslog events to iocd and measure events/s and send->hit latency"};
  LoadOptions load;
  SyntheticOptions synth;
  std::string framing = "lf", events_file, latency_log;
  uint64_t max_lines = 0;
  bool no_hits = false;
  app.add_option("--host", load.host, "iocd's syslog-tcp input address (an IP)")->default_val("127.0.0.1");
  app.add_option("--port", load.port, "iocd's syslog-tcp input port")->required();
  app.add_option("--connections", load.connections, "TCP connections")->default_val(1);
  app.add_option("--threads", load.threads, "Sender threads (connections are spread over them)")->default_val(1);
  app.add_option("--framing", framing, "lf or octet-counted")->default_val("lf");
  app.add_option("--rate", load.rate, "Events/s over all connections; 0 = as fast as possible")->default_val(0);
  app.add_option("--duration", load.duration_s, "Seconds to send (0 = until --events)")->default_val(10);
  app.add_option("--events", load.events, "Stop after this many events (0 = no limit)")->default_val(0);
  app.add_option("--events-file", events_file, "Send this file's lines (every line stamped)");
  app.add_option("--max-lines", max_lines, "Read at most this many lines of --events-file")->default_val(0);
  app.add_option("--indicators", synth.indicators_path, "Plain feed for the synthetic mix (iocgen indicators)");
  app.add_option("--pool-lines", synth.lines, "Synthetic lines generated, then cycled")->default_val(100000);
  app.add_option("--hit-rate", synth.hit_rate, "Fraction of synthetic lines that match")->default_val(0.01);
  app.add_option("--seed", synth.seed, "PRNG seed of the synthetic mix")->default_val(1);
  app.add_option("--hit-listen", load.hit_listen, "Receive iocd's json/tcp hit output here")
      ->default_val("127.0.0.1:0");
  app.add_flag("--no-hits", no_hits, "Do not receive hits (no latency figures)");
  app.add_option("--hit-connect-timeout", load.hit_connect_timeout_s,
                 "Seconds to wait for iocd's output to connect; 0 = do not wait")
      ->default_val(30);
  app.add_option("--control-socket", load.control_socket, "iocd's control socket: read its counters");
  app.add_option("--confirm-timeout", load.confirm_timeout_s,
                 "After draining, keep receiving hits until iocd reports none pending, at most this many s "
                 "(0 = close at once; needs --control-socket)")
      ->default_val(0);
  app.add_option("--latency-log", latency_log,
                 "Write every latency sample here: '<send offset s> <latency ms>' per line");
  app.add_option("--drain-timeout", load.drain_timeout_s, "Give up draining after this many idle seconds")
      ->default_val(10);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  auto f = ParseFraming(framing);
  if (!f.ok()) return Fail(f.status().message());
  load.framing = *f;
  load.receive_hits = !no_hits;
  load.keep_samples = !latency_log.empty();
  if (events_file.empty() == synth.indicators_path.empty()) return Fail("give exactly one of --events-file and --indicators");

  auto pool = events_file.empty() ? MakeSyntheticPool(synth) : LoadEventFile(events_file, max_lines);
  if (!pool.ok()) return Fail(pool.status().message());
  std::cerr << "iocload: pool of " << pool->lines.size() << " events (" << pool->hit_lines
            << (pool->hits_known ? " matching" : " stamped") << "), average "
            << pool->bytes / pool->lines.size() << " bytes\n";
  // Building the synthetic pool parsed the indicator feed and built an index of it, then
  // freed millions of small blocks. glibc keeps them in its fastbins and merges them on
  // the next larger allocation from that arena, which took 80-110 ms of CPU in the hit
  // receiver about 35 ms into every run: each hit arriving meanwhile was timed with that
  // stall (the "one ~100 ms stall per run" of docs/PERFORMANCE.md). Merge them now.
  malloc_trim(0);
  auto report = RunLoad(load, *pool, std::cerr);
  if (!report.ok()) return Fail(report.status().message());
  std::cout << FormatReport(*report);
  if (!latency_log.empty()) {
    std::ofstream out(latency_log, std::ios::trunc);
    out << FormatLatencyLog(report->samples);
    if (!out) return Fail("cannot write " + latency_log);
  }
  const bool complete = report->drained && (!report->have_counters || report->daemon_delta.events == report->sent_events);
  return complete ? 0 : 1;
}
