#include "app/event_processor.h"

#include <fmt/format.h>

#include <chrono>
#include <random>

#include "extract/field_extractor.h"
#include "output/hit_fields.h"
#include "parse/event_parser.h"

namespace iocd {

EventProcessor::EventProcessor(IndicatorStore* store, const SnapshotHolder* snapshots,
                               std::vector<HitOutput*> outputs)
    : store_(store), snapshots_(snapshots), outputs_(std::move(outputs)), instance_(std::random_device{}()) {}

std::string EventProcessor::NextHitId(int64_t now_us) {
  uint64_t n = hit_counter_.fetch_add(1, std::memory_order_relaxed);
  return fmt::format("{:014x}{:08x}{:010x}", static_cast<uint64_t>(now_us), instance_, n);
}

void EventProcessor::Process(const ReceivedEvent& event) {
  // One parser and scratch space per thread: the arena and vectors stop allocating once
  // they have grown to the traffic's size.
  thread_local EventParser parser;
  thread_local ParsedEvent parsed;
  thread_local std::vector<FieldObservable> observables;
  thread_local std::vector<IndexMatch> matches;
  events_.fetch_add(1, std::memory_order_relaxed);

  parser.Parse(event.message, &parsed);
  if (!parsed.error.empty()) malformed_.fetch_add(1, std::memory_order_relaxed);
  observables.clear();
  ExtractFromEvent(parsed, &observables);
  if (observables.empty()) return;
  observables_.fetch_add(observables.size(), std::memory_order_relaxed);

  std::shared_ptr<const MatchSnapshot> snap = snapshots_->Current();
  for (const FieldObservable& found : observables) {
    const Observable& obs = found.observable;
    matches.clear();
    snap->index->Lookup(obs.indicator, &matches);
    if (matches.empty()) continue;

    if (auto list = snap->allowlist->Match(obs.indicator)) {
      suppressed_.fetch_add(1, std::memory_order_relaxed);
      snap->allowlist_suppressed[*list]->fetch_add(1, std::memory_order_relaxed);
      for (const IndexMatch& m : matches) {
        for (FeedId feed : m.feeds) {
          if (const FeedInfo* info = snap->feed(feed)) info->suppressed->fetch_add(1, std::memory_order_relaxed);
        }
      }
      continue;
    }

    const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    auto hit = std::make_shared<iocd::hit::Hit>();
    for (const IndexMatch& m : matches) {
      Indicator indicator = m.ToIndicator();
      const bool parent_domain = m.type == IndicatorType::kDomain && m.key != obs.indicator.key;
      for (FeedId feed : m.feeds) {
        auto entry = store_->GetEntry(feed, indicator);
        if (entry.ok() && parent_domain && entry->exact_domain()) continue;
        iocd::hit::Enrichment* e = hit->add_enrichments();
        const FeedInfo* info = snap->feed(feed);
        e->set_feed(info != nullptr ? info->name : store_->FeedName(feed));
        e->set_indicator_type(std::string(TypeName(m.type)));
        if (info != nullptr) {
          if (info->confidence) e->set_confidence(*info->confidence);
          for (const auto& tag : info->tags) e->add_tags(tag);
        }
        if (entry.ok()) {
          e->set_indicator(entry->value());
          *e->mutable_context() = entry->context();
          DeriveEnrichmentFields(e);
        } else {
          e->set_indicator(indicator.Display());
          missing_context_.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
    if (hit->enrichments_size() == 0) continue;
    hit->set_id(NextHitId(now_us));
    hit->set_detected_unix_us(now_us);
    hit->set_input(std::string(event.input));
    hit->set_sender(std::string(event.sender));
    hit->set_raw_event(std::string(event.message));
    hit->set_raw_event_size(event.message.size());
    hit->set_event_unix_us(parsed.header.unix_us.value_or(0));
    hit->set_syslog_host(std::string(parsed.header.hostname));
    hit->set_syslog_app(std::string(parsed.header.app_name));
    hit->set_observable(std::string(obs.text));
    hit->set_observable_type(std::string(TypeName(obs.indicator.type)));
    hit->set_field(found.field);
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
  s.suppressed = suppressed_.load(std::memory_order_relaxed);
  s.missing_context = missing_context_.load(std::memory_order_relaxed);
  s.malformed = malformed_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace iocd
