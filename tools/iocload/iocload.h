// iocload: a syslog load generator for iocd and the end-to-end events/s + latency
// measurement (docs/PERFORMANCE.md, "End-to-end: events/s and latency").
//
// What it does: RunLoad opens `connections` TCP connections to iocd's syslog-tcp input and
// sends events from an EventPool (a file's lines, or a synthetic mix built with iocgen's
// LogGenerator with an exact hit rate against an indicator file), framed LF or
// octet-counted (RFC 6587), at a target rate (0 = as fast as the sockets take them) for a
// duration or an event count. At the same time it is the receiver of one iocd hit output
// (`protocol: tcp, format: json, framing: lf`): every event that may produce a hit carries a
// stamp token (AppendStamp: connection, sequence number, send time on CLOCK_MONOTONIC),
// which iocd copies into the hit's `event.original`; FindStamp finds it again, so the
// latency send -> hit received is measured per hit. That is an upper bound on iocd's own
// receipt -> hit emitted (it adds the sender's socket buffer and the loopback hops).
// Before and after the run it reads iocd's counters over the control socket (`status`,
// docs/control.md) and reports the difference: events processed must equal events sent.
//
// The receiver reserves room for the expected hits before sending starts, and main()
// hands freed memory back to the allocator before the run (malloc_trim), so the receiver
// does not allocate, or pay for merging the pool builder's freed blocks, while it times
// hits (that once cost one ~100 ms stall per run; docs/PERFORMANCE.md, seventh session).
//
// Pure parts (framing, stamps, pacing, percentiles, the metrics and status text parsers,
// the line splitter for the hit stream, the pools) have no sockets and are unit-tested on
// bytes; RunLoad is the only part that does I/O.
//
// Ownership: an EventPool owns its lines; RunLoad borrows the pool for its duration.
// Thread safety: the pure functions are reentrant; Pacer and LineSplitter are used by one
// thread. RunLoad starts its own sender threads and one hit receiver thread and joins them
// before it returns.
// Errors: bad options, unreadable files and connection failures are InvalidArgument or
// IoError values naming the file or address. A hit line without a stamp, or with a stamp
// of an event never sent, is counted (LoadReport::unstamped_hits), never fatal.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace iocd::iocload {

enum class Framing { kLf, kOctetCounted };

// "lf" or "octet-counted".
Result<Framing> ParseFraming(std::string_view text);

// Appends `event` framed for syslog-tcp: event + "\n", or "<decimal length> " + event.
void AppendFramed(Framing framing, std::string_view event, std::string* out);

// The token put at the end of an event so its hits can be traced back to it:
// " iocload=c<conn>n<seq>t<send_ns>", decimal. Letters separate the numbers so the token
// is never an observable (no dots, not all hex).
struct Stamp {
  uint32_t conn = 0;
  uint64_t seq = 0;
  int64_t send_ns = 0;
  bool operator==(const Stamp&) const = default;
};
void AppendStamp(const Stamp& stamp, std::string* out);
// The last well-formed stamp in `text` (a hit's JSON line), or nullopt.
std::optional<Stamp> FindStamp(std::string_view text);

// Paces a sender at `rate` events/s from `start_ns`: DueBy(now) is how many events should
// have been sent by then. A rate of 0 means unpaced (DueBy is then meaningless; check
// unpaced()). NextDueNs(n) is when event number n (0-based) is due.
class Pacer {
 public:
  Pacer(double rate, int64_t start_ns) : rate_(rate), start_ns_(start_ns) {}
  bool unpaced() const { return rate_ <= 0; }
  uint64_t DueBy(int64_t now_ns) const;
  int64_t NextDueNs(uint64_t n) const;

 private:
  double rate_;
  int64_t start_ns_;
};

// Latency percentiles by the nearest-rank method over every sample (no histogram
// rounding). An empty sample set gives all zeros.
struct LatencySummary {
  uint64_t count = 0;
  int64_t p50_ns = 0;
  int64_t p99_ns = 0;
  int64_t p999_ns = 0;  // p99.9
  int64_t max_ns = 0;
};
LatencySummary Summarize(std::vector<int64_t> samples_ns);

// One latency sample: when its event was sent (ns after the run's first send) and how long
// until its first hit arrived. Kept per hit event so slow samples can be placed in time.
struct LatencySample {
  int64_t send_offset_ns = 0;
  int64_t latency_ns = 0;
  bool operator==(const LatencySample&) const = default;
};
// The `n` slowest samples, slowest first (ties: earlier send first).
std::vector<LatencySample> Slowest(const std::vector<LatencySample>& samples, size_t n);
// "<send offset s> <latency ms>" per line, in the order given (for plotting).
std::string FormatLatencyLog(const std::vector<LatencySample>& samples);

// iocd's event counters as printed by the control command `status`
// ("events: N, observables: N, hits: N, suppressed: N").
struct DaemonCounters {
  uint64_t events = 0;
  uint64_t observables = 0;
  uint64_t hits = 0;
  uint64_t suppressed = 0;
};
// InvalidArgument naming what is missing when the text has no well-formed "events:" line.
Result<DaemonCounters> ParseStatusCounters(std::string_view status_text);
// "index: N indicators" from the same text.
Result<uint64_t> ParseStatusIndexSize(std::string_view status_text);
// The sum over every sample of metric `name` in a Prometheus text answer (control command
// `metrics`: "name{labels} value" or "name value" lines; comments skipped). NotFound when
// no sample of it is there, InvalidArgument naming the line when a value is not a number.
Result<uint64_t> SumMetric(std::string_view metrics_text, std::string_view name);

// Splits a byte stream into LF-terminated lines (a trailing CR is kept; JSON hits have
// none). Bytes after the last LF wait for the next Feed.
class LineSplitter {
 public:
  void Feed(std::string_view bytes, const std::function<void(std::string_view line)>& on_line);
  size_t pending_bytes() const { return partial_.size(); }

 private:
  std::string partial_;
};

// The events to send, cycled in order. `may_hit[i]` says whether line i gets a stamp: for
// a synthetic pool exactly the lines built to match an indicator (hits_known = true); for
// a file every line (hits_known = false: which lines match is iocd's to say).
struct EventPool {
  std::vector<std::string> lines;  // without framing or line end
  std::vector<bool> may_hit;
  bool hits_known = false;
  uint64_t hit_lines = 0;  // lines with may_hit set
  uint64_t bytes = 0;      // sum of line sizes
};

// Reads `path`, one event per line (LF or CRLF; empty lines skipped), at most max_lines
// (0 = all). IoError when unreadable, InvalidArgument when it holds no event.
Result<EventPool> LoadEventFile(const std::string& path, uint64_t max_lines);

struct SyntheticOptions {
  std::string indicators_path;  // a plain feed (e.g. from `iocgen indicators`)
  uint64_t lines = 100000;      // pool size; the pool is cycled
  double hit_rate = 0.01;       // exactly round(lines * hit_rate) lines match, spread evenly
  uint64_t seed = 1;
  // Put before every line (iocgen writes bare log lines). Default: an RFC 3164 header.
  std::string header = "<134>Nov 30 12:00:00 loadgen iocload: ";
};
// Builds the pool with iocgen's LogGenerator (tools/iocgen/iocgen.h), whose miss lines are
// checked to match nothing in the set and whose hit lines carry one matching observable.
Result<EventPool> MakeSyntheticPool(const SyntheticOptions& options);

struct LoadOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 9999;
  uint32_t connections = 1;
  uint32_t threads = 1;         // sender threads; connection i belongs to thread i % threads
  Framing framing = Framing::kLf;
  double rate = 0;              // events/s over all connections; 0 = as fast as possible
  double duration_s = 10;       // stop after this long ...
  uint64_t events = 0;          // ... or after this many events (0 = no limit)
  // The hit receiver: listen here (port 0 = any free port; see on_hit_listening).
  bool receive_hits = true;
  std::string hit_listen = "127.0.0.1:0";
  // Wait this long for iocd's output to connect before sending (it reconnects with a
  // backoff of up to 10 s). 0 = do not wait.
  double hit_connect_timeout_s = 30;
  // iocd's control socket; empty = do not read counters.
  std::string control_socket;
  // After sending: wait until iocd has processed every sent event and every hit it counted
  // has arrived, or until nothing changed for this long.
  double drain_timeout_s = 10;
  // After draining, keep the hit receiver connected until iocd's outputs hold no pending
  // hit (`metrics`: iocd_output_hits_pending is 0), at most this long; 0 = disconnect at
  // once. A TCP output counts a hit delivered only confirm_delay (2 s) after writing it and
  // resends every unconfirmed hit on its next connection: a receiver that leaves at once
  // makes the next run start with a burst of its predecessor's last ~2 s of hits, queued
  // ahead of the new ones on the new connection. Needs control_socket.
  double confirm_timeout_s = 0;
  // Keep every latency sample in LoadReport::samples (for --latency-log).
  bool keep_samples = false;
  // Called once the hit listener is bound, with its port (for tests using port 0).
  std::function<void(uint16_t port)> on_hit_listening;
};

struct LoadReport {
  uint64_t sent_events = 0;
  uint64_t sent_bytes = 0;       // framed
  uint64_t stamped_events = 0;   // events sent with a stamp
  uint64_t expected_hit_events = 0;  // stamped events known to match (synthetic pools)
  double send_seconds = 0;
  double sent_per_second = 0;
  // Hits received: every line, the distinct events they name, and lines without a stamp
  // of this run (a duplicate from iocd's at-least-once delivery counts once in
  // hit_events).
  uint64_t hit_lines = 0;
  uint64_t hit_events = 0;
  uint64_t unstamped_hits = 0;
  LatencySummary latency;  // send -> hit received, first arrival of each event's hits
  std::vector<LatencySample> slowest;  // the 5 slowest samples, slowest first
  std::vector<LatencySample> samples;  // every sample, in arrival order (keep_samples only)
  bool have_counters = false;
  DaemonCounters daemon_delta;  // iocd's counters after minus before
  bool drained = false;         // events processed == sent and hits received == counted
  double drain_seconds = 0;
  // iocd's undelivered hits when sending started (metrics; with a control socket and a
  // hit receiver): hits an earlier receiver left unconfirmed, resent on this connection
  // first.
  uint64_t pending_at_start = 0;
  bool confirmed = false;       // iocd reported no pending hit before the receiver closed
  double confirm_seconds = 0;
};

// Runs one load (see the file comment). `log` gets progress lines.
Result<LoadReport> RunLoad(const LoadOptions& options, const EventPool& pool, std::ostream& log);

// The report as a few "key: value" lines, stable for scripts (e2e_bench.sh parses them).
std::string FormatReport(const LoadReport& report);

}  // namespace iocd::iocload
