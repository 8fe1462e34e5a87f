// The control protocol's client side (used by iocctl and the tests): one blocking request
// per call. See control_server.h for the protocol.
//
// Thread-safe (each call uses its own socket). Blocks for at most `timeout` in total.
//
// Errors: a request that could not be made or answered (cannot connect, timed out, the
// connection closed before the final line, a response over 64 MiB) is an IoError whose
// message starts "cannot connect to PATH: ..." or names PATH and what went wrong. Connect
// errors say why: "no such file (is iocd running with this state_dir?)", "connection
// refused (...)", "permission denied (...)", "not a socket".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"
#include "control/control_protocol.h"

namespace iocd {

// Largest response accepted.
inline constexpr size_t kMaxControlResponseBytes = 64 << 20;

// Sends `line` (one request; a trailing "\n" is optional, an inner one is InvalidArgument)
// and returns the response, OK or ERR. Only transport failures are errors.
Result<ControlResponse> ControlExchange(const std::string& socket_path, std::string_view line,
                                        std::chrono::milliseconds timeout);

// The same, for callers that only need the body: the body when the final line is OK; an
// "ERR <message>" answer is returned as InvalidArgument carrying <message>.
Result<std::string> ControlRequest(const std::string& socket_path, const std::string& line,
                                   std::chrono::seconds timeout);

}  // namespace iocd
