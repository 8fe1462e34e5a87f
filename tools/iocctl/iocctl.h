// iocctl: the operator's tool for a running iocd and its state directory.
//
//   iocctl [--socket PATH] [--state-dir DIR] [--timeout SECONDS] reload [FEED]
//   iocctl [--socket PATH] [--state-dir DIR] [--timeout SECONDS] status
//   iocctl [--socket PATH] [--state-dir DIR] [--timeout SECONDS] metrics
//   iocctl [--state-dir DIR] store-info [--json]
//
// reload, status and metrics talk to the daemon over its control socket (daemon/control; default
// <state-dir>/control.sock, state-dir default ./var/iocd) and print the response body.
// store-info opens the store (<state-dir>/store) itself, so it needs no daemon, and only
// works while no iocd holds the store: it prints each feed's state and checks that the
// number of entries stored under the feed's id equals its indicator_count.
//
// Exit codes: 0 success; 1 the daemon answered ERR (message on stderr), or store-info found
// an inconsistency; 2 usage error, cannot connect or no complete answer, store missing or in
// use. RunIocctl is the whole tool behind a thin main(), so tests drive it in-process.
// Not thread-safe with itself only in the sense that it writes to the given streams.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace iocd {

// `args` are the command-line arguments without the program name.
int RunIocctl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace iocd
