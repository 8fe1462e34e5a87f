#include "suppress/hit_suppressor.h"

#include <algorithm>

namespace iocd {

HitSuppressor::HitSuppressor(HitSuppressorOptions options)
    : options_(options),
      max_per_shard_(std::max<size_t>(
          1, static_cast<size_t>((options.max_keys + std::max(1u, options.shards) - 1) /
                                 std::max(1u, options.shards)))) {
  const uint32_t n = std::max(1u, options_.shards);
  shards_.reserve(n);
  for (uint32_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>());
}

HitSuppressor::Shard& HitSuppressor::ShardOf(std::string_view key) {
  return *shards_[std::hash<std::string_view>{}(key) % shards_.size()];
}

void HitSuppressor::Close(Shard& shard, std::list<Window>::iterator it) {
  shard.index.erase(std::string_view(it->key));
  if (it->count > 1) {
    shard.closed.push_back({std::move(it->key), it->count, it->start_us, std::move(it->first)});
  }
  shard.windows.erase(it);
  open_.fetch_sub(1, std::memory_order_relaxed);
}

SuppressionDecision HitSuppressor::Admit(std::string_view key, int64_t now_us) {
  admitted_.fetch_add(1, std::memory_order_relaxed);
  if (!enabled()) return {true, 1, now_us};
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mu);
  auto found = shard.index.find(key);
  if (found != shard.index.end()) {
    Window& w = *found->second;
    if (now_us < w.start_us + options_.window_us) {
      ++w.count;
      suppressed_.fetch_add(1, std::memory_order_relaxed);
      return {false, w.count, w.start_us};
    }
    Close(shard, found->second);  // ended; Expire() has not run yet
  }
  if (shard.windows.size() >= max_per_shard_) {
    evicted_.fetch_add(1, std::memory_order_relaxed);
    Close(shard, shard.windows.begin());
  }
  shard.windows.push_back({std::string(key), now_us, 1, nullptr});
  auto it = std::prev(shard.windows.end());
  shard.index.emplace(std::string_view(it->key), it);
  open_.fetch_add(1, std::memory_order_relaxed);
  return {true, 1, now_us};
}

void HitSuppressor::AttachFirst(std::string_view key, int64_t window_start_us,
                                std::shared_ptr<const iocd::hit::Hit> hit) {
  if (!enabled()) return;
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mu);
  auto found = shard.index.find(key);
  if (found == shard.index.end() || found->second->start_us != window_start_us) return;
  found->second->first = std::move(hit);
}

size_t HitSuppressor::Expire(int64_t now_us, const std::function<void(ClosedWindow&&)>& on_closed) {
  std::vector<ClosedWindow> ready;
  for (auto& shard_ptr : shards_) {
    Shard& shard = *shard_ptr;
    std::lock_guard lock(shard.mu);
    while (!shard.windows.empty() &&
           shard.windows.front().start_us + options_.window_us <= now_us) {
      Close(shard, shard.windows.begin());
    }
    for (auto& c : shard.closed) ready.push_back(std::move(c));
    shard.closed.clear();
  }
  // Oldest first, whatever shard they came from.
  std::stable_sort(ready.begin(), ready.end(), [](const ClosedWindow& a, const ClosedWindow& b) {
    return a.window_start_us < b.window_start_us;
  });
  summaries_.fetch_add(ready.size(), std::memory_order_relaxed);
  for (auto& c : ready) on_closed(std::move(c));
  return ready.size();
}

SuppressorStats HitSuppressor::stats() const {
  SuppressorStats s;
  s.admitted = admitted_.load(std::memory_order_relaxed);
  s.suppressed = suppressed_.load(std::memory_order_relaxed);
  s.summaries = summaries_.load(std::memory_order_relaxed);
  s.evicted = evicted_.load(std::memory_order_relaxed);
  s.open_windows = open_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace iocd
