// HitOutput: where hits go once matched (a SIEM over TCP, or standard output).
//
// What it is: an interface with one implementation per OutputProtocol, created from the
// config by MakeHitOutput(). Each output renders hits with FormatHitJson (one JSON object
// per LF-terminated line, docs/hits.md) and delivers them.
//
// Ownership: the caller owns the output. A submitted hit is shared, immutable and read-only
// (std::shared_ptr<const Hit>), so one hit fans out to several outputs without copies; an
// output keeps its reference until the hit is delivered or dropped.
//
// Threads: every method is thread-safe. Submit() never blocks on the network and never
// fails: the TCP output queues hits in memory (bounded by queue_size) and delivers them from
// its own thread, dropping the OLDEST queued hit when full; the stdout output writes each
// line synchronously, so a consumer that stops reading back-pressures the caller (it is a
// pipe, not the network). Shutdown() stops accepting, delivers what it can until the
// deadline, then stops the output's threads; the destructor does Shutdown(now) if needed.
//
// Errors: delivery problems are not returned; they are counted in stats() and logged
// rate-limited with spdlog. Only MakeHitOutput() returns errors (a bad config).
//
// The daemon delivers through SpooledOutputs (spooled_output.h: durable RocksDB spool, every
// format and protocol); the in-memory outputs below remain for `spool: {disabled: true}`.
//
// Delivery guarantee of the in-memory outputs (docs/hits.md): queued hits live only in
// memory, so a restart or crash loses them. Across reconnects a hit not completely written to the socket
// is sent again on the next connection (a partly written line is repeated whole). A hit
// counts as delivered once fully written to the socket; what the kernel had accepted when
// a connection broke is lost.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/status.h"
#include "proto/config.pb.h"
#include "proto/hit.pb.h"

namespace iocd {

// Counters since the output was created. Once Shutdown() has returned,
// submitted == delivered + dropped.
struct OutputStats {
  uint64_t submitted = 0;         // Submit() calls
  uint64_t delivered = 0;         // hits fully written to the socket / file descriptor
  uint64_t dropped = 0;           // evicted from a full queue, submitted after Shutdown(),
                                  // a failed write (stdout), or undelivered at the deadline
  uint64_t connect_failures = 0;  // failed resolve/connect attempts (tcp only)
  // Spooled outputs only (spooled_output.h); there, once delivered, submitted ==
  // delivered + filtered + dropped + pending, and dropped counts spool overflow only.
  uint64_t filtered = 0;  // hits this output's filter rejected
  uint64_t resent = 0;    // hits written again after a connection broke before confirming them
  uint64_t pending = 0;   // hits in the spool this output has not confirmed yet
};

class HitOutput {
 public:
  virtual ~HitOutput() = default;

  // The configured output name (unique among outputs; used in logs).
  virtual const std::string& name() const = 0;

  // Hands one hit to the output. Never blocks on the network and never fails: an output that
  // cannot keep up drops the OLDEST queued hits and counts them. After Shutdown() the hit is
  // dropped and counted. `hit` must not be null.
  virtual void Submit(std::shared_ptr<const iocd::hit::Hit> hit) = 0;

  // Hands several hits to the output at once, in order: the same as calling Submit() on
  // each (same order, same counters, same guarantees once it returns), which is what this
  // default does. Outputs that pay per call (the spool's write and delivery wake-up,
  // spooled_output.h) override it to pay once per batch. No element may be null.
  virtual void SubmitBatch(std::span<const std::shared_ptr<const iocd::hit::Hit>> hits) {
    for (const auto& hit : hits) Submit(hit);
  }

  // SubmitBatch() whose delivery wake-up may wait: the hits are accepted exactly as by
  // SubmitBatch() when it returns (for the spooled outputs: in the spool), but an output
  // that wakes a delivery thread per call may leave that wake-up pending, so that a caller
  // handing over batch after batch pays one wake-up for several. At most one batch waits:
  // a call that finds an earlier batch's wake-up still pending wakes for both at once. The
  // caller must call WakeDeferred() once it has nothing more to hand over for now (its
  // input is drained, or a batch without hits went by); until then, at most the pending
  // batch's hits wait. This default (outputs that do not wake anything) is SubmitBatch().
  virtual void SubmitBatchDeferringWakeup(std::span<const std::shared_ptr<const iocd::hit::Hit>> hits) {
    SubmitBatch(hits);
  }

  // Performs the wake-up a SubmitBatchDeferringWakeup() left pending, if any (from any
  // thread). Cheap when none is: one atomic operation.
  virtual void WakeDeferred() {}

  // Stops accepting, tries to deliver what is queued until `deadline`, then stops the
  // output's threads and returns; hits still undelivered are counted as dropped. Idempotent;
  // a second call returns at once.
  virtual void Shutdown(std::chrono::steady_clock::time_point deadline) = 0;

  virtual OutputStats stats() const = 0;
};

// Creates the output `config` describes: protocol stdout (writes to file descriptor 1) or
// tcp (connects to `address`, "host:port" or "[ipv6]:port"; the host is resolved on every
// connection attempt). Format must be json or unspecified; queue_size 0 means the default
// 100000. A tcp output starts connecting at once, in the background. Returns
// InvalidArgument naming the output and the bad field.
Result<std::unique_ptr<HitOutput>> MakeHitOutput(const iocd::config::Output& config);

}  // namespace iocd
