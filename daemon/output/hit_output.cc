#include "output/hit_output.h"

#include <unistd.h>

#include <string>
#include <utility>

#include "output/hit_filter.h"
#include "output/stdout_output.h"
#include "output/tcp_output.h"

namespace iocd {
namespace {

Result<std::unique_ptr<HitOutput>> MakeUnroutedHitOutput(const iocd::config::Output& config) {
  if (config.name().empty()) return Status::InvalidArgument("output: name is required");
  const std::string where = "output \"" + config.name() + "\": ";
  if (config.format() != iocd::config::OUTPUT_FORMAT_UNSPECIFIED &&
      config.format() != iocd::config::OUTPUT_FORMAT_JSON) {
    return Status::InvalidArgument(where + "unsupported format " + std::to_string(config.format()) +
                                   " (only json is supported)");
  }
  switch (config.protocol()) {
    case iocd::config::OUTPUT_PROTOCOL_STDOUT:
      if (!config.address().empty()) {
        return Status::InvalidArgument(where + "address is not allowed for protocol stdout");
      }
      return NewFdHitOutput(config.name(), STDOUT_FILENO);
    case iocd::config::OUTPUT_PROTOCOL_TCP: {
      if (config.address().empty()) {
        return Status::InvalidArgument(where + "address is required for protocol tcp");
      }
      TcpOutputOptions options;
      options.name = config.name();
      if (Status s = SplitHostPort(config.address(), &options.host, &options.port); !s.ok()) {
        return Status::InvalidArgument(where + s.message());
      }
      if (config.queue_size() != 0) options.queue_size = config.queue_size();
      return NewTcpHitOutput(std::move(options));
    }
    default:
      return Status::InvalidArgument(where + "protocol is required (tcp or stdout)");
  }
}

}  // namespace

Result<std::unique_ptr<HitOutput>> MakeHitOutput(const iocd::config::Output& config) {
  auto out = MakeUnroutedHitOutput(config);
  if (!out.ok()) return out.status();
  // Output.events: hits, service events or both (hit_filter.h).
  return NewRoutedHitOutput(std::move(out).value(), config);
}

}  // namespace iocd
