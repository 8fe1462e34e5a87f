#include "output/hit_filter.h"

#include <algorithm>

namespace iocd {
namespace {

template <typename List>
bool Listed(const List& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

bool PassesFilter(const iocd::hit::Hit& hit, const iocd::config::OutputFilter& filter) {
  const auto& es = hit.enrichments();
  auto any = [&](auto pred) { return std::any_of(es.begin(), es.end(), pred); };
  if (filter.min_confidence() > 0 &&
      !any([&](const auto& e) { return e.has_confidence() && e.confidence() >= filter.min_confidence(); })) {
    return false;
  }
  if (filter.indicator_types_size() > 0 &&
      !any([&](const auto& e) { return Listed(filter.indicator_types(), e.indicator_type()); })) {
    return false;
  }
  if (filter.feeds_size() > 0 && !any([&](const auto& e) { return Listed(filter.feeds(), e.feed()); })) {
    return false;
  }
  if (filter.tags_size() > 0 &&
      !any([&](const auto& e) {
        return std::any_of(e.tags().begin(), e.tags().end(), [&](const std::string& t) { return Listed(filter.tags(), t); });
      })) {
    return false;
  }
  return true;
}

}  // namespace iocd
