#include "feeds/warninglist.h"

#include <simdjson.h>

#include <algorithm>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>

#include "feeds/parse_util.h"

namespace iocd {
namespace {

constexpr std::string_view kNotAnIndicator = "not an indicator";

enum class ListType { kString, kHostname, kCidr, kSubstring, kRegex };

std::optional<ListType> ListTypeOf(std::string_view name) {
  std::string lower = ToLowerAscii(name);
  if (lower == "string") return ListType::kString;
  if (lower == "hostname") return ListType::kHostname;
  if (lower == "cidr") return ListType::kCidr;
  if (lower == "substring") return ListType::kSubstring;
  if (lower == "regex") return ListType::kRegex;
  return std::nullopt;
}

// One list entry as an indicator, with its subdomains flag; nullopt when iocd cannot
// read it.
std::optional<std::pair<Indicator, bool>> ReadEntry(ListType type, std::string_view value) {
  switch (type) {
    case ListType::kCidr: {
      Result<Indicator> r = ParseIndicatorAs(IndicatorType::kCidr4, value);
      if (!r.ok()) return std::nullopt;
      return std::make_pair(std::move(r).value(), true);
    }
    case ListType::kString: {
      if (value.find('/') != std::string_view::npos) {
        Result<Indicator> cidr = ParseIndicatorAs(IndicatorType::kCidr4, value);
        if (cidr.ok()) return std::make_pair(std::move(cidr).value(), true);
      }
      Result<Indicator> r = ParseIndicator(value);
      if (!r.ok()) return std::nullopt;
      // An exact value: "google.com" in a string list does not cover mail.google.com.
      bool subdomains = r->type != IndicatorType::kDomain;
      return std::make_pair(std::move(r).value(), subdomains);
    }
    case ListType::kHostname: {
      if (value.substr(0, 2) == "*.") {
        value.remove_prefix(2);
      } else if (value.substr(0, 1) == ".") {
        value.remove_prefix(1);
      }
      Result<Indicator> r = ParseIndicator(value);
      if (!r.ok()) return std::nullopt;
      return std::make_pair(std::move(r).value(), true);
    }
    case ListType::kSubstring:
    case ListType::kRegex:
      break;
  }
  return std::nullopt;
}

}  // namespace

Result<Warninglist> ParseWarninglist(std::string_view content) {
  content = StripBom(content);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(content.data(), content.size(), true).get(doc); err) {
    return Status::InvalidArgument(std::string("not a warninglist: invalid JSON: ") +
                                   simdjson::error_message(err));
  }
  simdjson::dom::object root;
  if (doc.get(root) != simdjson::SUCCESS) {
    return Status::InvalidArgument("not a warninglist: the document is " +
                                   std::string(TypeNameOf(doc.type())) + ", not an object");
  }
  simdjson::dom::array list;
  if (root["list"].get(list) != simdjson::SUCCESS) {
    return Status::InvalidArgument("not a warninglist: no \"list\" array");
  }
  std::string_view type_name;
  if (root["type"].get(type_name) != simdjson::SUCCESS) {
    return Status::InvalidArgument("not a warninglist: no \"type\" string");
  }
  std::optional<ListType> type = ListTypeOf(type_name);
  if (!type) {
    std::string shown(type_name.substr(0, 40));
    for (char& c : shown) {
      if (static_cast<unsigned char>(c) < 0x20) c = '?';
    }
    return Status::InvalidArgument("not a warninglist: unknown type '" + shown +
                                   "' (expected string, hostname, cidr, substring or regex)");
  }

  Warninglist out;
  out.type = ToLowerAscii(type_name);
  std::string_view text;
  if (root["name"].get(text) == simdjson::SUCCESS) out.name = std::string(text);
  if (root["description"].get(text) == simdjson::SUCCESS) out.description = std::string(text);
  int64_t version = 0;
  if (root["version"].get(version) == simdjson::SUCCESS) out.version = version;

  FeedParseResult& entries = out.entries;
  entries.lines = CountLines(content);
  std::unordered_set<std::string> seen;             // encoded indicators
  std::unordered_set<std::string> seen_substrings;  // lower-cased patterns
  uint32_t index = 0;
  for (simdjson::dom::element item : list) {
    ++index;
    std::string_view raw;
    if (item.get(raw) != simdjson::SUCCESS) {
      entries.errors.push_back(FeedError{index, "list[" + std::to_string(index - 1) +
                                                    "]: " + std::string(TypeNameOf(item.type())) +
                                                    ", expected a string"});
      continue;
    }
    std::string_view value = Trim(raw, kJsonWhitespace);
    if (*type == ListType::kRegex) {
      ++entries.unsupported["warninglist type regex"];
      continue;
    }
    if (value.empty()) {
      ++entries.unsupported[std::string(kNotAnIndicator)];
      continue;
    }
    if (*type == ListType::kSubstring) {
      std::string pattern = ToLowerAscii(value);
      if (seen_substrings.insert(pattern).second) out.substrings.push_back(std::move(pattern));
      continue;
    }
    std::optional<std::pair<Indicator, bool>> read = ReadEntry(*type, value);
    if (!read) {
      ++entries.unsupported[std::string(kNotAnIndicator)];
      continue;
    }
    if (!seen.insert(read->first.Encoded()).second) continue;
    ParsedIndicator parsed;
    parsed.indicator = std::move(read->first);
    parsed.subdomains = read->second;
    parsed.value = std::string(value);
    parsed.line = index;
    entries.indicators.push_back(std::move(parsed));
  }
  return out;
}

}  // namespace iocd
