// SyslogStreamListener: syslog over a byte stream — TCP (RFC 6587), TLS (RFC 5425) or a
// Unix stream socket — handed to a handler message by message, in order per connection.
//
// What it does: listens on one endpoint (or socket path); each connection gets its own
// strand and a SyslogFrameDecoder bounded by max_message_bytes (LF and octet-counted framing
// detected per message). Plain TCP and Unix connections wait for readability and then read
// into a per-thread buffer, so an idle connection holds no read buffer: memory per idle
// connection is the socket and a few hundred bytes. TLS connections keep OpenSSL's buffers
// and a 16 KiB read buffer. Connections beyond max_connections are closed at once and
// counted; a connection silent for idle_timeout is closed and counted (a TLS handshake not
// done within idle_timeout too).
//
// Backpressure: a connection's next read is issued only after the handler has returned for
// every message decoded so far — for all three transports — so a slow pipeline slows the
// sender through TCP (or Unix socket) flow control instead of growing a buffer.
//
// Reads per wake-up: a plain connection whose read filled the whole buffer (so more is
// probably waiting) reads again at once, up to kReadsPerWakeup times, before it waits for
// readability again; the handler still returns for every message before the next read.
//
// Batches: given a batch handler, a connection hands the messages one read decoded to it
// together (at most kMaxBatchEvents and about kMaxBatchBytes per call), as views into the
// connection's frame decoder, which keeps them valid until its next Append (the batch is
// handed on before that); a message over kMaxBatchedMessageBytes is handed alone. Memory
// per thread: the batch's event list, none per connection. The idle handler (optional) is
// called whenever a connection goes back to waiting after reading (a plain socket after
// its reads of one wake-up, a TLS one after a read that left nothing decrypted in OpenSSL
// and nothing on the socket) and when it ends, so work deferred
// per batch is done before the thread can block.
//
// TLS: the certificate chain and key are loaded at Create(); only TLS 1.2 and later are
// offered. With a CA file, a client certificate is asked for and verified; with
// require_client_cert a client without a valid one fails the handshake (counted).
//
// Unix sockets: Create() removes a stale socket file left at the path (one nobody accepts
// on) and refuses a path another process is serving or that is not a socket; the socket file
// gets `unix_mode` and is removed by Stop() (and by the destructor).
//
// Ownership: the listener is owned by its creator and must outlive the io_context's run
// (call Stop() and let run() return before destroying it). Connections keep themselves
// alive while they have an operation pending.
//
// Thread safety: as Input (ingest/input.h).
//
// ReplyBack (ingest/replyback.h, docs/replyback.md): a connection whose first message is
// the flags line hands the handler a ReplyChannel with each event; replies (and PONG,
// LookupFinished) are written back on the connection's strand, one write at a time. While
// reply_max_pending_bytes are queued the connection is not read, so a client that does not
// read its replies is slowed like a slow pipeline slows it, and memory stays bounded (by
// the limit plus the replies to one read's events). At the end of the stream the queued
// replies are written before closing, except when stopping or idle-closing.
//
// Errors: Create() fails with IoError when the endpoint cannot be bound or the TLS files
// cannot be loaded. Bad frames (oversized, bad octet count, cut short) are counted by reason
// and logged rate-limited with the peer address; they never close the connection. Messages
// that are not valid UTF-8 are handed on as bytes and only counted.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "common/status.h"
#include "ingest/input.h"
#include "ingest/received_event.h"

namespace iocd {

class SyslogStreamListener : public Input {
 public:
  enum class Transport { kTcp, kTls, kUnix };

  struct TlsOptions {
    std::string cert_file;  // PEM chain, leaf first
    std::string key_file;   // PEM private key
    std::string ca_file;    // PEM CAs for client certificates; empty: none asked for
    bool require_client_cert = false;
  };

  struct Options {
    std::string name;
    Transport transport = Transport::kTcp;
    boost::asio::ip::tcp::endpoint endpoint;  // kTcp, kTls
    std::string unix_path;                    // kUnix
    uint32_t unix_mode = 0660;                // kUnix: permission bits of the socket file
    TlsOptions tls;                           // kTls
    size_t max_message_bytes = 1 << 20;       // Default: 1 MiB
    size_t max_connections = 1024;            // Default: 1024
    // Zero: never. Default: 10 minutes.
    std::chrono::milliseconds idle_timeout = std::chrono::minutes(10);
    // Accept the CyberTrace ReplyBack flags line (ingest/replyback.h). Default: true.
    bool reply_back = true;
    // ReplyBack: replies queued per connection at which reading pauses. Default: 1 MiB.
    size_t reply_max_pending_bytes = 1 << 20;
  };

  // Binds and listens; accepting starts with Start(). With a batch_handler, the events of
  // connections not in ReplyBack mode go to it instead of handler (see "Batches" above).
  static Result<std::unique_ptr<SyslogStreamListener>> Create(boost::asio::io_context& io, Options options,
                                                              EventHandler handler,
                                                              EventBatchHandler batch_handler = {},
                                                              InputIdleHandler idle_handler = {});
  ~SyslogStreamListener() override;

  // The bound TCP endpoint (the real port when 0 was configured); unset for kUnix.
  boost::asio::ip::tcp::endpoint local_endpoint() const { return local_endpoint_; }

  const std::string& name() const override;
  std::string_view protocol() const override;
  std::string address() const override;

  void Start() override;
  // Stops accepting; every connection processes what it has already received (including
  // bytes waiting in the kernel and a last message without LF), then closes. TLS
  // connections keep reading for a grace period of 500 ms instead (a TLS read cannot be
  // cancelled without losing what it took from the socket). Removes the Unix socket file.
  // Returns at once; the work finishes on the io_context.
  void Stop() override;

  IngestStats stats() const override;

  // Reads per wake-up and batch bounds (see the header comment).
  static constexpr size_t kReadsPerWakeup = 4;
  // A full 64 KiB read of typical ~280-byte events (about 230) fits one batch: the
  // processor's per-batch costs (one index pass, one spool write for the batch's hits and
  // one delivery wake-up, app/event_processor.h) are then paid once per read.
  static constexpr size_t kMaxBatchEvents = 256;
  static constexpr size_t kMaxBatchBytes = 128 * 1024;
  static constexpr size_t kMaxBatchedMessageBytes = 8 * 1024;

  class Impl;

 private:
  explicit SyslogStreamListener(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
  boost::asio::ip::tcp::endpoint local_endpoint_;
};

}  // namespace iocd
