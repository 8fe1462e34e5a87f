// Allowlist: decides whether an observable is known-benign, so it produces no hit.
//
// Built from allowlist feeds (MISP warninglists, plain lists): addresses and CIDR ranges,
// domains that cover their subdomains (warninglist "hostname"), names that match only
// exactly (warninglist "string"), URLs and hashes, and substrings. Matching uses the same
// IndicatorIndex and normalisation as threat matching, so "allowlisted" means exactly what
// "matched" would have meant.
//
// Ownership and thread safety: immutable once built; any number of threads may call
// Match() concurrently. AllowlistBuilder is single-threaded.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "indicator/indicator.h"
#include "match/indicator_index.h"

namespace iocd {

class Allowlist {
 public:
  // The id of an allowlist that matches the observable, or nullopt. Substring patterns are
  // compared with the observable's canonical text (indicator.Display()).
  std::optional<uint32_t> Match(const Indicator& observable) const;
  const std::string& name(uint32_t list) const { return names_[list]; }
  size_t lists() const { return names_.size(); }
  bool empty() const { return empty_; }

 private:
  friend class AllowlistBuilder;
  std::vector<std::string> names_;
  std::shared_ptr<const IndicatorIndex> covering_;    // subdomains and ranges match
  std::shared_ptr<const IndicatorIndex> exact_only_;  // domains match only themselves
  std::vector<std::pair<std::string, uint32_t>> substrings_;
  bool empty_ = true;
};

class AllowlistBuilder {
 public:
  // Starts a list; returns its id for Add/AddSubstring and Allowlist::name.
  uint32_t AddList(std::string name);
  // subdomains=false: a domain entry matches only the same name.
  Status Add(uint32_t list, const Indicator& indicator, bool subdomains);
  // pattern is matched case-insensitively as a substring of the observable.
  void AddSubstring(uint32_t list, std::string_view pattern);
  std::shared_ptr<const Allowlist> Build() &&;

 private:
  std::vector<std::string> names_;
  IndexBuilder covering_;
  IndexBuilder exact_only_;
  std::vector<std::pair<std::string, uint32_t>> substrings_;
  bool empty_ = true;
};

}  // namespace iocd
