#include "parse/event.h"

#include <algorithm>
#include <cstring>

namespace iocd {

char* StringArena::Allocate(size_t n) {
  if (blocks_.empty() || blocks_.back().size - pos_ < n) {
    size_t size = std::max(kBlockBytes, n);
    blocks_.push_back(Block{std::make_unique<char[]>(size), size});
    pos_ = 0;
  }
  char* p = blocks_.back().data.get() + pos_;
  pos_ += n;
  used_ += n;
  return p;
}

std::string_view StringArena::Copy(std::string_view s) {
  if (s.empty()) return {};
  char* p = Allocate(s.size());
  std::memcpy(p, s.data(), s.size());
  return {p, s.size()};
}

std::string_view StringArena::Join(std::string_view a, char sep, std::string_view b) {
  size_t n = a.size() + 1 + b.size();
  char* p = Allocate(n);
  std::memcpy(p, a.data(), a.size());
  p[a.size()] = sep;
  std::memcpy(p + a.size() + 1, b.data(), b.size());
  return {p, n};
}

void StringArena::Clear() {
  if (blocks_.size() > 1) {
    // Keep one block, the largest, so a steady stream of similar events stops allocating.
    auto largest = std::max_element(blocks_.begin(), blocks_.end(),
                                    [](const Block& x, const Block& y) { return x.size < y.size; });
    Block keep = std::move(*largest);
    blocks_.clear();
    blocks_.push_back(std::move(keep));
  }
  pos_ = 0;
  used_ = 0;
}

std::string_view SyslogFormatName(SyslogFormat f) {
  switch (f) {
    case SyslogFormat::kNone: return "none";
    case SyslogFormat::kRfc3164: return "rfc3164";
    case SyslogFormat::kRfc5424: return "rfc5424";
  }
  return "?";
}

std::string_view BodyFormatName(BodyFormat f) {
  switch (f) {
    case BodyFormat::kText: return "text";
    case BodyFormat::kCef: return "cef";
    case BodyFormat::kLeef: return "leef";
    case BodyFormat::kJson: return "json";
    case BodyFormat::kKv: return "kv";
  }
  return "?";
}

void ParsedEvent::Clear() {
  header = SyslogHeader{};
  body = {};
  format = BodyFormat::kText;
  fields.clear();
  error = {};
  arena_.Clear();
}

std::optional<std::string_view> ParsedEvent::Find(std::string_view name) const {
  for (const EventField& f : fields) {
    if (f.name == name) return f.value;
  }
  return std::nullopt;
}

}  // namespace iocd
