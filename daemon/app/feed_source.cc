#include "app/feed_source.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "config/config.h"
#include "feeds/kaspersky_json.h"
#include "feeds/misp.h"
#include "feeds/stix2.h"
#include "feeds/warninglist.h"
#include "feeds/zeek_intel.h"
#include "fetch/http_fetcher.h"

namespace iocd {
namespace {

namespace fs = std::filesystem;

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("cannot open " + path + ": " + std::strerror(errno));
  // Sized once from the file's length and read in one call (feeds run to hundreds of MB);
  // whatever the length did not cover (the file grew, or it has no length) follows in
  // chunks, and a file that shrank meanwhile simply ends early.
  std::string content;
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > 0) {
    content.resize(static_cast<size_t>(size));
    in.read(content.data(), static_cast<std::streamsize>(content.size()));
    content.resize(static_cast<size_t>(in.gcount()));
  }
  char chunk[1 << 16];
  while (in.read(chunk, sizeof(chunk)) || in.gcount() > 0) content.append(chunk, static_cast<size_t>(in.gcount()));
  if (in.bad()) return Status::IoError("cannot read " + path + ": " + std::strerror(errno));
  return content;
}

// A MISP feed (directory or URL prefix): manifest.json, then <uuid>.json per event.
Result<FeedSource> ReadMispFeed(const iocd::config::Feed& feed) {
  const bool remote = !feed.url().empty();
  std::string base = remote ? feed.url() : feed.path();
  if (!base.empty() && base.back() != '/') base += '/';
  auto read = [&](const std::string& name) -> Result<std::string> {
    if (!remote) return ReadFile(base + name);
    FetchRequest request;
    request.url = base + name;
    auto got = HttpFetch(request);
    if (!got.ok()) return got.status();
    return std::move(got->body);
  };
  auto manifest = read("manifest.json");
  if (!manifest.ok()) return manifest.status();
  auto uuids = ParseMispManifest(*manifest);
  if (!uuids.ok()) return Status::InvalidArgument(base + "manifest.json: " + uuids.status().message());
  FeedSource source;
  for (const std::string& uuid : *uuids) {
    auto event = read(uuid + ".json");
    if (!event.ok()) return event.status();
    source.documents.push_back(std::move(*event));
  }
  return source;
}

bool SameFamily(IndicatorType wanted, IndicatorType got) {
  auto family = [](IndicatorType t) {
    switch (t) {
      case IndicatorType::kIpv4:
      case IndicatorType::kIpv6: return 1;
      case IndicatorType::kCidr4:
      case IndicatorType::kCidr6: return 2;
      default: return 10 + static_cast<int>(t);
    }
  };
  return family(wanted) == family(got) ||
         (family(wanted) == 2 && family(got) == 1);  // a /32 range is stored as its address
}

// Applies `type:` to a plain feed: every value must be of that type.
void ApplyTypeOverride(IndicatorType type, FeedParseResult* result) {
  std::vector<ParsedIndicator> kept;
  kept.reserve(result->indicators.size());
  for (auto& p : result->indicators) {
    if (!SameFamily(type, p.indicator.type)) {
      auto as = ParseIndicatorAs(type, p.value);
      if (!as.ok()) {
        result->errors.push_back({p.line, as.status().message()});
        continue;
      }
      p.indicator = std::move(*as);
    }
    kept.push_back(std::move(p));
  }
  result->indicators = std::move(kept);
  std::stable_sort(result->errors.begin(), result->errors.end(),
                   [](const FeedError& a, const FeedError& b) { return a.line < b.line; });
}

void Merge(FeedParseResult&& part, std::set<std::string>* seen, FeedParseResult* into) {
  for (auto& p : part.indicators) {
    if (seen->insert(p.indicator.Encoded()).second) into->indicators.push_back(std::move(p));
  }
  for (auto& e : part.errors) into->errors.push_back(std::move(e));
  for (const auto& [k, v] : part.unsupported) into->unsupported[k] += v;
  for (const auto& [k, v] : part.skipped) into->skipped[k] += v;
  into->lines += part.lines;
}

}  // namespace

std::string FormatName(iocd::config::FeedFormat format) {
  return YamlEnumName(*iocd::config::FeedFormat_descriptor()->FindValueByNumber(format));
}

Result<FeedSource> ReadFeedSource(const iocd::config::Feed& feed, const std::string& etag,
                                  const std::string& last_modified) {
  if (feed.format() == iocd::config::FEED_FORMAT_MISP &&
      (!feed.url().empty() ? feed.url().ends_with("/") : fs::is_directory(feed.path()))) {
    return ReadMispFeed(feed);
  }
  FeedSource source;
  if (!feed.url().empty()) {
    FetchRequest request;
    request.url = feed.url();
    request.etag = etag;
    request.last_modified = last_modified;
    auto got = HttpFetch(request);
    if (!got.ok()) return got.status();
    source.not_modified = got->kind == FetchResult::Kind::kNotModified;
    source.etag = std::move(got->etag);
    source.last_modified = std::move(got->last_modified);
    if (!source.not_modified) source.documents.push_back(std::move(got->body));
    return source;
  }
  auto content = ReadFile(feed.path());
  if (!content.ok()) return content.status();
  if (content->size() >= 2 && static_cast<unsigned char>((*content)[0]) == 0x1f &&
      static_cast<unsigned char>((*content)[1]) == 0x8b) {
    auto plain = Gunzip(*content, uint64_t{1} << 32);
    if (!plain.ok()) return Status::IoError(feed.path() + ": " + plain.status().message());
    *content = std::move(*plain);
  }
  source.documents.push_back(std::move(*content));
  return source;
}

Result<FeedParseResult> ParseFeedDocuments(const iocd::config::Feed& feed,
                                           const std::vector<std::string>& documents) {
  FeedParseResult merged;
  std::set<std::string> seen;
  for (const std::string& doc : documents) {
    FeedParseResult part;
    switch (feed.format()) {
      case iocd::config::FEED_FORMAT_PLAIN:
        part = ParsePlainFeed(doc);
        break;
      case iocd::config::FEED_FORMAT_CSV: {
        auto csv = ParseCsvFeed(doc, feed.csv());
        if (!csv.ok()) return csv.status();
        part = std::move(csv).value();
        break;
      }
      case iocd::config::FEED_FORMAT_KASPERSKY_JSON:
        part = ParseKasperskyJsonFeed(doc);
        break;
      case iocd::config::FEED_FORMAT_MISP: {
        MispOptions options;
        options.include_non_ids = feed.misp_include_non_ids();
        part = ParseMispEvent(doc, options);
        break;
      }
      case iocd::config::FEED_FORMAT_STIX2:
        part = ParseStix2Bundle(doc);
        break;
      case iocd::config::FEED_FORMAT_ZEEK_INTEL:
        part = ParseZeekIntelFeed(doc);
        break;
      case iocd::config::FEED_FORMAT_WARNINGLIST: {
        auto list = ParseWarninglist(doc);
        if (!list.ok()) return list.status();
        part = std::move(list->entries);
        if (!list->substrings.empty()) part.unsupported["substring entry in a threat feed"] += list->substrings.size();
        break;
      }
      default:
        return Status::InvalidArgument("unsupported format");
    }
    if (documents.size() == 1) {
      merged = std::move(part);  // a single document is already de-duplicated by its parser
    } else {
      Merge(std::move(part), &seen, &merged);
    }
  }
  if (!feed.type().empty()) {
    auto type = ParseTypeName(feed.type());
    if (!type) return Status::InvalidArgument("unknown type '" + feed.type() + "'");
    ApplyTypeOverride(*type, &merged);
  }
  if (feed.has_subdomains() && !feed.subdomains()) {
    for (auto& p : merged.indicators) p.subdomains = false;
  }
  return merged;
}

Result<AllowlistContent> ParseAllowlistDocuments(const iocd::config::Feed& feed,
                                                 const std::vector<std::string>& documents) {
  AllowlistContent out;
  if (feed.format() != iocd::config::FEED_FORMAT_WARNINGLIST) {
    auto parsed = ParseFeedDocuments(feed, documents);
    if (!parsed.ok()) return parsed.status();
    out.entries = std::move(*parsed);
    return out;
  }
  std::set<std::string> seen;
  for (const std::string& doc : documents) {
    auto list = ParseWarninglist(doc);
    if (!list.ok()) return list.status();
    Merge(std::move(list->entries), &seen, &out.entries);
    for (auto& s : list->substrings) out.substrings.push_back(std::move(s));
  }
  return out;
}

}  // namespace iocd
