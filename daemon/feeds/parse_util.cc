#include "feeds/parse_util.h"

#include <algorithm>

namespace iocd {

std::string_view StripBom(std::string_view content) {
  if (content.substr(0, kUtf8Bom.size()) == kUtf8Bom) content.remove_prefix(kUtf8Bom.size());
  return content;
}

uint64_t CountLines(std::string_view content) {
  uint64_t n = static_cast<uint64_t>(std::count(content.begin(), content.end(), '\n'));
  if (!content.empty() && content.back() != '\n') ++n;
  return n;
}

bool LineReader::Next(std::string_view* line) {
  if (pos_ >= content_.size()) return false;
  size_t nl = content_.find('\n', pos_);
  size_t end = nl == std::string_view::npos ? content_.size() : nl;
  *line = content_.substr(pos_, end - pos_);
  pos_ = end + 1;
  ++line_number_;
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view Trim(std::string_view s, std::string_view chars) {
  size_t first = s.find_first_not_of(chars);
  if (first == std::string_view::npos) return s.substr(s.size());
  return s.substr(first, s.find_last_not_of(chars) - first + 1);
}

std::string ToLowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ToLowerAscii(c);
  return out;
}

std::string EscapeControl(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view TruncateUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n);
}

std::string Quote(std::string_view text) {
  std::string_view cut = TruncateUtf8(text, kMaxQuotedText);
  return "'" + std::string(cut) + (cut.size() < text.size() ? "...'" : "'");
}

store::ContextField MakeField(std::string_view key, std::string_view value) {
  store::ContextField f;
  f.set_key(std::string(key));
  f.set_value(std::string(value));
  return f;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

void AppendUnique(std::vector<std::string>* items, std::string_view item) {
  if (std::find(items->begin(), items->end(), item) == items->end()) items->emplace_back(item);
}

bool GetString(simdjson::dom::object obj, std::string_view key, std::string_view* out) {
  return obj[key].get(*out) == simdjson::SUCCESS;
}

std::string_view TypeNameOf(simdjson::dom::element_type t) {
  switch (t) {
    case simdjson::dom::element_type::ARRAY:
      return "an array";
    case simdjson::dom::element_type::OBJECT:
      return "an object";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE:
      return "a number";
    case simdjson::dom::element_type::STRING:
      return "a string";
    case simdjson::dom::element_type::BOOL:
      return "a boolean";
    case simdjson::dom::element_type::NULL_VALUE:
      return "null";
  }
  return "unknown";
}

}  // namespace iocd
