// LinePrefilter: a cheap, conservative test of whether a log line CAN produce a hit against
// a given indicator set, so iocscan runs the extractor (ExtractObservables) and the index
// only on lines that can. It must never say "no" for a line the full path would give a hit
// or an allowlist-suppressed match: a skipped line is a line with zero index matches. It
// may say "yes" for lines that then match nothing (false positives only cost time).
//
// How: each indexed indicator contributes an *anchor*, a lower-case ASCII string that the
// text of every observable matching it must contain in a known place; the anchors go into
// a blocked Bloom filter (one 64-byte block per anchor, 8 bits set, ~16 bits per anchor).
//   domain      its name; a matching domain observable is the name or a subdomain of it
//   url         its key's host (HostOfUrlKey): a matching url's normalised host equals it
//   url-mask    UrlMaskFixedHost(key); a mask without one makes every line a candidate
//   ipv4        the dotted quad;  cidr4: its Encoded() key, probed for each prefix length
//               the index holds, from every dotted-quad run
//   md5/sha1/sha256  the lower-case hex digest
//   ipv6/cidr6  none: see the IPv6 trigger below;  sha512: none (never extracted)
// A line is scanned once, 32 bytes a step (AVX2, picked at run time) or 16 (SSE2), for '.',
// ':' and all-hex 16-byte blocks. Around
// each, the maximal run of host bytes [A-Za-z0-9._-] is taken (every observable the
// extractor reports as an address, name or digest is such a run with at most leading
// '.'/'-' and trailing '.'/'-'/'_' trimmed, or, for a url's host, with its dots trimmed),
// and the lower-cased text of each label-boundary suffix of it (with between the fewest and
// the most labels any anchor has) is probed; a run of 32, 40 or 64 hex digits is probed
// whole. A hit in the filter makes the line a candidate.
// Conservative triggers make a line a candidate whatever the filter says, wherever text can
// become a key whose anchor is not written literally (docs/iocscan.md lists them):
//   - a run of [0-9A-Fa-f:.] holding "::", 7 ':', or 6 and a '.' (a possible IPv6 address, as
//     the extractor reads one) when the
//     index holds ipv6/cidr6 indicators or a url with a bracketed host; when it holds only
//     IPv4-keyed ones, such a run holding "ffff" (an IPv4-mapped address is an ipv4);
//   - with url or url-mask indicators, a "://" authority holding '%' (the host is
//     percent-decoded), '[' or ".." (dots are collapsed), or, when a url's host is an IPv4
//     address, a host starting with a digit (inet_aton forms: "0x7f.1", "2130706433");
//   - a dotted host run next to a non-ASCII byte (IDN; the extractor treats those bytes as
//     separators today, so this is a safety margin only).
// A host run followed by "://" is also probed without the scheme's letters
// ("evil.com.http://x": the extractor's plain text ends where the scheme begins).
//
// Ownership: owns its filter (about 2 bytes per anchor). Thread safety: immutable after
// Build; its methods are const and may be called from any number of threads (MayHit keeps
// a per-thread probe buffer: no allocation once it has grown).
// Errors: none; an indicator type it cannot anchor makes it pass every line (passes_all()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace iocd::scan {

class LinePrefilter {
 public:
  // encoded: Indicator::Encoded() of every indexed indicator (repeats are fine).
  // allow_avx2: scan 32 bytes a step where the CPU has AVX2 (false: SSE2 only; tests check
  // both give the same answers). Default: true.
  static std::unique_ptr<const LinePrefilter> Build(std::span<const std::string_view> encoded,
                                                    bool allow_avx2 = true);

  // Whether line may produce a hit (true) or certainly produces none (false).
  bool MayHit(std::string_view line) const;
  // MayHit in two steps, for batches of lines (their filter reads then overlap):
  // Triggers returns true when a trigger makes line a candidate; otherwise line is one iff
  // AnyContained(the hashes it appended to *probes) (their blocks are being prefetched).
  bool Triggers(std::string_view line, std::vector<uint64_t>* probes) const;
  bool AnyContained(std::span<const uint64_t> probes) const;

  // Every line is a candidate (an anchor-less indicator was indexed).
  bool passes_all() const { return pass_all_; }
  size_t anchors() const { return anchors_; }
  size_t filter_bytes() const { return blocks_.size() * sizeof(Block); }
  // One line for the user: anchors, filter size and the triggers in force.
  std::string Describe() const;

 private:
  struct alignas(64) Block {
    uint64_t words[8];
  };
  struct Probes;
  struct Cursor;

  LinePrefilter() = default;
  size_t BlockOf(uint64_t hash) const;
  // Whether some text anchor's last label has this hash (a 1 KB bitmap: a few false yes).
  bool TldListed(uint64_t tld_hash) const;
  void Insert(uint64_t hash);
  bool Contains(uint64_t hash) const;
  // A maximal run of host bytes line[begin, end): adds its probes; true when a trigger
  // fires.
  bool HostRun(std::string_view line, size_t begin, size_t end, Probes* probes) const;
  // A ':' at pos: the url-authority and IPv6 triggers. *done: where the IPv6 run ended.
  bool Colon(std::string_view line, size_t pos, size_t* done) const;
  // Triggers' steps (prefilter.cc).
  bool Positions(std::string_view line, size_t base, uint32_t starts, uint32_t colons,
                 Cursor* c) const;
  bool Rest(std::string_view line, size_t i, Cursor* c) const;
  bool RestAvx2(std::string_view line, Cursor* c) const;

  std::vector<Block> blocks_;
  size_t anchors_ = 0;
  bool pass_all_ = false;
  bool avx2_ = false;
  bool has_hex_ = false;         // md5/sha1/sha256 anchors
  bool has_url_ = false;         // url or url-mask indicators: authority triggers
  bool has_ip_url_ = false;      // ... one of which has an IPv4 host
  bool v6_trigger_ = false;      // any IPv6-looking run is a candidate
  bool mapped_trigger_ = false;  // an IPv6-looking run holding "ffff" is a candidate
  uint32_t min_labels_ = 255;    // fewest / most labels of a text anchor
  uint32_t max_labels_ = 0;
  std::vector<uint8_t> cidr4_lengths_;  // prefix lengths of the cidr4 indicators
  bool quad_anchors_ = false;   // some text anchor is a dotted quad
  bool numeric_tlds_ = false;   // ... or ends in a number without being one
  static constexpr size_t kTldBits = 8192;
  uint64_t tlds_[kTldBits / 64] = {};  // last labels of the text anchors, one bit each
};

}  // namespace iocd::scan
