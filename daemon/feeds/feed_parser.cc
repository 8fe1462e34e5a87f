#include "feeds/feed_parser.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "feeds/parse_util.h"

namespace iocd {
namespace {

bool IsAllBlank(std::string_view s) { return std::all_of(s.begin(), s.end(), IsBlank); }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}

// Collects results, keeping the first occurrence of each indicator.
class ResultBuilder {
 public:
  explicit ResultBuilder(std::string_view content) : seen_(0) {
    result_.lines = CountLines(content);
    seen_ = IndicatorDedup(result_.lines);
    result_.indicators.reserve(result_.lines);
  }

  void AddError(uint32_t line, std::string_view message) {
    result_.errors.push_back(FeedError{line, EscapeControl(message)});
  }

  void AddIndicator(ParsedIndicator parsed) {
    result_.indicators.push_back(std::move(parsed));
    if (!seen_.Insert(result_.indicators, static_cast<uint32_t>(result_.indicators.size() - 1))) {
      result_.indicators.pop_back();
    }
  }

  // Appends a part parsed separately (a later stretch of the same content), in order.
  void Append(FeedParseResult part) {
    for (auto& e : part.errors) result_.errors.push_back(std::move(e));
    constexpr size_t kAhead = 16;  // probes in flight
    auto& in = part.indicators;
    for (size_t i = 0; i < in.size(); ++i) {
      if (i + kAhead < in.size()) seen_.Prefetch(in[i + kAhead].indicator);
      AddIndicator(std::move(in[i]));
    }
  }

  FeedParseResult Finish() && {
    // Only worth a copy of every record when much of the reserved room went unused
    // (comments, duplicates).
    if (result_.indicators.size() < result_.indicators.capacity() / 4 * 3) result_.indicators.shrink_to_fit();
    return std::move(result_);
  }

 private:
  FeedParseResult result_;
  IndicatorDedup seen_;
};

// Parses one stretch into ParsedIndicators; duplicates are NOT removed here.
void ParsePlainLines(const PlainStretch& stretch, FeedParseResult* out) {
  ParsePlainStretch(
      stretch,
      [&](PlainRecord& r) {
        ParsedIndicator parsed{std::move(r.indicator), std::move(r.value), r.line, {}};
        if (!r.comment.empty()) parsed.context.push_back(MakeField("comment", r.comment));
        out->indicators.push_back(std::move(parsed));
      },
      &out->errors);
}

// Feeds smaller than this are parsed on the calling thread.
constexpr size_t kParallelPlainBytes = 4 << 20;

}  // namespace

std::vector<PlainStretch> SplitPlainFeed(std::string_view content, size_t max_parts) {
  content = StripBom(content);
  const size_t parts = content.size() < kParallelPlainBytes ? 1 : std::max<size_t>(1, max_parts);
  std::vector<PlainStretch> out;
  uint32_t line = 1;
  for (size_t begin = 0, i = 0; begin < content.size(); ++i) {
    size_t end = i + 1 >= parts ? content.size() : content.size() * (i + 1) / parts;
    if (end < begin) end = begin;
    size_t nl = content.find('\n', end == 0 ? 0 : end - 1);
    end = nl == std::string_view::npos ? content.size() : nl + 1;
    out.push_back({content.substr(begin, end - begin), line});
    line += static_cast<uint32_t>(CountLines(out.back().text));
    begin = end;
  }
  return out;
}

void ParsePlainStretch(const PlainStretch& stretch, const std::function<void(PlainRecord&)>& on_record,
                       std::vector<FeedError>* errors) {
  LineReader lines(stretch.text);
  std::string_view line;
  while (lines.Next(&line)) {
    const uint32_t line_no = stretch.first_line + lines.line_number() - 1;
    line = Trim(line);
    if (line.empty() || line.front() == '#') continue;

    // A '#' right after whitespace starts a trailing comment; one inside a token
    // ("http://x/a#frag") does not.
    std::string_view value = line;
    std::string_view comment;
    for (size_t i = 1; i < line.size(); ++i) {
      if (line[i] == '#' && IsBlank(line[i - 1])) {
        value = Trim(line.substr(0, i));
        comment = Trim(line.substr(i + 1));
        break;
      }
    }

    std::string refanged(Trim(Refang(value)));
    Result<Indicator> indicator = ParseIndicator(refanged);
    if (!indicator.ok()) {
      errors->push_back(FeedError{line_no, EscapeControl(indicator.status().message())});
      continue;
    }
    PlainRecord record{std::move(indicator).value(), std::move(refanged), comment, line_no};
    on_record(record);
  }
}

FeedParseResult ParsePlainFeed(std::string_view content) {
  content = StripBom(content);
  ResultBuilder out(content);
  // Large feeds: one stretch of whole lines per core, parsed in parallel, then merged in
  // file order so errors stay ordered and the first occurrence of a duplicate still wins.
  const std::vector<PlainStretch> parts =
      SplitPlainFeed(content, std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8));
  std::vector<FeedParseResult> results(parts.size());
  {
    std::vector<std::jthread> workers;
    for (size_t i = 1; i < parts.size(); ++i) {
      workers.emplace_back([&, i] { ParsePlainLines(parts[i], &results[i]); });
    }
    if (!parts.empty()) ParsePlainLines(parts[0], &results[0]);
  }
  for (auto& r : results) out.Append(std::move(r));
  return std::move(out).Finish();
}

namespace {

struct CsvRecord {
  uint32_t line = 0;  // physical line the record starts on
  std::vector<std::string> fields;
  std::string error;  // set when the record is malformed; fields are then incomplete
};

// Splits content into RFC 4180 records, skipping blank and '#' comment lines between
// records. Recovers from a malformed record by skipping to the end of its line.
class CsvReader {
 public:
  CsvReader(std::string_view content, char delimiter) : in_(content), delim_(delimiter) {}

  // Reads the next record; false at the end of the input.
  bool Next(CsvRecord* rec) {
    if (!SkipIgnoredLines()) return false;
    rec->line = line_;
    rec->fields.clear();
    rec->error.clear();
    size_t p = pos_;
    while (true) {
      std::string field;
      // Whitespace before a quoted field is allowed ("a, \"b\"").
      size_t q = p;
      while (q < in_.size() && IsBlank(in_[q]) && in_[q] != delim_) ++q;
      if (q < in_.size() && in_[q] == '"') {
        p = q + 1;
        bool closed = false;
        while (p < in_.size()) {
          char c = in_[p];
          if (c == '"') {
            if (p + 1 < in_.size() && in_[p + 1] == '"') {
              field += '"';
              p += 2;
              continue;
            }
            ++p;
            closed = true;
            break;
          }
          if (c == '\n') ++line_;
          field += c;
          ++p;
        }
        if (!closed) {
          rec->error = "unterminated quoted field " + std::to_string(rec->fields.size() + 1) +
                       " (the quote opened on this line runs to the end of the feed)";
          pos_ = in_.size();
          return true;
        }
        while (p < in_.size() && IsBlank(in_[p]) && in_[p] != delim_) ++p;
        if (p < in_.size() && in_[p] != delim_ && in_[p] != '\n') {
          rec->error = "unexpected text after the closing quote of field " +
                       std::to_string(rec->fields.size() + 1);
          SkipRestOfLine(p);
          return true;
        }
      } else {
        size_t start = p;
        while (p < in_.size() && in_[p] != delim_ && in_[p] != '\n') ++p;
        field = std::string(Trim(in_.substr(start, p - start)));
      }
      rec->fields.push_back(std::move(field));
      if (p >= in_.size()) {
        pos_ = in_.size();
        return true;
      }
      if (in_[p] == '\n') {
        pos_ = p + 1;
        ++line_;
        return true;
      }
      ++p;  // the delimiter
    }
  }

 private:
  // Moves past blank lines and comment lines; false when nothing is left.
  bool SkipIgnoredLines() {
    while (pos_ < in_.size()) {
      size_t nl = in_.find('\n', pos_);
      size_t end = nl == std::string_view::npos ? in_.size() : nl;
      std::string_view line = in_.substr(pos_, end - pos_);
      size_t first = 0;
      while (first < line.size() && IsBlank(line[first]) && line[first] != delim_) ++first;
      bool comment = first < line.size() && line[first] == '#';
      if (!comment && !IsAllBlank(line)) return true;
      SkipRestOfLine(pos_);
    }
    return false;
  }

  void SkipRestOfLine(size_t from) {
    size_t nl = in_.find('\n', from);
    if (nl == std::string_view::npos) {
      pos_ = in_.size();
    } else {
      pos_ = nl + 1;
      ++line_;
    }
  }

  std::string_view in_;
  char delim_;
  size_t pos_ = 0;
  uint32_t line_ = 1;  // line of in_[pos_]
};

Result<char> ResolveDelimiter(std::string_view spec) {
  if (spec.empty()) return ',';
  if (spec == "\\t" || EqualsNoCase(spec, "tab")) return '\t';
  if (spec.size() != 1) {
    return Status::InvalidArgument("csv delimiter " + EscapeControl(Quote(spec)) +
                                   " must be one character (or \"\\t\" / \"tab\")");
  }
  char c = spec[0];
  if (c == '"' || c == '#' || c == '\r' || c == '\n') {
    return Status::InvalidArgument("csv delimiter " + EscapeControl(Quote(spec)) +
                                   " cannot be used: it is a quote, comment or line-end "
                                   "character");
  }
  return c;
}

bool IsColumnNumber(std::string_view spec) {
  return !spec.empty() &&
         std::all_of(spec.begin(), spec.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Resolves a column option to a 0-based index. `header` is the header row, or null when
// the feed has no header (header: false), or when header: true but the feed is empty
// (names then cannot be checked and resolve to 0; no row will use them).
Result<size_t> ResolveColumn(std::string_view option, std::string_view raw_spec,
                             bool header_enabled, const std::vector<std::string>* header) {
  std::string_view spec = Trim(raw_spec);
  std::string what = std::string(option) + " " + EscapeControl(Quote(raw_spec));
  if (spec.empty()) return Status::InvalidArgument(what + " is empty");
  if (IsColumnNumber(spec)) {
    uint32_t n = 0;
    auto [ptr, ec] = std::from_chars(spec.data(), spec.data() + spec.size(), n);
    if (ec != std::errc() || ptr != spec.data() + spec.size()) {
      return Status::InvalidArgument(what + " is not a usable column number");
    }
    if (n == 0) return Status::InvalidArgument(what + ": columns are numbered from 1");
    return static_cast<size_t>(n - 1);
  }
  if (!header_enabled) {
    return Status::InvalidArgument(what +
                                   " names a column, but header is false; use a column number "
                                   "or set header: true");
  }
  if (header == nullptr) return size_t{0};
  for (size_t i = 0; i < header->size(); ++i) {
    if (EqualsNoCase(Trim((*header)[i]), spec)) return i;
  }
  std::string names;
  for (const std::string& h : *header) {
    if (!names.empty()) names += ", ";
    names += std::string(Trim(h));
  }
  return Status::InvalidArgument(
      what + " is not in the header row (columns: " + EscapeControl(names) + ")");
}

struct CsvColumns {
  size_t value = 0;
  std::optional<size_t> type;
  std::vector<std::pair<size_t, std::string>> context;  // (column, field name), column order
};

Result<CsvColumns> ResolveColumns(const config::CsvOptions& options,
                                  const std::vector<std::string>* header) {
  CsvColumns cols;
  std::string_view value_spec = options.value_column();
  if (value_spec.empty()) value_spec = "1";
  Result<size_t> value = ResolveColumn("value_column", value_spec, options.header(), header);
  if (!value.ok()) return value.status();
  cols.value = *value;
  if (!options.type_column().empty()) {
    Result<size_t> type =
        ResolveColumn("type_column", options.type_column(), options.header(), header);
    if (!type.ok()) return type.status();
    cols.type = *type;
  }
  for (const auto& [name, spec] : options.context_columns()) {
    if (Trim(name).empty()) {
      return Status::InvalidArgument("context_columns has an empty field name (column " +
                                     EscapeControl(Quote(spec)) + ")");
    }
    Result<size_t> col = ResolveColumn("context_columns[" + EscapeControl(Quote(name)) + "]", spec,
                                       options.header(), header);
    if (!col.ok()) return col.status();
    cols.context.emplace_back(*col, name);
  }
  std::sort(cols.context.begin(), cols.context.end());
  return cols;
}

}  // namespace

Result<FeedParseResult> ParseCsvFeed(std::string_view content, const config::CsvOptions& options) {
  content = StripBom(content);
  Result<char> delimiter = ResolveDelimiter(options.delimiter());
  if (!delimiter.ok()) return delimiter.status();

  CsvReader reader(content, *delimiter);
  CsvRecord rec;
  std::vector<std::string> header;
  bool have_header = false;
  if (options.header()) {
    have_header = reader.Next(&rec);
    if (have_header && !rec.error.empty()) {
      return Status::InvalidArgument("line " + std::to_string(rec.line) +
                                     ": malformed header row: " + EscapeControl(rec.error));
    }
    header = std::move(rec.fields);
  }
  Result<CsvColumns> columns = ResolveColumns(options, have_header ? &header : nullptr);
  if (!columns.ok()) return columns.status();
  const CsvColumns& cols = *columns;
  size_t needed = std::max(cols.value, cols.type.value_or(0)) + 1;

  ResultBuilder out(content);
  while (reader.Next(&rec)) {
    if (!rec.error.empty()) {
      out.AddError(rec.line, rec.error);
      continue;
    }
    if (rec.fields.size() < needed) {
      out.AddError(rec.line, "row has " + std::to_string(rec.fields.size()) +
                                 " column(s), expected at least " + std::to_string(needed));
      continue;
    }
    std::string_view cell = Trim(rec.fields[cols.value]);
    if (cell.empty()) {
      out.AddError(rec.line, "empty value in column " + std::to_string(cols.value + 1));
      continue;
    }
    std::string refanged(Trim(Refang(cell)));
    std::optional<IndicatorType> type;  // nullopt: detect from the value
    if (cols.type) {
      std::string_view type_name = Trim(rec.fields[*cols.type]);
      type = ParseTypeName(type_name);
      if (!type) {
        out.AddError(rec.line, "unknown indicator type " + Quote(type_name) + " in column " +
                                   std::to_string(*cols.type + 1));
        continue;
      }
    }
    Result<Indicator> indicator =
        type ? ParseIndicatorAs(*type, refanged) : ParseIndicator(refanged);
    if (!indicator.ok()) {
      out.AddError(rec.line, indicator.status().message());
      continue;
    }
    ParsedIndicator parsed{std::move(indicator).value(), std::move(refanged), rec.line, {}};
    for (const auto& [col, name] : cols.context) {
      if (col >= rec.fields.size()) continue;
      std::string_view v = Trim(rec.fields[col]);
      if (!v.empty()) parsed.context.push_back(MakeField(name, v));
    }
    out.AddIndicator(std::move(parsed));
  }
  return std::move(out).Finish();
}

}  // namespace iocd
