#include "feeds/kaspersky_json.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "feeds/parse_util.h"

namespace iocd {
namespace {

namespace dom = simdjson::dom;

constexpr std::string_view kNoIndicator =
    ": no indicator field (mask, url, domain, ip, md5, sha1, sha256)";

// A scalar as context text; nullopt for null, containers and "".
std::optional<std::string> ScalarText(dom::element e) {
  switch (e.type()) {
    case dom::element_type::STRING: {
      std::string_view s;
      if (e.get(s) != simdjson::SUCCESS || s.empty()) return std::nullopt;
      return std::string(s);
    }
    case dom::element_type::INT64: {
      int64_t v = 0;
      if (e.get(v) != simdjson::SUCCESS) return std::nullopt;
      return std::to_string(v);
    }
    case dom::element_type::UINT64: {
      uint64_t v = 0;
      if (e.get(v) != simdjson::SUCCESS) return std::nullopt;
      return std::to_string(v);
    }
    case dom::element_type::DOUBLE: {
      double v = 0;
      if (e.get(v) != simdjson::SUCCESS) return std::nullopt;
      std::array<char, 64> buf;
      auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
      if (ec != std::errc()) return std::nullopt;
      return std::string(buf.data(), end);
    }
    case dom::element_type::BOOL: {
      bool v = false;
      if (e.get(v) != simdjson::SUCCESS) return std::nullopt;
      return v ? "true" : "false";
    }
    default:
      return std::nullopt;
  }
}

// Flattens JSON values into ordered context fields: objects extend the key with
// ".child", arrays add each element under the same key, and a key's values are joined
// with ", ".
class ContextCollector {
 public:
  void Collect(const std::string& key, dom::element e) {
    switch (e.type()) {
      case dom::element_type::OBJECT: {
        dom::object obj;
        if (e.get(obj) != simdjson::SUCCESS) return;
        for (dom::key_value_pair kv : obj) Collect(key + "." + std::string(kv.key), kv.value);
        return;
      }
      case dom::element_type::ARRAY: {
        dom::array arr;
        if (e.get(arr) != simdjson::SUCCESS) return;
        for (dom::element item : arr) Collect(key, item);
        return;
      }
      default:
        if (std::optional<std::string> text = ScalarText(e)) Add(key, std::move(*text));
    }
  }

  void AppendTo(std::vector<store::ContextField>* out) const {
    for (const auto& [key, values] : fields_) {
      std::string joined;
      for (const std::string& v : values) {
        if (!joined.empty()) joined += ", ";
        joined += v;
      }
      store::ContextField f;
      f.set_key(key);
      f.set_value(std::move(joined));
      out->push_back(std::move(f));
    }
  }

 private:
  void Add(const std::string& key, std::string value) {
    auto [it, inserted] = index_.emplace(key, fields_.size());
    if (inserted) fields_.emplace_back(key, std::vector<std::string>{});
    fields_[it->second].second.push_back(std::move(value));
  }

  std::vector<std::pair<std::string, std::vector<std::string>>> fields_;
  std::unordered_map<std::string, size_t> index_;
};

enum class KeyKind { kMask, kUrl, kDomain, kIp, kMd5, kSha1, kSha256 };

struct IndicatorKey {
  std::string_view name;
  KeyKind kind;
};

// In order of preference: the first present one is the record's indicator.
constexpr IndicatorKey kIndicatorKeys[] = {
    {"mask", KeyKind::kMask},     {"url", KeyKind::kUrl},   {"domain", KeyKind::kDomain},
    {"ip", KeyKind::kIp},         {"md5", KeyKind::kMd5},   {"MD5", KeyKind::kMd5},
    {"sha1", KeyKind::kSha1},     {"SHA1", KeyKind::kSha1}, {"sha256", KeyKind::kSha256},
    {"SHA256", KeyKind::kSha256},
};

std::optional<IndicatorType> HashTypeOfKey(std::string_view key) {
  if (key == "md5" || key == "MD5") return IndicatorType::kMd5;
  if (key == "sha1" || key == "SHA1") return IndicatorType::kSha1;
  if (key == "sha256" || key == "SHA256") return IndicatorType::kSha256;
  return std::nullopt;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

class RecordReader {
 public:
  explicit RecordReader(FeedParseResult* result) : result_(result) {}

  void AddError(uint32_t line, std::string_view message) {
    result_->errors.push_back(FeedError{line, EscapeControl(message)});
  }

  // One record: `index` is its 0-based position (for the path), `line` its FeedError line.
  void Read(dom::element record, uint32_t index, uint32_t line) {
    const std::string path = "records[" + std::to_string(index) + "]";
    dom::object obj;
    if (record.get(obj) != simdjson::SUCCESS) {
      AddError(line,
               path + ": " + std::string(TypeNameOf(record.type())) + ", expected a record object");
      return;
    }

    const IndicatorKey* chosen = nullptr;
    dom::element value;
    for (const IndicatorKey& key : kIndicatorKeys) {
      if (obj.at_key(key.name).get(value) == simdjson::SUCCESS && !value.is_null()) {
        chosen = &key;
        break;
      }
    }

    ContextCollector record_context;
    dom::array files;
    bool has_files = obj.at_key("files").get(files) == simdjson::SUCCESS;
    for (dom::key_value_pair kv : obj) {
      if (chosen != nullptr && kv.key == chosen->name) continue;
      if (has_files && kv.key == "files") continue;
      record_context.Collect(std::string(kv.key), kv.value);
    }
    std::vector<store::ContextField> context;
    record_context.AppendTo(&context);

    int64_t last_seen_ms = 0;
    std::string_view last_seen;
    if (obj.at_key("last_seen").get(last_seen) == simdjson::SUCCESS) {
      last_seen_ms = ParseKasperskyTime(last_seen).value_or(0);
    }

    bool any_indicator = chosen != nullptr;
    if (chosen != nullptr) {
      ReadMain(*chosen, value, path, line, context, last_seen_ms);
    }
    if (has_files) {
      uint32_t file_index = 0;
      for (dom::element file : files) {
        std::string file_path = path + ".files[" + std::to_string(file_index++) + "]";
        any_indicator |= ReadFile(file, file_path, line, context, last_seen_ms);
      }
    }
    if (!any_indicator) AddError(line, path + std::string(kNoIndicator));
  }

 private:
  void ReadMain(const IndicatorKey& key, dom::element value, const std::string& path, uint32_t line,
                const std::vector<store::ContextField>& context, int64_t last_seen_ms) {
    const std::string where = path + "." + std::string(key.name);
    std::string_view raw;
    if (value.get(raw) != simdjson::SUCCESS) {
      AddError(line, where + ": " + std::string(TypeNameOf(value.type())) + ", expected a string");
      return;
    }
    std::string text(Trim(Refang(raw), kBlankOrNewline));
    if (text.empty()) {
      AddError(line, where + ": empty value");
      return;
    }
    bool subdomains = true;
    Result<Indicator> indicator = Status::Internal("unset");
    switch (key.kind) {
      case KeyKind::kMask:
      case KeyKind::kUrl: {
        size_t star = text.find('*');
        if (star == std::string::npos) {
          indicator = ParseIndicator(text);
          // A mask distinguishes "evil.com" from "*.evil.com": a bare host is that host.
          if (key.kind == KeyKind::kMask) subdomains = false;
        } else if (text.size() > 2 && text.compare(0, 2, "*.") == 0 &&
                   text.find_first_of("*/", 2) == std::string::npos) {
          indicator = ParseIndicatorAs(IndicatorType::kDomain, std::string_view(text).substr(2));
        } else {
          ++result_->unsupported["url mask with wildcard"];
          return;
        }
        break;
      }
      case KeyKind::kDomain:
        indicator = ParseIndicatorAs(IndicatorType::kDomain, text);
        break;
      case KeyKind::kIp:
        indicator = ParseIndicatorAs(IndicatorType::kIpv4, text);  // either family
        break;
      case KeyKind::kMd5:
        indicator = ParseIndicatorAs(IndicatorType::kMd5, text);
        break;
      case KeyKind::kSha1:
        indicator = ParseIndicatorAs(IndicatorType::kSha1, text);
        break;
      case KeyKind::kSha256:
        indicator = ParseIndicatorAs(IndicatorType::kSha256, text);
        break;
    }
    if (!indicator.ok()) {
      AddError(line, where + ": " + indicator.status().message());
      return;
    }
    Add(std::move(indicator).value(), std::move(text), line, context, last_seen_ms, subdomains);
  }

  // The hashes of one files[] object; true when it lists any hash (valid or not).
  bool ReadFile(dom::element file, const std::string& path, uint32_t line,
                const std::vector<store::ContextField>& record_context, int64_t last_seen_ms) {
    dom::object obj;
    if (file.get(obj) != simdjson::SUCCESS) {
      AddError(line, path + ": " + std::string(TypeNameOf(file.type())) + ", expected an object");
      return false;
    }
    bool any = false;
    for (dom::key_value_pair hash : obj) {
      std::optional<IndicatorType> type = HashTypeOfKey(hash.key);
      if (!type || hash.value.is_null()) continue;
      any = true;
      const std::string where = path + "." + std::string(hash.key);
      std::string_view raw;
      if (hash.value.get(raw) != simdjson::SUCCESS) {
        AddError(line,
                 where + ": " + std::string(TypeNameOf(hash.value.type())) + ", expected a string");
        continue;
      }
      std::string text(Trim(raw, kBlankOrNewline));
      Result<Indicator> indicator = ParseIndicatorAs(*type, text);
      if (!indicator.ok()) {
        AddError(line, where + ": " + indicator.status().message());
        continue;
      }
      ContextCollector file_context;
      for (dom::key_value_pair kv : obj) {
        if (kv.key == hash.key) continue;
        file_context.Collect("file." + std::string(kv.key), kv.value);
      }
      std::vector<store::ContextField> context = record_context;
      file_context.AppendTo(&context);
      Add(std::move(indicator).value(), std::move(text), line, context, last_seen_ms, true);
    }
    return any;
  }

  void Add(Indicator indicator, std::string value, uint32_t line,
           const std::vector<store::ContextField>& context, int64_t last_seen_ms, bool subdomains) {
    if (!seen_.insert(indicator.Encoded()).second) return;
    ParsedIndicator parsed;
    parsed.indicator = std::move(indicator);
    parsed.value = std::move(value);
    parsed.line = line;
    parsed.context = context;
    parsed.last_seen_unix_ms = last_seen_ms;
    parsed.subdomains = subdomains;
    result_->indicators.push_back(std::move(parsed));
  }

  FeedParseResult* result_;
  std::unordered_set<std::string> seen_;
};

// The first line with anything but whitespace, or an empty view.
std::string_view FirstNonBlankLine(std::string_view content) {
  LineReader lines(content);
  std::string_view line;
  while (lines.Next(&line)) {
    line = Trim(line, kBlankOrNewline);
    if (!line.empty()) return line;
  }
  return {};
}

// NDJSON: each non-blank line is one record; a broken line is an error of that line.
void ReadLines(std::string_view content, dom::parser* parser, RecordReader* reader) {
  LineReader lines(content);
  std::string_view line;
  uint32_t index = 0;
  while (lines.Next(&line)) {
    const uint32_t line_no = lines.line_number();
    line = Trim(line, kBlankOrNewline);
    if (line.empty()) continue;
    dom::element record;
    if (auto err = parser->parse(line.data(), line.size(), true).get(record); err) {
      reader->AddError(line_no, "records[" + std::to_string(index++) +
                                    "]: invalid JSON: " + simdjson::error_message(err));
      continue;
    }
    reader->Read(record, index++, line_no);
  }
}

}  // namespace

std::optional<int64_t> ParseKasperskyTime(std::string_view text) {
  text = Trim(text, kBlankOrNewline);
  // dd.MM.yyyy HH:mm[:ss]
  if (text.size() != 16 && text.size() != 19) return std::nullopt;
  auto number = [&text](size_t at, size_t len) -> int64_t {
    int64_t v = 0;
    for (size_t i = at; i < at + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return -1;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  if (text[2] != '.' || text[5] != '.' || text[10] != ' ' || text[13] != ':') return std::nullopt;
  int64_t day = number(0, 2), month = number(3, 2), year = number(6, 4);
  int64_t hour = number(11, 2), minute = number(14, 2), second = 0;
  if (text.size() == 19) {
    if (text[16] != ':') return std::nullopt;
    second = number(17, 2);
  }
  if (day < 1 || month < 1 || month > 12 || year < 0 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 59) {
    return std::nullopt;
  }
  static constexpr int kDaysInMonth[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int64_t month_days = kDaysInMonth[month - 1] + (month == 2 && leap ? 1 : 0);
  if (day > month_days) return std::nullopt;
  int64_t days = DaysFromCivil(year, month, day);
  return ((days * 24 + hour) * 60 + minute) * 60000 + second * 1000;
}

FeedParseResult ParseKasperskyJsonFeed(std::string_view content) {
  content = StripBom(content);
  FeedParseResult result;
  result.lines = CountLines(content);
  RecordReader reader(&result);
  dom::parser parser;
  dom::element doc;
  if (auto err = parser.parse(content.data(), content.size(), true).get(doc); err) {
    // Not one JSON value: NDJSON when the first line is an object on its own.
    std::string_view first = FirstNonBlankLine(content);
    dom::element probe;
    if (!first.empty() && first.front() == '{' &&
        parser.parse(first.data(), first.size(), true).get(probe) == simdjson::SUCCESS &&
        probe.is_object()) {
      ReadLines(content, &parser, &reader);
    } else {
      reader.AddError(0, std::string("invalid JSON: ") + simdjson::error_message(err));
    }
    return result;
  }

  dom::array records;
  if (doc.get(records) != simdjson::SUCCESS) {
    dom::object obj;
    if (doc.get(obj) != simdjson::SUCCESS) {
      reader.AddError(0, "invalid JSON: the top level is " + std::string(TypeNameOf(doc.type())) +
                             ", expected an array of records, {\"records\": [...]} or one "
                             "record object per line");
      return result;
    }
    if (obj.at_key("records").get(records) != simdjson::SUCCESS) {
      reader.Read(doc, 0, 1);  // a single record
      return result;
    }
  }
  uint32_t index = 0;
  for (dom::element record : records) {
    reader.Read(record, index, index + 1);
    ++index;
  }
  return result;
}

}  // namespace iocd
