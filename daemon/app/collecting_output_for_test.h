// Test-only: a HitOutput that keeps every hit it is given, for unit tests of the event
// path. The end-to-end tests use the real TCP output instead.
#pragma once

#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "output/hit_output.h"

namespace iocd {

class CollectingOutput : public HitOutput {
 public:
  const std::string& name() const override { return name_; }
  void Submit(std::shared_ptr<const iocd::hit::Hit> hit) override {
    std::lock_guard lock(mu_);
    hits_.push_back(std::move(hit));
  }
  // Keeps the hits as Submit() does and records the batch's size.
  void SubmitBatch(std::span<const std::shared_ptr<const iocd::hit::Hit>> hits) override {
    std::lock_guard lock(mu_);
    hits_.insert(hits_.end(), hits.begin(), hits.end());
    batch_sizes_.push_back(hits.size());
    calls_.push_back("batch " + std::to_string(hits.size()));
  }
  // Keeps the hits as Submit() does; recorded in calls() only.
  void SubmitBatchDeferringWakeup(std::span<const std::shared_ptr<const iocd::hit::Hit>> hits) override {
    std::lock_guard lock(mu_);
    hits_.insert(hits_.end(), hits.begin(), hits.end());
    calls_.push_back("deferred " + std::to_string(hits.size()));
  }
  void WakeDeferred() override {
    std::lock_guard lock(mu_);
    calls_.push_back("wake");
  }
  void Shutdown(std::chrono::steady_clock::time_point) override {}
  OutputStats stats() const override { return {}; }
  std::vector<std::shared_ptr<const iocd::hit::Hit>> hits() {
    std::lock_guard lock(mu_);
    return hits_;
  }
  // The size of each SubmitBatch() call so far, in order (Submit() calls are not listed).
  std::vector<size_t> batch_sizes() {
    std::lock_guard lock(mu_);
    return batch_sizes_;
  }
  // SubmitBatch ("batch N"), SubmitBatchDeferringWakeup ("deferred N") and WakeDeferred
  // ("wake") calls so far, in order.
  std::vector<std::string> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  // Returns the hits so far and forgets them.
  std::vector<std::shared_ptr<const iocd::hit::Hit>> Take() {
    std::lock_guard lock(mu_);
    return std::exchange(hits_, {});
  }

 private:
  std::string name_ = "collect";
  std::mutex mu_;
  std::vector<std::shared_ptr<const iocd::hit::Hit>> hits_;
  std::vector<size_t> batch_sizes_;
  std::vector<std::string> calls_;
};

}  // namespace iocd
