#include "app/event_processor.h"

#include <fmt/format.h>

#include <chrono>
#include <random>

#include "extract/extractor.h"

namespace iocd {

IndexHolder::IndexHolder() : current_(IndexBuilder().Build()) {}

Result<std::shared_ptr<const IndicatorIndex>> BuildIndexFromStore(IndicatorStore& store) {
  IndexBuilder builder;
  Status add_error;
  Status s = store.ForEachEntry([&](const Indicator& indicator, FeedId feed) {
    Status added = builder.Add(indicator, feed);
    if (!added.ok() && add_error.ok()) add_error = added;
  });
  if (!s.ok()) return s;
  if (!add_error.ok()) return add_error;
  return std::move(builder).Build();
}

EventProcessor::EventProcessor(IndicatorStore* store, const IndexHolder* index, std::vector<HitOutput*> outputs)
    : store_(store), index_(index), outputs_(std::move(outputs)), instance_(std::random_device{}()) {}

std::string EventProcessor::NextHitId(int64_t now_us) {
  uint64_t n = hit_counter_.fetch_add(1, std::memory_order_relaxed);
  return fmt::format("{:014x}{:08x}{:010x}", static_cast<uint64_t>(now_us), instance_, n);
}

void EventProcessor::Process(const ReceivedEvent& event) {
  thread_local std::vector<Observable> observables;
  thread_local std::vector<IndexMatch> matches;
  events_.fetch_add(1, std::memory_order_relaxed);

  observables.clear();
  ExtractObservables(event.message, &observables);
  if (observables.empty()) return;
  observables_.fetch_add(observables.size(), std::memory_order_relaxed);

  std::shared_ptr<const IndicatorIndex> index = index_->Current();
  for (const Observable& obs : observables) {
    matches.clear();
    index->Lookup(obs.indicator, &matches);
    if (matches.empty()) continue;

    const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    auto hit = std::make_shared<iocd::hit::Hit>();
    hit->set_id(NextHitId(now_us));
    hit->set_detected_unix_us(now_us);
    hit->set_input(std::string(event.input));
    hit->set_sender(std::string(event.sender));
    hit->set_raw_event(std::string(event.message));
    hit->set_observable(std::string(obs.text));
    hit->set_observable_type(std::string(TypeName(obs.indicator.type)));
    hit->set_field("message");
    for (const IndexMatch& m : matches) {
      Indicator indicator = m.ToIndicator();
      for (FeedId feed : m.feeds) {
        iocd::hit::Enrichment* e = hit->add_enrichments();
        e->set_feed(store_->FeedName(feed));
        e->set_indicator_type(std::string(TypeName(m.type)));
        auto entry = store_->GetEntry(feed, indicator);
        if (entry.ok()) {
          e->set_indicator(entry->value());
          *e->mutable_context() = entry->context();
        } else {
          e->set_indicator(indicator.Display());
          missing_context_.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
    hits_.fetch_add(1, std::memory_order_relaxed);
    std::shared_ptr<const iocd::hit::Hit> shared = std::move(hit);
    for (HitOutput* out : outputs_) out->Submit(shared);
  }
}

ProcessorStats EventProcessor::stats() const {
  ProcessorStats s;
  s.events = events_.load(std::memory_order_relaxed);
  s.observables = observables_.load(std::memory_order_relaxed);
  s.hits = hits_.load(std::memory_order_relaxed);
  s.missing_context = missing_context_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace iocd
