// Helpers shared by the parse tests: an event's fields as owning (name, value) pairs, so
// table tests compare them with == and print them on failure.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "parse/event.h"

namespace iocd::testutil {

using Fields = std::vector<std::pair<std::string, std::string>>;

// The fields of `event` in order, copied out of the views into the event's buffer.
inline Fields Collect(const ParsedEvent& event) {
  Fields got;
  for (const EventField& f : event.fields) got.emplace_back(std::string(f.name), std::string(f.value));
  return got;
}

}  // namespace iocd::testutil
