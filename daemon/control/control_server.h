// ControlServer: the running daemon's control channel (iocctl reload, status).
//
// Protocol: a line-oriented request/response protocol over a Unix stream socket, one
// request per connection, so `socat`, `nc -U` and iocctl are all clients:
//   request:  one line "COMMAND [ARG...]\n": words separated by spaces (or tabs), at most
//             4 KiB (kMaxControlRequestBytes, not counting the "\n"), well-formed UTF-8
//             without control characters. A last line without "\n" before the client's
//             end-of-file is accepted too.
//   response: zero or more lines of text, then a final line "OK" or "ERR <message>"; then
//             the server closes the connection.
// The pure parts (request splitting, response parsing) are in control_protocol.h; the
// client, ControlRequest(), is in control_client.h.
//
// What it does: listens on a socket file (mode 0600: only the daemon's user may talk to
// it); reads one request per connection; runs the registered handler for its first word
// with the remaining words as `args`; writes the handler's body and OK, or ERR with the
// handler's Status message. "help" is built in and lists the registered commands.
// Limits: a request over 4 KiB is answered "ERR request too long ..."; a connection idle
// for Options::idle_timeout (default 10 s) while the server waits for its request or for it
// to read the response is answered "ERR idle timeout" (best effort) and closed; the time a
// handler takes does not count as idle. At most Options::max_clients (default 16)
// connections are served at once; one more is answered "ERR busy" and closed. So the
// server's memory is bounded whatever clients do.
//
// Handlers: a ControlHandler runs on the io_context thread and must be quick. Slow work (a
// reload) is registered with RegisterAsync: the handler starts the work and returns; the
// work calls `reply` exactly once, from any thread, at any later time (but before the
// io_context is destroyed). A reply callback destroyed without being called answers
// "ERR internal error: the request was dropped"; calls after the first are ignored; a reply
// for a connection that was closed meanwhile (Stop, client gone) is discarded.
//
// Ownership: Create() returns the only handle. Destroying it stops the server (as Stop());
// connections in progress keep the shared state alive until they finish on the io_context.
//
// Thread safety: Register/RegisterAsync only before Start(), from one thread. Start() and
// Stop() from any thread; Stop() is idempotent. The io_context may be run by several
// threads: the acceptor and every connection have their own strand.
//
// Errors: Create() fails with IoError when the path is too long for a Unix socket, exists
// and is not a socket, is a socket another process listens on ("... is in use by another
// process (is another iocd running with this state_dir?)"), or cannot be bound, chmod-ed or
// listened on. A socket file nobody answers on (left by a crashed daemon) is replaced.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "common/status.h"

namespace iocd {

// `args` are the request's words after the command. `out` receives the response body:
// lines each ending "\n" (a missing last "\n" is added). A non-OK Status is answered
// "ERR <message>" (after whatever was put in `out`).
using ControlHandler = std::function<Status(const std::vector<std::string>& args, std::string* out)>;
// Asynchronous form; `reply(status, body)` may be called from any thread, later. See above.
using ControlReply = std::function<void(Status status, std::string body)>;
using AsyncControlHandler = std::function<void(std::vector<std::string> args, ControlReply reply)>;

class ControlServer {
 public:
  struct Options {
    // A connection waiting this long for its client (request not complete, response not
    // read) is closed. Default: 10 s.
    std::chrono::milliseconds idle_timeout = std::chrono::seconds(10);
    // Connections served at once; more are answered "ERR busy". Default: 16.
    size_t max_clients = 16;
  };

  // Binds `path` (replacing a stale socket file only if no one answers on it), sets its mode
  // to 0600 and listens; serving starts with Start(). Runs on `io`, which must outlive the
  // server's use of it.
  static Result<std::unique_ptr<ControlServer>> Create(boost::asio::io_context& io, std::string path);
  static Result<std::unique_ptr<ControlServer>> Create(boost::asio::io_context& io, std::string path,
                                                       Options options);
  ~ControlServer();

  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Adds a command. `command` is one word, not "help" and not registered before (checked
  // by a debug assert). `help` is one line shown by "help", usually the usage followed by
  // what it does ("reload [FEED]  re-read all feeds, or one").
  void Register(std::string command, std::string help, ControlHandler handler);
  void RegisterAsync(std::string command, std::string help, AsyncControlHandler handler);

  // Starts accepting connections.
  void Start();
  // Stops accepting, removes the socket file (if it is still the one this server bound)
  // and closes every open connection (their pending replies are discarded). Returns at
  // once; the closing finishes on the io_context.
  void Stop();

  const std::string& path() const { return path_; }

  struct Shared;  // state shared with connections (control_server.cc)

 private:
  ControlServer(boost::asio::io_context& io, std::string path, Options options);

  boost::asio::io_context& io_;
  std::string path_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace iocd
