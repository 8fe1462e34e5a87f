// The pure parts of iocload (see iocload.h); the socket side is in load_runner.cc.
#include "iocload.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "feeds/feed_parser.h"
#include "iocgen.h"

namespace iocd::iocload {
namespace {

constexpr std::string_view kStampPrefix = " iocload=c";

// Parses the decimal digits at the start of `s`; advances `s` past them.
template <typename T>
bool TakeNumber(std::string_view* s, T* value) {
  auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), *value);
  if (ec != std::errc() || end == s->data()) return false;
  s->remove_prefix(static_cast<size_t>(end - s->data()));
  return true;
}

bool TakeChar(std::string_view* s, char c) {
  if (s->empty() || s->front() != c) return false;
  s->remove_prefix(1);
  return true;
}

// Finds "<label>: <number>" in `text`.
std::optional<uint64_t> NumberAfter(std::string_view text, std::string_view label) {
  size_t at = text.find(label);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(at + label.size());
  uint64_t value = 0;
  if (!TakeNumber(&rest, &value)) return std::nullopt;
  return value;
}

}  // namespace

Result<Framing> ParseFraming(std::string_view text) {
  if (text == "lf") return Framing::kLf;
  if (text == "octet-counted") return Framing::kOctetCounted;
  return Status::InvalidArgument(fmt::format("framing must be lf or octet-counted, not '{}'", text));
}

void AppendFramed(Framing framing, std::string_view event, std::string* out) {
  if (framing == Framing::kOctetCounted) {
    fmt::format_to(std::back_inserter(*out), "{} ", event.size());
    out->append(event);
  } else {
    out->append(event);
    out->push_back('\n');
  }
}

void AppendStamp(const Stamp& stamp, std::string* out) {
  fmt::format_to(std::back_inserter(*out), "{}{}n{}t{}", kStampPrefix, stamp.conn, stamp.seq, stamp.send_ns);
}

std::optional<Stamp> FindStamp(std::string_view text) {
  size_t at = text.rfind(kStampPrefix);
  while (at != std::string_view::npos) {
    std::string_view rest = text.substr(at + kStampPrefix.size());
    Stamp stamp;
    if (TakeNumber(&rest, &stamp.conn) && TakeChar(&rest, 'n') && TakeNumber(&rest, &stamp.seq) &&
        TakeChar(&rest, 't') && TakeNumber(&rest, &stamp.send_ns)) {
      return stamp;
    }
    if (at == 0) break;
    at = text.rfind(kStampPrefix, at - 1);
  }
  return std::nullopt;
}

uint64_t Pacer::DueBy(int64_t now_ns) const {
  if (now_ns <= start_ns_) return 1;  // the first event is due at the start
  const double elapsed = static_cast<double>(now_ns - start_ns_) * 1e-9;
  return static_cast<uint64_t>(elapsed * rate_) + 1;
}

int64_t Pacer::NextDueNs(uint64_t n) const {
  return start_ns_ + static_cast<int64_t>(std::ceil(static_cast<double>(n) / rate_ * 1e9));
}

LatencySummary Summarize(std::vector<int64_t> samples_ns) {
  LatencySummary s;
  if (samples_ns.empty()) return s;
  std::sort(samples_ns.begin(), samples_ns.end());
  s.count = samples_ns.size();
  // Nearest rank: the smallest sample with at least p per mille of the samples at or below
  // it, ceil(p * count / 1000) in integers (a double 99.9% rounds a rank up by one).
  auto rank = [&](uint64_t per_mille) {
    const uint64_t r = (per_mille * s.count + 999) / 1000;
    return samples_ns[std::max<uint64_t>(r, 1) - 1];
  };
  s.p50_ns = rank(500);
  s.p99_ns = rank(990);
  s.p999_ns = rank(999);
  s.max_ns = samples_ns.back();
  return s;
}

Result<uint64_t> SumMetric(std::string_view metrics_text, std::string_view name) {
  uint64_t sum = 0;
  bool found = false;
  while (!metrics_text.empty()) {
    const size_t eol = metrics_text.find('\n');
    std::string_view line = metrics_text.substr(0, eol);
    metrics_text.remove_prefix(eol == std::string_view::npos ? metrics_text.size() : eol + 1);
    if (!line.starts_with(name) || line.size() == name.size()) continue;
    const char next = line[name.size()];
    if (next != '{' && next != ' ') continue;  // another metric with this name as a prefix
    const size_t space = line.rfind(' ');
    std::string_view value = line.substr(space + 1);
    double v = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || end != value.data() + value.size() || v < 0) {
      return Status::InvalidArgument(fmt::format("metrics line '{}': value is not a number", line));
    }
    sum += static_cast<uint64_t>(v);
    found = true;
  }
  if (!found) return Status::NotFound(fmt::format("metrics answer has no {}", name));
  return sum;
}

std::vector<LatencySample> Slowest(const std::vector<LatencySample>& samples, size_t n) {
  std::vector<LatencySample> out(samples);
  auto slower = [](const LatencySample& a, const LatencySample& b) {
    return a.latency_ns != b.latency_ns ? a.latency_ns > b.latency_ns : a.send_offset_ns < b.send_offset_ns;
  };
  n = std::min(n, out.size());
  std::partial_sort(out.begin(), out.begin() + static_cast<ptrdiff_t>(n), out.end(), slower);
  out.resize(n);
  return out;
}

std::string FormatLatencyLog(const std::vector<LatencySample>& samples) {
  std::string out;
  for (const LatencySample& s : samples) {
    fmt::format_to(std::back_inserter(out), "{:.6f} {:.3f}\n", static_cast<double>(s.send_offset_ns) / 1e9,
                   static_cast<double>(s.latency_ns) / 1e6);
  }
  return out;
}

Result<DaemonCounters> ParseStatusCounters(std::string_view status_text) {
  size_t line_at = status_text.find("events: ");
  if (line_at == std::string_view::npos || (line_at > 0 && status_text[line_at - 1] != '\n')) {
    return Status::InvalidArgument("status answer has no 'events:' line");
  }
  std::string_view line = status_text.substr(line_at);
  line = line.substr(0, line.find('\n'));
  DaemonCounters c;
  auto events = NumberAfter(line, "events: ");
  auto observables = NumberAfter(line, "observables: ");
  auto hits = NumberAfter(line, "hits: ");
  auto suppressed = NumberAfter(line, "suppressed: ");
  if (!events || !observables || !hits || !suppressed) {
    return Status::InvalidArgument(fmt::format("malformed counters line '{}'", line));
  }
  c.events = *events;
  c.observables = *observables;
  c.hits = *hits;
  c.suppressed = *suppressed;
  return c;
}

Result<uint64_t> ParseStatusIndexSize(std::string_view status_text) {
  size_t at = status_text.find("\nindex: ");
  if (status_text.starts_with("index: ")) at = 0;
  else if (at != std::string_view::npos) ++at;
  if (at == std::string_view::npos) return Status::InvalidArgument("status answer has no 'index:' line");
  auto n = NumberAfter(status_text.substr(at), "index: ");
  if (!n) return Status::InvalidArgument("malformed 'index:' line");
  return *n;
}

void LineSplitter::Feed(std::string_view bytes, const std::function<void(std::string_view)>& on_line) {
  while (!bytes.empty()) {
    size_t lf = bytes.find('\n');
    if (lf == std::string_view::npos) {
      partial_.append(bytes);
      return;
    }
    if (partial_.empty()) {
      on_line(bytes.substr(0, lf));
    } else {
      partial_.append(bytes.substr(0, lf));
      on_line(partial_);
      partial_.clear();
    }
    bytes.remove_prefix(lf + 1);
  }
}

Result<EventPool> LoadEventFile(const std::string& path, uint64_t max_lines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(fmt::format("cannot open {}", path));
  EventPool pool;
  std::string line;
  while ((max_lines == 0 || pool.lines.size() < max_lines) && std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    pool.bytes += line.size();
    pool.lines.push_back(std::move(line));
    pool.may_hit.push_back(true);
  }
  if (in.bad()) return Status::IoError(fmt::format("read error on {}", path));
  if (pool.lines.empty()) return Status::InvalidArgument(fmt::format("{}: no events in the file", path));
  pool.hit_lines = pool.lines.size();
  return pool;
}

Result<EventPool> MakeSyntheticPool(const SyntheticOptions& options) {
  if (options.lines == 0) return Status::InvalidArgument("the synthetic pool needs at least one line");
  if (!(options.hit_rate >= 0 && options.hit_rate <= 1)) {
    return Status::InvalidArgument("hit rate must be in 0..1");
  }
  std::ifstream in(options.indicators_path, std::ios::binary);
  if (!in) return Status::IoError(fmt::format("cannot open {}", options.indicators_path));
  std::stringstream content;
  content << in.rdbuf();
  FeedParseResult parsed = ParsePlainFeed(content.str());
  std::vector<Indicator> indicators;
  indicators.reserve(parsed.indicators.size());
  for (auto& p : parsed.indicators) indicators.push_back(std::move(p.indicator));
  parsed = {};
  auto gen = iocgen::LogGenerator::Create(indicators, options.seed);
  if (!gen.ok()) return Status::InvalidArgument(fmt::format("{}: {}", options.indicators_path, gen.status().message()));
  indicators = {};

  // Exactly round(lines * hit_rate) hit lines, spread evenly: line i is a hit when the
  // running target count steps up at i.
  const uint64_t want_hits = static_cast<uint64_t>(std::llround(static_cast<double>(options.lines) * options.hit_rate));
  EventPool pool;
  pool.hits_known = true;
  pool.lines.reserve(options.lines);
  pool.may_hit.reserve(options.lines);
  std::ostringstream out;
  for (uint64_t i = 0; i < options.lines; ++i) {
    const bool hit = (i + 1) * want_hits / options.lines > i * want_hits / options.lines;
    iocgen::LogGenOptions one;
    one.lines = 1;
    one.hit_rate = hit ? 1.0 : 0.0;
    out.str("");
    auto stats = (*gen)->Generate(one, out);
    if (!stats.ok()) return stats.status();
    std::string line = options.header + out.str();
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    pool.bytes += line.size();
    pool.lines.push_back(std::move(line));
    pool.may_hit.push_back(stats->hit_lines == 1);
    pool.hit_lines += stats->hit_lines;
  }
  return pool;
}

std::string FormatReport(const LoadReport& r) {
  std::string out;
  auto add = [&](std::string_view key, const std::string& value) { fmt::format_to(std::back_inserter(out), "{}: {}\n", key, value); };
  add("sent_events", std::to_string(r.sent_events));
  add("sent_bytes", std::to_string(r.sent_bytes));
  add("send_seconds", fmt::format("{:.3f}", r.send_seconds));
  add("sent_per_second", fmt::format("{:.0f}", r.sent_per_second));
  add("stamped_events", std::to_string(r.stamped_events));
  add("expected_hit_events", r.expected_hit_events > 0 || r.stamped_events == 0 ? std::to_string(r.expected_hit_events) : "unknown");
  add("hit_lines", std::to_string(r.hit_lines));
  add("hit_events", std::to_string(r.hit_events));
  add("unstamped_hits", std::to_string(r.unstamped_hits));
  add("latency_samples", std::to_string(r.latency.count));
  add("latency_p50_ms", fmt::format("{:.3f}", static_cast<double>(r.latency.p50_ns) / 1e6));
  add("latency_p99_ms", fmt::format("{:.3f}", static_cast<double>(r.latency.p99_ns) / 1e6));
  add("latency_p999_ms", fmt::format("{:.3f}", static_cast<double>(r.latency.p999_ns) / 1e6));
  add("latency_max_ms", fmt::format("{:.3f}", static_cast<double>(r.latency.max_ns) / 1e6));
  std::string slowest;
  for (const LatencySample& s : r.slowest) {
    fmt::format_to(std::back_inserter(slowest), "{}{:.3f}ms@{:.3f}s", slowest.empty() ? "" : " ",
                   static_cast<double>(s.latency_ns) / 1e6, static_cast<double>(s.send_offset_ns) / 1e9);
  }
  add("latency_slowest", slowest.empty() ? "-" : slowest);
  if (r.have_counters) {
    add("iocd_events", std::to_string(r.daemon_delta.events));
    add("iocd_observables", std::to_string(r.daemon_delta.observables));
    add("iocd_hits", std::to_string(r.daemon_delta.hits));
    add("iocd_suppressed", std::to_string(r.daemon_delta.suppressed));
    add("all_processed", r.daemon_delta.events == r.sent_events ? "yes" : "NO");
  }
  add("drained", r.drained ? "yes" : "NO");
  add("drain_seconds", fmt::format("{:.3f}", r.drain_seconds));
  add("iocd_pending_at_start", std::to_string(r.pending_at_start));
  add("confirmed", r.confirmed ? "yes" : "no");
  add("confirm_seconds", fmt::format("{:.3f}", r.confirm_seconds));
  return out;
}

}  // namespace iocd::iocload
