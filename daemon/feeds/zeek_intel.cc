#include "feeds/zeek_intel.h"

#include <algorithm>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "feeds/parse_util.h"

namespace iocd {
namespace {

constexpr std::string_view kIntelPrefix = "Intel::";
constexpr std::string_view kMetaPrefix = "meta.";

std::vector<std::string_view> Split(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t p = line.find(sep, start);
    if (p == std::string_view::npos) {
      out.push_back(line.substr(start));
      return out;
    }
    out.push_back(line.substr(start, p - start));
    start = p + 1;
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "\x09" -> '\t'; a single literal character stands for itself.
std::optional<char> ParseSeparator(std::string_view spec) {
  if (spec.size() == 4 && spec[0] == '\\' && (spec[1] == 'x' || spec[1] == 'X')) {
    int hi = HexValue(spec[2]);
    int lo = HexValue(spec[3]);
    if (hi < 0 || lo < 0) return std::nullopt;
    char c = static_cast<char>(hi * 16 + lo);
    if (c == '\n' || c == '\r' || c == '\0') return std::nullopt;
    return c;
  }
  if (spec.size() == 1 && spec[0] != '\n' && spec[0] != '\r') return spec[0];
  return std::nullopt;
}

// The value of a "#name<ws>value" directive line, or nullopt for another line.
std::optional<std::string_view> Directive(std::string_view line, std::string_view name) {
  if (line.substr(0, name.size()) != name) return std::nullopt;
  std::string_view rest = line.substr(name.size());
  if (rest.empty() || (rest.front() != ' ' && rest.front() != '\t')) return std::nullopt;
  rest.remove_prefix(1);
  return rest;
}

// The columns rows are read with: from the last #fields line, or the default.
struct Columns {
  uint32_t header_line = 0;  // 0: the default columns
  size_t count = 0;          // cells a row needs
  std::optional<size_t> indicator;
  std::optional<size_t> type;
  std::vector<std::pair<size_t, std::string>> meta;  // (column, key without "meta.")
  std::string problem;                               // why the header is unusable
};

Columns DefaultColumns() {
  Columns c;
  c.count = 2;  // meta.source may be missing from a short hand-written row
  c.indicator = 0;
  c.type = 1;
  c.meta.emplace_back(2, "source");
  return c;
}

Columns ParseFieldsLine(std::string_view line, char sep, uint32_t line_no) {
  Columns c;
  c.header_line = line_no;
  std::vector<std::string_view> names = Split(line, sep);
  names.erase(names.begin());  // "#fields" itself
  c.count = names.size();
  for (size_t i = 0; i < names.size(); ++i) {
    std::string_view name = Trim(names[i]);
    if (name == "indicator") {
      if (!c.indicator) c.indicator = i;
    } else if (name == "indicator_type") {
      if (!c.type) c.type = i;
    } else if (name.substr(0, kMetaPrefix.size()) == kMetaPrefix &&
               name.size() > kMetaPrefix.size()) {
      c.meta.emplace_back(i, std::string(name.substr(kMetaPrefix.size())));
    }
  }
  if (!c.indicator || !c.type) {
    std::string sep_text = EscapeControl(std::string(1, sep));
    c.problem = std::string("#fields line has no '") +
                (c.indicator ? "indicator_type" : "indicator") +
                "' column (columns are separated by '" + sep_text + "')";
  }
  return c;
}

// How one Zeek type is read; nullopt for a type iocd cannot match.
enum class ZeekKind { kAddr, kSubnet, kDomain, kUrl, kFileHash };
std::optional<ZeekKind> KindOf(std::string_view name) {
  if (name == "ADDR") return ZeekKind::kAddr;
  if (name == "SUBNET") return ZeekKind::kSubnet;
  if (name == "DOMAIN") return ZeekKind::kDomain;
  if (name == "URL") return ZeekKind::kUrl;
  if (name == "FILE_HASH") return ZeekKind::kFileHash;
  return std::nullopt;
}

Result<Indicator> ParseAsKind(ZeekKind kind, std::string_view value) {
  switch (kind) {
    case ZeekKind::kAddr:
      return ParseIndicatorAs(IndicatorType::kIpv4, value);  // "ip": either family
    case ZeekKind::kSubnet:
      return ParseIndicatorAs(IndicatorType::kCidr4, value);  // "cidr": either family
    case ZeekKind::kDomain:
      return ParseIndicatorAs(IndicatorType::kDomain, value);
    case ZeekKind::kUrl:
      return ParseIndicatorAs(IndicatorType::kUrl, value);
    case ZeekKind::kFileHash:
      if (auto digest = DecodeHexDigest(value)) {
        IndicatorType type = digest->size() == 16   ? IndicatorType::kMd5
                             : digest->size() == 20 ? IndicatorType::kSha1
                                                    : IndicatorType::kSha256;
        return Indicator{type, std::move(*digest)};
      }
      return Status::InvalidArgument("not an md5, sha1 or sha256 hex digest (" +
                                     std::to_string(value.size()) +
                                     " characters): " + Quote(value));
  }
  return Status::Internal("unknown zeek kind");
}

}  // namespace

FeedParseResult ParseZeekIntelFeed(std::string_view content) {
  content = StripBom(content);
  FeedParseResult result;
  result.lines = CountLines(content);
  std::unordered_set<std::string> seen;
  auto add_error = [&result](uint32_t line, std::string_view message) {
    result.errors.push_back(FeedError{line, EscapeControl(message)});
  };

  char sep = '\t';
  std::vector<std::string> absent_markers = {"", "-"};
  Columns cols = DefaultColumns();
  LineReader lines(content);
  std::string_view line;
  while (lines.Next(&line)) {
    const uint32_t line_no = lines.line_number();
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (Trim(line).empty()) continue;

    if (line.front() == '#') {
      if (auto spec = Directive(line, "#separator")) {
        if (auto c = ParseSeparator(Trim(*spec))) {
          sep = *c;
        } else {
          add_error(line_no, "#separator " + Quote(*spec) +
                                 " is not one character or \\xNN; keeping the previous one");
        }
      } else if (auto unset = Directive(line, "#unset_field")) {
        absent_markers.emplace_back(Trim(*unset));
      } else if (auto empty = Directive(line, "#empty_field")) {
        absent_markers.emplace_back(Trim(*empty));
      } else if (line.substr(0, 7) == "#fields" &&
                 (line.size() == 7 || line[7] == sep || IsBlank(line[7]))) {
        cols = ParseFieldsLine(line, sep, line_no);
        if (!cols.problem.empty()) add_error(line_no, cols.problem);
      }
      continue;
    }

    if (!cols.problem.empty()) {
      ++result.skipped["row under an unusable #fields line"];
      continue;
    }
    std::vector<std::string_view> cells = Split(line, sep);
    if (cells.size() < cols.count) {
      std::string expected =
          cols.header_line == 0
              ? "at least " + std::to_string(cols.count) + " (indicator, indicator_type)"
              : std::to_string(cols.count) + " as #fields on line " +
                    std::to_string(cols.header_line) + " names";
      add_error(line_no, "row has " + std::to_string(cells.size()) + " column(s), expected " +
                             expected + " (columns are separated by '" +
                             EscapeControl(std::string(1, sep)) + "')");
      continue;
    }
    std::string_view type_name = Trim(cells[*cols.type]);
    std::string_view raw_value = Trim(cells[*cols.indicator]);
    if (raw_value.empty() || raw_value == "-") {
      add_error(line_no, "empty indicator");
      continue;
    }
    if (type_name.empty() || type_name == "-") {
      add_error(line_no, "empty indicator_type for " + Quote(raw_value));
      continue;
    }
    if (type_name.substr(0, kIntelPrefix.size()) != kIntelPrefix ||
        type_name.size() == kIntelPrefix.size()) {
      add_error(line_no, "indicator_type " + Quote(type_name) +
                             " is not a Zeek intel type (Intel::ADDR, Intel::DOMAIN, ...)");
      continue;
    }
    std::optional<ZeekKind> kind = KindOf(type_name.substr(kIntelPrefix.size()));
    if (!kind) {
      ++result.unsupported["zeek type " + std::string(type_name)];
      continue;
    }
    std::string value(Trim(Refang(raw_value)));
    Result<Indicator> indicator = ParseAsKind(*kind, value);
    if (!indicator.ok()) {
      add_error(line_no, std::string(type_name) + ": " + indicator.status().message());
      continue;
    }
    ParsedIndicator parsed;
    parsed.indicator = std::move(indicator).value();
    if (!seen.insert(parsed.indicator.Encoded()).second) continue;
    parsed.value = std::move(value);
    parsed.line = line_no;
    for (const auto& [col, key] : cols.meta) {
      if (col >= cells.size()) continue;
      std::string_view cell = Trim(cells[col]);
      if (std::find(absent_markers.begin(), absent_markers.end(), cell) != absent_markers.end()) {
        continue;
      }
      parsed.context.push_back(MakeField(key, cell));
    }
    result.indicators.push_back(std::move(parsed));
  }
  return result;
}

}  // namespace iocd
