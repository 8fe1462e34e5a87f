#include "app/feed_sync.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <span>
#include <thread>

#include "app/feed_source.h"
#include "common/duration.h"
#include "common/huge_pages.h"
#include "feeds/parse_util.h"
#include "fetch/http_fetcher.h"

namespace iocd {
namespace {

constexpr size_t kLoggedErrorsPerFeed = 10;
// An unchanged check is written to the store at most this often (it only matters for ttl).
constexpr int64_t kCheckWriteIntervalMs = 60 * 1000;

// SHA-256 over what decides the stored content: the options that shape parsing and
// expiry, and the documents.
std::string Fingerprint(const iocd::config::Feed& feed, const std::vector<std::string>& documents) {
  iocd::config::Feed options = feed;
  for (int field : {iocd::config::Feed::kNameFieldNumber, iocd::config::Feed::kEnabledFieldNumber,
                    iocd::config::Feed::kUpdateIntervalFieldNumber, iocd::config::Feed::kConfidenceFieldNumber,
                    iocd::config::Feed::kTagsFieldNumber, iocd::config::Feed::kMaxShrinkFieldNumber,
                    iocd::config::Feed::kDropIndicatorsFieldNumber}) {
    options.GetReflection()->ClearField(&options, options.GetDescriptor()->FindFieldByNumber(field));
  }
  std::string serialized;
  {
    google::protobuf::io::StringOutputStream stream(&serialized);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    options.SerializeToCodedStream(&coded);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  auto update_sized = [&](std::string_view part) {
    const uint64_t size = part.size();
    EVP_DigestUpdate(ctx, &size, sizeof(size));
    EVP_DigestUpdate(ctx, part.data(), part.size());
  };
  update_sized(serialized);
  for (const std::string& doc : documents) update_sized(doc);
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  return std::string(reinterpret_cast<char*>(digest), len);
}

int64_t TtlMs(const iocd::config::Feed& feed) {
  if (feed.ttl().empty()) return 0;
  auto ttl = ParseDuration(feed.ttl());
  return ttl.ok() ? ttl->count() : 0;  // validated with the config
}

}  // namespace

int64_t FeedSync::SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* OutcomeName(FeedSyncReport::Outcome outcome) {
  switch (outcome) {
    case FeedSyncReport::Outcome::kImported: return "imported";
    case FeedSyncReport::Outcome::kUnchanged: return "unchanged";
    case FeedSyncReport::Outcome::kFailed: return "failed";
    case FeedSyncReport::Outcome::kRemoved: return "removed";
  }
  return "?";
}

std::string FeedSourceName(const iocd::config::Feed& feed) {
  return feed.url().empty() ? feed.path() : RedactUrlCredentials(feed.url());
}

std::vector<FeedSyncReport> FeedSync::Sync(const google::protobuf::RepeatedPtrField<iocd::config::Feed>& feeds) {
  std::vector<FeedSyncReport> reports;
  std::set<std::string> keep;
  for (const auto& feed : feeds) {
    if (feed.has_enabled() && !feed.enabled()) continue;
    keep.insert(feed.name());
    reports.push_back(SyncOne(feed));
  }
  for (auto& r : RemoveOthers(keep)) reports.push_back(std::move(r));
  return reports;
}

std::vector<FeedSyncReport> FeedSync::RemoveOthers(const std::set<std::string>& keep) {
  std::vector<FeedSyncReport> reports;
  auto stored = store_->ListFeeds();
  if (!stored.ok()) {
    spdlog::error("cannot list stored feeds: {}", stored.status().ToString());
    return reports;
  }
  for (const auto& state : *stored) {
    if (keep.count(state.name()) > 0) continue;
    FeedSyncReport report;
    report.feed = state.name();
    report.indicators = state.indicator_count();
    Status s = store_->RemoveFeed(state.name());
    report.outcome = s.ok() ? FeedSyncReport::Outcome::kRemoved : FeedSyncReport::Outcome::kFailed;
    if (s.ok()) {
      report.changes.removed = state.indicator_count();
      report.indicators = 0;
    } else {
      report.error = s.ToString();
    }
    reports.push_back(std::move(report));
  }
  return reports;
}

namespace {

// A plain feed's entries, parsed and serialised on every core (feeds/feed_parser.h
// ParsePlainStretch), in file order with duplicates removed (the first kept), as
// ParsePlainFeed and the generic path would give them. Returns the malformed lines.
std::vector<FeedError> EncodePlainFeed(std::string_view content,
                                       const std::vector<std::pair<std::string, std::string>>& static_context,
                                       bool exact_domains, std::vector<FeedContribution>* entries) {
  const std::vector<PlainStretch> stretches =
      SplitPlainFeed(content, std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8));
  // Each stretch fills its own region of *entries (room for one record per line), so the
  // records are written once, in place; the regions are then closed up in order.
  std::vector<size_t> region(stretches.size() + 1, 0);
  for (size_t i = 0; i < stretches.size(); ++i) region[i + 1] = region[i] + CountLines(stretches[i].text);
  entries->clear();
  // Huge pages: the store reads the entries in key order, i.e. at random, and with 4 KiB
  // pages nearly every such read also misses the TLB. Their page faults (zeroing, maybe
  // compaction) are taken on every core at once, by touching the reserved storage before
  // the elements are constructed in it.
  ReserveHuge(entries, region.back());
  {
    auto* raw = reinterpret_cast<unsigned char*>(entries->data());
    const size_t bytes = entries->capacity() * sizeof(FeedContribution);
    const size_t parts = stretches.size();
    std::vector<std::jthread> touchers;
    for (size_t i = 0; i < parts; ++i) {
      touchers.emplace_back(
          [=] { std::memset(raw + bytes * i / parts, 0, bytes * (i + 1) / parts - bytes * i / parts); });
    }
  }
  entries->resize(region.back());
  std::vector<size_t> filled(stretches.size(), 0);
  std::vector<std::vector<FeedError>> errors(stretches.size());
  auto encode = [&](size_t i) {
    std::vector<iocd::store::ContextField> comment(1);
    comment[0].set_key("comment");
    ParsePlainStretch(
        stretches[i],
        [&](PlainRecord& r) {
          FeedContribution c{std::move(r.indicator), {}};
          const bool exact_domain = exact_domains && c.indicator.type == IndicatorType::kDomain;
          std::span<const iocd::store::ContextField> context;
          if (!r.comment.empty()) {
            comment[0].set_value(std::string(r.comment));
            context = comment;
          }
          AppendFeedEntry(r.value, context, static_context, 0, exact_domain, &c.encoded);
          (*entries)[region[i] + filled[i]++] = std::move(c);
        },
        &errors[i]);
  };
  {
    std::vector<std::jthread> workers;
    for (size_t i = 1; i < stretches.size(); ++i) workers.emplace_back(encode, i);
    if (!stretches.empty()) encode(0);
  }
  size_t total = 0;
  for (size_t n : filled) total += n;
  IndicatorDedup seen(total);
  constexpr size_t kAhead = 16;  // dedup probes in flight
  size_t kept = 0;
  for (size_t i = 0; i < stretches.size(); ++i) {
    const size_t end = region[i] + filled[i];
    for (size_t from = region[i]; from < end; ++from) {
      if (from + kAhead < end) seen.Prefetch((*entries)[from + kAhead].indicator);
      if (kept != from) (*entries)[kept] = std::move((*entries)[from]);
      if (seen.Insert(*entries, static_cast<uint32_t>(kept))) ++kept;
    }
  }
  entries->resize(kept);
  std::vector<FeedError> all_errors;
  for (auto& e : errors) all_errors.insert(all_errors.end(), std::make_move_iterator(e.begin()), std::make_move_iterator(e.end()));
  return all_errors;
}

std::string VersionOf(const std::string& fingerprint) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < fingerprint.size() && i < 8; ++i) {
    out += kHex[static_cast<unsigned char>(fingerprint[i]) >> 4];
    out += kHex[static_cast<unsigned char>(fingerprint[i]) & 15];
  }
  return out;
}

}  // namespace

void FeedSyncReport::CompleteStats() {
  if (!exact_stats_) return;
  auto exact = exact_stats_();
  exact_stats_ = nullptr;
  if (exact.ok()) {
    changes = *exact;
  } else {
    spdlog::warn("feed {}: cannot count the changes of the import: {}", feed, exact.status().ToString());
  }
}

FeedSyncReport FeedSync::SyncOne(const iocd::config::Feed& feed, const BeforeCommit& before_commit,
                                 bool defer_stats) {
  const int64_t now = now_();
  FeedSyncReport report;
  report.feed = feed.name();
  auto previous = store_->GetFeed(feed.name());
  const bool had_previous = previous.ok();
  if (had_previous) report.version = VersionOf(previous->fingerprint());
  auto fail = [&](std::string why) {
    report.outcome = FeedSyncReport::Outcome::kFailed;
    report.error = std::move(why);
    report.indicators = had_previous ? previous->indicator_count() : 0;
    return report;
  };
  // Records that the source was read and still says the same.
  auto unchanged = [&](const std::string& etag, const std::string& last_modified) {
    report.outcome = FeedSyncReport::Outcome::kUnchanged;
    report.indicators = previous->indicator_count();
    report.rejected_lines = previous->rejected_lines();
    iocd::store::FeedState state = *previous;
    bool validators_changed = state.etag() != etag || state.last_modified() != last_modified;
    if (validators_changed || now - state.last_checked_unix_ms() >= kCheckWriteIntervalMs ||
        (state.ttl_ms() > 0 && now - state.last_checked_unix_ms() >= state.ttl_ms() / 10)) {
      state.set_last_checked_unix_ms(now);
      if (!etag.empty() || !last_modified.empty()) {
        state.set_etag(etag);
        state.set_last_modified(last_modified);
      }
      Status s = store_->PutFeedState(state);
      if (!s.ok()) spdlog::warn("feed {}: cannot record the check: {}", feed.name(), s.ToString());
    }
    return report;
  };

  const std::string source_name = FeedSourceName(feed);
  const bool same_source = had_previous && previous->source() == source_name;
  auto phase_start = std::chrono::steady_clock::now();
  // Time since the last call, for the report.
  auto phase = [&phase_start] {
    auto now_steady = std::chrono::steady_clock::now();
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now_steady - phase_start);
    phase_start = now_steady;
    return elapsed;
  };
  auto source = ReadFeedSource(feed, same_source ? previous->etag() : "", same_source ? previous->last_modified() : "");
  if (!source.ok()) return fail(source.status().message());
  if (source->not_modified && same_source) return unchanged(source->etag, source->last_modified);

  std::string fingerprint = Fingerprint(feed, source->documents);
  report.read_time = phase();
  if (had_previous && previous->fingerprint() == fingerprint) {
    return unchanged(source->etag, source->last_modified);
  }

  const int64_t ttl_ms = TtlMs(feed);
  std::vector<std::pair<std::string, std::string>> static_context(feed.context().begin(), feed.context().end());
  std::sort(static_context.begin(), static_context.end());
  std::vector<FeedContribution> entries;
  std::vector<int64_t> expiries;
  bool has_entry_expiry = false;
  uint64_t valid_records = 0;
  if (feed.format() == iocd::config::FEED_FORMAT_PLAIN && feed.type().empty() && source->documents.size() == 1) {
    // Plain lists (the big ones) go straight from lines to entries on every core.
    const bool exact_domains = feed.has_subdomains() && !feed.subdomains();
    report.errors = EncodePlainFeed(source->documents[0], static_context, exact_domains, &entries);
    valid_records = entries.size();
  } else {
    auto parsed = ParseFeedDocuments(feed, source->documents);
    if (!parsed.ok()) return fail(parsed.status().message());
    report.errors = std::move(parsed->errors);
    report.unsupported = parsed->unsupported;
    report.skipped = parsed->skipped;
    valid_records = parsed->indicators.size();
    entries.reserve(parsed->indicators.size());
    expiries.reserve(parsed->indicators.size());
    for (auto& p : parsed->indicators) {
      int64_t expires = p.valid_until_unix_ms;
      if (ttl_ms > 0 && p.last_seen_unix_ms > 0) {
        int64_t by_ttl = p.last_seen_unix_ms + ttl_ms;
        expires = expires == 0 ? by_ttl : std::min(expires, by_ttl);
      }
      if (expires != 0 && expires <= now) {
        ++report.expired;
        continue;
      }
      if (expires != 0) has_entry_expiry = true;
      const bool exact_domain = !p.subdomains && p.indicator.type == IndicatorType::kDomain;
      // Serialised straight from the parsed record: no FeedEntry message per indicator.
      FeedContribution c{std::move(p.indicator), {}};
      AppendFeedEntry(p.value, p.context, static_context, expires, exact_domain, &c.encoded);
      entries.push_back(std::move(c));
      expiries.push_back(expires);
    }
  }
  report.parse_time = phase();
  report.rejected_lines = report.errors.size();
  if (valid_records == 0 && !report.errors.empty()) {
    return fail("no record of " + source_name + " holds a valid indicator (" + std::to_string(report.errors.size()) +
                " malformed); is the format right?");
  }

  const double max_shrink = feed.has_max_shrink() ? feed.max_shrink() : 0.5;
  if (had_previous && max_shrink < 1.0 && previous->indicator_count() > 0 &&
      static_cast<double>(entries.size()) < static_cast<double>(previous->indicator_count()) * (1.0 - max_shrink)) {
    return fail("update would shrink the feed from " + std::to_string(previous->indicator_count()) + " to " +
                std::to_string(entries.size()) + " indicators, more than max_shrink " +
                std::to_string(max_shrink) + " allows");
  }

  iocd::store::FeedState state;
  state.set_name(feed.name());
  state.set_source(source_name);
  state.set_format(FormatName(feed.format()));
  state.set_fingerprint(fingerprint);
  state.set_rejected_lines(report.rejected_lines);
  state.set_last_checked_unix_ms(now);
  state.set_ttl_ms(ttl_ms);
  state.set_has_entry_expiry(has_entry_expiry);
  state.set_etag(source->etag);
  state.set_last_modified(source->last_modified);
  uint64_t unsupported = 0, skipped = 0;
  for (const auto& [k, v] : report.unsupported) unsupported += v;
  for (const auto& [k, v] : report.skipped) skipped += v;
  state.set_unsupported_records(unsupported);
  state.set_skipped_records(skipped);
  auto shared_entries = std::make_shared<const std::vector<FeedContribution>>(std::move(entries));
  auto shared_expiries =
      std::make_shared<const std::vector<int64_t>>(has_entry_expiry ? std::move(expiries) : std::vector<int64_t>());
  auto imported_as = [&](const iocd::store::FeedState& as, bool pending) {
    auto imported = std::make_shared<ImportedFeed>();
    imported->state = as;
    imported->pending = pending;
    imported->entries = shared_entries;
    imported->expires_unix_ms = shared_expiries;
    return imported;
  };
  auto prepared_or = store_->PrepareReplace(state, *shared_entries);
  if (!prepared_or.ok()) return fail("store: " + prepared_or.status().ToString());
  std::shared_ptr<IndicatorStore::PreparedReplace> prepared = std::move(prepared_or).value();
  if (before_commit) {
    iocd::store::FeedState pending = state;
    pending.set_id(prepared->id());
    before_commit(imported_as(pending, true));
  }
  if (defer_stats) prepared->DeferExactStats();
  iocd::store::FeedState stored;
  auto changes = prepared->Commit(&stored);
  report.store_time = phase();
  if (changes.ok() && defer_stats) {
    // Keeps the entries (through the report's ImportedFeed) and the store's snapshot of the
    // replaced version until the caller asks.
    report.exact_stats_ = [prepared, keep = shared_entries] { return prepared->ExactStats(); };
  }
  if (!changes.ok()) return fail("store: " + changes.status().ToString());
  report.outcome = FeedSyncReport::Outcome::kImported;
  report.version = VersionOf(fingerprint);
  report.changes = *changes;
  report.indicators = changes->added + changes->changed + changes->unchanged;
  report.imported = imported_as(stored, false);
  return report;
}

void FeedSync::Log(const iocd::config::Feed* feed, const FeedSyncReport& report) {
  const std::string source = feed != nullptr ? FeedSourceName(*feed) : std::string("(no longer configured)");
  for (size_t i = 0; i < report.errors.size() && i < kLoggedErrorsPerFeed; ++i) {
    spdlog::warn("feed {}: {}:{}: {}", report.feed, source, report.errors[i].line, report.errors[i].message);
  }
  if (report.errors.size() > kLoggedErrorsPerFeed) {
    spdlog::warn("feed {}: {} more malformed records in {} not shown", report.feed,
                 report.errors.size() - kLoggedErrorsPerFeed, source);
  }
  for (const auto& [reason, count] : report.unsupported) {
    spdlog::warn("feed {}: {} records not loaded: {}", report.feed, count, reason);
  }
  for (const auto& [reason, count] : report.skipped) {
    spdlog::info("feed {}: {} records skipped: {}", report.feed, count, reason);
  }
  switch (report.outcome) {
    case FeedSyncReport::Outcome::kImported:
      spdlog::info(
          "feed {}: imported {} indicators from {} (+{} -{} ~{} ={}), {} malformed records skipped, {} expired "
          "(read {} ms, parse {} ms, store {} ms)",
          report.feed, report.indicators, source, report.changes.added, report.changes.removed,
          report.changes.changed, report.changes.unchanged, report.rejected_lines, report.expired,
          report.read_time.count(), report.parse_time.count(), report.store_time.count());
      break;
    case FeedSyncReport::Outcome::kUnchanged:
      spdlog::info("feed {}: {} unchanged, {} indicators", report.feed, source, report.indicators);
      break;
    case FeedSyncReport::Outcome::kFailed:
      spdlog::error("feed {}: update failed, keeping the previous version ({} indicators): {}", report.feed,
                    report.indicators, report.error);
      break;
    case FeedSyncReport::Outcome::kRemoved:
      spdlog::info("feed {}: no longer configured or disabled; its {} indicators were removed", report.feed,
                   report.changes.removed);
      break;
  }
}

}  // namespace iocd
