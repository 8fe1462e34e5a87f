#include "feeds/misp.h"

#include <simdjson.h>

#include <charconv>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>

#include "feeds/parse_util.h"
#include "feeds/stix2.h"  // ParseRfc3339UnixMs
#include "indicator/indicator.h"

namespace iocd {
namespace {

bool IsAllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// MISP writes flags as JSON booleans; older exports use 0/1 or "0"/"1"/"true"/"false".
// Returns `absent` when the key is missing or null, or holds something else.
bool ReadFlag(simdjson::dom::object obj, std::string_view key, bool absent) {
  simdjson::dom::element e;
  if (obj[key].get(e) != simdjson::SUCCESS) return absent;
  bool b;
  if (e.get(b) == simdjson::SUCCESS) return b;
  int64_t n;
  if (e.get(n) == simdjson::SUCCESS) return n != 0;
  std::string_view s;
  if (e.get(s) == simdjson::SUCCESS) {
    std::string lower = ToLowerAscii(Trim(s, kJsonWhitespace));
    if (lower == "1" || lower == "true") return true;
    if (lower == "0" || lower == "false") return false;
  }
  return absent;
}

// A string or integer field as text ("threat_level_id": "3" or 3).
std::optional<std::string> ReadScalarText(simdjson::dom::object obj, std::string_view key) {
  simdjson::dom::element e;
  if (obj[key].get(e) != simdjson::SUCCESS) return std::nullopt;
  std::string_view s;
  if (e.get(s) == simdjson::SUCCESS) return std::string(Trim(s, kJsonWhitespace));
  int64_t n;
  if (e.get(n) == simdjson::SUCCESS) return std::to_string(n);
  return std::nullopt;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string ThreatLevelName(const std::string& id) {
  if (id == "1") return "High";
  if (id == "2") return "Medium";
  if (id == "3") return "Low";
  if (id == "4") return "Undefined";
  return id;
}

// Tags of an event or attribute: {"Tag": [{"name": "tlp:white", ...}, ...]}.
std::vector<std::string_view> ReadTags(simdjson::dom::object obj) {
  std::vector<std::string_view> tags;
  simdjson::dom::array array;
  if (obj["Tag"].get(array) != simdjson::SUCCESS) return tags;
  for (simdjson::dom::element e : array) {
    simdjson::dom::object tag;
    std::string_view name;
    if (e.get(tag) == simdjson::SUCCESS && GetString(tag, "name", &name)) {
      name = Trim(name, kJsonWhitespace);
      if (!name.empty()) tags.push_back(name);
    }
  }
  return tags;
}

// "tlp:amber" -> "amber"; nullopt for a tag that is not a TLP level.
std::optional<std::string> TlpLevel(std::string_view tag) {
  std::string lower = ToLowerAscii(tag);
  if (lower.rfind("tlp:", 0) != 0) return std::nullopt;
  std::string level = lower.substr(4);
  for (std::string_view known : {"white", "green", "amber", "amber+strict", "red", "clear"}) {
    if (level == known) return level;
  }
  return std::nullopt;
}

// misp-galaxy:mitre-attack-pattern="Spearphishing Link - T1192" -> the quoted value.
std::optional<std::string_view> MitreValue(std::string_view tag) {
  constexpr std::string_view kPrefix = "misp-galaxy:mitre-";
  if (tag.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  size_t eq = tag.find("=\"");
  if (eq == std::string_view::npos || tag.size() < eq + 3 || tag.back() != '"') {
    return std::nullopt;
  }
  std::string_view value = tag.substr(eq + 2, tag.size() - eq - 3);
  if (value.empty()) return std::nullopt;
  return value;
}

// What the event contributes to every attribute's context.
struct EventContext {
  std::string info, uuid, threat_level, date;
  std::vector<std::string_view> tags;
};

struct Extracted {
  std::vector<std::pair<Indicator, std::string>> indicators;  // indicator, value as written
  std::string filename;
};

class EventParser {
 public:
  explicit EventParser(const MispOptions& options) : options_(options) {}

  FeedParseResult Run(std::string_view content) {
    content = StripBom(content);
    simdjson::dom::element root;
    if (auto err = parser_.parse(content.data(), content.size()).get(root); err) {
      AddError(0, std::string("not valid JSON: ") + simdjson::error_message(err));
      return std::move(result_);
    }
    simdjson::dom::object event;
    if (root.get(event) != simdjson::SUCCESS) {
      AddError(0, "not a MISP event: the document is not a JSON object");
      return std::move(result_);
    }
    simdjson::dom::element wrapped;
    if (event["Event"].get(wrapped) == simdjson::SUCCESS &&
        wrapped.get(event) != simdjson::SUCCESS) {
      AddError(0, "not a MISP event: \"Event\" is not a JSON object");
      return std::move(result_);
    }
    ReadEventContext(event);

    uint32_t line = 0;
    simdjson::dom::array attributes;
    if (event["Attribute"].get(attributes) == simdjson::SUCCESS) {
      size_t i = 0;
      for (simdjson::dom::element e : attributes) {
        ReadAttribute(e, "Event.Attribute[" + std::to_string(i++) + "]", ++line, nullptr, false);
      }
    }
    simdjson::dom::array objects;
    if (event["Object"].get(objects) == simdjson::SUCCESS) {
      size_t o = 0;
      for (simdjson::dom::element oe : objects) {
        std::string object_path = "Event.Object[" + std::to_string(o++) + "]";
        simdjson::dom::object object;
        if (oe.get(object) != simdjson::SUCCESS) continue;  // has no attributes to count
        std::string_view object_name;
        if (!GetString(object, "name", &object_name)) object_name = "";
        bool object_deleted = ReadFlag(object, "deleted", false);
        if (object["Attribute"].get(attributes) != simdjson::SUCCESS) continue;
        size_t i = 0;
        for (simdjson::dom::element e : attributes) {
          ReadAttribute(e, object_path + ".Attribute[" + std::to_string(i++) + "]", ++line,
                        &object_name, object_deleted);
        }
      }
    }
    result_.lines = line;
    return std::move(result_);
  }

 private:
  void AddError(uint32_t line, std::string message) {
    result_.errors.push_back(FeedError{line, EscapeControl(message)});
  }

  void ReadEventContext(simdjson::dom::object event) {
    std::string_view s;
    if (GetString(event, "info", &s)) event_.info = std::string(s);
    if (GetString(event, "uuid", &s)) event_.uuid = std::string(s);
    if (GetString(event, "date", &s)) event_.date = std::string(s);
    if (auto level = ReadScalarText(event, "threat_level_id")) {
      event_.threat_level = ThreatLevelName(*level);
    }
    event_.tags = ReadTags(event);
  }

  void ReadAttribute(simdjson::dom::element element, const std::string& path, uint32_t line,
                     const std::string_view* object_name, bool object_deleted) {
    simdjson::dom::object attr;
    if (element.get(attr) != simdjson::SUCCESS) {
      AddError(line, path + " is not a JSON object");
      return;
    }
    std::string_view uuid;
    GetString(attr, "uuid", &uuid);
    std::string where = path + (uuid.empty() ? "" : " (uuid " + std::string(uuid) + ")");

    if (object_deleted || ReadFlag(attr, "deleted", false)) {
      ++result_.skipped["deleted"];
      return;
    }
    if (!options_.include_non_ids && !ReadFlag(attr, "to_ids", true)) {
      ++result_.skipped["to_ids=false"];
      return;
    }
    std::string_view type_view, value_view;
    if (!GetString(attr, "type", &type_view)) {
      AddError(line, where + ": no \"type\" string");
      return;
    }
    std::string type = ToLowerAscii(Trim(type_view, kJsonWhitespace));
    if (type == "link") {
      ++result_.skipped["misp type link"];
      return;
    }
    if (!IsSupportedType(type)) {
      ++result_.unsupported["misp type " + EscapeControl(TruncateUtf8(type, 64))];
      return;
    }
    if (!GetString(attr, "value", &value_view)) {
      AddError(line, where + ": no \"value\" string");
      return;
    }
    Extracted extracted;
    std::string problem = Extract(type, Trim(value_view, kJsonWhitespace), &extracted);
    if (!problem.empty()) {
      AddError(line, where + ": " + type + " value " + Quote(Trim(value_view, kJsonWhitespace)) +
                         " " + problem);
      return;
    }

    std::vector<store::ContextField> context = BuildContext(attr, object_name, extracted);
    int64_t last_seen = LastSeen(attr);
    for (auto& [indicator, value] : extracted.indicators) {
      if (!seen_.insert(indicator.Encoded()).second) continue;
      ParsedIndicator parsed;
      parsed.indicator = std::move(indicator);
      parsed.value = std::move(value);
      parsed.line = line;
      parsed.context = context;
      parsed.last_seen_unix_ms = last_seen;
      result_.indicators.push_back(std::move(parsed));
    }
  }

  static bool IsSupportedType(const std::string& type) {
    static constexpr std::string_view kTypes[] = {
        "ip-src",        "ip-dst",         "ip-src|port", "ip-dst|port",
        "domain",        "hostname",       "domain|ip",   "url",
        "md5",           "sha1",           "sha256",      "filename|md5",
        "filename|sha1", "filename|sha256"};
    for (std::string_view t : kTypes) {
      if (type == t) return true;
    }
    return false;
  }

  // Fills `out` with the indicators of a supported type's value; returns what is wrong
  // with the value ("is not a valid domain"), empty when it parsed.
  static std::string Extract(const std::string& type, std::string_view value, Extracted* out) {
    auto add = [out](IndicatorType as, std::string_view text) {
      text = Trim(text, kJsonWhitespace);
      Result<Indicator> indicator = ParseIndicatorAs(as, text);
      if (!indicator.ok()) return false;
      out->indicators.emplace_back(std::move(indicator).value(), std::string(text));
      return true;
    };
    if (type == "ip-src" || type == "ip-dst") {
      return add(IndicatorType::kCidr4, value) ? "" : "is not a valid IP address or CIDR";
    }
    if (type == "domain" || type == "hostname") {
      return add(IndicatorType::kDomain, value) ? "" : "is not a valid domain";
    }
    if (type == "url") return add(IndicatorType::kUrl, value) ? "" : "is not a valid URL";
    if (type == "md5") return add(IndicatorType::kMd5, value) ? "" : "is not a valid MD5 hash";
    if (type == "sha1") return add(IndicatorType::kSha1, value) ? "" : "is not a valid SHA-1 hash";
    if (type == "sha256") {
      return add(IndicatorType::kSha256, value) ? "" : "is not a valid SHA-256 hash";
    }

    // Composite types: "left|right".
    size_t bar = type.rfind("filename|", 0) == 0 ? value.rfind('|') : value.find('|');
    if (bar == std::string_view::npos) return "has no '|' between its two parts";
    std::string_view left = Trim(value.substr(0, bar), kJsonWhitespace),
                     right = Trim(value.substr(bar + 1), kJsonWhitespace);
    if (type == "ip-src|port" || type == "ip-dst|port") {
      uint32_t port = 0;
      auto [ptr, ec] = std::from_chars(right.data(), right.data() + right.size(), port);
      if (!IsAllDigits(right) || ec != std::errc() || ptr != right.data() + right.size() ||
          port > 65535) {
        return "does not end in a port number 0-65535";
      }
      return add(IndicatorType::kCidr4, left) ? "" : "does not start with a valid IP address";
    }
    if (type == "domain|ip") {
      if (right.find('|') != std::string_view::npos) return "has more than two parts";
      if (!add(IndicatorType::kDomain, left)) return "does not start with a valid domain";
      if (!add(IndicatorType::kCidr4, right)) return "does not end in a valid IP address";
      return "";
    }
    // filename|md5 / filename|sha1 / filename|sha256: split at the last '|'.
    std::string_view hash_type = std::string_view(type).substr(9);
    IndicatorType as = hash_type == "md5"    ? IndicatorType::kMd5
                       : hash_type == "sha1" ? IndicatorType::kSha1
                                             : IndicatorType::kSha256;
    if (!add(as, right)) return "does not end in a valid " + std::string(hash_type) + " hash";
    out->filename = std::string(left);
    return "";
  }

  std::vector<store::ContextField> BuildContext(simdjson::dom::object attr,
                                                const std::string_view* object_name,
                                                const Extracted& extracted) const {
    std::vector<store::ContextField> context;
    auto add = [&context](std::string_view key, std::string_view value) {
      if (!value.empty()) context.push_back(MakeField(key, value));
    };
    add("event", event_.info);
    add("event_uuid", event_.uuid);
    add("threat_level", event_.threat_level);
    add("date", event_.date);
    std::string_view s;
    if (GetString(attr, "category", &s)) add("category", Trim(s, kJsonWhitespace));
    if (GetString(attr, "comment", &s)) add("comment", Trim(s, kJsonWhitespace));
    if (GetString(attr, "uuid", &s)) add("attribute_uuid", s);
    if (object_name != nullptr) add("object", *object_name);
    add("filename", extracted.filename);

    std::vector<std::string_view> attr_tags = ReadTags(attr);
    std::vector<std::string> tags, mitre;
    std::string tlp;
    const std::vector<std::string_view>* lists[] = {&event_.tags, &attr_tags};
    for (const std::vector<std::string_view>* list : lists) {
      for (std::string_view tag : *list) {
        AppendUnique(&tags, tag);
        if (auto level = TlpLevel(tag)) tlp = *level;  // later (attribute) tags win
        if (auto technique = MitreValue(tag)) AppendUnique(&mitre, *technique);
      }
    }
    add("tags", Join(tags));
    add("tlp", tlp);
    add("mitre_attack", Join(mitre));
    return context;
  }

  static int64_t LastSeen(simdjson::dom::object attr) {
    std::string_view text;
    if (GetString(attr, "last_seen", &text)) {
      if (auto ms = ParseRfc3339UnixMs(Trim(text, kJsonWhitespace))) return *ms;
    }
    std::optional<std::string> ts = ReadScalarText(attr, "timestamp");
    int64_t seconds = 0;
    if (ts && IsAllDigits(*ts) && ts->size() <= 12) {
      std::from_chars(ts->data(), ts->data() + ts->size(), seconds);
      return seconds * 1000;
    }
    return 0;
  }

  const MispOptions& options_;
  simdjson::dom::parser parser_;
  FeedParseResult result_;
  EventContext event_;
  std::unordered_set<std::string> seen_;
};

}  // namespace

FeedParseResult ParseMispEvent(std::string_view content, const MispOptions& options) {
  return EventParser(options).Run(content);
}

Result<std::vector<std::string>> ParseMispManifest(std::string_view content) {
  content = StripBom(content);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(content.data(), content.size()).get(root); err) {
    return Status::InvalidArgument(std::string("MISP manifest is not valid JSON: ") +
                                   simdjson::error_message(err));
  }
  simdjson::dom::object manifest;
  if (root.get(manifest) != simdjson::SUCCESS) {
    return Status::InvalidArgument("MISP manifest is not a JSON object keyed by event uuid");
  }
  std::vector<std::string> uuids;
  std::unordered_set<std::string_view> seen;
  size_t index = 0;
  for (auto field : manifest) {
    ++index;
    if (!IsUuid(field.key)) {
      return Status::InvalidArgument("MISP manifest key " + std::to_string(index) + " " +
                                     EscapeControl(Quote(field.key)) +
                                     " is not an event uuid (8-4-4-4-12 hex digits)");
    }
    if (seen.insert(field.key).second) uuids.emplace_back(field.key);
  }
  return uuids;
}

}  // namespace iocd
