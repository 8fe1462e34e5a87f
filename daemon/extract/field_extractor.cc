#include "extract/field_extractor.h"

#include "parse/event_parser.h"

#include <algorithm>
#include <memory>
#include <string_view>
#include <unordered_set>

namespace iocd {
namespace {

constexpr bool IsCompositeKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// "SHA1=ab,MD5=cd": every comma-separated part is KEY=VALUE with a 1-32 character key and
// a non-empty value, and there is no whitespace.
bool IsComposite(std::string_view v) {
  // Most values are short and hold no '=': a loop beats a memchr call per field; a long
  // value (a message) is searched faster by memchr.
  constexpr size_t kLongValue = 32;
  bool has_equals = v.size() >= kLongValue
                        ? v.find('=') != std::string_view::npos
                        : std::any_of(v.begin(), v.end(), [](char c) { return c == '='; });
  if (!has_equals) return false;
  size_t start = 0;
  while (start <= v.size()) {
    size_t end = v.find(',', start);
    if (end == std::string_view::npos) end = v.size();
    std::string_view part = v.substr(start, end - start);
    size_t eq = part.find('=');
    if (eq == 0 || eq == std::string_view::npos || eq > 32 || eq + 1 == part.size()) return false;
    for (size_t i = 0; i < eq; ++i) {
      if (!IsCompositeKeyChar(part[i])) return false;
    }
    for (size_t i = eq + 1; i < part.size(); ++i) {
      if (part[i] == ' ' || part[i] == '\t' || part[i] == '\r' || part[i] == '\n') return false;
    }
    start = end + 1;
  }
  return true;
}

// Indicator equality, with the comparisons that usually decide it (type, length, first
// byte) before the key's memcmp call.
bool SameIndicator(const Indicator& a, const Indicator& b) {
  return a.type == b.type && a.key.size() == b.key.size() &&
         (a.key.empty() || a.key[0] == b.key[0]) && a.key == b.key;
}

class EventCollector {
 public:
  // scratch: where each ExtractObservables() call collects (reused, one per thread).
  EventCollector(std::vector<FieldObservable>* out, std::vector<Observable>* scratch)
      : out_(out), first_(out->size()), scratch_(scratch) {}

  void Field(std::string_view name, std::string_view value) {
    if (value.empty()) return;
    // A body attribute without a key (LEEF "\t =x", found by the extract fuzzer) is
    // reported as part of the message: every observable names a field.
    if (name.empty()) name = "message";
    if (IsComposite(value)) {
      size_t start = 0;
      while (start <= value.size()) {
        size_t end = value.find(',', start);
        if (end == std::string_view::npos) end = value.size();
        std::string_view part = value.substr(start, end - start);
        size_t eq = part.find('=');
        Scan(name, part.substr(0, eq), part.substr(eq + 1), start + eq + 1);
        start = end + 1;
      }
      return;
    }
    Scan(name, {}, value, 0);
  }

 private:
  // value starts at byte base of the field's value.
  void Scan(std::string_view name, std::string_view subkey, std::string_view value, size_t base) {
    std::vector<Observable>& scratch = *scratch_;
    scratch.clear();
    ExtractObservables(value, &scratch);
    for (Observable& o : scratch) {
      if (Seen(o.indicator)) continue;
      o.offset += base;
      std::string field(name);
      if (!subkey.empty()) {
        field.push_back('.');
        field.append(subkey);
      }
      out_->push_back(FieldObservable{std::move(o), std::move(field)});
    }
  }

  // Records indicator; true if this call reported it already.
  bool Seen(const Indicator& indicator) {
    constexpr size_t kLinearLimit = 16;
    size_t count = out_->size() - first_;
    if (count < kLinearLimit) {
      for (size_t i = first_; i < out_->size(); ++i) {
        if (SameIndicator((*out_)[i].observable.indicator, indicator)) return true;
      }
      return false;
    }
    if (seen_ == nullptr) {
      seen_ = std::make_unique<std::unordered_set<std::string>>();
      for (size_t i = first_; i < out_->size(); ++i)
        seen_->insert((*out_)[i].observable.indicator.Encoded());
    }
    return !seen_->insert(indicator.Encoded()).second;
  }

  std::vector<FieldObservable>* out_;
  size_t first_;
  std::unique_ptr<std::unordered_set<std::string>> seen_;  // only for events with many observables
  std::vector<Observable>* scratch_;
};

}  // namespace

void ExtractFromEvent(const ParsedEvent& event, std::vector<FieldObservable>* out) {
  thread_local std::vector<Observable> scratch;
  EventCollector collector(out, &scratch);
  for (const EventField& f : event.fields) collector.Field(f.name, f.value);
}

std::string DescribeExtraction(const ParsedEvent& event, const std::vector<FieldObservable>& found) {
  std::string line(BodyFormatName(event.format));
  for (const FieldObservable& f : found) {
    line.push_back('\t');
    line.append(TypeName(f.observable.indicator.type));
    line.push_back(' ');
    line.append(f.field);
    line.push_back(' ');
    line.append(f.observable.text);
  }
  return line;
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

std::string DescribeLines(std::string_view text) {
  EventParser parser;
  ParsedEvent event;
  std::vector<FieldObservable> found;
  std::string report;
  for (std::string_view line : SplitLines(text)) {
    parser.Parse(line, &event);
    found.clear();
    ExtractFromEvent(event, &found);
    report += DescribeExtraction(event, found);
    report.push_back('\n');
  }
  return report;
}

}  // namespace iocd
