// SyslogUdpListener: syslog over UDP (RFC 5426), one message per datagram.
//
// What it does: binds one UDP socket; when it is readable, receives the queued datagrams
// (up to a batch, then yields) on the listener's strand and hands each to the handler. A
// trailing LF, CRLF or NUL is stripped; an empty datagram is ignored. A datagram larger than
// max_message_bytes (or than 64 KiB, truncated by the kernel) is discarded and counted as
// oversized.
//
// Backpressure: UDP has none. While the handler runs, datagrams wait in the kernel's receive
// buffer (receive_buffer_bytes); when it is full the kernel drops them. Those drops are
// counted exactly (SO_RXQ_OVFL: the kernel reports its drop counter with each datagram) and
// exposed as IngestStats::datagrams_dropped; a drop counts once a later datagram arrives.
//
// Ownership and thread safety: as Input (ingest/input.h). The handler is never called
// concurrently for one listener.
// Errors: Create() fails with IoError when the endpoint cannot be bound. Receive errors
// (ICMP-triggered ECONNREFUSED and the like) are logged rate-limited and reading goes on.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include "common/status.h"
#include "ingest/input.h"
#include "ingest/received_event.h"

namespace iocd {

class SyslogUdpListener : public Input {
 public:
  // The largest UDP payload there is; larger messages cannot arrive in one datagram.
  static constexpr size_t kMaxDatagramBytes = 65535;

  struct Options {
    std::string name;
    boost::asio::ip::udp::endpoint endpoint;
    // Larger datagrams are discarded and counted. Default: 65535 (any datagram).
    size_t max_message_bytes = kMaxDatagramBytes;
    // SO_RCVBUF for the socket (the kernel doubles it). 0 keeps the system default
    // (net.core.rmem_default). Default: 0.
    int receive_buffer_bytes = 0;
  };

  static Result<std::unique_ptr<SyslogUdpListener>> Create(boost::asio::io_context& io, Options options,
                                                           EventHandler handler);
  ~SyslogUdpListener() override;

  boost::asio::ip::udp::endpoint local_endpoint() const { return local_endpoint_; }

  const std::string& name() const override { return options_.name; }
  std::string_view protocol() const override { return "syslog-udp"; }
  std::string address() const override;

  void Start() override;
  // Hands the datagrams already queued in the kernel to the handler, then closes. Returns
  // at once; the work finishes on the io_context.
  void Stop() override;

  IngestStats stats() const override;

  struct State;

 private:
  SyslogUdpListener(boost::asio::io_context& io, Options options);

  Options options_;
  boost::asio::ip::udp::endpoint local_endpoint_;
  std::shared_ptr<State> state_;
};

}  // namespace iocd
