// iocgen: synthetic indicator sets and synthetic logs for benchmarks and tests.
//
// Indicators: GenerateIndicators writes `count` lines in the plain feed format (one value
// per line, parsed by the daemon's ParsePlainFeed), drawn from a weighted mix of types
// (default: a realistic mix of ipv4, ipv6, cidr4, cidr6, domain, url, md5, sha1, sha256).
// IPv4 addresses, domains and URLs are distinct by construction; addresses, hashes and
// ranges are random (duplicates of /16 ranges or IPv6 values are possible but rare, and
// the feed parser drops them).
//
// Logs: LogGenerator writes ~300-byte lines shaped like Squid access logs, iptables and
// CEF firewall logs and BIND query logs. A line is a "hit line" with probability
// `hit_rate`: it then carries one observable that matches a randomly chosen indicator of
// the given set (an address inside a range, a URL with the indicator's host for a domain,
// the digest in a CEF fileHash=...). Every other observable the generator writes comes
// from pools that were checked, with the daemon's own extractor and index, to match
// nothing in the set, so the number of lines on which iocd finds a match is exactly
// LogGenStats::hit_lines.
//
// Determinism: the output is a pure function of (options, seed, indicator set): the same
// inputs give the same bytes on every platform (own PRNG, no std:: distributions).
//
// Thread safety: the functions and LogGenerator are not shared between threads; separate
// instances are independent.
// Errors: InvalidArgument for bad options (an unknown type name in a mix, hit_rate outside
// 0..1, an indicator set without any usable indicator when hit_rate > 0) and when the set
// covers so much address space that no non-matching address can be found.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "indicator/indicator.h"
#include "match/indicator_index.h"

namespace iocd::iocgen {

// xoshiro256** seeded through splitmix64: fast, and the same sequence everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t Next();
  // Uniform in [0, n); n > 0.
  uint64_t Below(uint64_t n);
  // Uniform in [0, 1).
  double Unit();

 private:
  std::array<uint64_t, 4> s_;
};

// Types are indexed by their IndicatorType value; room for types added later.
inline constexpr size_t kTypeSlots = 16;

// Relative weights of each generated indicator type (ipv4..sha256), indexed by
// IndicatorType value.
struct IndicatorMix {
  std::array<double, kTypeSlots> weight{};

  // 30% ipv4, 4% ipv6, 4% cidr4, 2% cidr6, 25% domain, 15% url, 7% md5, 4% sha1, 9% sha256.
  static IndicatorMix Default();
  // "ipv4=40,domain=30,sha256=30" (iocd type names ipv4..sha256; unlisted types get
  // weight 0).
  static Result<IndicatorMix> Parse(std::string_view text);
};

struct IndicatorGenOptions {
  uint64_t count = 1000000;
  uint64_t seed = 1;
  IndicatorMix mix = IndicatorMix::Default();
};

// Writes options.count plain-feed lines to out. Fails only when the stream does.
Status GenerateIndicators(const IndicatorGenOptions& options, std::ostream& out);

struct LogGenOptions {
  // Stop after this many bytes (at a line end; the last line may cross it)...
  uint64_t bytes = 0;
  // ... or after this many lines, whichever comes first; 0 means no limit (one of the two
  // must be set).
  uint64_t lines = 0;
  // Fraction of lines that carry a matching observable, 0..1. Default: 0.01.
  double hit_rate = 0.01;
  uint64_t seed = 1;
  // Names of miss lines (DNS query names and proxy URLs): 0 (default) draws each from the
  // whole pool of 65 536 uniformly, so most names of a large log are distinct. N > 0 draws
  // from the pool's first N only, rank r (1..N) with probability proportional to
  // 1 / r^name_zipf (name_zipf = 0: uniformly), like the heavy repetition of real DNS and
  // proxy logs. At most 65 536.
  uint64_t name_pool = 0;
  double name_zipf = 0;
};

struct LogGenStats {
  uint64_t lines = 0;
  uint64_t bytes = 0;
  uint64_t hit_lines = 0;
  // Hit lines by the type of the indicator they were built from, indexed by IndicatorType.
  std::array<uint64_t, kTypeSlots> hits_by_type{};
};

class LogGenerator {
 public:
  // Builds the generator for an indicator set (as parsed from a feed). Checks every hit
  // candidate and fills the non-matching pools; for 1M indicators this takes a few seconds.
  static Result<std::unique_ptr<LogGenerator>> Create(const std::vector<Indicator>& indicators,
                                                      uint64_t seed);

  // Writes lines to out. May be called again; the sequence continues.
  Result<LogGenStats> Generate(const LogGenOptions& options, std::ostream& out);

  // How many indicators can be planted (those the extractor finds when written in a log).
  size_t hit_candidates() const { return candidates_.size(); }

 private:
  struct Candidate {
    IndicatorType type;
    std::string text;  // as written in a log line (a range's network, re-drawn per line)
    std::string key;   // canonical key, for ranges
  };
  LogGenerator() : rng_(0) {}
  Status Init(const std::vector<Indicator>& indicators, uint64_t seed);
  bool Matches(std::string_view text) const;
  void AppendLine(bool hit, LogGenStats* stats, std::string* buf);
  void AppendTime(std::string* buf, int style);
  std::string PlantedText(const Candidate& c);
  // A miss line's name or URL from pool (LogGenOptions::name_pool / name_zipf).
  const std::string& PickName(const std::vector<std::string>& pool);

  Rng rng_;
  std::shared_ptr<const IndicatorIndex> index_;
  std::vector<Candidate> candidates_;
  // Values checked to match nothing in the set.
  std::vector<std::string> clients_;  // private ipv4
  std::vector<std::string> servers_;  // public ipv4
  std::vector<std::string> ipv6_;
  std::vector<std::string> domains_;
  std::vector<std::string> urls_;    // "http://host/path", host from domains_
  std::vector<std::string> hashes_;  // md5/sha1/sha256 hex
  uint64_t clock_ms_ = 0;
  // Cumulative rank weights of the name pool (empty: uniform over the whole pool).
  std::vector<double> name_cdf_;
};

}  // namespace iocd::iocgen
