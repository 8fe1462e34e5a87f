// SourceRules: per-source extraction rules (config `sources:`, docs/rules.md), in the
// manner of Kaspersky CyberTrace's event sources. An operator says, for events from some
// senders (IP/CIDR of the peer) or syslog HOSTNAMEs, which regular expressions find
// observables (url, ip, domain, md5, sha1, sha256) or context values in the raw event,
// which rewrites to apply first ("replace"), and which events not to look up ("ignore").
//
// Life cycle: SourceRules::Build() compiles every source of a config once, off the hot
// path; the result is immutable. A reload builds a new one and publishes it (habit 6).
//
// Selection: Select(sender, syslog_hostname) tries the sources in config order and returns
// the first whose senders contain the sender's address or whose hostnames match the
// HOSTNAME (case-insensitive, '*' = any run of characters); when none does, the default
// source (the one with neither senders nor hostnames), else nullptr (= built-in extraction
// only). The default source is a fallback wherever it is written in the list.
//
// What CompiledSource::Apply() does to one raw event, in this order:
//   1. replace: each replace rule in order rewrites every non-overlapping match in the
//      text (the output of one is the input of the next);
//   2. ignore: if any ignore pattern matches the rewritten text, the event is marked
//      ignored and nothing else happens (the caller looks nothing up, not even with the
//      built-in extraction);
//   3. rules: all rule patterns of the source are run as ONE Vectorscan database over the
//      rewritten text. A rule's value is the whole match, or capture group 1 when its
//      pattern has a capture group. Values of url/ip/domain/hash rules are normalised with
//      the same functions the built-in extractor uses (indicator/indicator.h) and appended
//      as FieldObservables whose field is the rule name (a url also yields its host, like
//      the extractor); a value that is not valid for its type is dropped and counted in
//      `rejected`. Values of context rules are returned as (rule name, value) pairs for
//      the hit. "extract: first" keeps the leftmost valid value of the rule, "all" every
//      one. An indicator is reported once per event, at its first occurrence.
//
// Match semantics (Vectorscan has no captures and reports every match end):
//   * spans: Vectorscan runs with HS_FLAG_SOM_LEFTMOST and reports, for every end offset,
//     the leftmost start. For each start, the longest end is the match; matches are then
//     taken left to right without overlap. So quantifiers are greedy (a lazy `.*?` behaves
//     as `.*`): "leftmost-longest", where PCRE would be "leftmost-first".
//   * captures, and `$n` in replace: the span is handed to PCRE2 (JIT; a match of exactly
//     the span, else the first inside it, with the text before it visible to \b and
//     lookbehind), and group 1 / the `$n` groups are read from that. PCRE2 is the dialect
//     Vectorscan implements a subset of, so named groups of every spelling work. Spans over
//     kMaxCaptureSpan bytes are not given to PCRE2 (bounded work per event) and count as
//     rejected.
//   * a pattern Vectorscan cannot compile with SOM (rare: very large bounded repeats) is
//     compiled without it into the same database; when it reports a match, its spans are
//     found with PCRE2 over the whole text (a second, slower pass that only runs when
//     Vectorscan saw a match, and only on events up to 64 KiB).
//   * a leading "(?i)" makes a pattern case-insensitive in both engines.
//
// Ownership: SourceMatch owns the rewritten text; FieldObservable::observable.text,
// ContextValue::value and SourceMatch::text point into it or into the message passed to
// Apply(), so they are valid while both live and until the next Apply() on the same
// SourceMatch. ContextValue::name points into the SourceRules, as does every
// CompiledSource*: valid while the SourceRules lives.
// Thread safety: SourceRules and CompiledSource are immutable; Select() and Apply() are
// const and thread-safe. Each thread uses its own Vectorscan scratch (thread_local, cloned
// from the SourceRules' prototype on first use), so give each thread its own SourceMatch.
// Errors: Build() returns InvalidArgument listing every problem, one per line, naming the
// source, the rule and Vectorscan's message (with file:line when given the LoadedConfig).
// Apply() never fails: a Vectorscan runtime error is counted in SourceMatch::scan_errors and
// the event is treated as if the affected stage found nothing. Any bytes (binary, invalid
// UTF-8) are fine input; patterns are compiled byte-wise (no HS_FLAG_UTF8).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "extract/field_extractor.h"
#include "proto/config.pb.h"

namespace iocd {

// Longest span passed to PCRE2 for captures and `$n` replacements (bounds the work per event).
inline constexpr size_t kMaxCaptureSpan = 4096;

enum class RuleType : uint8_t { kUrl, kIp, kDomain, kMd5, kSha1, kSha256, kContext };
// "url", "ip", "domain", "md5", "sha1", "sha256", "context" (exactly; nullopt otherwise).
std::optional<RuleType> ParseRuleType(std::string_view name);

// A context rule's value: name is the rule name.
struct ContextValue {
  std::string_view name;
  std::string_view value;
  bool operator==(const ContextValue&) const = default;
};

// What Apply() found in one event. Reuse one per thread: Clear() keeps the memory.
// Not copyable or movable (its views point into its own buffers).
class SourceMatch {
 public:
  SourceMatch() = default;
  SourceMatch(const SourceMatch&) = delete;
  SourceMatch& operator=(const SourceMatch&) = delete;

  bool ignored = false;        // an ignore pattern matched: look nothing up
  std::string_view text;       // the event after replace rules (the input when none applied)
  std::vector<FieldObservable> observables;  // in order of appearance
  std::vector<ContextValue> context;         // in order of appearance
  uint32_t replaced = 0;       // replacements made, over all replace rules
  uint32_t rejected = 0;       // rule values that were not valid for their type
  uint32_t scan_errors = 0;    // Vectorscan runtime errors (should stay 0)

  void Clear();

 private:
  friend class CompiledSource;
  std::string buffers_[2];  // replace rules alternate between them
};

// One configured source, compiled.
class CompiledSource {
 public:
  virtual ~CompiledSource() = default;
  virtual const std::string& name() const = 0;
  // Whether the caller should also run the built-in extraction (on out->text).
  virtual bool builtin_extraction() const = 0;
  // Clears *out, then replace, ignore and rules as described above.
  virtual void Apply(std::string_view message, SourceMatch* out) const = 0;

 protected:
  // The implementation's access to SourceMatch's rewrite buffers.
  static std::string& RewriteBuffer(SourceMatch* out, int i) { return out->buffers_[i]; }
};

class SourceRules {
 public:
  virtual ~SourceRules() = default;

  // Compiles the sources. Errors name "sources[i] (name).rules[j] (name).regex" and the
  // engine's message; with a LoadedConfig they are "file:line:col: key: message" lines.
  static Result<std::unique_ptr<SourceRules>> Build(
      const google::protobuf::RepeatedPtrField<config::Source>& sources);
  static Result<std::unique_ptr<SourceRules>> Build(const LoadedConfig& loaded);

  // sender: an address as ReceivedEvent::sender gives it ("1.2.3.4:514", "[::1]:514") or
  // without the port ("1.2.3.4", "::1"); anything else ("unix:pid=1") matches no senders.
  // syslog_hostname: the header's HOSTNAME, empty when absent. nullptr: no source applies.
  virtual const CompiledSource* Select(std::string_view sender,
                                       std::string_view syslog_hostname) const = 0;
  virtual size_t size() const = 0;
};

// Whether a syslog HOSTNAME matches a hostnames pattern: ASCII case-insensitive, '*'
// matches any run of characters (including none).
bool HostnameMatches(std::string_view pattern, std::string_view hostname);

}  // namespace iocd
