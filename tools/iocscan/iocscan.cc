#include "iocscan.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <functional>
#include <random>
#include <thread>

#include "app/feed_source.h"
#include "extract/extractor.h"
#include "output/hit_fields.h"
#include "output/hit_json.h"

namespace iocd::scan {
namespace {

// The same error with "what: " in front.
Status Prefixed(const Status& s, const std::string& what) {
  if (s.code() == StatusCode::kIoError) return Status::IoError(what + ": " + s.message());
  return Status::InvalidArgument(what + ": " + s.message());
}

bool Enabled(const iocd::config::Feed& feed) { return !feed.has_enabled() || feed.enabled(); }

uint64_t Sum(const std::map<std::string, uint64_t>& counts) {
  uint64_t n = 0;
  for (const auto& [reason, count] : counts) n += count;
  return n;
}

// This thread's CPU time: the profile stays meaningful when other work shares the cores.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

Result<std::unique_ptr<const ScanIndex>> ScanIndex::Load(const iocd::config::Config& config,
                                                         std::vector<FeedLoadReport>* reports) {
  std::unique_ptr<ScanIndex> scan(new ScanIndex());
  std::vector<FeedLoadReport> local;
  if (reports == nullptr) reports = &local;

  // Allowlists first, so drop_indicators lists can keep entries out of the index.
  AllowlistBuilder suppress;
  AllowlistBuilder drop;
  for (const auto& list : config.allowlists()) {
    if (!Enabled(list)) continue;
    const std::string what = "allowlist " + list.name();
    auto source = ReadFeedSource(list, "", "");
    if (!source.ok()) return Prefixed(source.status(), what);
    auto content = ParseAllowlistDocuments(list, source->documents);
    if (!content.ok()) return Prefixed(content.status(), what);
    for (AllowlistBuilder* b : {&suppress, &drop}) {
      if (b == &drop && !list.drop_indicators()) continue;
      uint32_t id = b->AddList(list.name());
      for (const auto& p : content->entries.indicators)
        b->Add(id, p.indicator, p.subdomains).IgnoreError();
      for (const auto& s : content->substrings) b->AddSubstring(id, s);
    }
    FeedLoadReport report;
    report.name = list.name();
    report.allowlist = true;
    report.indicators = content->entries.indicators.size() + content->substrings.size();
    report.errors = std::move(content->entries.errors);
    report.unsupported = Sum(content->entries.unsupported);
    report.skipped = Sum(content->entries.skipped);
    reports->push_back(std::move(report));
  }
  scan->allowlist_ = std::move(suppress).Build();
  const std::shared_ptr<const Allowlist> drop_list = std::move(drop).Build();

  IndexBuilder builder;
  for (const auto& feed : config.feeds()) {
    if (!Enabled(feed)) continue;
    const FeedId id = static_cast<FeedId>(scan->feeds_.size());
    Feed info;
    info.name = feed.name();
    if (feed.has_confidence()) info.confidence = feed.confidence();
    info.tags.assign(feed.tags().begin(), feed.tags().end());
    scan->feeds_.push_back(std::move(info));

    const std::string what = "feed " + feed.name();
    auto source = ReadFeedSource(feed, "", "");
    if (!source.ok()) return Prefixed(source.status(), what);
    auto parsed = ParseFeedDocuments(feed, source->documents);
    if (!parsed.ok()) return Prefixed(parsed.status(), what);
    source = FeedSource{};  // the raw documents are no longer needed
    if (parsed->indicators.empty() && !parsed->errors.empty()) {
      const FeedError& first = parsed->errors.front();
      return Status::InvalidArgument(
          fmt::format("{}: no record holds a valid indicator ({} malformed; first, line {}: {}); "
                      "is the format right?",
                      what, parsed->errors.size(), first.line, first.message));
    }
    std::vector<std::pair<std::string, std::string>> static_context(feed.context().begin(),
                                                                    feed.context().end());
    std::sort(static_context.begin(), static_context.end());

    FeedLoadReport report;
    report.name = feed.name();
    for (auto& p : parsed->indicators) {
      if (!drop_list->empty() && drop_list->Match(p.indicator)) {
        ++report.dropped_by_allowlist;
        continue;
      }
      if (!builder.Add(p.indicator, id).ok()) {
        ++report.rejected;
        continue;
      }
      ++report.indicators;
      Entry entry{p.indicator.Encoded(), id, std::move(p.value), std::move(p.context),
                  !p.subdomains && p.indicator.type == IndicatorType::kDomain};
      for (const auto& [k, v] : static_context) {
        auto& field = entry.context.emplace_back();
        field.set_key(k);
        field.set_value(v);
      }
      scan->entries_.push_back(std::move(entry));
    }
    report.errors = std::move(parsed->errors);
    report.unsupported = Sum(parsed->unsupported);
    report.skipped = Sum(parsed->skipped);
    reports->push_back(std::move(report));
  }
  scan->index_ = std::move(builder).Build();
  scan->entries_.shrink_to_fit();
  size_t slots = 16;
  while (slots < 2 * scan->entries_.size()) slots *= 2;
  scan->slots_.assign(slots, kNoEntry);
  scan->next_.assign(scan->entries_.size(), kNoEntry);
  for (size_t i = 0; i < scan->entries_.size(); ++i) {
    const std::string_view key = scan->entries_[i].encoded;
    size_t slot = std::hash<std::string_view>{}(key) & (slots - 1);
    while (scan->slots_[slot] != kNoEntry && scan->entries_[scan->slots_[slot]].encoded != key)
      slot = (slot + 1) & (slots - 1);
    // The same indicator from another feed goes in front of the chain.
    scan->next_[i] = scan->slots_[slot];
    scan->slots_[slot] = static_cast<uint32_t>(i);
  }
  std::vector<std::string_view> encoded;
  encoded.reserve(scan->entries_.size());
  for (uint32_t first : scan->slots_) {  // each distinct indicator once
    if (first != kNoEntry) encoded.push_back(scan->entries_[first].encoded);
  }
  scan->prefilter_ = LinePrefilter::Build(encoded);
  return std::unique_ptr<const ScanIndex>(std::move(scan));
}

const ScanIndex::Entry* ScanIndex::Find(FeedId feed, std::string_view encoded) const {
  const size_t mask = slots_.size() - 1;
  for (size_t slot = std::hash<std::string_view>{}(encoded) & mask; slots_[slot] != kNoEntry;
       slot = (slot + 1) & mask) {
    if (entries_[slots_[slot]].encoded != encoded) continue;
    for (uint32_t i = slots_[slot]; i != kNoEntry; i = next_[i]) {
      if (entries_[i].feed == feed) return &entries_[i];
    }
    return nullptr;
  }
  return nullptr;
}

// One work unit: whole lines of input, and what scanning them produced.
struct Scanner::Chunk {
  std::unique_ptr<char[]> buf;
  size_t cap = 0;
  size_t len = 0;   // bytes in buf
  size_t size = 0;  // bytes of buf that are whole lines (the rest is carried over)

  uint64_t lines = 0;
  uint64_t observables = 0;
  uint64_t prefiltered = 0;
  uint64_t suppressed = 0;
  uint64_t hit_lines = 0;
  double extract_seconds = 0;
  double match_seconds = 0;
  struct Pending {
    uint64_t line;  // 0-based within the chunk
    iocd::hit::Hit hit;
  };
  std::vector<Pending> hits;

  void Reserve(size_t n) {
    if (n <= cap) return;
    auto bigger = std::make_unique<char[]>(n);
    if (len > 0) std::memcpy(bigger.get(), buf.get(), len);
    buf = std::move(bigger);
    cap = n;
  }
};

Scanner::Scanner(const ScanIndex* index, ScanOptions options)
    : index_(index),
      options_(std::move(options)),
      instance_(options_.now_unix_us ? 0u : static_cast<uint32_t>(std::random_device{}())) {
  options_.threads = std::max(1, options_.threads);
  options_.chunk_bytes = std::max<size_t>(options_.chunk_bytes, 4096);
}

// Lines the prefilter rules out are counted and skipped. The others are scanned in groups:
// extract every line of a group, then look all their
// observables up in one IndicatorIndex::LookupBatch (its prefetching hides the index's
// memory latency), then turn the matches into hits line by line, in order.
constexpr size_t kGroupObservables = 512;
constexpr size_t kGroupLines = 256;

void Scanner::ProcessChunk(Chunk* chunk) const {
  chunk->lines = chunk->observables = chunk->prefiltered = chunk->suppressed = chunk->hit_lines = 0;
  chunk->extract_seconds = chunk->match_seconds = 0;
  chunk->hits.clear();
  const double t_start = options_.profile ? ThreadCpuSeconds() : 0;
  std::vector<Observable> observables;
  std::vector<Indicator> lookups;
  std::vector<IndexMatch> matches;
  std::vector<size_t> match_ends;
  struct GroupLine {
    std::string_view text;
    uint64_t line_no;        // 0-based within the chunk
    size_t observables_end;  // observables [previous end, this) are the line's
  };
  std::vector<GroupLine> group;
  const IndicatorIndex& index = index_->index();
  // Looks the group's observables up and turns the matches into hits, line by line.
  auto match_group = [&] {
    const double t1 = options_.profile ? ThreadCpuSeconds() : 0;
    lookups.clear();
    for (Observable& obs : observables) lookups.push_back(std::move(obs.indicator));
    matches.clear();
    match_ends.clear();
    index.LookupBatch(lookups, &matches, &match_ends);
    size_t k = 0;
    for (const GroupLine& line : group) {
      bool line_hit = false;
      for (; k < line.observables_end; ++k) {
        const size_t from = k == 0 ? 0 : match_ends[k - 1];
        const std::span<const IndexMatch> found(matches.data() + from, matches.data() + match_ends[k]);
        if (found.empty()) continue;
        line_hit |= AddHit(line.text, line.line_no, observables[k].text, lookups[k], found, chunk);
      }
      chunk->hit_lines += line_hit;
    }
    chunk->observables += observables.size();
    observables.clear();
    group.clear();
    if (options_.profile) chunk->match_seconds += ThreadCpuSeconds() - t1;
  };
  auto extract = [&](std::string_view line, uint64_t line_no) {
    ExtractObservables(line, &observables);
    group.push_back({line, line_no, observables.size()});
    if (group.size() >= kGroupLines || observables.size() >= kGroupObservables) match_group();
  };

  // Lines are prefiltered kFilterBatch at a time: the filter reads of the whole batch are
  // in flight together (LinePrefilter::Triggers prefetches them).
  constexpr size_t kFilterBatch = 64;
  struct FilterLine {
    std::string_view text;
    uint64_t line_no;
    size_t probes_begin, probes_end;
    bool trigger;
  };
  std::vector<FilterLine> batch;
  std::vector<uint64_t> probes;
  const LinePrefilter* prefilter = options_.prefilter ? &index_->prefilter() : nullptr;
  const char* p = chunk->buf.get();
  const char* const end = p + chunk->size;
  while (p < end) {
    batch.clear();
    probes.clear();
    while (p < end && batch.size() < kFilterBatch) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
      const char* line_end = nl != nullptr ? nl : end;
      std::string_view line(p, static_cast<size_t>(line_end - p));
      p = nl != nullptr ? nl + 1 : end;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      const uint64_t line_no = chunk->lines++;
      if (prefilter == nullptr) {
        extract(line, line_no);
        continue;
      }
      const size_t from = probes.size();
      const bool trigger = prefilter->Triggers(line, &probes);
      batch.push_back({line, line_no, from, probes.size(), trigger});
    }
    for (const FilterLine& line : batch) {
      if (line.trigger || prefilter->AnyContained(std::span<const uint64_t>(
                              probes.data() + line.probes_begin, line.probes_end - line.probes_begin))) {
        extract(line.text, line.line_no);
      } else {
        ++chunk->prefiltered;
      }
    }
  }
  if (!group.empty()) match_group();
  if (options_.profile) {
    chunk->extract_seconds = ThreadCpuSeconds() - t_start - chunk->match_seconds;
  }
}

bool Scanner::AddHit(std::string_view line, uint64_t line_no, std::string_view text,
                     const Indicator& observable, std::span<const IndexMatch> matches,
                     Chunk* chunk) const {
  const Allowlist& allowlist = index_->allowlist();
  if (!allowlist.empty() && allowlist.Match(observable)) {
    ++chunk->suppressed;
    return false;
  }
  iocd::hit::Hit hit;
  for (const IndexMatch& m : matches) {
    const Indicator indicator = m.ToIndicator();
    const std::string encoded = indicator.Encoded();
    const bool parent_domain = m.type == IndicatorType::kDomain && m.key != observable.key;
    for (FeedId feed : m.feeds) {
      const ScanIndex::Entry* entry = index_->Find(feed, encoded);
      if (entry != nullptr && parent_domain && entry->exact_domain) continue;
      const ScanIndex::Feed& info = index_->feed(feed);
      iocd::hit::Enrichment* e = hit.add_enrichments();
      e->set_feed(info.name);
      e->set_indicator_type(std::string(TypeName(m.type)));
      if (info.confidence) e->set_confidence(*info.confidence);
      for (const auto& tag : info.tags) e->add_tags(tag);
      if (entry != nullptr) {
        e->set_indicator(entry->value);
        for (const auto& field : entry->context) *e->add_context() = field;
        DeriveEnrichmentFields(e);
      } else {
        e->set_indicator(indicator.Display());
      }
    }
  }
  if (hit.enrichments_size() == 0) return false;
  hit.set_raw_event(std::string(line));
  hit.set_raw_event_size(line.size());
  hit.set_observable(std::string(text));
  hit.set_observable_type(std::string(TypeName(observable.type)));
  hit.set_field("message");
  chunk->hits.push_back({line_no, std::move(hit)});
  return true;
}

Status Scanner::Emit(Chunk* chunk, std::string_view name, std::ostream& out) {
  std::string text;
  const size_t hits = chunk->hits.size();
  if (!options_.write_hits) {
    hit_counter_ += hits;
    chunk->hits.clear();  // counted below, not rendered
  }
  for (auto& pending : chunk->hits) {
    const int64_t now_us = options_.now_unix_us
                               ? *options_.now_unix_us
                               : std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
    iocd::hit::Hit& hit = pending.hit;
    hit.set_id(fmt::format("{:014x}{:08x}{:010x}", static_cast<uint64_t>(now_us), instance_,
                           hit_counter_++));
    hit.set_detected_unix_us(now_us);
    hit.set_input("iocscan");
    hit.set_sender(fmt::format("{}:{}", name, line_base_ + pending.line + 1));
    text += FormatHitJson(hit);
    text += '\n';
  }
  line_base_ += chunk->lines;
  stats_.lines += chunk->lines;
  stats_.bytes += chunk->size;
  stats_.observables += chunk->observables;
  stats_.prefiltered += chunk->prefiltered;
  stats_.hits += hits;
  stats_.hit_lines += chunk->hit_lines;
  stats_.suppressed += chunk->suppressed;
  stats_.extract_seconds += chunk->extract_seconds;
  stats_.match_seconds += chunk->match_seconds;
  chunk->hits.clear();
  if (!text.empty()) {
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) return Status::IoError("cannot write hits");
  }
  return Status::Ok();
}

Status Scanner::ScanFd(int fd, std::string_view name, std::ostream& out) {
  return Scan(
      [fd](char* buf, size_t n) -> ssize_t {
        while (true) {
          ssize_t got = ::read(fd, buf, n);
          if (got >= 0 || errno != EINTR) return got;
        }
      },
      name, out);
}

Status Scanner::ScanText(std::string_view text, std::string_view name, std::ostream& out) {
  return Scan(
      [&text](char* buf, size_t n) -> ssize_t {
        n = std::min(n, text.size());
        std::memcpy(buf, text.data(), n);
        text.remove_prefix(n);
        return static_cast<ssize_t>(n);
      },
      name, out);
}

Status Scanner::Scan(const ReadFn& read_fd, std::string_view name, std::ostream& out) {
  line_base_ = 0;
  std::vector<Chunk> chunks(static_cast<size_t>(options_.threads));
  std::string carry;
  bool eof = false;
  while (!eof) {
    size_t used = 0;
    for (; used < chunks.size() && !eof; ++used) {
      Chunk& c = chunks[used];
      c.Reserve(std::max(options_.chunk_bytes + 65536, carry.size() + 65536));
      std::memcpy(c.buf.get(), carry.data(), carry.size());
      c.len = carry.size();
      carry.clear();
      while (true) {
        while (c.len < options_.chunk_bytes && !eof) {
          ssize_t got = read_fd(c.buf.get() + c.len, c.cap - c.len);
          if (got < 0)
            return Status::IoError(fmt::format("cannot read {}: {}", name, std::strerror(errno)));
          if (got == 0) eof = true;
          c.len += static_cast<size_t>(got);
        }
        if (eof) {
          c.size = c.len;
          break;
        }
        const void* last = memrchr(c.buf.get(), '\n', c.len);
        if (last != nullptr) {
          c.size = static_cast<size_t>(static_cast<const char*>(last) - c.buf.get()) + 1;
          carry.assign(c.buf.get() + c.size, c.len - c.size);
          break;
        }
        // One line longer than the chunk: grow and read on until its end.
        c.Reserve(c.cap * 2);
        ssize_t got = read_fd(c.buf.get() + c.len, c.cap - c.len);
        if (got < 0)
          return Status::IoError(fmt::format("cannot read {}: {}", name, std::strerror(errno)));
        if (got == 0) eof = true;
        c.len += static_cast<size_t>(got);
      }
    }
    std::vector<std::thread> workers;
    for (size_t i = 1; i < used; ++i)
      workers.emplace_back([this, &chunks, i] { ProcessChunk(&chunks[i]); });
    if (used > 0) ProcessChunk(&chunks[0]);
    for (auto& w : workers) w.join();
    for (size_t i = 0; i < used; ++i) {
      Status s = Emit(&chunks[i], name, out);
      if (!s.ok()) return s;
    }
  }
  out.flush();
  return Status::Ok();
}

}  // namespace iocd::scan
