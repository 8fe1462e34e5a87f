// Transport: the byte pipe under a spooled output (TCP, UDP, file, a file descriptor).
//
// Blocking, one owner thread (the output's delivery thread); only Interrupt() may be called
// from another thread, to unblock a Send() at shutdown. No framing: the caller frames
// stream transports and sends one message per Send() to datagram transports.
//
// Errors: Connect() and Send() return IoError saying what failed; after an error the
// caller calls Close() and, later, Connect() again.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace iocd {

class Transport {
 public:
  virtual ~Transport() = default;
  // True: every Send() is one datagram (UDP). False: Send() appends to a byte stream.
  virtual bool datagram() const { return false; }
  // True: the caller sends one framed message per Send() (UDP, and files, which rotate
  // between messages). False: it may send a batch of messages in one Send().
  virtual bool per_message() const { return datagram(); }
  // Opens the connection / file. OK at once when already open.
  virtual Status Connect() = 0;
  virtual bool connected() const = 0;
  // Writes all of `bytes` or fails.
  virtual Status Send(std::string_view bytes) = 0;
  // Bytes given to Send() on this connection that the peer has not acknowledged yet
  // (TCP: the kernel send queue, SIOCOUTQ). 0 for transports without acknowledgement.
  virtual uint64_t Unacknowledged() { return 0; }
  // True when the peer has closed or reset the connection (checked without blocking).
  virtual bool PeerClosed() { return false; }
  virtual void Close() = 0;
  // Unblocks a Send() in progress on another thread (it then fails). Thread-safe.
  virtual void Interrupt() {}
  // "host:port" or the path, for logs.
  virtual const std::string& target() const = 0;
};

// TCP to host:port (resolved on every Connect()); connect and send time out after
// `io_timeout`.
std::unique_ptr<Transport> NewTcpTransport(std::string host, std::string port,
                                           std::chrono::milliseconds io_timeout = std::chrono::seconds(10));
struct TlsClientOptions {
  std::string ca;           // PEM CA file; empty: the system's default paths
  std::string cert, key;    // PEM client certificate (chain) and key; both or neither
  std::string server_name;  // verified name and SNI; empty: host
  bool insecure_skip_verify = false;
};
// TLS (1.2+) over TCP to host:port. The receiver's certificate is verified against `ca`
// and server_name unless insecure_skip_verify. Unacknowledged() is all bytes sent on the
// connection while the kernel send queue is not empty (ciphertext cannot be mapped to
// plaintext offsets), 0 once it has drained. The calling thread should block SIGPIPE.
std::unique_ptr<Transport> NewTlsTransport(std::string host, std::string port, TlsClientOptions tls,
                                           std::chrono::milliseconds io_timeout = std::chrono::seconds(10));
// UDP datagrams to host:port.
std::unique_ptr<Transport> NewUdpTransport(std::string host, std::string port);
// Appends to `path`; before a Send() would take the file past max_bytes (> 0) the file is
// rotated: path.(N-1) -> path.N ..., path -> path.1, keeping max_files rotated files.
std::unique_ptr<Transport> NewFileTransport(std::string path, uint64_t max_bytes, uint32_t max_files);
// Writes to a descriptor that is not owned (standard output).
std::unique_ptr<Transport> NewFdTransport(int fd, std::string name);

}  // namespace iocd
