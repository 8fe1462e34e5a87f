// SyslogTcpListener: accepts syslog over TCP (RFC 6587) and hands every message to a
// handler, in order per connection.
//
// What it does: listens on one endpoint; each connection gets its own strand, a 64 KiB read
// buffer and a SyslogFrameDecoder bounded by max_message_bytes, so a connection's memory is
// bounded whatever its peer sends. Messages are handed to the EventHandler on the
// connection's strand, one at a time and in arrival order; the next read is issued only
// after the handler returns, so a slow pipeline slows the sender (TCP backpressure) instead
// of growing a buffer. Connections beyond max_connections are closed at once and counted.
//
// Ownership: the listener is owned by its creator and must outlive the io_context's run
// (call Stop() and let run() return before destroying it). Connections keep themselves
// alive while they have an operation pending.
//
// Thread safety: Start(), Stop() and stats() may be called from any thread. The io_context
// may be run by several threads. The handler is called concurrently for different
// connections, never concurrently for the same one.
//
// Errors: Create() fails with IoError when the endpoint cannot be bound (in use, not
// local). Bad frames (oversized, bad octet count) are counted and logged rate-limited with
// the peer address; they never close the connection or affect other connections.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "common/status.h"

namespace iocd {

// One received message. Views are valid only during the handler call.
struct ReceivedEvent {
  std::string_view input;    // configured input name
  std::string_view sender;   // peer "ip:port"
  std::string_view message;  // message without framing
};
using EventHandler = std::function<void(const ReceivedEvent&)>;

struct IngestStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_rejected = 0;  // over max_connections
  uint64_t connections_open = 0;
  uint64_t messages = 0;
  uint64_t bytes = 0;
  uint64_t frame_errors = 0;  // oversized or malformed frames discarded
};

class SyslogTcpListener {
 public:
  struct Options {
    std::string name;
    boost::asio::ip::tcp::endpoint endpoint;
    size_t max_message_bytes = 1 << 20;
    size_t max_connections = 1024;
  };

  // Binds and listens; accepting starts with Start().
  static Result<std::unique_ptr<SyslogTcpListener>> Create(boost::asio::io_context& io, Options options,
                                                          EventHandler handler);
  ~SyslogTcpListener();

  // The bound endpoint (the real port when 0 was configured).
  boost::asio::ip::tcp::endpoint local_endpoint() const { return local_endpoint_; }
  const std::string& name() const { return options_.name; }

  void Start();
  // Stops accepting; every connection processes what it has already received (including
  // bytes waiting in the kernel and a last message without LF), then closes. Returns at
  // once; the work finishes on the io_context.
  void Stop();

  IngestStats stats() const;

  class Connection;
  struct Shared;  // state shared with connections, which may outlive the listener's methods

 private:
  SyslogTcpListener(boost::asio::io_context& io, Options options, EventHandler handler);
  void Accept();

  boost::asio::io_context& io_;
  Options options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::endpoint local_endpoint_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace iocd
