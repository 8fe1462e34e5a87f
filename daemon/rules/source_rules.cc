#include "rules/source_rules.h"

#include <hs/hs.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <optional>
#include <utility>

#include "indicator/indicator.h"

namespace iocd {
namespace {

struct DatabaseDeleter {
  void operator()(hs_database_t* db) const { hs_free_database(db); }
};
using DatabasePtr = std::unique_ptr<hs_database_t, DatabaseDeleter>;
struct ScratchDeleter {
  void operator()(hs_scratch_t* s) const { hs_free_scratch(s); }
};
using ScratchPtr = std::unique_ptr<hs_scratch_t, ScratchDeleter>;

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// A pattern as written, split into its expression and a leading "(?i)".
struct Pattern {
  std::string expression;
  bool caseless = false;
};

Pattern SplitFlags(std::string_view regex) {
  constexpr std::string_view kCaseless = "(?i)";
  if (regex.substr(0, kCaseless.size()) == kCaseless) {
    return {std::string(regex.substr(kCaseless.size())), true};
  }
  return {std::string(regex), false};
}

// Capture groups written in the pattern: '(' not escaped, not in a [class], and not "(?"
// unless it starts a named group ("(?<name>", "(?P<name>", "(?'name'").
int CountCaptureGroups(std::string_view p) {
  int groups = 0;
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\') {
      ++i;
    } else if (in_class) {
      if (c == ']') in_class = false;
    } else if (c == '[') {
      in_class = true;
      if (i + 1 < p.size() && p[i + 1] == ']') ++i;  // "[]...]": ']' first is literal
    } else if (c == '(') {
      std::string_view rest = p.substr(i + 1);
      if (rest.empty() || rest[0] != '?') {
        ++groups;
      } else if ((rest.size() > 2 && rest[1] == '<' && rest[2] != '=' && rest[2] != '!') ||
                 rest.substr(1, 2) == "P<" || rest.substr(1, 1) == "'") {
        ++groups;
      }
    }
  }
  return groups;
}

// A pattern compiled with PCRE2 (JIT when the platform has it): the twin Vectorscan lacks,
// for captures, `$n` and the no-SOM fallback. Byte-wise like the Vectorscan database (no
// UTF mode), so any input bytes are fine.
class PcrePattern {
 public:
  static Result<std::unique_ptr<PcrePattern>> Compile(const Pattern& p) {
    int code = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p.expression.data()), p.expression.size(),
                                   p.caseless ? PCRE2_CASELESS : 0, &code, &offset, nullptr);
    if (re == nullptr) {
      std::array<PCRE2_UCHAR, 256> message{};
      pcre2_get_error_message(code, message.data(), message.size());
      return Status::InvalidArgument("PCRE2 rejects it at offset " + std::to_string(offset) + ": " +
                                     reinterpret_cast<const char*>(message.data()));
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);  // interpreted if the JIT is unavailable
    return std::unique_ptr<PcrePattern>(new PcrePattern(re));
  }
  ~PcrePattern() { pcre2_code_free(code_); }
  PcrePattern(const PcrePattern&) = delete;
  PcrePattern& operator=(const PcrePattern&) = delete;

  // Matches in subject[0, end) starting at `from` (the text before `from` stays visible to
  // \b and lookbehind). Returns the ovector (pairs of offsets, PCRE2_UNSET for a group that
  // did not take part) or null when there is no match. Valid until the next call on this
  // thread.
  const PCRE2_SIZE* Match(std::string_view subject, size_t from, size_t end, uint32_t options) const {
    thread_local MatchData data;
    int rc = pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(subject.data()), end, from, options, data.get(),
                         nullptr);
    // rc == 0: more groups than the ovector holds; those up to its size are still set.
    return rc >= 0 ? pcre2_get_ovector_pointer(data.get()) : nullptr;
  }
  static constexpr uint32_t kGroups = 16;  // ovector pairs: the match and 15 groups ($1..$9 used)

 private:
  explicit PcrePattern(pcre2_code* code) : code_(code) {}
  struct MatchData {
    pcre2_match_data* md = pcre2_match_data_create(kGroups, nullptr);
    ~MatchData() { pcre2_match_data_free(md); }
    pcre2_match_data* get() const { return md; }
  };
  pcre2_code* code_;
};

// Compiles patterns into one block-mode database; ids are the indexes. On failure the
// message names Vectorscan and *bad is the failing pattern's index (-1: not one pattern).
Status CompileDatabase(const std::vector<Pattern>& patterns, const std::vector<unsigned>& flags,
                       DatabasePtr* out, int* bad) {
  std::vector<const char*> exprs;
  std::vector<unsigned> ids;
  std::vector<unsigned> all_flags;
  for (size_t i = 0; i < patterns.size(); ++i) {
    exprs.push_back(patterns[i].expression.c_str());
    ids.push_back(static_cast<unsigned>(i));
    all_flags.push_back(flags[i] | (patterns[i].caseless ? HS_FLAG_CASELESS : 0));
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  hs_error_t rc = hs_compile_multi(exprs.data(), all_flags.data(), ids.data(),
                                   static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK, nullptr, &db, &err);
  if (rc != HS_SUCCESS) {
    std::string message = err != nullptr ? err->message : "unknown error";
    *bad = err != nullptr ? err->expression : -1;
    hs_free_compile_error(err);
    return Status::InvalidArgument("Vectorscan: " + message);
  }
  out->reset(db);
  return Status::Ok();
}

// Longest text searched with PCRE2 for a pattern compiled without SOM.
constexpr size_t kMaxFallbackText = 65536;

// One match span of pattern `id`.
struct Span {
  unsigned id;
  size_t from;
  size_t to;
};

// Patterns compiled together, plus what each needs besides Vectorscan.
struct PatternSet {
  DatabasePtr db;
  std::vector<std::unique_ptr<PcrePattern>> pcre;  // set when captures, `$n` or no_som need it
  std::vector<bool> no_som;                        // compiled without SOM: spans via PCRE2
  std::vector<bool> first_only;                 // only the leftmost span is wanted (may be empty)
};

// Problems found while building, with the config key they belong to.
struct BuildErrors {
  std::vector<std::pair<std::string, std::string>> list;
  void Add(std::string key, std::string message) { list.emplace_back(std::move(key), std::move(message)); }
};

// Compiles patterns (keys[i] names pattern i in errors; what[i] says whose it is) with
// SOM, falling back to no SOM per pattern where Vectorscan cannot track the start.
// need_pcre[i]: the pattern needs its PCRE2 twin anyway.
std::optional<PatternSet> BuildPatternSet(const std::vector<Pattern>& patterns,
                                          const std::vector<std::string>& keys,
                                          const std::vector<std::string>& what,
                                          const std::vector<bool>& need_pcre, BuildErrors* errors) {
  PatternSet set;
  bool ok = true;
  std::vector<unsigned> flags(patterns.size(), HS_FLAG_SOM_LEFTMOST);
  set.pcre.resize(patterns.size());
  set.no_som.assign(patterns.size(), false);
  for (size_t i = 0; i < patterns.size(); ++i) {
    // Each pattern alone first, so an error names the pattern precisely.
    DatabasePtr single;
    int bad = -1;
    Status st = CompileDatabase({patterns[i]}, {HS_FLAG_SOM_LEFTMOST}, &single, &bad);
    if (!st.ok()) {
      Status without = CompileDatabase({patterns[i]}, {0}, &single, &bad);
      if (!without.ok()) {
        errors->Add(keys[i], what[i] + ": " + Quote(patterns[i].expression) + ": " + without.message());
        ok = false;
        continue;
      }
      set.no_som[i] = true;
      flags[i] = 0;
    }
    if (need_pcre[i] || set.no_som[i]) {
      Result<std::unique_ptr<PcrePattern>> re = PcrePattern::Compile(patterns[i]);
      if (!re.ok()) {
        std::string why = set.no_som[i] ? "Vectorscan cannot report its start (" + st.message() +
                                              "), so it is matched with PCRE2 too, and "
                                        : "PCRE2 reads its capture groups, and ";
        errors->Add(keys[i], what[i] + ": " + Quote(patterns[i].expression) + ": " + why +
                                 re.status().message());
        ok = false;
        continue;
      }
      set.pcre[i] = std::move(*re);
    }
  }
  if (!ok || patterns.empty()) return ok ? std::optional<PatternSet>(std::move(set)) : std::nullopt;
  int bad = -1;
  Status st = CompileDatabase(patterns, flags, &set.db, &bad);
  if (!st.ok()) {
    const size_t index = bad >= 0 ? static_cast<size_t>(bad) : 0;
    errors->Add(keys[index], what[index] + ": " + st.message());
    return std::nullopt;
  }
  return set;
}

int CollectMatch(unsigned id, unsigned long long from, unsigned long long to, unsigned /*flags*/,
                 void* ctx) {
  static_cast<std::vector<Span>*>(ctx)->push_back({id, static_cast<size_t>(from), static_cast<size_t>(to)});
  return 0;
}

int StopAtFirst(unsigned, unsigned long long, unsigned long long, unsigned, void*) { return 1; }

// The spans of set's patterns in text: per pattern, leftmost-longest and non-overlapping;
// all sorted by (from, id). False on a Vectorscan runtime error.
bool ScanSpans(const PatternSet& set, std::string_view text, hs_scratch_t* scratch,
               std::vector<Span>* spans) {
  thread_local std::vector<Span> events;
  events.clear();
  spans->clear();
  if (set.db == nullptr) return true;
  hs_error_t rc = hs_scan(set.db.get(), text.data(), static_cast<unsigned>(text.size()), 0, scratch,
                          CollectMatch, &events);
  if (rc != HS_SUCCESS) return false;
  // For each pattern and start, the longest end; then left to right without overlap.
  std::sort(events.begin(), events.end(), [](const Span& a, const Span& b) {
    if (a.id != b.id) return a.id < b.id;
    if (a.from != b.from) return a.from < b.from;
    return a.to > b.to;
  });
  size_t i = 0;
  while (i < events.size()) {
    const unsigned id = events[i].id;
    const bool first = !set.first_only.empty() && set.first_only[id];
    if (set.no_som[id]) {
      // Vectorscan only says that it matches; find where with PCRE2 (bounded input, so
      // the work per event stays bounded).
      const PcrePattern& re = *set.pcre[id];
      if (text.size() > kMaxFallbackText) {
        while (i < events.size() && events[i].id == id) ++i;
        continue;
      }
      for (size_t at = 0; at <= text.size();) {
        const PCRE2_SIZE* ov = re.Match(text, at, text.size(), 0);
        if (ov == nullptr) break;
        if (ov[1] > ov[0]) {
          spans->push_back({id, ov[0], ov[1]});
          if (first) break;
        }
        at = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
      }
      while (i < events.size() && events[i].id == id) ++i;
      continue;
    }
    size_t cursor = 0;
    size_t last_from = SIZE_MAX;
    for (; i < events.size() && events[i].id == id; ++i) {
      const Span& e = events[i];
      if (e.from == last_from || e.from < cursor) continue;
      last_from = e.from;
      spans->push_back(e);
      cursor = e.to;
    }
  }
  std::sort(spans->begin(), spans->end(), [](const Span& a, const Span& b) {
    return a.from != b.from ? a.from < b.from : a.id < b.id;
  });
  return true;
}

// Runs the PCRE2 twin on the span: a match of exactly the span if there is one, else the
// first match inside it (the text before the span stays visible to \b and lookbehind).
// Returns its ovector, or null.
const PCRE2_SIZE* MatchSpan(const PcrePattern& re, std::string_view text, const Span& span) {
  if (span.to - span.from > kMaxCaptureSpan) return nullptr;
  if (const PCRE2_SIZE* ov = re.Match(text, span.from, span.to, PCRE2_ANCHORED | PCRE2_ENDANCHORED)) return ov;
  return re.Match(text, span.from, span.to, 0);
}

// Group n of a match (empty when it did not take part).
std::string_view Group(std::string_view text, const PCRE2_SIZE* ov, unsigned n) {
  if (n >= PcrePattern::kGroups || ov[2 * n] == PCRE2_UNSET) return {};
  return text.substr(ov[2 * n], ov[2 * n + 1] - ov[2 * n]);
}

// Appends `with` with $1..$9 replaced by the match's groups, $& by the whole match and $$
// by '$'; any other '$' is literal.
void AppendReplacement(std::string_view with, std::string_view text, const PCRE2_SIZE* ov, std::string* dest) {
  for (size_t i = 0; i < with.size(); ++i) {
    const char c = with[i];
    const char next = i + 1 < with.size() ? with[i + 1] : '\0';
    if (c != '$' || !(next == '$' || next == '&' || (next >= '1' && next <= '9'))) {
      dest->push_back(c);
      continue;
    }
    ++i;
    if (next == '$') {
      dest->push_back('$');
    } else {
      dest->append(Group(text, ov, next == '&' ? 0u : static_cast<unsigned>(next - '0')));
    }
  }
}

// Thread-local scratch cloned from the prototype of the SourceRules with this id.
hs_scratch_t* ThreadScratch(uint64_t owner, const hs_scratch_t* prototype) {
  struct Cached {
    uint64_t owner = 0;
    hs_scratch_t* scratch = nullptr;
    ~Cached() { hs_free_scratch(scratch); }
  };
  thread_local Cached cached;
  if (cached.owner != owner) {
    hs_free_scratch(cached.scratch);
    cached.scratch = nullptr;
    cached.owner = 0;
    if (hs_clone_scratch(prototype, &cached.scratch) != HS_SUCCESS) return nullptr;
    cached.owner = owner;
  }
  return cached.scratch;
}

struct Network {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
  int length = 0;  // prefix bits
};

std::optional<Network> ParseNetwork(std::string_view text) {
  Result<Indicator> ind = ParseIndicator(text);
  if (!ind.ok()) return std::nullopt;
  Network n;
  const std::string& key = ind->key;
  switch (ind->type) {
    case IndicatorType::kIpv4: n.length = 32; break;
    case IndicatorType::kIpv6: n.length = 128; n.v6 = true; break;
    case IndicatorType::kCidr4: n.length = static_cast<uint8_t>(key[4]); break;
    case IndicatorType::kCidr6: n.length = static_cast<uint8_t>(key[16]); n.v6 = true; break;
    default: return std::nullopt;
  }
  std::copy_n(key.begin(), n.v6 ? 16 : 4, n.bytes.begin());
  return n;
}

// The sender's address as a /32 or /128 network; an IPv4-mapped IPv6 address is IPv4.
std::optional<Network> SenderAddress(std::string_view sender) {
  if (!sender.empty() && sender.front() == '[') {
    size_t close = sender.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    sender = sender.substr(1, close - 1);
  } else if (size_t colon = sender.find(':'); colon != std::string_view::npos && colon == sender.rfind(':')) {
    sender = sender.substr(0, colon);  // "1.2.3.4:514"
  }
  Network n;
  if (auto v4 = ParseIpv4(sender)) {
    n.length = 32;
    for (int i = 0; i < 4; ++i) n.bytes[i] = static_cast<uint8_t>(*v4 >> (24 - 8 * i));
    return n;
  }
  auto v6 = ParseIpv6(sender);
  if (!v6) return std::nullopt;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(std::begin(kMapped), std::end(kMapped), v6->begin())) {
    n.length = 32;
    std::copy_n(v6->begin() + 12, 4, n.bytes.begin());
  } else {
    n.v6 = true;
    n.length = 128;
    n.bytes = *v6;
  }
  return n;
}

bool Covers(const Network& net, const Network& addr) {
  if (net.v6 != addr.v6) return false;
  int bits = net.length;
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((net.bytes[i] & mask) != (addr.bytes[i] & mask)) return false;
  }
  return true;
}

struct CompiledRule {
  std::string name;
  RuleType type;
  bool has_group;
};

struct CompiledReplace {
  PatternSet set;
  std::string with;
  bool uses_groups;  // `with` has a '$': groups read with PCRE2
};

// Shared by a SourceRules and its sources: the scratch prototype and its identity.
struct ScratchPrototype {
  uint64_t id = 0;
  ScratchPtr scratch;
};

class CompiledSourceImpl final : public CompiledSource {
 public:
  std::string name_;
  bool builtin_ = true;
  std::vector<Network> senders_;
  std::vector<std::string> hostnames_;
  std::vector<CompiledRule> rules_;
  PatternSet rule_set_;
  PatternSet ignore_set_;
  std::vector<CompiledReplace> replaces_;
  const ScratchPrototype* prototype_ = nullptr;

  const std::string& name() const override { return name_; }
  bool builtin_extraction() const override { return builtin_; }
  bool is_default_ = false;  // configured without senders and hostnames

  void Apply(std::string_view message, SourceMatch* out) const override;

 private:
  std::string_view Replace(std::string_view text, hs_scratch_t* scratch, SourceMatch* out) const;
  // False when value is not valid for the rule's type.
  bool Extract(const CompiledRule& rule, std::string_view value, size_t offset, SourceMatch* out) const;
};

void Emit(Indicator indicator, std::string_view text, size_t offset, const std::string& field,
          SourceMatch* out) {
  for (const FieldObservable& seen : out->observables) {
    if (seen.observable.indicator == indicator) return;
  }
  out->observables.push_back({Observable{std::move(indicator), text, offset}, field});
}

std::optional<Indicator> IpIndicator(std::string_view text) {
  Result<Indicator> ind = ParseIndicator(text);  // also "1.2.3.4:443", "[::1]:443"
  if (!ind.ok() || (ind->type != IndicatorType::kIpv4 && ind->type != IndicatorType::kIpv6)) return std::nullopt;
  return std::move(*ind);
}

bool CompiledSourceImpl::Extract(const CompiledRule& rule, std::string_view value, size_t offset,
                                 SourceMatch* out) const {
  auto hash = [&](IndicatorType type, size_t bytes) {
    std::optional<std::string> digest = DecodeHexDigest(value);
    if (!digest || digest->size() != bytes) return false;
    Emit(Indicator{type, std::move(*digest)}, value, offset, rule.name, out);
    return true;
  };
  switch (rule.type) {
    case RuleType::kContext:
      out->context.push_back({rule.name, value});
      return true;
    case RuleType::kMd5: return hash(IndicatorType::kMd5, 16);
    case RuleType::kSha1: return hash(IndicatorType::kSha1, 20);
    case RuleType::kSha256: return hash(IndicatorType::kSha256, 32);
    case RuleType::kIp: {
      std::optional<Indicator> ip = IpIndicator(value);
      if (!ip) return false;
      Emit(std::move(*ip), value, offset, rule.name, out);
      return true;
    }
    case RuleType::kDomain: {
      std::optional<std::string> domain = NormalizeDomain(value);
      if (!domain) return false;
      Emit(Indicator{IndicatorType::kDomain, std::move(*domain)}, value, offset, rule.name, out);
      return true;
    }
    case RuleType::kUrl: {
      std::optional<std::string> url = NormalizeUrl(value);
      if (!url) return false;
      Emit(Indicator{IndicatorType::kUrl, std::move(*url)}, value, offset, rule.name, out);
      // Its host too, as the built-in extractor reports it (extract/extractor.h).
      std::string_view host = UrlHost(value);
      size_t host_offset = offset + static_cast<size_t>(host.data() - value.data());
      if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
        ++host_offset;
      }
      if (auto ip = IpIndicator(host)) {
        Emit(std::move(*ip), host, host_offset, rule.name, out);
      } else if (auto domain = NormalizeDomain(host)) {
        Emit(Indicator{IndicatorType::kDomain, std::move(*domain)}, host, host_offset, rule.name, out);
      }
      return true;
    }
  }
  return false;
}

std::string_view CompiledSourceImpl::Replace(std::string_view text, hs_scratch_t* scratch,
                                             SourceMatch* out) const {
  thread_local std::vector<Span> spans;
  int next = 0;  // the buffer the next rewrite goes to (never the one text points into)
  for (const CompiledReplace& r : replaces_) {
    if (!ScanSpans(r.set, text, scratch, &spans)) {
      ++out->scan_errors;
      continue;
    }
    if (spans.empty()) continue;
    std::string& dest = RewriteBuffer(out, next);
    dest.clear();
    size_t copied = 0;
    for (const Span& span : spans) {
      dest.append(text, copied, span.from - copied);
      copied = span.to;
      if (!r.uses_groups) {
        dest += r.with;
      } else if (const PCRE2_SIZE* ov = MatchSpan(*r.set.pcre[0], text, span)) {
        AppendReplacement(r.with, text, ov, &dest);
      } else {
        dest.append(text, span.from, span.to - span.from);  // over kMaxCaptureSpan: kept
        continue;
      }
      ++out->replaced;
    }
    dest.append(text, copied);
    text = dest;
    next ^= 1;
  }
  return text;
}

void CompiledSourceImpl::Apply(std::string_view message, SourceMatch* out) const {
  out->Clear();
  out->text = message;
  // No pattern matches the empty string (Vectorscan refuses such patterns).
  if (message.empty() || (rules_.empty() && replaces_.empty() && ignore_set_.db == nullptr)) return;
  hs_scratch_t* scratch = ThreadScratch(prototype_->id, prototype_->scratch.get());
  if (scratch == nullptr) {
    ++out->scan_errors;
    return;
  }
  out->text = Replace(message, scratch, out);
  const std::string_view text = out->text;
  if (ignore_set_.db != nullptr) {
    hs_error_t rc = hs_scan(ignore_set_.db.get(), text.data(), static_cast<unsigned>(text.size()), 0,
                            scratch, StopAtFirst, nullptr);
    if (rc == HS_SCAN_TERMINATED) {
      out->ignored = true;
      return;
    }
    if (rc != HS_SUCCESS) ++out->scan_errors;
  }
  thread_local std::vector<Span> spans;
  if (!ScanSpans(rule_set_, text, scratch, &spans)) {
    ++out->scan_errors;
    return;
  }
  thread_local std::vector<bool> done;
  done.assign(rules_.size(), false);
  for (const Span& span : spans) {
    const CompiledRule& rule = rules_[span.id];
    if (done[span.id]) continue;
    std::string_view value = text.substr(span.from, span.to - span.from);
    size_t offset = span.from;
    if (rule.has_group) {
      const PCRE2_SIZE* ov = MatchSpan(*rule_set_.pcre[span.id], text, span);
      if (ov == nullptr) {
        ++out->rejected;
        continue;
      }
      value = Group(text, ov, 1);
      if (value.empty()) continue;
      offset = ov[2];
    }
    if (!Extract(rule, value, offset, out)) {
      ++out->rejected;
    } else if (rule_set_.first_only[span.id]) {
      done[span.id] = true;  // a duplicate indicator counts as taken
    }
  }
}

class SourceRulesImpl final : public SourceRules {
 public:
  std::vector<std::unique_ptr<CompiledSourceImpl>> sources_;
  const CompiledSourceImpl* default_ = nullptr;
  ScratchPrototype prototype_;

  const CompiledSource* Select(std::string_view sender, std::string_view hostname) const override {
    std::optional<Network> address;
    bool address_parsed = false;
    for (const auto& s : sources_) {
      if (!s->senders_.empty()) {
        if (!address_parsed) {
          address = SenderAddress(sender);
          address_parsed = true;
        }
        if (address) {
          for (const Network& n : s->senders_) {
            if (Covers(n, *address)) return s.get();
          }
        }
      }
      if (!hostname.empty()) {
        for (const std::string& pattern : s->hostnames_) {
          if (HostnameMatches(pattern, hostname)) return s.get();
        }
      }
    }
    return default_;
  }
  size_t size() const override { return sources_.size(); }
};

std::atomic<uint64_t> next_rules_id{1};

std::string IndexKey(const std::string& parent, const char* field, int i) {
  return parent + "." + field + "[" + std::to_string(i) + "]";
}

std::unique_ptr<CompiledSourceImpl> BuildSource(const config::Source& src, const std::string& key,
                                                BuildErrors* errors) {
  auto out = std::make_unique<CompiledSourceImpl>();
  out->name_ = src.name();
  out->builtin_ = !src.has_builtin_extraction() || src.builtin_extraction();
  out->is_default_ = src.senders_size() == 0 && src.hostnames_size() == 0;
  const std::string who = "source " + Quote(src.name());
  if (src.name().empty()) errors->Add(key + ".name", "required");
  for (int i = 0; i < src.senders_size(); ++i) {
    if (auto n = ParseNetwork(src.senders(i))) {
      out->senders_.push_back(*n);
    } else {
      errors->Add(IndexKey(key, "senders", i), who + ": expected an IP address or CIDR, got " + Quote(src.senders(i)));
    }
  }
  for (int i = 0; i < src.hostnames_size(); ++i) {
    if (src.hostnames(i).empty()) errors->Add(IndexKey(key, "hostnames", i), who + ": empty hostname");
    out->hostnames_.push_back(src.hostnames(i));
  }

  std::vector<Pattern> patterns;
  std::vector<std::string> keys, what;
  std::vector<bool> need_pcre;
  for (int i = 0; i < src.rules_size(); ++i) {
    const config::SourceRule& r = src.rules(i);
    const std::string rkey = IndexKey(key, "rules", i);
    const std::string rwho = who + ", rule " + Quote(r.name());
    if (r.name().empty()) errors->Add(rkey + ".name", who + ": rule name required");
    for (int j = 0; j < i; ++j) {
      if (src.rules(j).name() == r.name() && !r.name().empty()) errors->Add(rkey + ".name", rwho + ": duplicate rule name");
    }
    std::optional<RuleType> type = ParseRuleType(r.type());
    if (!type) errors->Add(rkey + ".type", rwho + ": type must be url, ip, domain, md5, sha1, sha256 or context, got " + Quote(r.type()));
    if (!r.extract().empty() && r.extract() != "all" && r.extract() != "first") {
      errors->Add(rkey + ".extract", rwho + ": extract must be all or first, got " + Quote(r.extract()));
    }
    if (r.regex().empty()) errors->Add(rkey + ".regex", rwho + ": regex required");
    Pattern p = SplitFlags(r.regex());
    const bool group = CountCaptureGroups(p.expression) > 0;
    out->rules_.push_back({r.name(), type.value_or(RuleType::kContext), group});
    out->rule_set_.first_only.push_back(r.extract() == "first");
    patterns.push_back(std::move(p));
    keys.push_back(rkey + ".regex");
    what.push_back(rwho);
    need_pcre.push_back(group);
  }
  std::vector<bool> first_only = std::move(out->rule_set_.first_only);
  if (auto set = BuildPatternSet(patterns, keys, what, need_pcre, errors)) out->rule_set_ = std::move(*set);
  out->rule_set_.first_only = std::move(first_only);

  patterns.clear(), keys.clear(), what.clear();
  for (int i = 0; i < src.ignore_size(); ++i) {
    patterns.push_back(SplitFlags(src.ignore(i)));
    keys.push_back(IndexKey(key, "ignore", i));
    what.push_back(who + ", ignore pattern");
  }
  if (!patterns.empty()) {
    // Only "does any match" is wanted: no SOM, one report per pattern.
    std::vector<unsigned> flags(patterns.size(), HS_FLAG_SINGLEMATCH);
    int bad = -1;
    Status st = CompileDatabase(patterns, flags, &out->ignore_set_.db, &bad);
    if (!st.ok()) {
      const size_t index = bad >= 0 ? static_cast<size_t>(bad) : 0;
      errors->Add(keys[index], what[index] + " " + Quote(patterns[index].expression) + ": " + st.message());
    }
  }

  for (int i = 0; i < src.replace_size(); ++i) {
    const config::SourceReplace& r = src.replace(i);
    const std::string rkey = IndexKey(key, "replace", i) + ".regex";
    if (r.regex().empty()) {
      errors->Add(rkey, who + ": replace regex required");
      continue;
    }
    const bool groups = r.with().find('$') != std::string::npos;
    auto set = BuildPatternSet({SplitFlags(r.regex())}, {rkey}, {who + ", replace"}, {groups}, errors);
    if (set) out->replaces_.push_back({std::move(*set), r.with(), groups});
  }
  return out;
}

Result<std::unique_ptr<SourceRules>> BuildAll(const google::protobuf::RepeatedPtrField<config::Source>& sources,
                                              BuildErrors* errors) {
  auto rules = std::make_unique<SourceRulesImpl>();
  rules->prototype_.id = next_rules_id.fetch_add(1);
  for (int i = 0; i < sources.size(); ++i) {
    const std::string key = "sources[" + std::to_string(i) + "]";
    for (int j = 0; j < i; ++j) {
      if (sources[j].name() == sources[i].name() && !sources[i].name().empty()) {
        errors->Add(key + ".name", "duplicate source name " + Quote(sources[i].name()));
      }
    }
    auto source = BuildSource(sources[i], key, errors);
    if (source->is_default_) {
      if (rules->default_ != nullptr) {
        errors->Add(key, "source " + Quote(source->name_) + ": a second default source (no senders or hostnames); " +
                             Quote(rules->default_->name_) + " is one already");
      }
      rules->default_ = source.get();
    }
    rules->sources_.push_back(std::move(source));
  }
  if (!errors->list.empty()) return Status::InvalidArgument("invalid sources");
  // One prototype scratch big enough for every database; threads clone it.
  hs_scratch_t* scratch = nullptr;
  for (const auto& s : rules->sources_) {
    s->prototype_ = &rules->prototype_;
    std::vector<const hs_database_t*> dbs = {s->rule_set_.db.get(), s->ignore_set_.db.get()};
    for (const CompiledReplace& r : s->replaces_) dbs.push_back(r.set.db.get());
    for (const hs_database_t* db : dbs) {
      if (db != nullptr && hs_alloc_scratch(db, &scratch) != HS_SUCCESS) {
        hs_free_scratch(scratch);
        return Status::Internal("Vectorscan: cannot allocate scratch space for source " + Quote(s->name_));
      }
    }
  }
  rules->prototype_.scratch.reset(scratch);
  return std::unique_ptr<SourceRules>(std::move(rules));
}

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) {
    if (!out.empty()) out += '\n';
    out += l;
  }
  return out;
}

}  // namespace

std::optional<RuleType> ParseRuleType(std::string_view name) {
  static constexpr std::pair<std::string_view, RuleType> kTypes[] = {
      {"url", RuleType::kUrl},   {"ip", RuleType::kIp},     {"domain", RuleType::kDomain},
      {"md5", RuleType::kMd5},   {"sha1", RuleType::kSha1}, {"sha256", RuleType::kSha256},
      {"context", RuleType::kContext}};
  for (const auto& [n, t] : kTypes) {
    if (n == name) return t;
  }
  return std::nullopt;
}

void SourceMatch::Clear() {
  ignored = false;
  text = {};
  observables.clear();
  context.clear();
  replaced = rejected = scan_errors = 0;
}

bool HostnameMatches(std::string_view pattern, std::string_view hostname) {
  return GlobMatch(pattern, hostname, /*ignore_ascii_case=*/true);
}

Result<std::unique_ptr<SourceRules>> SourceRules::Build(
    const google::protobuf::RepeatedPtrField<config::Source>& sources) {
  BuildErrors errors;
  auto rules = BuildAll(sources, &errors);
  if (errors.list.empty()) return rules;
  std::vector<std::string> lines;
  for (const auto& [key, message] : errors.list) lines.push_back(key + ": " + message);
  return Status::InvalidArgument(JoinLines(lines));
}

Result<std::unique_ptr<SourceRules>> SourceRules::Build(const LoadedConfig& loaded) {
  BuildErrors errors;
  auto rules = BuildAll(loaded.config.sources(), &errors);
  if (errors.list.empty()) return rules;
  std::vector<std::string> lines;
  for (const auto& [key, message] : errors.list) lines.push_back(loaded.ErrorAt(key, message).ToString());
  return Status::InvalidArgument(JoinLines(lines));
}

}  // namespace iocd
