#include "output/hit_filter.h"

#include <algorithm>
#include <atomic>
#include <utility>
#include <vector>

namespace iocd {
namespace {

template <typename List>
bool Listed(const List& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

class RoutedHitOutput final : public HitOutput {
 public:
  RoutedHitOutput(std::unique_ptr<HitOutput> inner, iocd::config::Output config)
      : inner_(std::move(inner)), config_(std::move(config)) {}

  const std::string& name() const override { return inner_->name(); }

  void Submit(std::shared_ptr<const iocd::hit::Hit> hit) override {
    if (!OutputAccepts(*hit, config_)) {
      filtered_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    inner_->Submit(std::move(hit));
  }

  void SubmitBatch(std::span<const std::shared_ptr<const iocd::hit::Hit>> hits) override {
    std::vector<std::shared_ptr<const iocd::hit::Hit>> accepted;
    accepted.reserve(hits.size());
    for (const auto& hit : hits) {
      if (OutputAccepts(*hit, config_)) {
        accepted.push_back(hit);
      } else {
        filtered_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    if (!accepted.empty()) inner_->SubmitBatch(accepted);
  }

  void Shutdown(std::chrono::steady_clock::time_point deadline) override { inner_->Shutdown(deadline); }

  OutputStats stats() const override {
    OutputStats s = inner_->stats();
    const uint64_t filtered = filtered_.load(std::memory_order_relaxed);
    s.submitted += filtered;
    s.filtered += filtered;
    return s;
  }

 private:
  const std::unique_ptr<HitOutput> inner_;
  const iocd::config::Output config_;
  std::atomic<uint64_t> filtered_{0};
};

}  // namespace

bool PassesFilter(const iocd::hit::Hit& hit, const iocd::config::OutputFilter& filter) {
  const auto& es = hit.enrichments();
  auto any = [&](auto pred) { return std::any_of(es.begin(), es.end(), pred); };
  if (filter.min_confidence() > 0 &&
      !any([&](const auto& e) { return e.has_confidence() && e.confidence() >= filter.min_confidence(); })) {
    return false;
  }
  if (filter.indicator_types_size() > 0 &&
      !any([&](const auto& e) { return Listed(filter.indicator_types(), e.indicator_type()); })) {
    return false;
  }
  if (filter.feeds_size() > 0 && !any([&](const auto& e) { return Listed(filter.feeds(), e.feed()); })) {
    return false;
  }
  if (filter.tags_size() > 0 &&
      !any([&](const auto& e) {
        return std::any_of(e.tags().begin(), e.tags().end(), [&](const std::string& t) { return Listed(filter.tags(), t); });
      })) {
    return false;
  }
  return true;
}

bool IsServiceEvent(const iocd::hit::Hit& hit) { return !hit.service_event().kind().empty(); }

bool OutputAccepts(const iocd::hit::Hit& hit, const iocd::config::Output& config) {
  const iocd::config::OutputEvents events = config.events();
  if (IsServiceEvent(hit)) {
    return events == iocd::config::OUTPUT_EVENTS_SERVICE || events == iocd::config::OUTPUT_EVENTS_ALL;
  }
  if (events == iocd::config::OUTPUT_EVENTS_SERVICE) return false;
  return PassesFilter(hit, config.filter());
}

std::unique_ptr<HitOutput> NewRoutedHitOutput(std::unique_ptr<HitOutput> inner, iocd::config::Output config) {
  return std::make_unique<RoutedHitOutput>(std::move(inner), std::move(config));
}

}  // namespace iocd
