// The stdout output: hits written as JSON lines to a file descriptor (standard output in
// production, a pipe or temp file in tests). See hit_output.h for the HitOutput contract.
//
// Submit() formats the hit on the caller's thread, then writes the whole line with write(2)
// under a mutex, so lines from different threads never interleave and each line reaches the
// descriptor before Submit() returns (no user-space buffering; consumers pipe it). A
// consumer that stops reading blocks Submit() once the pipe is full. A failed write (e.g.
// the reader went away) drops the hit, counts it and logs rate-limited; the process should
// ignore SIGPIPE so such a write returns EPIPE instead of killing it. The descriptor is not
// owned: it is never closed.
#pragma once

#include <memory>
#include <string>

#include "output/hit_output.h"

namespace iocd {

std::unique_ptr<HitOutput> NewFdHitOutput(std::string name, int fd);

}  // namespace iocd
