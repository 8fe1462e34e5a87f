// SpooledOutputs: every durable output of the daemon behind one HitOutput, delivering from
// a shared HitSpool (spool/hit_spool.h) so hits survive receiver outages, restarts and
// crashes (docs/hits.md#delivery-guarantees).
//
// What it is: Submit() serializes the hit, appends it once to the spool and wakes every
// output's delivery thread. Each output (tcp, udp, file, stdout) is a spool consumer with
// its own thread, cursor, routing (events), filter, formatter and Transport: it reads hits
// from its read position, skips those it does not take (OutputAccepts, hit_filter.h:
// service events only when events is service/all; detections only when events is
// hits/all and the filter passes; both count as `filtered`), renders and frames the rest
// and writes them, and acknowledges them in the spool once they count as delivered (one
// spool Ack for everything confirmed since the last, at most every 50 ms while running,
// at once before a reconnect and at the end):
//   * tcp: when the receiver's TCP stack has acknowledged the bytes (the socket's send
//     queue, SIOCOUTQ, has drained past them) AND the connection was still open
//     confirm_delay later. If the connection breaks first, every unconfirmed hit (the
//     "unconfirmed tail") is written again on the next connection: at-least-once; the hit
//     id lets the receiver drop duplicates.
//   * udp, file, stdout: once written (UDP: best effort, nothing confirms it).
// The newest hits (up to 4096) are also kept in memory with their sequence numbers once
// they are in the spool: a delivery thread that keeps up renders them from there instead
// of reading the spool back and parsing them again; one that is behind (hits from before
// a restart, a backlog, records the bounds dropped) reads the spool. What is delivered,
// in which order, acknowledged and resent is the same either way.
// Reconnects back off from backoff_base doubling to backoff_cap, reset after a write; new
// hits do not cut a backoff short.
//
// Group commit: concurrent Submit() and SubmitBatch() calls share spool writes. Each queues
// its hits (a batch as one entry); the first in the queue (the leader) writes every queued
// entry (up to 1024 hits / 4 MiB, a larger batch alone) with ONE HitSpool::AppendBatch
// while the others wait (yielding a few times, then sleeping), wakes exactly those it
// wrote, and goes on with what queued up meanwhile (at most 8 writes) before handing over.
// Submit() and SubmitBatch() return only once all their hits are in the spool: an accepted
// hit survives SIGKILL (and, with sync, a machine crash). A failed write rejects every hit
// of its group (counted in `dropped`, logged). Each call wakes the delivery threads once;
// SubmitBatchDeferringWakeup() may leave that wake-up to the next such call or to
// WakeDeferred() (hit_output.h: at most one batch waits; the spool write is not deferred).
// One thread calling Submit() per hit pays one write and one wake-up per hit; SubmitBatch()
// pays them once per batch (the event processor submits each input batch's hits so), and
// N concurrent submitters need up to N times fewer writes, which matters most with sync
// (one fsync per group; docs/PERFORMANCE.md).
//
// Isolation: Submit() only appends to the spool (a RocksDB write) and signals; it never
// waits for an output. A slow or dead output only lets its own backlog grow in the spool;
// the spool's bounds then drop the OLDEST hits, counted per output and logged.
//
// Ownership: owns the spool, the threads and the transports.
// Thread safety: every method is thread-safe.
// Shutdown(deadline): stops accepting, lets each output deliver until its backlog is
// confirmed or the deadline passes, interrupts what is still blocked and joins. Hits not
// delivered STAY in the spool and are delivered after the next start; they are not
// counted as dropped.
// Errors: Open() returns InvalidArgument for a bad output config and IoError/Corruption
// from the spool. Delivery and spool write problems are counted and logged rate-limited.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "output/hit_output.h"
#include "spool/hit_spool.h"

namespace iocd {

struct SpooledOutputsOptions {
  // The spool database directory and bounds (SpoolOptions).
  std::string spool_path;
  uint64_t max_bytes = uint64_t{1} << 30;
  uint64_t max_records = 1000000;
  bool sync = false;
  // Outputs (protocol tcp, udp, file or stdout), names unique. At least one.
  std::vector<iocd::config::Output> outputs;
  // Default: 100 ms doubling to 10 s.
  std::chrono::milliseconds backoff_base{100};
  std::chrono::milliseconds backoff_cap{10000};
  // Minimum time between two log lines about one output's connection. Default: 30 s.
  std::chrono::milliseconds log_interval{30000};
  // tcp: how long a written hit must stay on a live connection to count as delivered.
  // Default: 2 s.
  std::chrono::milliseconds confirm_delay{2000};
  // One write carries at most this many hits / about this many bytes. Default: 512, 256 KiB.
  size_t max_batch_hits = 512;
  size_t max_batch_bytes = 256 * 1024;
  // Shortest time from the start of one delivery round to the next while hits keep coming:
  // a hit may wait up to this long, for one wake-up and one write per gap instead of one
  // per submitted batch (at 1% hits and full speed on one core, 2 ms gave 2-6% more events
  // per CPU second and raised p50 latency at 100k events/s from 0.2 to ~1.8 ms). A hit
  // after a quiet spell longer than the gap goes out at once. Default: 0 (off).
  std::chrono::milliseconds min_round_gap{0};
};

class SpooledOutputs : public HitOutput {
 public:
  // Opens the spool and starts one delivery thread per output; hits left in the spool by
  // an earlier run are delivered at once.
  static Result<std::unique_ptr<SpooledOutputs>> Open(SpooledOutputsOptions options);

  // Per configured output, in config order: its name and counters.
  virtual std::vector<std::pair<std::string, OutputStats>> output_stats() const = 0;
  virtual SpoolStats spool_stats() const = 0;
};

// The spool settings the daemon uses for `outputs` (their spool.max_* with defaults, the
// largest wins; sync if any asks). Outputs with spool.disabled are not counted.
SpooledOutputsOptions SpoolOptionsFor(const std::vector<iocd::config::Output>& outputs, const std::string& state_dir);

}  // namespace iocd
