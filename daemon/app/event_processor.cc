#include "app/event_processor.h"

#include <cassert>
#include <chrono>
#include <deque>
#include <span>
#include <unordered_map>

#include "extract/field_extractor.h"
#include "output/hit_fields.h"
#include "parse/event_parser.h"

namespace iocd {

Result<std::unique_ptr<HitFormatter>> MakeReplyFormatter(const iocd::config::Input::ReplyBack& reply_back) {
  iocd::config::Output as_output;
  as_output.set_format(reply_back.format() == iocd::config::OUTPUT_FORMAT_UNSPECIFIED
                           ? iocd::config::OUTPUT_FORMAT_TEMPLATE
                           : reply_back.format());
  as_output.set_line_template(reply_back.line_template().empty() ? std::string(kDefaultReplyTemplate)
                                                                 : reply_back.line_template());
  as_output.set_leef_delimiter(reply_back.leef_delimiter());
  return MakeHitFormatter(as_output);
}

EventProcessor::EventProcessor(IndicatorStore* store, const SnapshotHolder* snapshots,
                               std::vector<HitOutput*> outputs, EventProcessorOptions options)
    : store_(store), snapshots_(snapshots), outputs_(std::move(outputs)), options_(std::move(options)) {
  if (options_.ids == nullptr) options_.ids = std::make_shared<HitIdGenerator>();
  if (options_.suppressor != nullptr && !options_.suppressor->enabled()) options_.suppressor = nullptr;
  auto formatter = MakeReplyFormatter({});
  assert(formatter.ok() && "the default reply template parses");
  default_reply_formatter_ = std::move(formatter).value();
}

Status EventProcessor::ConfigureReplyBack(const iocd::config::Input& input) {
  auto formatter = MakeReplyFormatter(input.reply_back());
  if (!formatter.ok()) {
    return Status::InvalidArgument("input " + input.name() + ": reply_back: " + formatter.status().message());
  }
  reply_formatters_[input.name()] = std::move(formatter).value();
  return Status::Ok();
}

const HitFormatter& EventProcessor::ReplyFormatter(std::string_view input) const {
  auto it = reply_formatters_.find(input);
  return it != reply_formatters_.end() ? *it->second : *default_reply_formatter_;
}

namespace {

// The suppression key: every matched indicator, and the source (syslog HOSTNAME, else the
// sender's address without its port).
std::string SuppressionKey(const iocd::hit::Hit& hit, const ReceivedEvent& event, std::string_view hostname) {
  std::string key;
  for (const auto& e : hit.enrichments()) {
    key += e.indicator_type();
    key += ':';
    key += e.indicator();
    key += ',';
  }
  key += '|';
  if (!hostname.empty()) {
    key += hostname;
  } else {
    key += event.sender.substr(0, event.sender.rfind(':'));
  }
  return key;
}

// Adds the built-in extractor's observables that the source rules did not already report
// (a rule's field wins for the same indicator). The event's rule observables are
// (*observables)[first..], the last ones in the vector.
void MergeBuiltin(const std::vector<FieldObservable>& builtin, size_t first, std::vector<FieldObservable>* observables) {
  const size_t from_rules = observables->size();
  for (const FieldObservable& f : builtin) {
    bool seen = false;
    for (size_t i = first; i < from_rules && !seen; ++i) {
      seen = (*observables)[i].observable.indicator == f.observable.indicator;
    }
    if (!seen) observables->push_back(f);
  }
}

// One event of a batch, between extraction and hit emission.
struct PendingEvent {
  ParsedEvent parsed;
  SourceMatch rule_match;
  const CompiledSource* source = nullptr;
  size_t end = 0;  // one past its last observable in BatchScratch::observables
};

// Scratch space of ProcessBatch, one per thread: the arenas and vectors stop allocating
// once they have grown to the traffic's size.
struct BatchScratch {
  EventParser parser;
  std::deque<PendingEvent> events;           // a deque: PendingEvent cannot move
  std::vector<FieldObservable> observables;  // the batch's, event after event
  std::vector<FieldObservable> builtin;
  // The indicators looked up (their keys moved out of `observables`, whose indicators are
  // not used after that) and, for each, its index in `observables`.
  std::vector<Indicator> lookups;
  std::vector<uint32_t> lookup_of;
  std::vector<IndexMatch> matches;
  std::vector<size_t> match_ends;
};

// The hits of the batch this thread is processing, in order: ProcessBatch submits them
// to the outputs together at its end (one spool write and one delivery wake-up per batch
// instead of per hit, output/spooled_output.h).
thread_local std::vector<std::shared_ptr<const iocd::hit::Hit>> batch_hits;

void SubmitBatchHits(const std::vector<HitOutput*>& outputs, bool defer_wakeup = false) {
  if (batch_hits.empty()) {
    // A batch without hits: a wake-up an earlier batch left pending waits no longer.
    if (defer_wakeup) {
      for (HitOutput* out : outputs) out->WakeDeferred();
    }
    return;
  }
  for (HitOutput* out : outputs) {
    if (defer_wakeup) {
      out->SubmitBatchDeferringWakeup(batch_hits);
    } else {
      out->SubmitBatch(batch_hits);
    }
  }
  batch_hits.clear();
}

// The enrichments EmitHit built from the store, per thread, for one store and one
// snapshot: a repeated hit on the same indicator copies its enrichment instead of reading
// and parsing the context again (a RocksDB Get and a FeedEntry parse per matching feed).
// Valid only for the snapshot it was filled under: the daemon writes the store (imports,
// removals) before it publishes the snapshot that indexes the change and purges expired
// entries only after one that leaves them out, so within one snapshot an indicator's
// context does not change. A new snapshot or another store empties it. Entries whose
// context was missing are not kept (they are read and counted every time).
class EnrichmentCache {
 public:
  struct Entry {
    iocd::hit::Enrichment enrichment;
    bool exact_domain = false;
  };

  // Empties the cache unless it was filled for this store and snapshot.
  void Use(const IndicatorStore* store, const std::shared_ptr<const MatchSnapshot>& snap) {
    const bool same = store == store_ && !snap_.owner_before(snap) && !snap.owner_before(snap_) && !snap_.expired();
    if (same) return;
    entries_.clear();
    store_ = store;
    snap_ = snap;
  }
  const Entry* Find(FeedId feed, IndicatorType type, std::string_view key) {
    auto it = entries_.find(Key(feed, type, key));
    return it == entries_.end() ? nullptr : &it->second;
  }
  void Insert(FeedId feed, IndicatorType type, std::string_view key, const iocd::hit::Enrichment& enrichment,
              bool exact_domain) {
    if (entries_.size() >= kMaxEntries) entries_.clear();
    Entry& e = entries_[Key(feed, type, key)];
    e.enrichment = enrichment;
    e.exact_domain = exact_domain;
  }

 private:
  // At most this many enrichments (about 1-2 MiB); when full it starts over.
  static constexpr size_t kMaxEntries = 4096;

  const std::string& Key(FeedId feed, IndicatorType type, std::string_view key) {
    key_.clear();
    key_.append(reinterpret_cast<const char*>(&feed), sizeof(feed));
    key_.push_back(static_cast<char>(type));
    key_.append(key);
    return key_;
  }

  std::string key_;  // scratch: the lookup key is built here without allocating
  std::unordered_map<std::string, Entry> entries_;
  const IndicatorStore* store_ = nullptr;
  std::weak_ptr<const MatchSnapshot> snap_;
};

thread_local EnrichmentCache enrichment_cache;

}  // namespace

void EventProcessor::Process(const ReceivedEvent& event) { ProcessBatch(std::span<const ReceivedEvent>(&event, 1)); }

void EventProcessor::ProcessBatch(std::span<const ReceivedEvent> events) {
  MatchBatch(events);
  SubmitBatchHits(outputs_);
}

void EventProcessor::ProcessBatchDeferringWakeup(std::span<const ReceivedEvent> events) {
  MatchBatch(events);
  SubmitBatchHits(outputs_, /*defer_wakeup=*/true);
}

void EventProcessor::InputIdle() {
  for (HitOutput* out : outputs_) out->WakeDeferred();
}

void EventProcessor::MatchBatch(std::span<const ReceivedEvent> events) {
  thread_local BatchScratch s;
  if (events.empty()) return;
  events_.fetch_add(events.size(), std::memory_order_relaxed);
  while (s.events.size() < events.size()) s.events.emplace_back();
  s.observables.clear();

  // Parse and extract every event.
  std::shared_ptr<const SourceRules> rules = source_rules_.load(std::memory_order_acquire);
  for (size_t e = 0; e < events.size(); ++e) {
    const ReceivedEvent& event = events[e];
    PendingEvent& p = s.events[e];
    const size_t first = s.observables.size();
    s.parser.Parse(event.message, &p.parsed);
    if (!p.parsed.error.empty()) malformed_.fetch_add(1, std::memory_order_relaxed);
    p.source = rules != nullptr ? rules->Select(event.sender, p.parsed.header.hostname) : nullptr;
    if (p.source == nullptr) {
      ExtractFromEvent(p.parsed, &s.observables);
    } else {
      p.rule_match.Clear();
      p.source->Apply(event.message, &p.rule_match);
      if (p.rule_match.rejected > 0) rule_rejected_.fetch_add(p.rule_match.rejected, std::memory_order_relaxed);
      if (p.rule_match.ignored) {
        ignored_.fetch_add(1, std::memory_order_relaxed);
      } else {
        s.observables.insert(s.observables.end(), p.rule_match.observables.begin(), p.rule_match.observables.end());
        if (p.source->builtin_extraction()) {
          // Replace rules rewrote the event: the built-in extraction reads the rewritten text.
          if (p.rule_match.text.data() != event.message.data()) s.parser.Parse(p.rule_match.text, &p.parsed);
          s.builtin.clear();
          ExtractFromEvent(p.parsed, &s.builtin);
          MergeBuiltin(s.builtin, first, &s.observables);
        }
      }
    }
    p.end = s.observables.size();
  }
  if (s.observables.empty()) return;
  observables_.fetch_add(s.observables.size(), std::memory_order_relaxed);

  // Look every observable up at once.
  std::shared_ptr<const MatchSnapshot> snap = snapshots_->Current();
  enrichment_cache.Use(store_, snap);
  if (s.lookups.size() < s.observables.size()) s.lookups.resize(s.observables.size());
  s.lookup_of.clear();
  for (uint32_t i = 0; i < s.observables.size(); ++i) {
    Indicator& indicator = s.observables[i].observable.indicator;
    if (options_.skip_allowlisted && snap->allowlist->Match(indicator)) {
      skipped_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    Indicator& slot = s.lookups[s.lookup_of.size()];
    slot.type = indicator.type;
    slot.key.swap(indicator.key);
    s.lookup_of.push_back(i);
  }
  s.matches.clear();
  s.match_ends.clear();
  snap->index->LookupBatch(std::span<const Indicator>(s.lookups.data(), s.lookup_of.size()), &s.matches,
                           &s.match_ends);

  // Hits, event by event, observable by observable.
  size_t k = 0;
  for (size_t e = 0; e < events.size(); ++e) {
    const ReceivedEvent& event = events[e];
    const PendingEvent& p = s.events[e];
    uint32_t emitted = 0;
    for (; k < s.lookup_of.size() && s.lookup_of[k] < p.end; ++k) {
      const FieldObservable& found = s.observables[s.lookup_of[k]];
      const Indicator& indicator = s.lookups[k];
      const std::span<const IndexMatch> matches(s.matches.data() + (k == 0 ? 0 : s.match_ends[k - 1]),
                                                s.matches.data() + s.match_ends[k]);
      if (!matches.empty()) EmitHit(event, p.parsed.header, p.source, p.rule_match, found, indicator, matches, *snap, &emitted);
    }
  }
}

void EventProcessor::EmitHit(const ReceivedEvent& event, const SyslogHeader& header, const CompiledSource* source,
                             const SourceMatch& rule_match, const FieldObservable& found, const Indicator& indicator,
                             std::span<const IndexMatch> matches, const MatchSnapshot& snap, uint32_t* emitted) {
  if (auto list = snap.allowlist->Match(indicator)) {
    suppressed_.fetch_add(1, std::memory_order_relaxed);
    snap.allowlist_suppressed[*list]->fetch_add(1, std::memory_order_relaxed);
    for (const IndexMatch& m : matches) {
      for (FeedId feed : m.feeds) {
        if (const FeedInfo* info = snap.feed(feed)) info->suppressed->fetch_add(1, std::memory_order_relaxed);
      }
    }
    return;
  }

  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  auto hit = std::make_shared<iocd::hit::Hit>();
  for (const IndexMatch& m : matches) {
    const bool parent_domain = m.type == IndicatorType::kDomain && m.key != indicator.key;
    for (FeedId feed : m.feeds) {
      const FeedInfo* info = snap.feed(feed);
      if (const EnrichmentCache::Entry* cached =
              info != nullptr ? enrichment_cache.Find(feed, m.type, m.key) : nullptr) {
        if (!(parent_domain && cached->exact_domain)) *hit->add_enrichments() = cached->enrichment;
        continue;
      }
      const Indicator matched = m.ToIndicator();
      auto entry = store_->GetEntry(feed, matched);
      iocd::hit::Enrichment e;
      e.set_feed(info != nullptr ? info->name : store_->FeedName(feed));
      e.set_indicator_type(std::string(TypeName(m.type)));
      if (info != nullptr) {
        if (info->confidence) e.set_confidence(*info->confidence);
        for (const auto& tag : info->tags) e.add_tags(tag);
      }
      if (entry.ok()) {
        e.set_indicator(entry->value());
        e.mutable_context()->Swap(entry->mutable_context());
        DeriveEnrichmentFields(&e);
        if (info != nullptr) enrichment_cache.Insert(feed, m.type, m.key, e, entry->exact_domain());
        if (parent_domain && entry->exact_domain()) continue;
      } else {
        e.set_indicator(matched.Display());
        missing_context_.fetch_add(1, std::memory_order_relaxed);
      }
      *hit->add_enrichments() = std::move(e);
    }
  }
  if (hit->enrichments_size() == 0) return;
  if (options_.max_hits_per_event > 0 && *emitted >= options_.max_hits_per_event) {
    capped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::string suppression_key;
  SuppressionDecision decision;
  if (options_.suppressor != nullptr) {
    suppression_key = SuppressionKey(*hit, event, header.hostname);
    decision = options_.suppressor->Admit(suppression_key, now_us);
    if (!decision.emit) {
      window_suppressed_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    hit->set_count(1);
    hit->set_window_start_unix_us(decision.window_start_us);
  }
  hit->set_id(options_.ids->Next(now_us));
  hit->set_detected_unix_us(now_us);
  hit->set_input(std::string(event.input));
  hit->set_sender(std::string(event.sender));
  hit->set_raw_event(std::string(event.message));
  hit->set_raw_event_size(event.message.size());
  hit->set_event_unix_us(header.unix_us.value_or(0));
  hit->set_syslog_host(std::string(header.hostname));
  hit->set_syslog_app(std::string(header.app_name));
  hit->set_observable(std::string(found.observable.text));
  hit->set_observable_type(std::string(TypeName(indicator.type)));
  hit->set_field(found.field);
  if (source != nullptr) {
    hit->set_rule_set(source->name());
    for (const ContextValue& c : rule_match.context) {
      iocd::store::ContextField* field = hit->add_event_context();
      field->set_key(std::string(c.name));
      field->set_value(std::string(c.value));
    }
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  ++*emitted;
  std::shared_ptr<const iocd::hit::Hit> shared = std::move(hit);
  if (options_.suppressor != nullptr) {
    options_.suppressor->AttachFirst(suppression_key, decision.window_start_us, shared);
  }
  if (event.reply != nullptr) {
    thread_local std::string line;
    line.clear();
    ReplyFormatter(event.input).Format(*shared, &line);
    event.reply->Send(line);
  }
  if (event.reply != nullptr) {
    // A ReplyBack client has its reply already: the outputs get the hit now too (after
    // the batch's earlier hits, so the order stays that of the events).
    SubmitBatchHits(outputs_);
    for (HitOutput* out : outputs_) out->Submit(shared);
    return;
  }
  batch_hits.push_back(std::move(shared));
}

ProcessorStats EventProcessor::stats() const {
  ProcessorStats s;
  s.events = events_.load(std::memory_order_relaxed);
  s.observables = observables_.load(std::memory_order_relaxed);
  s.hits = hits_.load(std::memory_order_relaxed);
  s.suppressed = suppressed_.load(std::memory_order_relaxed);
  s.missing_context = missing_context_.load(std::memory_order_relaxed);
  s.malformed = malformed_.load(std::memory_order_relaxed);
  s.ignored = ignored_.load(std::memory_order_relaxed);
  s.rule_rejected = rule_rejected_.load(std::memory_order_relaxed);
  s.window_suppressed = window_suppressed_.load(std::memory_order_relaxed);
  s.capped = capped_.load(std::memory_order_relaxed);
  s.skipped = skipped_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace iocd
