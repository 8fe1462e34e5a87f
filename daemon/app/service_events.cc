#include "app/service_events.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <random>
#include <set>

namespace iocd {

HitIdGenerator::HitIdGenerator() : instance_(std::random_device{}()) {}

std::string HitIdGenerator::Next(int64_t now_us) {
  uint64_t n = counter_.fetch_add(1, std::memory_order_relaxed);
  return fmt::format("{:014x}{:08x}{:010x}", static_cast<uint64_t>(now_us), instance_, n);
}

int64_t SystemNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ServiceEvents::ServiceEvents(ServiceEventsOptions options, std::vector<HitOutput*> outputs,
                             std::shared_ptr<HitIdGenerator> ids, std::function<int64_t()> now_us)
    : options_(options),
      outputs_(std::move(outputs)),
      ids_(ids != nullptr ? std::move(ids) : std::make_shared<HitIdGenerator>()),
      now_us_(std::move(now_us)) {}

void ServiceEvents::Emit(std::string_view kind, std::string_view severity, std::string_view subject,
                         std::string message, const Details& details) {
  const int64_t now = now_us_();
  auto hit = std::make_shared<iocd::hit::Hit>();
  hit->set_id(ids_->Next(now));
  hit->set_detected_unix_us(now);
  iocd::hit::ServiceEvent* e = hit->mutable_service_event();
  e->set_kind(std::string(kind));
  e->set_severity(std::string(severity));
  e->set_subject(std::string(subject));
  e->set_message(std::move(message));
  for (const auto& [key, value] : details) {
    auto* field = e->add_details();
    field->set_key(key);
    field->set_value(value);
  }
  ++counts_[std::string(kind)];
  std::shared_ptr<const iocd::hit::Hit> shared = std::move(hit);
  for (HitOutput* out : outputs_) out->Submit(shared);
}

void ServiceEvents::Started(std::string_view version, uint64_t feeds, uint64_t indicators) {
  if (!options_.enabled) return;
  std::lock_guard lock(mu_);
  Emit("started", "info", "",
       fmt::format("iocd {} started: {} indicators from {} feeds", version, indicators, feeds),
       {{"version", std::string(version)},
        {"feeds", std::to_string(feeds)},
        {"indicators", std::to_string(indicators)}});
}

void ServiceEvents::Stopped(std::string_view reason) {
  if (!options_.enabled) return;
  std::lock_guard lock(mu_);
  Emit("stopped", "info", "", fmt::format("iocd stopping ({})", reason),
       {{"reason", std::string(reason)}});
}

void ServiceEvents::FeedSynced(const FeedSyncReport& report, std::string_view source) {
  if (!options_.enabled) return;
  std::lock_guard lock(mu_);
  if (report.outcome == FeedSyncReport::Outcome::kImported) {
    Emit("feed_updated", "info", report.feed,
         fmt::format("feed '{}' updated: {} indicators (+{} -{} ~{}), {} malformed records "
                     "skipped, version {}",
                     report.feed, report.indicators, report.changes.added, report.changes.removed,
                     report.changes.changed, report.rejected_lines, report.version),
         {{"source", std::string(source)},
          {"indicators", std::to_string(report.indicators)},
          {"added", std::to_string(report.changes.added)},
          {"removed", std::to_string(report.changes.removed)},
          {"changed", std::to_string(report.changes.changed)},
          {"malformed", std::to_string(report.rejected_lines)},
          {"version", report.version}});
  } else if (report.outcome == FeedSyncReport::Outcome::kRemoved) {
    Emit("feed_removed", "info", report.feed,
         fmt::format("feed '{}' removed: no longer configured or disabled; its {} indicators "
                     "no longer match",
                     report.feed, report.changes.removed),
         {{"removed", std::to_string(report.changes.removed)}});
  } else if (report.outcome == FeedSyncReport::Outcome::kFailed) {
    const bool kept = !report.version.empty();
    Details details = {{"source", std::string(source)}, {"reason", report.error}};
    std::string where;
    if (!report.errors.empty()) {
      // The first malformed record: where to look when every record was rejected.
      details.emplace_back("line", std::to_string(report.errors.front().line));
      details.emplace_back("line_error", report.errors.front().message);
      where = fmt::format(" (first bad record: line {}: {})", report.errors.front().line,
                          report.errors.front().message);
    }
    details.emplace_back("previous_version_kept", kept ? "true" : "false");
    details.emplace_back("indicators", std::to_string(report.indicators));
    if (kept) details.emplace_back("version", report.version);
    Emit("feed_failed", "error", report.feed,
         fmt::format(
             "feed '{}' failed: {}{}; {}", report.feed, report.error, where,
             kept ? fmt::format("keeping the previous version ({} indicators)", report.indicators)
                  : std::string("no previous version to keep")),
         details);
  }
}

void ServiceEvents::Check(int64_t now_us, const std::vector<FeedAge>& feeds,
                          const std::vector<OutputSample>& outputs) {
  if (!options_.enabled) return;
  std::lock_guard lock(mu_);
  std::set<std::string> seen;
  for (const FeedAge& f : feeds) {
    seen.insert(f.name);
    auto [it, inserted] = feeds_.try_emplace(f.name);
    FeedState& state = it->second;
    if (inserted) state.first_seen_us = now_us;
    const int64_t since = f.updated_unix_us > 0 ? f.updated_unix_us : state.first_seen_us;
    const bool outdated = f.outdated_after_us > 0 && now_us - since > f.outdated_after_us;
    if (outdated && !state.outdated) {
      const int64_t age_s = (now_us - since) / 1000000;
      Emit("feed_outdated", "warning", f.name,
           fmt::format("feed '{}' not updated for {} s (outdated_after {} s)", f.name, age_s,
                       f.outdated_after_us / 1000000),
           {{"updated_unix_ms", std::to_string(f.updated_unix_us / 1000)},
            {"age_s", std::to_string(age_s)},
            {"outdated_after_s", std::to_string(f.outdated_after_us / 1000000)}});
      spdlog::warn("feed {}: outdated, not updated for {} s", f.name, age_s);
    } else if (!outdated && state.outdated) {
      spdlog::info("feed {}: up to date again", f.name);
    }
    state.outdated = outdated;
  }
  std::erase_if(feeds_, [&](const auto& kv) { return seen.count(kv.first) == 0; });

  seen.clear();
  for (const OutputSample& o : outputs) {
    seen.insert(o.name);
    OutputState& state = output_states_[o.name];
    if (!state.high && o.pending >= options_.backlog_high) {
      state.high = true;
      Emit("output_backlog_high", "warning", o.name,
           fmt::format("output '{}': {} hits pending (backlog_high {})", o.name, o.pending,
                       options_.backlog_high),
           {{"pending", std::to_string(o.pending)},
            {"backlog_high", std::to_string(options_.backlog_high)}});
      spdlog::warn("output {}: backlog high, {} hits pending", o.name, o.pending);
    } else if (state.high && o.pending < options_.backlog_high / 2) {
      state.high = false;
      spdlog::info("output {}: backlog recovered, {} hits pending", o.name, o.pending);
    }
    if (o.dropped > state.dropped) {
      const uint64_t grew = o.dropped - state.dropped;
      Emit("spool_overflow", "error", o.name,
           fmt::format("output '{}': {} hits dropped since the last check (spool or queue full), "
                       "{} in total",
                       o.name, grew, o.dropped),
           {{"dropped", std::to_string(grew)}, {"dropped_total", std::to_string(o.dropped)}});
      spdlog::error("output {}: {} hits dropped, {} in total", o.name, grew, o.dropped);
    }
    state.dropped = o.dropped;
  }
  std::erase_if(output_states_, [&](const auto& kv) { return seen.count(kv.first) == 0; });
}

std::map<std::string, uint64_t> ServiceEvents::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

}  // namespace iocd
