#include "app/metrics.h"

#include <algorithm>

namespace iocd {
namespace {

void AppendLabelValue(std::string_view value, std::string* out) {
  for (char c : value) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '"') {
      *out += "\\\"";
    } else if (c == '\n') {
      *out += "\\n";
    } else {
      *out += c;
    }
  }
}

}  // namespace

void MetricsWriter::Add(std::string_view family, Type type, std::string_view help, const Labels& labels,
                        uint64_t value) {
  auto it = std::find_if(families_.begin(), families_.end(), [&](const Family& f) { return f.name == family; });
  if (it == families_.end()) {
    families_.push_back({std::string(family), type, std::string(help), {}});
    it = std::prev(families_.end());
  }
  std::string sample(family);
  if (!labels.empty()) {
    sample += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) sample += ',';
      sample += labels[i].first;
      sample += "=\"";
      AppendLabelValue(labels[i].second, &sample);
      sample += '"';
    }
    sample += '}';
  }
  sample += ' ';
  sample += std::to_string(value);
  it->samples.push_back(std::move(sample));
}

std::string MetricsWriter::Text() const {
  std::string out;
  for (const Family& f : families_) {
    out += "# HELP " + f.name + " ";
    for (char c : f.help) out += c == '\n' ? std::string("\\n") : c == '\\' ? std::string("\\\\") : std::string(1, c);
    out += "\n# TYPE " + f.name + (f.type == Type::kCounter ? " counter\n" : " gauge\n");
    for (const std::string& s : f.samples) out += s + "\n";
  }
  return out;
}

}  // namespace iocd
