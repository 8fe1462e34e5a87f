// Input: one configured source of events (docs/inputs.md), as the daemon sees it.
//
// Implementations: SyslogStreamListener (syslog-tcp, syslog-tls, syslog-unix) and
// SyslogUdpListener (syslog-udp). MakeInput() builds the right one from config; it binds at
// once, so a port in use or an unreadable certificate fails start-up with a clear message.
//
// Life cycle: MakeInput (bound, not yet serving) -> Start() -> Stop() -> the io_context's
// run() returns -> destroy. Stop() hands what was already received to the handler, then
// closes; it returns at once and the work finishes on the io_context.
//
// Thread safety: Start(), Stop(), stats() and the accessors may be called from any thread.
// The handler is called concurrently for different connections, never concurrently for one
// connection (nor for one UDP socket), and in arrival order per connection.
//
// Backpressure: stream inputs read a connection's next bytes only after the handler has
// returned for every message already decoded, so a slow pipeline fills the kernel buffers
// and the sender is slowed by TCP flow control; nothing is buffered without bound. UDP
// cannot slow its senders: datagrams the kernel drops meanwhile are counted.
//
// Errors: only MakeInput() fails (bad config values, bind/listen errors, TLS files). Bad
// input on the wire is counted in IngestStats by reason and logged rate-limited with the
// peer address; it never affects other connections.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "common/status.h"
#include "ingest/received_event.h"

namespace iocd {
namespace config {
class Input;
}

class Input {
 public:
  virtual ~Input() = default;

  virtual const std::string& name() const = 0;
  // "syslog-tcp", "syslog-udp", "syslog-tls" or "syslog-unix".
  virtual std::string_view protocol() const = 0;
  // Where it listens: "127.0.0.1:5140" (the real port when 0 was configured), "[::1]:5140"
  // or the Unix socket path.
  virtual std::string address() const = 0;

  virtual void Start() = 0;
  virtual void Stop() = 0;
  virtual IngestStats stats() const = 0;
};

// Builds and binds the input a validated config entry describes (config/config.h).
// batch_handler (optional): stream inputs hand their events in batches through it (see
// EventBatchHandler); UDP ignores it. idle_handler (optional, with batch_handler): see
// InputIdleHandler; UDP ignores it.
Result<std::unique_ptr<Input>> MakeInput(boost::asio::io_context& io, const config::Input& config,
                                         EventHandler handler, EventBatchHandler batch_handler = {},
                                         InputIdleHandler idle_handler = {});

}  // namespace iocd
