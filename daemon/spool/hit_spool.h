// HitSpool: a durable, bounded first-in-first-out queue of hits that several outputs
// consume, each at its own pace (docs/hits.md#delivery-guarantees).
//
// What it is: a RocksDB database in its own directory (the daemon uses <state_dir>/spool).
// Each record is an opaque value (the daemon stores a serialized iocd.hit.Hit) under an
// 8-byte big-endian sequence number, so records iterate in append order. Each consumer (an
// output, by name) has one durable cursor: the sequence number of the first record it has
// not acknowledged. A record is deleted once every consumer's cursor has passed it. Key
// layout: 'h' + seq(8, big-endian) -> value; 'c' + consumer name -> next seq (8, BE).
//
// Bounds: when an Append makes the spool exceed max_records or max_bytes (sum of value
// sizes), the OLDEST records are deleted until it fits; every consumer whose cursor had
// not passed a deleted record counts it in overflow_dropped(consumer), and its cursor moves
// past it. Nothing is dropped silently: the counts are in stats() and the caller logs them.
//
// Crash safety: each Append and AppendBatch is one atomic RocksDB write batch through
// the write-ahead log, done before the call returns; so is an Ack's cursor. The records no
// consumer needs any more are deleted after it by the spool's own thread, 256 per write
// (the destructor finishes them); a crash before that leaves records below every cursor,
// which are never read and which the next Open() deletes. With sync=false a write survives a crash of the process (SIGKILL) but
// not of the machine; sync=true fsyncs every write. On Open() the records and cursors
// are exactly those of the last completed write: records appended but not acknowledged
// are pending again ("at least once").
//
// Consumers: Open() takes the full list. A consumer new to the spool starts at the end
// (it does not receive records appended before it existed); cursors of consumers no
// longer listed are deleted, so they cannot pin records forever.
//
// Ownership: Open() returns the only handle; it owns one thread (the deletes above), and
// destruction finishes those deletes, stops it and closes the database.
// Thread safety: every method may be called from any thread at once; writes are
// serialised by one mutex, so Append, AppendBatch and an Ack's cursor move are each atomic
// with respect to the others; neither the caller of Ack nor Append waits for the deletes
// of a large backlog acknowledged at once. Callers with many small records should group them with AppendBatch: one
// write costs about as much as one record (SpooledOutputs does this, spooled_output.h).
// Errors: Open() returns IoError/Corruption (with the path) when RocksDB cannot open or
// a stored key does not decode; Append/Ack return IoError when a write fails (the record
// is then not stored / the cursor not moved; a failed delete of freed records leaves them
// until the next Open()); an unknown consumer is InvalidArgument.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace iocd {

struct SpoolOptions {
  // Directory of the RocksDB database. Created (with parents) if missing. Required.
  std::string path;
  // Every consumer name (unique, non-empty). Required: at least one.
  std::vector<std::string> consumers;
  // Bounds; 0 means no bound. Default: 1 GiB, 1000000 records.
  uint64_t max_bytes = uint64_t{1} << 30;
  uint64_t max_records = 1000000;
  // fsync the write-ahead log on every write. Default: false.
  bool sync = false;
};

struct SpoolRecord {
  uint64_t seq = 0;
  std::string value;
};

struct SpoolStats {
  uint64_t records = 0;           // stored now
  uint64_t bytes = 0;             // sum of stored value sizes
  uint64_t first_seq = 0;         // oldest stored record (== next_seq when empty)
  uint64_t next_seq = 0;          // sequence number the next Append gets
  uint64_t overflow_records = 0;  // records deleted by the bounds since Open()
};

class HitSpool {
 public:
  virtual ~HitSpool() = default;

  static Result<std::unique_ptr<HitSpool>> Open(const SpoolOptions& options);

  // Stores `value` as the newest record and returns its sequence number, applying the
  // bounds (which may delete older records, and even this one if it alone exceeds
  // max_bytes: it is then counted as dropped for every consumer).
  virtual Result<uint64_t> Append(std::string_view value) = 0;

  // Stores `values` as the newest records, in order, with ONE atomic RocksDB write (the
  // records, the bounds' deletions and the cursors they move), and returns the sequence
  // number of the first (the others follow densely). The bounds apply to the spool as it
  // is after the whole batch, so a batch larger than the bounds keeps only its newest
  // records; each dropped record counts once for every consumer that had not passed it.
  // On error nothing is stored. An empty batch stores nothing and returns next_seq.
  virtual Result<uint64_t> AppendBatch(std::span<const std::string_view> values) = 0;

  // Appends to `out` (in order) records with seq >= from, at most max_records of them and
  // stopping after the one that reaches max_bytes (so at least one when any exists).
  // `from` below the oldest stored record reads from the oldest.
  virtual Status Read(uint64_t from, size_t max_records, size_t max_bytes, std::vector<SpoolRecord>* out) const = 0;

  // The consumer's durable cursor: the first sequence number it has not acknowledged.
  virtual Result<uint64_t> Cursor(std::string_view consumer) const = 0;

  // Records every seq < next as delivered to `consumer` (a smaller `next` than the cursor
  // is ignored), and deletes the records every consumer has passed.
  virtual Status Ack(std::string_view consumer, uint64_t next) = 0;

  // Records this consumer lost to the bounds since Open().
  virtual uint64_t overflow_dropped(std::string_view consumer) const = 0;

  virtual SpoolStats stats() const = 0;
};

}  // namespace iocd
