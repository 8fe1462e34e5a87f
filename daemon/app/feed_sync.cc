#include "app/feed_sync.h"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <set>
#include <sstream>

namespace iocd {
namespace {

constexpr size_t kLoggedErrorsPerFeed = 10;

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("cannot open " + path + ": " + std::strerror(errno));
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return Status::IoError("cannot read " + path + ": " + std::strerror(errno));
  return content.str();
}

// SHA-256 over what decides the feed's parsed content: its format options and its bytes.
std::string Fingerprint(const iocd::config::Feed& feed, std::string_view content) {
  iocd::config::Feed options = feed;
  options.clear_name();
  options.clear_enabled();
  std::string serialized;
  google::protobuf::io::StringOutputStream stream(&serialized);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  options.SerializeToCodedStream(&coded);
  coded.Trim();

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  const uint64_t options_size = serialized.size();
  EVP_DigestUpdate(ctx, &options_size, sizeof(options_size));
  EVP_DigestUpdate(ctx, serialized.data(), serialized.size());
  EVP_DigestUpdate(ctx, content.data(), content.size());
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  return std::string(reinterpret_cast<char*>(digest), len);
}

std::string_view FormatName(iocd::config::FeedFormat format) {
  switch (format) {
    case iocd::config::FEED_FORMAT_PLAIN: return "plain";
    case iocd::config::FEED_FORMAT_CSV: return "csv";
    default: return "unknown";
  }
}

}  // namespace

const char* OutcomeName(FeedSyncReport::Outcome outcome) {
  switch (outcome) {
    case FeedSyncReport::Outcome::kImported: return "imported";
    case FeedSyncReport::Outcome::kUnchanged: return "unchanged";
    case FeedSyncReport::Outcome::kFailed: return "failed";
    case FeedSyncReport::Outcome::kRemoved: return "removed";
  }
  return "?";
}

std::vector<FeedSyncReport> FeedSync::Sync(
    const google::protobuf::RepeatedPtrField<iocd::config::Feed>& feeds) {
  std::vector<FeedSyncReport> reports;
  std::set<std::string> wanted;
  for (const auto& feed : feeds) {
    if (feed.has_enabled() && !feed.enabled()) continue;
    wanted.insert(feed.name());
    reports.push_back(SyncOne(feed));
  }
  auto stored = store_->ListFeeds();
  if (!stored.ok()) {
    spdlog::error("cannot list stored feeds: {}", stored.status().ToString());
    return reports;
  }
  for (const auto& state : *stored) {
    if (wanted.count(state.name()) > 0) continue;
    FeedSyncReport report;
    report.feed = state.name();
    Status s = store_->RemoveFeed(state.name());
    if (s.ok()) {
      report.outcome = FeedSyncReport::Outcome::kRemoved;
    } else {
      report.outcome = FeedSyncReport::Outcome::kFailed;
      report.error = s.ToString();
    }
    reports.push_back(std::move(report));
  }
  return reports;
}

FeedSyncReport FeedSync::SyncOne(const iocd::config::Feed& feed) {
  FeedSyncReport report;
  report.feed = feed.name();
  auto fail = [&](std::string why) {
    report.outcome = FeedSyncReport::Outcome::kFailed;
    report.error = std::move(why);
    auto previous = store_->GetFeed(feed.name());
    report.indicators = previous.ok() ? previous->indicator_count() : 0;
    return report;
  };

  auto content = ReadFile(feed.path());
  if (!content.ok()) return fail(content.status().message());
  std::string fingerprint = Fingerprint(feed, *content);

  auto previous = store_->GetFeed(feed.name());
  if (previous.ok() && previous->fingerprint() == fingerprint) {
    report.outcome = FeedSyncReport::Outcome::kUnchanged;
    report.indicators = previous->indicator_count();
    report.rejected_lines = previous->rejected_lines();
    return report;
  }

  FeedParseResult parsed;
  switch (feed.format()) {
    case iocd::config::FEED_FORMAT_PLAIN:
      parsed = ParsePlainFeed(*content);
      break;
    case iocd::config::FEED_FORMAT_CSV: {
      auto csv = ParseCsvFeed(*content, feed.csv());
      if (!csv.ok()) return fail(csv.status().message());
      parsed = std::move(csv).value();
      break;
    }
    default:
      return fail("unsupported format");
  }
  report.errors = std::move(parsed.errors);
  report.rejected_lines = report.errors.size();
  if (parsed.indicators.empty() && !report.errors.empty()) {
    return fail("no line of " + feed.path() + " holds a valid indicator (" +
                std::to_string(report.errors.size()) + " malformed); is the format right?");
  }

  std::vector<FeedContribution> entries;
  entries.reserve(parsed.indicators.size());
  for (auto& p : parsed.indicators) {
    FeedContribution c{std::move(p.indicator), {}};
    c.entry.set_value(std::move(p.value));
    for (auto& field : p.context) *c.entry.add_context() = std::move(field);
    entries.push_back(std::move(c));
  }

  iocd::store::FeedState state;
  state.set_name(feed.name());
  state.set_source(feed.path());
  state.set_format(std::string(FormatName(feed.format())));
  state.set_fingerprint(fingerprint);
  state.set_rejected_lines(report.rejected_lines);
  auto changes = store_->ReplaceFeed(std::move(state), std::move(entries));
  if (!changes.ok()) return fail("store: " + changes.status().ToString());
  report.outcome = FeedSyncReport::Outcome::kImported;
  report.changes = *changes;
  report.indicators = changes->added + changes->changed + changes->unchanged;
  return report;
}

void FeedSync::Log(const iocd::config::Feed* feed, const FeedSyncReport& report) {
  const std::string path = feed != nullptr ? feed->path() : std::string("(no longer configured)");
  for (size_t i = 0; i < report.errors.size() && i < kLoggedErrorsPerFeed; ++i) {
    spdlog::warn("feed {}: {}:{}: {}", report.feed, path, report.errors[i].line, report.errors[i].message);
  }
  if (report.errors.size() > kLoggedErrorsPerFeed) {
    spdlog::warn("feed {}: {} more malformed lines in {} not shown", report.feed,
                 report.errors.size() - kLoggedErrorsPerFeed, path);
  }
  switch (report.outcome) {
    case FeedSyncReport::Outcome::kImported:
      spdlog::info("feed {}: imported {} indicators from {} (+{} -{} ~{} ={}), {} malformed lines skipped",
                   report.feed, report.indicators, path, report.changes.added, report.changes.removed,
                   report.changes.changed, report.changes.unchanged, report.rejected_lines);
      break;
    case FeedSyncReport::Outcome::kUnchanged:
      spdlog::info("feed {}: {} unchanged, {} indicators", report.feed, path, report.indicators);
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
