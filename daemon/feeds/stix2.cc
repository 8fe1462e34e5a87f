#include "feeds/stix2.h"

#include <simdjson.h>

#include <array>
#include <cstddef>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "feeds/parse_util.h"

namespace iocd {
namespace {

// ---------------------------------------------------------------------------------------
// Pattern parser

constexpr int kMaxDepth = 64;
constexpr size_t kMaxReasonText = 64;

// Unsupported constructs, in the order that picks the reported reason (see stix2.h).
enum UnsupportedKind : size_t {
  kFollowedBy = 0,
  kQualifier,
  kAnd,
  kExists,
  kOperator,
  kObject,
  kProperty,
  kValue,
  kNumKinds,
};

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9') || c == '-'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Text from a pattern that goes into a reason key: bounded and printable.
std::string ReasonText(std::string_view s) {
  return EscapeControl(TruncateUtf8(s, kMaxReasonText));
}

enum class LiteralKind { kString, kInteger, kFloat, kBoolean, kTimestamp, kBinary, kHex, kSet };

std::string_view LiteralKindName(LiteralKind k) {
  switch (k) {
    case LiteralKind::kString:
      return "string";
    case LiteralKind::kInteger:
      return "integer";
    case LiteralKind::kFloat:
      return "float";
    case LiteralKind::kBoolean:
      return "boolean";
    case LiteralKind::kTimestamp:
      return "timestamp";
    case LiteralKind::kBinary:
      return "binary";
    case LiteralKind::kHex:
      return "hex";
    case LiteralKind::kSet:
      return "set";
  }
  return "?";
}

struct ObjectPath {
  std::string object_type;              // as written
  std::vector<std::string> components;  // property names, quotes removed; "[1]" / "[*]" kept
  std::string Display() const {
    std::string out = object_type + ":";
    for (size_t i = 0; i < components.size(); ++i) {
      if (i > 0 && components[i].front() != '[') out += '.';
      out += components[i];
    }
    return out;
  }
};

// Recursive descent over the pattern's bytes. Every Parse* returns false after recording
// the first syntax error; unsupported constructs are noted and parsing goes on, so a
// syntax error anywhere in the pattern is always reported.
class PatternParser {
 public:
  explicit PatternParser(std::string_view pattern) : in_(pattern) {}

  Result<StixPattern> Run() {
    if (!ParseObservationExpressions()) return SyntaxError();
    SkipSpace();
    if (pos_ < in_.size()) {
      Fail("expected end of pattern");
      return SyntaxError();
    }
    StixPattern out;
    for (const std::string& reason : reasons_) {
      if (!reason.empty()) {
        out.unsupported = reason;
        return out;
      }
    }
    out.comparisons = std::move(comparisons_);
    return out;
  }

 private:
  Status SyntaxError() const {
    return Status::InvalidArgument("at character " + std::to_string(error_pos_ + 1) + ": " +
                                   error_);
  }

  // Records a syntax error at pos_: what was expected, then what was found there.
  bool Fail(std::string_view expected) { return FailAt(pos_, expected, /*say_found=*/true); }

  bool FailAt(size_t at, std::string_view what, bool say_found) {
    if (!failed_) {
      failed_ = true;
      error_pos_ = at;
      error_ = std::string(what);
      if (!say_found) {
        // The message says it all.
      } else if (pos_ >= in_.size()) {
        error_ += ", found end of pattern";
      } else if (static_cast<unsigned char>(in_[pos_]) >= 0x80) {
        static constexpr char kHex[] = "0123456789abcdef";
        auto u = static_cast<unsigned char>(in_[pos_]);
        error_ += std::string(", found byte 0x") + kHex[u >> 4] + kHex[u & 0xf];
      } else {
        error_ += ", found " + Quote(EscapeControl(in_.substr(pos_, 1)));
      }
    }
    return false;
  }

  void Note(UnsupportedKind kind, std::string reason) {
    if (reasons_[kind].empty()) reasons_[kind] = std::move(reason);
  }

  void SkipSpace() {
    while (pos_ < in_.size() &&
           (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\r' || in_[pos_] == '\n')) {
      ++pos_;
    }
  }

  // Consumes `c` after optional whitespace.
  bool Accept(char c) {
    SkipSpace();
    if (pos_ < in_.size() && in_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool Expect(char c) {
    if (Accept(c)) return true;
    return Fail(std::string("expected '") + c + "'");
  }

  // Consumes keyword `kw` (case-insensitive) after optional whitespace when it is not just
  // the start of a longer word or of an object path ("exists:..." is not EXISTS).
  bool AcceptKeyword(std::string_view kw) {
    SkipSpace();
    if (in_.size() - pos_ < kw.size()) return false;
    for (size_t i = 0; i < kw.size(); ++i) {
      if (ToLowerAscii(in_[pos_ + i]) != ToLowerAscii(kw[i])) return false;
    }
    size_t end = pos_ + kw.size();
    if (end < in_.size() && (IsIdentChar(in_[end]) || in_[end] == ':')) return false;
    pos_ = end;
    return true;
  }

  bool Enter() {
    if (++depth_ > kMaxDepth) {
      return FailAt(pos_ - 1, "parentheses nested more than " + std::to_string(kMaxDepth) + " deep",
                    /*say_found=*/false);
    }
    return true;
  }

  // observationExpressions: observationExpressionOr (FOLLOWEDBY observationExpressionOr)*
  bool ParseObservationExpressions() {
    if (!ParseObservationOr()) return false;
    while (AcceptKeyword("FOLLOWEDBY")) {
      Note(kFollowedBy, "stix pattern: FOLLOWEDBY");
      if (!ParseObservationOr()) return false;
    }
    return true;
  }

  bool ParseObservationOr() {
    if (!ParseObservationAnd()) return false;
    while (AcceptKeyword("OR")) {
      if (!ParseObservationAnd()) return false;
    }
    return true;
  }

  bool ParseObservationAnd() {
    if (!ParseQualifiedObservation()) return false;
    while (AcceptKeyword("AND")) {
      Note(kAnd, "stix pattern: AND");
      if (!ParseQualifiedObservation()) return false;
    }
    return true;
  }

  // ('[' comparisonExpression ']' | '(' observationExpressions ')') qualifier*
  bool ParseQualifiedObservation() {
    if (Accept('[')) {
      if (!ParseComparisonOr()) return false;
      if (!Expect(']')) return false;
    } else if (Accept('(')) {
      if (!Enter()) return false;
      if (!ParseObservationExpressions()) return false;
      if (!Expect(')')) return false;
      --depth_;
    } else {
      return Fail("expected '[' or '('");
    }
    while (true) {
      if (AcceptKeyword("WITHIN")) {
        Note(kQualifier, "stix qualifier WITHIN");
        if (!ParseNumber(/*integer_only=*/false)) return false;
        if (!AcceptKeyword("SECONDS")) return Fail("expected SECONDS");
      } else if (AcceptKeyword("START")) {
        Note(kQualifier, "stix qualifier START/STOP");
        if (!ParseTimestampLiteral()) return false;
        if (!AcceptKeyword("STOP")) return Fail("expected STOP");
        if (!ParseTimestampLiteral()) return false;
      } else if (AcceptKeyword("REPEATS")) {
        Note(kQualifier, "stix qualifier REPEATS");
        if (!ParseNumber(/*integer_only=*/true)) return false;
        if (!AcceptKeyword("TIMES")) return Fail("expected TIMES");
      } else {
        return true;
      }
    }
  }

  bool ParseComparisonOr() {
    if (!ParseComparisonAnd()) return false;
    while (AcceptKeyword("OR")) {
      if (!ParseComparisonAnd()) return false;
    }
    return true;
  }

  bool ParseComparisonAnd() {
    if (!ParseComparison()) return false;
    while (AcceptKeyword("AND")) {
      Note(kAnd, "stix pattern: AND");
      if (!ParseComparison()) return false;
    }
    return true;
  }

  // '(' comparisonExpression ')' | EXISTS objectPath | objectPath NOT? operator literal
  bool ParseComparison() {
    if (Accept('(')) {
      if (!Enter()) return false;
      if (!ParseComparisonOr()) return false;
      if (!Expect(')')) return false;
      --depth_;
      return true;
    }
    if (AcceptKeyword("EXISTS")) {
      Note(kExists, "stix pattern: EXISTS");
      ObjectPath ignored;
      return ParseObjectPath(&ignored);
    }
    SkipSpace();
    size_t start = pos_;
    ObjectPath path;
    if (!ParseObjectPath(&path)) return false;
    bool negated = AcceptKeyword("NOT");
    std::string op;
    if (!ParseOperator(&op)) return false;
    LiteralKind kind = LiteralKind::kString;
    std::string value;
    if (op == "IN") {
      SkipSpace();
      if (pos_ >= in_.size() || in_[pos_] != '(') return Fail("expected '(' after IN");
    }
    if (!ParseLiteral(&kind, &value)) return false;

    if (negated || op != "=") {
      Note(kOperator, "stix operator " + std::string(negated ? "NOT " : "") + op);
    }
    std::optional<StixComparison> comparison = Classify(path, start);
    if (!comparison) return true;
    if (kind != LiteralKind::kString) {
      Note(kValue, "stix value " + std::string(LiteralKindName(kind)));
      return true;
    }
    comparison->value = std::move(value);
    comparisons_.push_back(std::move(*comparison));
    return true;
  }

  // Maps a path to the indicator family it carries, noting unsupported objects/properties.
  std::optional<StixComparison> Classify(const ObjectPath& path, size_t offset) {
    std::string type = ToLowerAscii(path.object_type);
    std::optional<IndicatorType> family;
    std::string display;
    bool known_object = true;
    if (type == "ipv4-addr" || type == "ipv6-addr" || type == "domain-name" || type == "url") {
      if (path.components.size() == 1 && path.components[0] == "value") {
        display = type + ":value";
        family = type == "ipv4-addr"     ? IndicatorType::kIpv4
                 : type == "ipv6-addr"   ? IndicatorType::kIpv6
                 : type == "domain-name" ? IndicatorType::kDomain
                                         : IndicatorType::kUrl;
      }
    } else if (type == "file") {
      if (path.components.size() == 2 && path.components[0] == "hashes") {
        std::string algo;
        for (char c : path.components[1]) {
          if (c != '-') algo += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
        }
        if (algo == "MD5") {
          family = IndicatorType::kMd5;
          display = "file:hashes.MD5";
        } else if (algo == "SHA1") {
          family = IndicatorType::kSha1;
          display = "file:hashes.SHA-1";
        } else if (algo == "SHA256") {
          family = IndicatorType::kSha256;
          display = "file:hashes.SHA-256";
        }
      }
    } else {
      known_object = false;
    }
    if (!known_object) {
      Note(kObject, "stix object " + ReasonText(path.object_type));
      return std::nullopt;
    }
    if (!family) {
      Note(kProperty, "stix property " + ReasonText(path.Display()));
      return std::nullopt;
    }
    return StixComparison{*family, "", std::move(display), offset};
  }

  // objectType ':' component ('.' component | '[' (integer | '*') ']')*
  bool ParseObjectPath(ObjectPath* path) {
    SkipSpace();
    size_t start = pos_;
    while (pos_ < in_.size() && (IsIdentChar(in_[pos_]) || IsDigit(in_[pos_]))) ++pos_;
    if (pos_ == start) return Fail("expected an object path (type:property)");
    path->object_type = std::string(in_.substr(start, pos_ - start));
    if (!Expect(':')) return false;
    std::string component;
    if (!ParsePathComponent(&component)) return false;
    path->components.push_back(std::move(component));
    while (true) {
      SkipSpace();
      if (pos_ >= in_.size()) return true;
      if (in_[pos_] == '.') {
        ++pos_;
        if (!ParsePathComponent(&component)) return false;
        path->components.push_back(std::move(component));
      } else if (in_[pos_] == '[') {
        ++pos_;
        SkipSpace();
        if (Accept('*')) {
          path->components.push_back("[*]");
        } else {
          size_t num_start = pos_;
          if (!ParseNumber(/*integer_only=*/true)) return false;
          path->components.push_back("[" + std::string(in_.substr(num_start, pos_ - num_start)) +
                                     "]");
        }
        if (!Expect(']')) return false;
      } else {
        return true;
      }
    }
  }

  bool ParsePathComponent(std::string* out) {
    SkipSpace();
    if (pos_ < in_.size() && in_[pos_] == '\'') return ParseQuoted(out);
    size_t start = pos_;
    if (pos_ < in_.size() && IsIdentStart(in_[pos_])) {
      ++pos_;
      while (pos_ < in_.size() && IsIdentChar(in_[pos_])) ++pos_;
    }
    if (pos_ == start) return Fail("expected a property name");
    *out = std::string(in_.substr(start, pos_ - start));
    return true;
  }

  bool ParseOperator(std::string* op) {
    SkipSpace();
    static constexpr std::string_view kSymbols[] = {"!=", "<>", "<=", ">=", "=", "<", ">"};
    for (std::string_view s : kSymbols) {
      if (in_.substr(pos_, s.size()) == s) {
        pos_ += s.size();
        *op = std::string(s);
        return true;
      }
    }
    static constexpr std::string_view kWords[] = {"IN", "LIKE", "MATCHES", "ISSUBSET",
                                                  "ISSUPERSET"};
    for (std::string_view w : kWords) {
      if (AcceptKeyword(w)) {
        *op = std::string(w);
        return true;
      }
    }
    return Fail("expected a comparison operator");
  }

  // string, t'..', b'..', h'..', true/false, a number, or a set '(' literal (',' literal)* ')'.
  bool ParseLiteral(LiteralKind* kind, std::string* value) {
    SkipSpace();
    if (pos_ >= in_.size()) return Fail("expected a value");
    char c = in_[pos_];
    if (c == '\'') {
      *kind = LiteralKind::kString;
      return ParseQuoted(value);
    }
    if ((c == 't' || c == 'b' || c == 'h') && pos_ + 1 < in_.size() && in_[pos_ + 1] == '\'') {
      if (c == 't') {
        *kind = LiteralKind::kTimestamp;
        return ParseTimestampLiteral();
      }
      *kind = c == 'b' ? LiteralKind::kBinary : LiteralKind::kHex;
      ++pos_;
      return ParseQuoted(value);
    }
    if (c == '(') {
      ++pos_;
      if (!Enter()) return false;
      *kind = LiteralKind::kSet;
      do {
        LiteralKind element_kind = LiteralKind::kString;
        std::string element;
        if (!ParseLiteral(&element_kind, &element)) return false;
        if (element_kind == LiteralKind::kSet) return Fail("a set cannot contain a set");
      } while (Accept(','));
      if (!Expect(')')) return false;
      --depth_;
      return true;
    }
    if (AcceptKeyword("true") || AcceptKeyword("false")) {
      *kind = LiteralKind::kBoolean;
      return true;
    }
    if (c == '-' || c == '+' || IsDigit(c)) {
      size_t start = pos_;
      if (!ParseNumber(/*integer_only=*/false)) return false;
      std::string_view text = in_.substr(start, pos_ - start);
      *kind =
          text.find('.') == std::string_view::npos ? LiteralKind::kInteger : LiteralKind::kFloat;
      *value = std::string(text);
      return true;
    }
    return Fail("expected a value");
  }

  bool ParseNumber(bool integer_only) {
    SkipSpace();
    size_t p = pos_;
    if (!integer_only && p < in_.size() && (in_[p] == '-' || in_[p] == '+')) ++p;
    size_t digits = p;
    while (p < in_.size() && IsDigit(in_[p])) ++p;
    if (p == digits) return Fail(integer_only ? "expected an integer" : "expected a number");
    if (!integer_only && p < in_.size() && in_[p] == '.') {
      size_t frac = ++p;
      while (p < in_.size() && IsDigit(in_[p])) ++p;
      if (p == frac) {
        pos_ = p;
        return Fail("expected digits after '.'");
      }
    }
    if (p < in_.size() && IsIdentChar(in_[p])) {
      pos_ = p;
      return Fail("expected the number to end");
    }
    pos_ = p;
    return true;
  }

  bool ParseTimestampLiteral() {
    SkipSpace();
    if (pos_ >= in_.size() || in_[pos_] != 't' || pos_ + 1 >= in_.size() || in_[pos_ + 1] != '\'') {
      return Fail("expected a timestamp t'...'");
    }
    size_t start = pos_;
    ++pos_;
    std::string text;
    if (!ParseQuoted(&text)) return false;
    if (!ParseRfc3339UnixMs(text)) {
      pos_ = start;
      return Fail("expected an RFC 3339 timestamp");
    }
    return true;
  }

  // A '...' literal with \' and \\ escapes; pos_ is at the opening quote.
  bool ParseQuoted(std::string* out) {
    SkipSpace();
    if (pos_ >= in_.size() || in_[pos_] != '\'') return Fail("expected a quoted string");
    size_t start = pos_++;
    out->clear();
    while (pos_ < in_.size()) {
      char c = in_[pos_];
      if (c == '\'') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        if (pos_ + 1 < in_.size() && (in_[pos_ + 1] == '\'' || in_[pos_ + 1] == '\\')) {
          out->push_back(in_[pos_ + 1]);
          pos_ += 2;
          continue;
        }
        ++pos_;
        return Fail("expected \\' or \\\\ after a backslash");
      }
      out->push_back(c);
      ++pos_;
    }
    return FailAt(start, "the string that starts here has no closing quote",
                  /*say_found=*/false);
  }

  std::string_view in_;
  size_t pos_ = 0;
  int depth_ = 0;
  bool failed_ = false;
  size_t error_pos_ = 0;
  std::string error_;
  std::array<std::string, kNumKinds> reasons_;
  std::vector<StixComparison> comparisons_;
};

// ---------------------------------------------------------------------------------------
// Bundle

// Relationship target types that name something an indicator points at, with the context
// key each becomes, in context order.
struct TargetKind {
  std::string_view stix_type;
  std::string_view context_key;
};
constexpr TargetKind kTargetKinds[] = {
    {"malware", "malware"},
    {"threat-actor", "threat_actor"},
    {"intrusion-set", "intrusion_set"},
    {"campaign", "campaign"},
    {"attack-pattern", "attack_pattern"},
    {"tool", "tool"},
};
constexpr size_t kNumTargetKinds = std::size(kTargetKinds);
constexpr size_t kMaxDescription = 512;

struct NamedObject {
  size_t kind = 0;  // index into kTargetKinds
  std::string_view name;
};

bool IsRevoked(simdjson::dom::object obj) {
  bool revoked = false;
  return obj["revoked"].get(revoked) == simdjson::SUCCESS && revoked;
}

std::string_view ExpectedWhat(IndicatorType family) {
  switch (family) {
    case IndicatorType::kIpv4:
      return "IPv4 address or CIDR";
    case IndicatorType::kIpv6:
      return "IPv6 address or CIDR";
    case IndicatorType::kDomain:
      return "domain";
    case IndicatorType::kUrl:
      return "URL";
    case IndicatorType::kMd5:
      return "MD5 hash";
    case IndicatorType::kSha1:
      return "SHA-1 hash";
    case IndicatorType::kSha256:
      return "SHA-256 hash";
    default:
      return "value";
  }
}

// The indicator a comparison's value names, or nullopt when the value is not valid for the
// family its path asks for.
std::optional<Indicator> ValueToIndicator(const StixComparison& c) {
  std::string_view v = c.value;
  Result<Indicator> parsed = Status::InvalidArgument("");
  switch (c.type) {
    case IndicatorType::kIpv4:
      if (v.find(':') != std::string_view::npos) return std::nullopt;
      parsed = ParseIndicatorAs(IndicatorType::kCidr4, v);
      break;
    case IndicatorType::kIpv6:
      if (v.find(':') == std::string_view::npos) return std::nullopt;
      parsed = ParseIndicatorAs(IndicatorType::kCidr6, v);
      break;
    default:
      parsed = ParseIndicatorAs(c.type, v);
      break;
  }
  if (!parsed.ok()) return std::nullopt;
  return std::move(parsed).value();
}

class BundleParser {
 public:
  FeedParseResult Run(std::string_view content) {
    content = StripBom(content);
    simdjson::dom::element root;
    if (auto err = parser_.parse(content.data(), content.size()).get(root); err) {
      AddError(0, std::string("not valid JSON: ") + simdjson::error_message(err));
      return std::move(result_);
    }
    if (!CollectObjects(root)) return std::move(result_);
    result_.lines = objects_.size();
    IndexObjects();
    for (size_t i = 0; i < objects_.size(); ++i) {
      simdjson::dom::object obj;
      if (objects_[i].get(obj) != simdjson::SUCCESS) {
        AddError(static_cast<uint32_t>(i + 1),
                 "objects[" + std::to_string(i) + "] is not a JSON object");
        continue;
      }
      std::string_view type;
      if (GetString(obj, "type", &type) && type == "indicator") {
        ReadIndicator(obj, static_cast<uint32_t>(i + 1));
      }
    }
    return std::move(result_);
  }

 private:
  void AddError(uint32_t line, std::string message) {
    result_.errors.push_back(FeedError{line, EscapeControl(message)});
  }

  bool CollectObjects(simdjson::dom::element root) {
    simdjson::dom::array array;
    simdjson::dom::object object;
    if (root.get(array) == simdjson::SUCCESS) {
      for (simdjson::dom::element e : array) objects_.push_back(e);
      return true;
    }
    if (root.get(object) != simdjson::SUCCESS) {
      AddError(0, "not a STIX bundle: the document is neither a JSON object nor an array");
      return false;
    }
    std::string_view type;
    if (!GetString(object, "type", &type)) {
      AddError(0, "not a STIX bundle: the top-level object has no \"type\"");
      return false;
    }
    if (type != "bundle") {
      objects_.push_back(root);
      return true;
    }
    if (object["objects"].get(array) != simdjson::SUCCESS) {
      // A bundle may legally have no objects; anything else under the key is malformed.
      simdjson::dom::element objects;
      if (object["objects"].get(objects) == simdjson::SUCCESS) {
        AddError(0, "bundle \"objects\" is not an array");
        return false;
      }
      return true;
    }
    for (simdjson::dom::element e : array) objects_.push_back(e);
    return true;
  }

  // Records the names of relationship targets and the "indicates" relationships.
  void IndexObjects() {
    for (simdjson::dom::element e : objects_) {
      simdjson::dom::object obj;
      if (e.get(obj) != simdjson::SUCCESS) continue;
      std::string_view type, id;
      if (!GetString(obj, "type", &type) || !GetString(obj, "id", &id)) continue;
      if (type == "relationship") {
        std::string_view rel, source, target;
        if (IsRevoked(obj) || !GetString(obj, "relationship_type", &rel) || rel != "indicates" ||
            !GetString(obj, "source_ref", &source) || !GetString(obj, "target_ref", &target)) {
          continue;
        }
        indicates_[source].push_back(target);
        continue;
      }
      for (size_t k = 0; k < kNumTargetKinds; ++k) {
        std::string_view name;
        if (type == kTargetKinds[k].stix_type && GetString(obj, "name", &name)) {
          named_.emplace(id, NamedObject{k, name});  // the first object with an id wins
        }
      }
    }
  }

  void ReadIndicator(simdjson::dom::object obj, uint32_t line) {
    std::string_view id_view;
    std::string who = GetString(obj, "id", &id_view)
                          ? std::string(id_view)
                          : "objects[" + std::to_string(line - 1) + "] (indicator without id)";
    if (IsRevoked(obj)) {
      ++result_.skipped["revoked"];
      return;
    }
    std::string_view pattern_type;
    if (GetString(obj, "pattern_type", &pattern_type) && pattern_type != "stix") {
      ++result_.unsupported["stix pattern_type " + ReasonText(pattern_type)];
      return;
    }
    std::string_view pattern_text;
    if (!GetString(obj, "pattern", &pattern_text)) {
      AddError(line, who + ": no \"pattern\" string");
      return;
    }
    Result<StixPattern> pattern = ParseStixPattern(pattern_text);
    if (!pattern.ok()) {
      AddError(line, who + ": pattern syntax error " + pattern.status().message() + " in " +
                         Quote(pattern_text));
      return;
    }
    if (!pattern->unsupported.empty()) {
      ++result_.unsupported[pattern->unsupported];
      return;
    }

    int64_t valid_until = 0, modified = 0;
    if (!ReadTimestamp(obj, "valid_until", who, line, &valid_until) ||
        !ReadTimestamp(obj, "modified", who, line, &modified)) {
      return;
    }
    std::vector<Indicator> indicators;
    for (const StixComparison& c : pattern->comparisons) {
      std::optional<Indicator> indicator = ValueToIndicator(c);
      if (!indicator) {
        AddError(line, who + ": " + c.path + " " + Quote(c.value) + " is not a valid " +
                           std::string(ExpectedWhat(c.type)));
        return;
      }
      indicators.push_back(std::move(*indicator));
    }
    std::vector<store::ContextField> context = BuildContext(obj, id_view);
    for (size_t i = 0; i < indicators.size(); ++i) {
      if (!seen_.insert(indicators[i].Encoded()).second) continue;
      ParsedIndicator parsed;
      parsed.indicator = std::move(indicators[i]);
      parsed.value = pattern->comparisons[i].value;
      parsed.line = line;
      parsed.context = context;
      parsed.valid_until_unix_ms = valid_until;
      parsed.last_seen_unix_ms = modified;
      result_.indicators.push_back(std::move(parsed));
    }
  }

  // Absent is fine (0); present but not an RFC 3339 string is an error for the indicator.
  bool ReadTimestamp(simdjson::dom::object obj, std::string_view key, const std::string& who,
                     uint32_t line, int64_t* out) {
    simdjson::dom::element e;
    if (obj[key].get(e) != simdjson::SUCCESS || e.is_null()) return true;
    std::string_view text;
    std::optional<int64_t> ms;
    if (e.get(text) == simdjson::SUCCESS) ms = ParseRfc3339UnixMs(text);
    if (!ms) {
      AddError(line, who + ": \"" + std::string(key) +
                         "\" is not an RFC 3339 timestamp: " + Quote(simdjson::to_string(e)));
      return false;
    }
    *out = *ms;
    return true;
  }

  std::vector<store::ContextField> BuildContext(simdjson::dom::object obj,
                                                std::string_view id) const {
    std::vector<store::ContextField> context;
    auto add = [&context](std::string_view key, std::string_view value) {
      if (!value.empty()) context.push_back(MakeField(key, value));
    };
    auto add_string = [&](std::string_view key) {
      std::string_view value;
      if (GetString(obj, key, &value)) add(key, value);
    };
    auto add_string_list = [&](std::string_view key) {
      simdjson::dom::array array;
      if (obj[key].get(array) != simdjson::SUCCESS) return;
      std::vector<std::string> items;
      for (simdjson::dom::element e : array) {
        std::string_view s;
        if (e.get(s) == simdjson::SUCCESS && !s.empty()) items.emplace_back(s);
      }
      add(key, Join(items));
    };

    add_string("name");
    std::string_view description;
    if (GetString(obj, "description", &description)) {
      add("description", TruncateUtf8(description, kMaxDescription));
    }
    add_string_list("indicator_types");
    add_string_list("labels");
    simdjson::dom::array phases;
    if (obj["kill_chain_phases"].get(phases) == simdjson::SUCCESS) {
      std::vector<std::string> items;
      for (simdjson::dom::element e : phases) {
        simdjson::dom::object phase;
        std::string_view chain, name;
        if (e.get(phase) == simdjson::SUCCESS && GetString(phase, "kill_chain_name", &chain) &&
            GetString(phase, "phase_name", &name)) {
          items.push_back(std::string(chain) + ":" + std::string(name));
        }
      }
      add("kill_chain_phases", Join(items));
    }
    simdjson::dom::element confidence;
    if (obj["confidence"].get(confidence) == simdjson::SUCCESS) {
      int64_t n = 0;
      if (confidence.get(n) == simdjson::SUCCESS) add("confidence", std::to_string(n));
    }
    add_string("created");
    add_string("modified");
    add_string("valid_from");
    add_string("valid_until");
    add("stix_id", id);

    std::array<std::vector<std::string>, kNumTargetKinds> names;
    if (auto rels = indicates_.find(id); !id.empty() && rels != indicates_.end()) {
      for (std::string_view target : rels->second) {
        auto named = named_.find(target);
        if (named == named_.end()) continue;
        AppendUnique(&names[named->second.kind], named->second.name);
      }
    }
    for (size_t k = 0; k < kNumTargetKinds; ++k) add(kTargetKinds[k].context_key, Join(names[k]));
    return context;
  }

  simdjson::dom::parser parser_;
  FeedParseResult result_;
  std::vector<simdjson::dom::element> objects_;
  std::unordered_map<std::string_view, NamedObject> named_;
  std::unordered_map<std::string_view, std::vector<std::string_view>> indicates_;
  std::unordered_set<std::string> seen_;
};

// Days since 1970-01-01 of a proleptic Gregorian date (the era-based civil calendar
// arithmetic: 400-year eras of 146097 days, years starting in March).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool ReadDigits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!IsDigit(s[pos + i])) return false;
    v = v * 10 + (s[pos + i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

Result<StixPattern> ParseStixPattern(std::string_view pattern) {
  return PatternParser(pattern).Run();
}

std::optional<int64_t> ParseRfc3339UnixMs(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (!ReadDigits(s, 0, 4, &year) || s.size() < 19 || s[4] != '-' || !ReadDigits(s, 5, 2, &month) ||
      s[7] != '-' || !ReadDigits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !ReadDigits(s, 11, 2, &hour) || s[13] != ':' || !ReadDigits(s, 14, 2, &minute) ||
      s[16] != ':' || !ReadDigits(s, 17, 2, &second)) {
    return std::nullopt;
  }
  static constexpr int kDaysInMonth[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month < 1 || month > 12 || day < 1 || day > kDaysInMonth[month - 1] ||
      (month == 2 && day == 29 && !leap) || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  size_t p = 19;
  int millis = 0;
  if (p < s.size() && s[p] == '.') {
    size_t start = ++p;
    while (p < s.size() && IsDigit(s[p])) {
      if (p - start < 3) millis = millis * 10 + (s[p] - '0');
      ++p;
    }
    if (p == start) return std::nullopt;
    for (size_t n = p - start; n < 3; ++n) millis *= 10;
  }
  if (p >= s.size()) return std::nullopt;  // RFC 3339 requires a zone
  int offset_minutes = 0;
  if (s[p] == 'Z' || s[p] == 'z') {
    ++p;
  } else if (s[p] == '+' || s[p] == '-') {
    int sign = s[p] == '-' ? -1 : 1;
    int oh, om;
    if (!ReadDigits(s, p + 1, 2, &oh)) return std::nullopt;
    p += 3;
    if (p < s.size() && s[p] == ':') ++p;
    if (!ReadDigits(s, p, 2, &om) || oh > 23 || om > 59) return std::nullopt;
    p += 2;
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (p != s.size()) return std::nullopt;
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return secs * 1000 + millis;
}

FeedParseResult ParseStix2Bundle(std::string_view content) { return BundleParser().Run(content); }

}  // namespace iocd
