// HitSuppressor: the suppression window (Config.suppression, docs/hits.md#suppression).
//
// What it is: a bounded table of open windows, one per key. The caller builds the key from
// what makes two hits "the same sighting" (the matched indicators and the source: sender
// or syslog host). The first Admit() of a key opens a window and says emit; every later
// Admit() of that key before the window ends only counts. Expire() closes the windows that
// have ended and reports each one that counted more than one sighting, so the caller can
// send one summary hit (count, summary = true, window_start) in place of the suppressed
// ones. A window of 0 turns suppression off: every Admit() emits and nothing is tracked.
//
// Time is injected: every call takes `now_us` (microseconds since the epoch), so tests
// drive it with a fake clock. Windows are fixed, not sliding: a window opened at t covers
// [t, t + window); a sighting at or after t + window opens a new one even if Expire() has
// not run yet (the old one is then reported by the next Expire()).
//
// Memory is bounded by max_keys open windows (split evenly over the shards). When a shard
// is full, its oldest window is closed early (reported by the next Expire() like any other,
// and counted as evicted). Closed windows wait for Expire() in a list whose size is bounded
// by the windows that closed since the last Expire(); call Expire() regularly (the daemon
// does so every second or so).
//
// Ownership: owns copies of the keys, and (AttachFirst) a shared reference to the first
// hit of each window, released when the window is reported.
// Thread safety: every method is thread-safe. Keys are spread over shards, each with its
// own mutex; Expire() calls its callback without holding any lock.
// Errors: none; nothing here fails.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proto/hit.pb.h"

namespace iocd {

struct HitSuppressorOptions {
  // Length of a window in microseconds; 0 = suppression off.
  int64_t window_us = 0;
  // Bound on open windows over all shards. Default: 1000000.
  uint64_t max_keys = 1000000;
  // Lock shards (at least 1).
  uint32_t shards = 16;
};

struct SuppressionDecision {
  bool emit = true;             // first sighting in its window: send the hit
  uint64_t count = 1;           // sightings in this window so far, this one included
  int64_t window_start_us = 0;  // start of the window this sighting belongs to
};

// A window that ended with more than one sighting.
struct ClosedWindow {
  std::string key;
  uint64_t count = 0;
  int64_t window_start_us = 0;
  // The hit AttachFirst() stored for the window; null if none was attached.
  std::shared_ptr<const iocd::hit::Hit> first;
};

struct SuppressorStats {
  uint64_t admitted = 0;    // Admit() calls
  uint64_t suppressed = 0;  // Admit() calls that returned emit = false
  uint64_t summaries = 0;   // windows reported by Expire() (count > 1)
  uint64_t evicted = 0;     // windows closed early because a shard was full
  uint64_t open_windows = 0;
};

class HitSuppressor {
 public:
  explicit HitSuppressor(HitSuppressorOptions options);
  HitSuppressor(const HitSuppressor&) = delete;
  HitSuppressor& operator=(const HitSuppressor&) = delete;

  bool enabled() const { return options_.window_us > 0; }

  SuppressionDecision Admit(std::string_view key, int64_t now_us);

  // Keeps `hit` as the first hit of key's window that started at window_start_us (the
  // value Admit() returned), so the summary can be a copy of it. Ignored if that window
  // is no longer open.
  void AttachFirst(std::string_view key, int64_t window_start_us,
                   std::shared_ptr<const iocd::hit::Hit> hit);

  // Closes every window that ended at or before now_us (and those closed early) and calls
  // `on_closed` for each that counted more than one sighting. Returns how many it reported.
  size_t Expire(int64_t now_us, const std::function<void(ClosedWindow&&)>& on_closed);

  SuppressorStats stats() const;

 private:
  struct Window {
    std::string key;
    int64_t start_us = 0;
    uint64_t count = 0;
    std::shared_ptr<const iocd::hit::Hit> first;
  };
  struct Shard {
    std::mutex mu;
    // Open windows, oldest start first; `index` points into it (its string_views point
    // at the list nodes' keys, which never move).
    std::list<Window> windows;
    std::unordered_map<std::string_view, std::list<Window>::iterator> index;
    std::vector<ClosedWindow> closed;  // ended with count > 1, waiting for Expire()
  };

  Shard& ShardOf(std::string_view key);
  // Moves the window out of the shard; records it for Expire() when it counted more than
  // one sighting. Called with shard.mu held.
  void Close(Shard& shard, std::list<Window>::iterator it);

  const HitSuppressorOptions options_;
  const size_t max_per_shard_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<uint64_t> admitted_{0};
  std::atomic<uint64_t> suppressed_{0};
  std::atomic<uint64_t> summaries_{0};
  std::atomic<uint64_t> evicted_{0};
  std::atomic<uint64_t> open_{0};
};

}  // namespace iocd
