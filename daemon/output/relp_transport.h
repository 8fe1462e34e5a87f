// RELP transport: hits to a RELP receiver (rsyslog imrelp) with application-level
// acknowledgement, built on librelp's client API.
//
// What it is: a Transport (output/transport.h) whose Send() takes a batch of LF-framed
// messages ("msg\nmsg\n...") and sends every non-empty line as one RELP "syslog" frame.
// Guarantee: Send() returns OK only after the receiver answered "200 OK" to every frame of
// the batch. librelp has no call that waits for outstanding acknowledgements, so each
// Send() runs one RELP session: open, the frames (up to `window` in flight), then "close",
// whose response the receiver sends after the responses to every earlier frame (RELP
// answers in order). Any error response, a broken connection or a timeout while waiting
// makes Send() fail; the caller then sends the whole batch again (at-least-once). Hence
// Unacknowledged() is always 0: what Send() accepted is acknowledged. Between Send() calls
// no connection is held, so receiver restarts or idle timeouts never fail a batch.
// Connect() opens and closes one session to verify the receiver (a failed Connect() backs
// off in the caller) and "connected" then means "the receiver answered last time".
//
// Ownership: owns one librelp engine and, during a call, one client session.
// Thread safety: one owner thread; Interrupt() may be called from any thread. librelp
// waits in poll() for up to `timeout`, so an Interrupt() takes effect within `timeout`;
// after it every call fails. librelp writes without MSG_NOSIGNAL: the calling thread
// should block SIGPIPE (SpooledOutputs' delivery threads do).
// Errors: Connect() and Send() return IoError with the target, librelp's message and
// error code (e.g. "relp://127.0.0.1:514: error opening connection to remote peer
// (RELP_RET_IO_ERR)"). Messages are sent as they are; a line must not exceed the
// receiver's maximum message size (rsyslog: maxMessageSize), or it answers an error and
// the batch fails on every retry.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "output/transport.h"

namespace iocd {

struct RelpClientOptions {
  // Bounds connecting, the open handshake and each wait for a response. Whole seconds
  // (librelp's unit), at least 1. Default: 10 s.
  std::chrono::seconds timeout{10};
  // Frames in flight before Send() waits for responses. Larger than the output's batch
  // (512 hits) so a batch never waits mid-way. Default: 1024.
  int window = 1024;
};

// RELP to host:port (resolved on every session).
std::unique_ptr<Transport> NewRelpTransport(std::string host, std::string port, RelpClientOptions options = {});
// The same for a configured "host:port" address; InvalidArgument when it does not parse.
Status NewRelpTransport(std::string_view address, std::unique_ptr<Transport>* out);

}  // namespace iocd
