// ReceivedEvent, EventHandler and IngestStats: what every input hands to the pipeline and
// what it counts. Shared by all inputs (ingest/input.h) and the event processor.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

namespace iocd {

// The way back to the client of a ReplyBack connection (ingest/replyback.h,
// docs/replyback.md). Valid only during the handler call and only on the handler's thread.
class ReplyChannel {
 public:
  // Queues `line` plus LF to be written back on the connection the event came from. The
  // line must not contain LF. Never blocks: the connection stops being read while too much
  // is queued (Input.reply_back.max_pending_bytes), so the queue stays bounded.
  virtual void Send(std::string_view line) = 0;

 protected:
  ~ReplyChannel() = default;
};

// One received message. Views are valid only during the handler call.
struct ReceivedEvent {
  std::string_view input;    // configured input name
  std::string_view sender;   // peer "ip:port", "[ipv6]:port", or "unix:pid=N" for Unix sockets
  std::string_view message;  // message without framing; arbitrary bytes (not necessarily UTF-8)
  // Set when the connection is in ReplyBack mode: the handler sends each of the event's
  // hits here before returning (the input then adds LookupFinished if it was asked for).
  ReplyChannel* reply = nullptr;
};

// Called on the input's network threads. It must not block for long: while it runs, the
// connection it serves is not read (stream inputs) or the kernel queue fills (UDP).
using EventHandler = std::function<void(const ReceivedEvent&)>;

// Optional, for stream inputs: called with several consecutive events of one connection
// at once (those one read delivered), in arrival order, where the EventHandler would have
// been called for each in turn; it must do exactly what that would. Lets the pipeline
// amortise per-event costs (one index pass for the whole batch). Same threads, same
// blocking rule and same view lifetime as EventHandler. Events of ReplyBack connections
// (event.reply set) still go to the EventHandler one by one.
using EventBatchHandler = std::function<void(std::span<const ReceivedEvent>)>;

// Optional, for stream inputs with an EventBatchHandler: called on the network thread
// when a connection goes back to waiting for its socket after reading (it found no more
// bytes buffered, or has read its share of this wake-up) and when it ends. Lets the
// pipeline defer per-batch work (the outputs' delivery wake-up) until then. Must not block.
using InputIdleHandler = std::function<void()>;

// Counters of one input, monotonic except connections_open. Fields an input does not use
// stay 0 (UDP has no connections; only TLS has handshakes).
struct IngestStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_rejected = 0;  // over max_connections
  uint64_t connections_open = 0;
  uint64_t idle_closed = 0;           // closed after idle_timeout without a byte
  uint64_t tls_handshake_failures = 0;
  uint64_t messages = 0;              // handed to the handler
  uint64_t bytes = 0;                 // received, framing included
  uint64_t non_utf8 = 0;              // messages handed on although not valid UTF-8
  // Discarded frames by reason; frame_errors is their sum.
  uint64_t frame_errors = 0;
  uint64_t oversized = 0;             // over max_message_bytes (UDP: datagram too large)
  uint64_t bad_octet_count = 0;       // octet count with a leading zero
  uint64_t incomplete_at_close = 0;   // octet-counted frame cut short by the end of the stream
  uint64_t datagrams_dropped = 0;     // UDP: dropped by the kernel because iocd fell behind
  // ReplyBack (stream inputs; docs/replyback.md).
  uint64_t replyback_connections = 0;  // connections that sent the flags line
  uint64_t replies_sent = 0;           // lines the handler sent back (hits)
  uint64_t finished_sent = 0;          // LookupFinished lines
  uint64_t pings = 0;                  // PINGs answered with PONG
  uint64_t reply_stalls = 0;           // reads postponed because replies were not read
};

}  // namespace iocd
