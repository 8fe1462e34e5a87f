// MetricsWriter: the daemon's counters as text in the Prometheus exposition format
// (version 0.0.4), served by the control channel's `metrics` command (`iocctl metrics`)
// and, when Config.metrics.listen is set, over HTTP at GET /metrics (docs/metrics.md).
//
// What it does: collects samples, each a metric family name, its type and help, label
// pairs and a value, and renders them with every family's samples grouped after one
// "# HELP" and one "# TYPE" line, families in the order first named. Label values are
// escaped ('\\', '"' and LF); names are the caller's and must already be valid metric and
// label names (the daemon's are constants).
//
// Ownership: a value type. Thread safety: none (build one per request). Errors: none.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace iocd {

class MetricsWriter {
 public:
  enum class Type { kCounter, kGauge };
  using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

  // Adds one sample. A family named again must be named with the same type and help.
  void Add(std::string_view family, Type type, std::string_view help, const Labels& labels, uint64_t value);
  void Counter(std::string_view family, std::string_view help, const Labels& labels, uint64_t value) {
    Add(family, Type::kCounter, help, labels, value);
  }
  void Gauge(std::string_view family, std::string_view help, const Labels& labels, uint64_t value) {
    Add(family, Type::kGauge, help, labels, value);
  }

  // The exposition text: per family "# HELP", "# TYPE", then its samples; LF-terminated.
  std::string Text() const;

 private:
  struct Family {
    std::string name;
    Type type;
    std::string help;
    std::vector<std::string> samples;  // "name{labels} value"
  };
  std::vector<Family> families_;
};

}  // namespace iocd
