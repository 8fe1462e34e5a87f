#include "app/feed_sync.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <limits>

#include "app/feed_source.h"
#include "common/duration.h"
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
    Status s = store_->RemoveFeed(state.name());
    report.outcome = s.ok() ? FeedSyncReport::Outcome::kRemoved : FeedSyncReport::Outcome::kFailed;
    if (!s.ok()) report.error = s.ToString();
    reports.push_back(std::move(report));
  }
  return reports;
}

namespace {

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

FeedSyncReport FeedSync::SyncOne(const iocd::config::Feed& feed) {
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
  auto source = ReadFeedSource(feed, same_source ? previous->etag() : "", same_source ? previous->last_modified() : "");
  if (!source.ok()) return fail(source.status().message());
  if (source->not_modified && same_source) return unchanged(source->etag, source->last_modified);

  std::string fingerprint = Fingerprint(feed, source->documents);
  if (had_previous && previous->fingerprint() == fingerprint) {
    return unchanged(source->etag, source->last_modified);
  }

  auto parsed = ParseFeedDocuments(feed, source->documents);
  if (!parsed.ok()) return fail(parsed.status().message());
  report.errors = std::move(parsed->errors);
  report.rejected_lines = report.errors.size();
  report.unsupported = parsed->unsupported;
  report.skipped = parsed->skipped;
  if (parsed->indicators.empty() && !report.errors.empty()) {
    return fail("no record of " + source_name + " holds a valid indicator (" + std::to_string(report.errors.size()) +
                " malformed); is the format right?");
  }

  const int64_t ttl_ms = TtlMs(feed);
  std::vector<std::pair<std::string, std::string>> static_context(feed.context().begin(), feed.context().end());
  std::sort(static_context.begin(), static_context.end());
  std::vector<FeedContribution> entries;
  entries.reserve(parsed->indicators.size());
  bool has_entry_expiry = false;
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
    FeedContribution c{std::move(p.indicator), {}, {}};
    AppendFeedEntry(p.value, p.context, static_context, expires, exact_domain, &c.encoded);
    entries.push_back(std::move(c));
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
  auto changes = store_->ReplaceFeed(std::move(state), std::move(entries));
  if (!changes.ok()) return fail("store: " + changes.status().ToString());
  report.outcome = FeedSyncReport::Outcome::kImported;
  report.version = VersionOf(fingerprint);
  report.changes = *changes;
  report.indicators = changes->added + changes->changed + changes->unchanged;
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
          "feed {}: imported {} indicators from {} (+{} -{} ~{} ={}), {} malformed records skipped, {} expired",
          report.feed, report.indicators, source, report.changes.added, report.changes.removed,
          report.changes.changed, report.changes.unchanged, report.rejected_lines, report.expired);
      break;
    case FeedSyncReport::Outcome::kUnchanged:
      spdlog::info("feed {}: {} unchanged, {} indicators", report.feed, source, report.indicators);
      break;
    case FeedSyncReport::Outcome::kFailed:
      spdlog::error("feed {}: update failed, keeping the previous version ({} indicators): {}", report.feed,
                    report.indicators, report.error);
      break;
    case FeedSyncReport::Outcome::kRemoved:
      spdlog::info("feed {}: no longer configured or disabled; its indicators were removed", report.feed);
      break;
  }
}

}  // namespace iocd
