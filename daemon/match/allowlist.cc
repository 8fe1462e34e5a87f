#include "match/allowlist.h"

#include <algorithm>

namespace iocd {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

std::optional<uint32_t> Allowlist::Match(const Indicator& observable) const {
  if (empty_) return std::nullopt;
  thread_local std::vector<IndexMatch> matches;
  matches.clear();
  covering_->Lookup(observable, &matches);
  if (!matches.empty()) return matches.front().feeds.front();
  exact_only_->Lookup(observable, &matches);
  for (const IndexMatch& m : matches) {
    if (m.type != IndicatorType::kDomain || m.key == observable.key) return m.feeds.front();
  }
  if (!substrings_.empty()) {
    std::string text = Lower(observable.Display());
    for (const auto& [pattern, list] : substrings_) {
      if (text.find(pattern) != std::string::npos) return list;
    }
  }
  return std::nullopt;
}

uint32_t AllowlistBuilder::AddList(std::string name) {
  names_.push_back(std::move(name));
  return static_cast<uint32_t>(names_.size() - 1);
}

Status AllowlistBuilder::Add(uint32_t list, const Indicator& indicator, bool subdomains) {
  empty_ = false;
  bool exact = !subdomains && indicator.type == IndicatorType::kDomain;
  return (exact ? exact_only_ : covering_).Add(indicator, list);
}

void AllowlistBuilder::AddSubstring(uint32_t list, std::string_view pattern) {
  if (pattern.empty()) return;
  empty_ = false;
  substrings_.emplace_back(Lower(pattern), list);
}

std::shared_ptr<const Allowlist> AllowlistBuilder::Build() && {
  auto out = std::make_shared<Allowlist>();
  out->names_ = std::move(names_);
  out->covering_ = std::move(covering_).Build();
  out->exact_only_ = std::move(exact_only_).Build();
  out->substrings_ = std::move(substrings_);
  out->empty_ = empty_;
  return out;
}

}  // namespace iocd
