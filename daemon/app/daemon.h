// Daemon: the running iocd. Wires config, store, feeds, index, inputs and outputs together
// and owns them all.
//
// Start-up (Create): open the store under state_dir, create the outputs, sync the feeds into
// the store, build and publish the match index, bind every input. A failure here is
// returned (the caller prints it and exits non-zero): an unusable store, an address that
// cannot be bound, a bad output. A feed that fails to load is not fatal: it is logged and
// the daemon runs with the others.
//
// Running (Run): network threads serve the inputs. Signals:
//   SIGHUP          re-read the config file's feeds (if iocd was started with --config and it
//                   still parses; otherwise the current list) and the feed files; changed
//                   feeds are imported, a new index is built off the hot path and swapped in.
//                   Matching never pauses. A broken feed keeps its previous version.
//   SIGTERM/SIGINT  stop accepting, process every event already received, flush outputs
//                   (for up to shutdown_grace), and return 0.
//
// Service events (docs/service-events.md): started once ready, feed_updated/feed_failed
// from every feed sync, feed_outdated/output_backlog_high/spool_overflow from a check every
// service_events.check_interval on the reload thread, and stopped after the inputs are
// drained and before the outputs are flushed. Suppression (Config.suppression): the daemon
// owns the HitSuppressor, expires its windows every second and sends the summary hits
// (all still-open windows at stop).
//
// Thread safety: Create and Run are called once, from one thread. RequestReload and
// RequestStop may be called from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "proto/config.pb.h"

namespace iocd {

class Daemon {
 public:
  struct Options {
    iocd::config::Config config;
    // The file the config came from, re-read on SIGHUP; empty for the embedded default.
    std::string config_path;
    std::chrono::milliseconds shutdown_grace{5000};
  };

  static Result<std::unique_ptr<Daemon>> Create(Options options);
  virtual ~Daemon() = default;

  // Serves until stopped; returns the process exit code.
  virtual int Run() = 0;
  virtual void RequestReload() = 0;
  virtual void RequestStop() = 0;
};

}  // namespace iocd
