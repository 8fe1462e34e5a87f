// ServiceEvents: the daemon's own events (hit.proto ServiceEvent, docs/service-events.md),
// built as Hit records with service_event set and submitted to every output; each output's
// routing (Output.events) decides whether it takes them.
//
// Kinds: started, stopped, feed_updated, feed_removed, feed_failed (from FeedSync reports),
// and three
// that Check() derives from periodic samples: feed_outdated (a feed's content last changed
// longer ago than its Feed.outdated_after), output_backlog_high (an output's pending count
// reached backlog_high) and spool_overflow (an output's dropped count grew). The derived
// kinds fire once per episode: feed_outdated again only after the feed was updated and went
// stale again; output_backlog_high again only after the backlog fell below half of
// backlog_high (the recovery is logged, not sent).
//
// Time is injected: Check() takes now_us and the samples, so tests drive it with a fake
// clock; the daemon calls it from a timer every service_events.check_interval.
//
// Ownership: borrows the outputs (they must outlive it).
// Thread safety: every method is thread-safe (one mutex; calls are rare).
// Errors: none; Submit never fails (outputs count their own drops). With enabled = false
// nothing is built or sent, and nothing is counted.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/feed_sync.h"
#include "output/hit_output.h"
#include "proto/hit.pb.h"

namespace iocd {

// Hit ids: time-ordered and unique per process ("<now_us:14 hex><instance:8 hex><n:10 hex>",
// the instance random per process). Share one between everything that makes hits so ids
// never collide. Thread-safe.
class HitIdGenerator {
 public:
  HitIdGenerator();
  std::string Next(int64_t now_us);

 private:
  const uint32_t instance_;
  std::atomic<uint64_t> counter_{0};
};

int64_t SystemNowUs();

struct ServiceEventsOptions {
  // false: no service events at all. Default: true.
  bool enabled = true;
  // Pending hits of one output at which output_backlog_high fires. Default: 10000.
  uint64_t backlog_high = 10000;
};

// One feed's age, sampled for Check().
struct FeedAge {
  std::string name;
  // When the feed's content last changed in the store (its last import), µs since the
  // epoch; 0 if it never loaded (the age then counts from the first Check that saw it).
  int64_t updated_unix_us = 0;
  // Feed.outdated_after in µs; 0 = never outdated.
  int64_t outdated_after_us = 0;
};

// One output's counters, sampled for Check().
struct OutputSample {
  std::string name;
  uint64_t pending = 0;
  uint64_t dropped = 0;
};

class ServiceEvents {
 public:
  ServiceEvents(ServiceEventsOptions options, std::vector<HitOutput*> outputs,
                std::shared_ptr<HitIdGenerator> ids = nullptr,
                std::function<int64_t()> now_us = SystemNowUs);

  void Started(std::string_view version, uint64_t feeds, uint64_t indicators);
  // `reason`: "SIGTERM", "SIGINT", ...
  void Stopped(std::string_view reason);
  // feed_updated for an import, feed_removed for a removal, feed_failed for a failure; an
  // unchanged feed sends nothing.
  // `source`: the feed's path or URL (without credentials).
  void FeedSynced(const FeedSyncReport& report, std::string_view source);
  // Derives feed_outdated, output_backlog_high and spool_overflow from the samples. Feeds
  // and outputs missing from a sample are forgotten.
  void Check(int64_t now_us, const std::vector<FeedAge>& feeds,
             const std::vector<OutputSample>& outputs);

  // Events sent so far, by kind.
  std::map<std::string, uint64_t> counts() const;

 private:
  using Details = std::vector<std::pair<std::string, std::string>>;
  // Called with mu_ held.
  void Emit(std::string_view kind, std::string_view severity, std::string_view subject,
            std::string message, const Details& details);

  struct FeedState {
    int64_t first_seen_us = 0;
    bool outdated = false;
  };
  struct OutputState {
    bool high = false;
    uint64_t dropped = 0;
  };

  const ServiceEventsOptions options_;
  const std::vector<HitOutput*> outputs_;
  const std::shared_ptr<HitIdGenerator> ids_;
  const std::function<int64_t()> now_us_;

  mutable std::mutex mu_;
  std::map<std::string, uint64_t> counts_;
  std::map<std::string, FeedState> feeds_;
  std::map<std::string, OutputState> output_states_;
};

}  // namespace iocd
