// The TCP output: hits sent as JSON lines to a receiver (a SIEM) over one TCP connection.
// See hit_output.h for the HitOutput contract; this header adds the knobs tests inject.
//
// Owns one thread running a Boost.Asio io_context, the connection, and a bounded in-memory
// queue of submitted hits. Submit() only takes a mutex to push onto the queue (dropping the
// oldest hit when it already holds queue_size) and wakes the thread; the thread formats and
// writes hits in order, in batches.
//
// Connection: `host` is resolved on every attempt and each resolved address tried in turn.
// A failed attempt is retried after a backoff that starts at backoff_base and doubles up to
// backoff_cap; the backoff returns to backoff_base once a write succeeds. The connection is
// read (and anything received discarded) so a receiver that closes an idle connection is
// noticed at once; before each write the output also checks that the receiver has not
// closed. After a write error, hits not completely written are put back at the head of the
// queue and sent again on the next connection (a partly written line is sent again whole).
// Connect failures and lost connections are logged with spdlog: the first at warn, then at
// most one line per log_interval with the count since the last line.
//
// Shutdown(deadline): stops accepting, keeps delivering (and, if disconnected, retries at
// once and then with backoff) until the queue is empty or the deadline passes, closes the
// connection, joins the thread, and counts what is left as dropped.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "output/hit_output.h"

namespace iocd {

struct TcpOutputOptions {
  // Name used in logs. Required.
  std::string name;
  // Receiver host name or IP literal (without brackets) and port (number or service name).
  std::string host;
  std::string port;
  // Hits held while the receiver is slow or unreachable; one more batch (at most
  // max_batch_hits) may be in flight on the socket. Must be >= 1. Default: 100000.
  size_t queue_size = 100000;
  // Reconnect backoff. Default: 100 ms doubling to 10 s.
  std::chrono::steady_clock::duration backoff_base = std::chrono::milliseconds(100);
  std::chrono::steady_clock::duration backoff_cap = std::chrono::seconds(10);
  // Minimum time between two log lines about connection problems. Default: 30 s.
  std::chrono::steady_clock::duration log_interval = std::chrono::seconds(30);
  // A write carries at most this many hits, and stops adding hits once it holds
  // max_batch_bytes. Default: 512 hits, 256 KiB.
  size_t max_batch_hits = 512;
  size_t max_batch_bytes = 256 * 1024;
};

// Starts the output: its thread begins connecting before this returns.
std::unique_ptr<HitOutput> NewTcpHitOutput(TcpOutputOptions options);

// Splits "host:port" or "[ipv6]:port" into host and port. Returns InvalidArgument (saying
// what is wrong with `address`) if either part is missing.
Status SplitHostPort(std::string_view address, std::string* host, std::string* port);

}  // namespace iocd
