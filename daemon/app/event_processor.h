// EventProcessor: turns received events into hits, one at a time or a batch at once.
//
// For each event: parse it (syslog header, then a CEF, LEEF, JSON, key=value or text
// body; parse/event_parser.h), extract observables with the field each came from
// (extract/field_extractor.h) and look each up in the current MatchSnapshot. When a
// configured source (rules/source_rules.h, docs/rules.md) covers the event's sender or
// HOSTNAME, its replace and ignore rules run first and its rules' observables come first
// (field = rule name), then, unless the source turns it off, the built-in extraction's
// observables not already found; the hit carries the source's name (rule_set) and its
// context rules' values (event_context). An
// observable with matches that an allowlist also matches produces no hit; the suppression
// is counted for the allowlist and for every feed that matched.
// Otherwise one Hit carries every matching indicator (most specific first) with each
// listing feed's context, read from the store only now that something matched (and kept,
// per thread, for the snapshot it was read under: a repeated hit on an indicator copies
// its enrichment instead of reading the store again; a new snapshot starts afresh), and the
// feed's confidence and tags. A parent-domain match from an entry marked exact_domain is
// not a match. Hits go to every output, except those over max_hits_per_event and repeats
// the suppression window holds back (the suppressor counts them and the daemon sends a
// summary hit when the window closes). A batch's hits go to each output with one
// HitOutput::SubmitBatch at the end of ProcessBatch (in order; ReplyBack events' hits
// with Submit as each is found), so ProcessBatch returns once the outputs have them all.
// ProcessBatchDeferringWakeup() submits with HitOutput::SubmitBatchDeferringWakeup, for a
// caller that calls InputIdle() whenever it is about to wait for more input: the outputs'
// delivery wake-up then comes once per two batches with hits (or at InputIdle(), or after
// the next batch without hits), never later than the end of the next batch.
//
// ReplyBack (docs/replyback.md): when the event came on a ReplyBack connection
// (event.reply set), each of its hits — the same Hit objects the outputs get — is also
// rendered as one line in the input's reply_back format and sent back before Process()
// returns; the input adds LookupFinished after it. Inputs not configured with
// ConfigureReplyBack() reply in the default format (template kDefaultReplyTemplate).
//
// Ownership: borrows the store, the outputs and the holder; all must outlive it.
// Thread safety: Process() and ProcessBatch() may be called from many threads at once; ConfigureReplyBack()
// only before the first Process().
// Errors: only ConfigureReplyBack() fails (a bad reply format). Otherwise none surface: a context that cannot be read (its feed was replaced between the
// snapshot and the read) still yields the enrichment, without context, and is counted.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "app/service_events.h"
#include "app/snapshot.h"
#include "common/status.h"
#include "ingest/received_event.h"
#include "output/hit_format.h"
#include "output/hit_output.h"
#include "parse/event.h"
#include "rules/source_rules.h"
#include "store/indicator_store.h"
#include "suppress/hit_suppressor.h"

namespace iocd {

struct ProcessorStats {
  uint64_t events = 0;
  uint64_t observables = 0;
  uint64_t hits = 0;
  uint64_t suppressed = 0;
  uint64_t missing_context = 0;
  uint64_t malformed = 0;  // announced a body format (CEF, LEEF, JSON) and broke it; read as text
  uint64_t ignored = 0;            // a source's ignore rule matched: nothing looked up
  uint64_t rule_rejected = 0;      // source-rule values not valid for their rule's type
  uint64_t window_suppressed = 0;  // hits held back by the suppression window (counted there)
  uint64_t capped = 0;             // hits over max_hits_per_event, not sent
  uint64_t skipped = 0;            // observables not looked up: allowlisted (skip_allowlisted)
};

struct EventProcessorOptions {
  // Suppression window (suppress/hit_suppressor.h); null or disabled: every hit is sent.
  HitSuppressor* suppressor = nullptr;
  // Hit ids; null: the processor makes its own generator. The daemon shares one with the
  // service events so ids never collide.
  std::shared_ptr<HitIdGenerator> ids;
  // Hits sent per event at most (the rest counted in capped); 0: no limit.
  uint32_t max_hits_per_event = 0;
  // Config.skip_allowlisted_observables: an observable an allowlist matches is not looked
  // up (counted in skipped) instead of being suppressed after a match.
  bool skip_allowlisted = false;
};

// The reply line when Input.reply_back.format is template without a line_template: the
// CyberTrace detection fields, no time stamp.
inline constexpr std::string_view kDefaultReplyTemplate =
    "Category=%Category%|MatchedIndicator=%MatchedIndicator%|IndicatorType=%IndicatorType%|SourceId=%SourceId%|"
    "RecordContext=%RecordContext%";

// The formatter for replies on an input's ReplyBack connections (format unspecified:
// template; template unset: kDefaultReplyTemplate). InvalidArgument names the bad option.
Result<std::unique_ptr<HitFormatter>> MakeReplyFormatter(const iocd::config::Input::ReplyBack& reply_back);

class EventProcessor {
 public:
  EventProcessor(IndicatorStore* store, const SnapshotHolder* snapshots, std::vector<HitOutput*> outputs,
                 EventProcessorOptions options = {});

  // Publishes the per-source extraction rules (rules/source_rules.h) events are matched
  // with from now on; null: built-in extraction only. Thread-safe, any time.
  void SetSourceRules(std::shared_ptr<const SourceRules> rules) {
    source_rules_.store(std::move(rules), std::memory_order_release);
  }

  // Sets how hits are rendered for ReplyBack clients of `input` (its reply_back options).
  // Returns InvalidArgument "input NAME: reply_back: ..." for a bad format option.
  Status ConfigureReplyBack(const iocd::config::Input& input);

  void Process(const ReceivedEvent& event);
  // Exactly what calling Process() on each event in order does (same hits, in the same
  // order, same counters), but cheaper per event: every observable of the batch goes
  // through the index in one IndicatorIndex::LookupBatch, so their memory accesses
  // overlap. The batch sees one snapshot and one set of source rules. Its scratch space is
  // per thread and kept for the next batch (about the size of the largest batch's events);
  // inputs hand batches of what one read of a connection delivered (ingest/input.h).
  void ProcessBatch(std::span<const ReceivedEvent> events);
  // ProcessBatch(), except that the outputs may leave the delivery wake-up for this
  // batch's hits pending until the end of the next batch or InputIdle(), whichever comes
  // first (HitOutput::SubmitBatchDeferringWakeup). The hits are accepted (in the spool) when
  // it returns, as with ProcessBatch().
  void ProcessBatchDeferringWakeup(std::span<const ReceivedEvent> events);
  // The caller's input has nothing more buffered: wakes what a deferring batch left
  // pending (HitOutput::WakeDeferred). Thread-safe; cheap when nothing is pending.
  void InputIdle();
  ProcessorStats stats() const;

 private:
  const HitFormatter& ReplyFormatter(std::string_view input) const;
  // The work of ProcessBatch: the batch's hits end up in the thread's batch_hits (those of
  // ReplyBack events are submitted at once).
  void MatchBatch(std::span<const ReceivedEvent> events);
  // The hit for one observable with matches (unless allowlisted, capped or held back by
  // the suppression window), sent to the outputs and the ReplyBack channel.
  void EmitHit(const ReceivedEvent& event, const SyslogHeader& header, const CompiledSource* source,
               const SourceMatch& rule_match, const FieldObservable& found, const Indicator& indicator,
               std::span<const IndexMatch> matches, const MatchSnapshot& snap, uint32_t* emitted);

  IndicatorStore* store_;
  const SnapshotHolder* snapshots_;
  std::vector<HitOutput*> outputs_;
  EventProcessorOptions options_;
  std::atomic<std::shared_ptr<const SourceRules>> source_rules_;
  std::unique_ptr<HitFormatter> default_reply_formatter_;
  std::map<std::string, std::unique_ptr<HitFormatter>, std::less<>> reply_formatters_;  // by input name

  std::atomic<uint64_t> events_{0};
  std::atomic<uint64_t> observables_{0};
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> suppressed_{0};
  std::atomic<uint64_t> missing_context_{0};
  std::atomic<uint64_t> malformed_{0};
  std::atomic<uint64_t> ignored_{0};
  std::atomic<uint64_t> rule_rejected_{0};
  std::atomic<uint64_t> window_suppressed_{0};
  std::atomic<uint64_t> capped_{0};
  std::atomic<uint64_t> skipped_{0};
};

}  // namespace iocd
