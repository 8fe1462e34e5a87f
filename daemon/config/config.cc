#include "config/config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/reflection.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "common/duration.h"
#include "common/format_syntax.h"
#include "indicator/indicator.h"

namespace iocd {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr uint32_t kMaxThreads = 64;

// ---------------------------------------------------------------------------------------
// Small text helpers.

bool IsAllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
char AsciiUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLowerOrDigit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// "InputProtocol" -> "INPUT_PROTOCOL", "HTTPMethod" -> "HTTP_METHOD".
std::string UpperSnake(std::string_view camel) {
  std::string out;
  for (size_t i = 0; i < camel.size(); ++i) {
    char c = camel[i];
    if (i > 0 && IsUpper(c)) {
      char prev = camel[i - 1];
      bool next_lower = i + 1 < camel.size() && camel[i + 1] >= 'a' && camel[i + 1] <= 'z';
      if (IsLowerOrDigit(prev) || (IsUpper(prev) && next_lower)) out += '_';
    }
    out += AsciiUpper(c);
  }
  return out;
}

// Quotes a user-supplied value for an error message, keeping the message on one line.
std::string Quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

std::string FieldPath(std::string_view parent, std::string_view name) {
  if (parent.empty()) return std::string(name);
  std::string out(parent);
  out += '.';
  out += name;
  return out;
}

std::string IndexPath(std::string_view parent, size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

// The parent of a key path: "a[1].b" -> "a[1]" -> "a" -> "".
std::string_view ParentPath(std::string_view path) {
  size_t cut = path.find_last_of(".[");
  return cut == std::string_view::npos ? std::string_view() : path.substr(0, cut);
}

// True if path is `prefix` or lies below it.
bool PathIsUnder(std::string_view path, std::string_view prefix) {
  if (path.size() < prefix.size() || path.substr(0, prefix.size()) != prefix) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '.' || path[prefix.size()] == '[';
}

// ---------------------------------------------------------------------------------------
// Enum spelling.

std::vector<const EnumValueDescriptor*> WritableValues(const EnumDescriptor& type) {
  std::vector<const EnumValueDescriptor*> out;
  for (int i = 0; i < type.value_count(); ++i) {
    const EnumValueDescriptor* v = type.value(i);
    if (v->number() == 0) continue;  // *_UNSPECIFIED means "not set"; it cannot be written
    out.push_back(v);
  }
  return out;
}

std::string ValidEnumNames(const EnumDescriptor& type) {
  std::vector<std::string> names;
  for (const EnumValueDescriptor* v : WritableValues(type)) names.push_back(YamlEnumName(*v));
  return Join(names, ", ");
}

// ---------------------------------------------------------------------------------------
// Scalar conversion. Each returns an error message, empty on success.

struct IntRange {
  bool is_signed;
  uint64_t max_positive;
  uint64_t max_negative_magnitude;
};

IntRange RangeOf(FieldDescriptor::CppType type) {
  switch (type) {
    case FieldDescriptor::CPPTYPE_INT32:
      return {true, static_cast<uint64_t>(std::numeric_limits<int32_t>::max()), uint64_t{1} << 31};
    case FieldDescriptor::CPPTYPE_INT64:
      return {true, static_cast<uint64_t>(std::numeric_limits<int64_t>::max()), uint64_t{1} << 63};
    case FieldDescriptor::CPPTYPE_UINT32:
      return {false, std::numeric_limits<uint32_t>::max(), 0};
    default:
      return {false, std::numeric_limits<uint64_t>::max(), 0};
  }
}

std::string RangeText(const IntRange& r) {
  if (!r.is_signed) return "0.." + std::to_string(r.max_positive);
  return "-" + std::to_string(r.max_negative_magnitude) + ".." + std::to_string(r.max_positive);
}

// Parses a decimal integer (optional sign) into magnitude and sign.
std::string ParseInteger(std::string_view text, const IntRange& range, bool* negative,
                         uint64_t* magnitude) {
  const char* expected = range.is_signed ? "an integer" : "an unsigned integer";
  std::string_view digits = text;
  *negative = false;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
    *negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (!IsAllDigits(digits)) return std::string("expected ") + expected + ", got " + Quote(text);
  if (*negative && !range.is_signed) {
    return "expected an unsigned integer, got negative value " + std::string(text);
  }
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *magnitude);
  uint64_t limit = *negative ? range.max_negative_magnitude : range.max_positive;
  if (ec == std::errc::result_out_of_range || ptr != digits.data() + digits.size() ||
      *magnitude > limit) {
    return "value " + std::string(text) + " is out of range " + RangeText(range);
  }
  return "";
}

std::string ParseBool(std::string_view text, bool* out) {
  std::string lower;
  for (char c : text) lower += AsciiLower(c);
  if (lower == "true" || lower == "yes" || lower == "on") {
    *out = true;
    return "";
  }
  if (lower == "false" || lower == "no" || lower == "off") {
    *out = false;
    return "";
  }
  return "expected a boolean (true/false/yes/no/on/off), got " + Quote(text);
}

std::string ParseDouble(std::string_view text, double* out) {
  std::string_view t = text;
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), *out);
  if (t.empty() || ec != std::errc() || ptr != t.data() + t.size()) {
    return "expected a number, got " + Quote(text);
  }
  return "";
}

const char* DescribeExpected(const FieldDescriptor& field) {
  if (field.is_map()) return "a mapping";
  if (field.is_repeated()) return "a sequence";
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return "a mapping";
    case FieldDescriptor::CPPTYPE_STRING:
      return "a string";
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
      return "an integer";
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      return "an unsigned integer";
    case FieldDescriptor::CPPTYPE_BOOL:
      return "a boolean";
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT:
      return "a number";
    case FieldDescriptor::CPPTYPE_ENUM:
      return "a value";
  }
  return "a value";
}

std::string DescribeNode(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Scalar:
      return "the scalar " + Quote(node.Scalar());
    default:
      return "an empty value";
  }
}

// ---------------------------------------------------------------------------------------
// Mapping YAML onto a message through reflection.

class Mapper {
 public:
  Mapper(LoadedConfig* loaded, std::vector<ConfigError>* errors,
         std::vector<std::string>* errored_paths)
      : loaded_(loaded), errors_(errors), errored_paths_(errored_paths) {}

  void MapRoot(const YAML::Node& root) {
    loaded_->positions[""] = {1, 1};
    if (root.IsNull()) return;  // an empty document is an empty config
    if (!root.IsMap()) {
      Error(PositionOf(root, {1, 1}), "",
            "expected a mapping of config keys at the top level, got " + DescribeNode(root));
      return;
    }
    MapMessage(root, "", &loaded_->config);
  }

 private:
  static ConfigPosition PositionOf(const YAML::Node& node, ConfigPosition fallback) {
    // An empty value's mark points at the next token, usually on the following line; the
    // key (the fallback) is where a reader looks.
    if (node.IsNull()) return fallback;
    const YAML::Mark mark = node.Mark();
    if (mark.line < 0 || mark.column < 0) return fallback;
    return {mark.line + 1, mark.column + 1};
  }

  void Error(ConfigPosition pos, std::string path, std::string message) {
    errored_paths_->push_back(path);
    errors_->push_back({std::string(loaded_->source_name), pos.line, pos.column, std::move(path),
                        std::move(message)});
  }

  void MapMessage(const YAML::Node& node, const std::string& path, Message* msg) {
    const Descriptor* desc = msg->GetDescriptor();
    std::map<std::string, ConfigPosition> seen;
    // yaml-cpp iterators hand out temporaries: entries are copied (Nodes are handles).
    for (const auto& kv : node) {
      const YAML::Node key = kv.first;
      const YAML::Node value = kv.second;
      ConfigPosition key_pos = PositionOf(key, PositionOf(node, {0, 0}));
      if (!key.IsScalar()) {
        Error(key_pos, path, "a key must be a plain name, got " + DescribeNode(key));
        continue;
      }
      const std::string& name = key.Scalar();
      std::string field_path = FieldPath(path, name);
      auto [prev, inserted] = seen.emplace(name, key_pos);
      if (!inserted) {
        Error(key_pos, field_path,
              "duplicate key (first given at line " + std::to_string(prev->second.line) + ")");
        continue;
      }
      const FieldDescriptor* field = desc->FindFieldByName(name);
      if (field == nullptr) {
        std::vector<std::string> valid;
        for (int i = 0; i < desc->field_count(); ++i) valid.push_back(desc->field(i)->name());
        Error(key_pos, field_path,
              "unknown key " + Quote(name) + "; valid keys: " + Join(valid, ", "));
        continue;
      }
      ConfigPosition value_pos = PositionOf(value, key_pos);
      loaded_->positions[field_path] = value_pos;
      if (const auto* oneof = field->real_containing_oneof(); oneof != nullptr) {
        const Reflection* refl = msg->GetReflection();
        if (refl->HasOneof(*msg, oneof) && refl->GetOneofFieldDescriptor(*msg, oneof) != field) {
          Error(key_pos, field_path,
                "conflicts with " + Quote(refl->GetOneofFieldDescriptor(*msg, oneof)->name()) +
                    ": only one of the keys of '" + oneof->name() + "' may be given");
          continue;
        }
      }
      MapField(value, value_pos, field_path, msg, field);
    }
  }

  void MapField(const YAML::Node& value, ConfigPosition pos, const std::string& path, Message* msg,
                const FieldDescriptor* field) {
    const Reflection* refl = msg->GetReflection();
    if (field->is_map()) {
      if (value.IsNull()) return;
      if (!value.IsMap()) {
        Error(pos, path, std::string("expected a mapping, got ") + DescribeNode(value));
        return;
      }
      MapMapField(value, pos, path, msg, field);
      return;
    }
    if (field->is_repeated()) {
      if (value.IsNull()) return;
      if (!value.IsSequence()) {
        Error(pos, path, std::string("expected a sequence, got ") + DescribeNode(value));
        return;
      }
      size_t index = 0;
      for (const auto& item : value) {
        const YAML::Node element_node = item;
        std::string element_path = IndexPath(path, index++);
        ConfigPosition element_pos = PositionOf(element_node, pos);
        loaded_->positions[element_path] = element_pos;
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          // Added even when the element is bad, so later indices keep their YAML numbering.
          Message* element = refl->AddMessage(msg, field);
          if (element_node.IsNull()) continue;
          if (!element_node.IsMap()) {
            Error(element_pos, element_path,
                  std::string("expected a mapping, got ") + DescribeNode(element_node));
            continue;
          }
          MapMessage(element_node, element_path, element);
        } else {
          SetScalar(element_node, element_pos, element_path, msg, field);
        }
      }
      return;
    }
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      Message* sub = refl->MutableMessage(msg, field);  // present even if empty
      if (value.IsNull()) return;
      if (!value.IsMap()) {
        Error(pos, path, std::string("expected a mapping, got ") + DescribeNode(value));
        return;
      }
      MapMessage(value, path, sub);
      return;
    }
    SetScalar(value, pos, path, msg, field);
  }

  void MapMapField(const YAML::Node& value, ConfigPosition pos, const std::string& path,
                   Message* msg, const FieldDescriptor* field) {
    const Reflection* refl = msg->GetReflection();
    const FieldDescriptor* key_field = field->message_type()->map_key();
    const FieldDescriptor* value_field = field->message_type()->map_value();
    std::map<std::string, ConfigPosition> seen;
    for (const auto& kv : value) {
      const YAML::Node key_node = kv.first;
      const YAML::Node value_node = kv.second;
      ConfigPosition key_pos = PositionOf(key_node, pos);
      if (!key_node.IsScalar()) {
        Error(key_pos, path, "a key must be a plain value, got " + DescribeNode(key_node));
        continue;
      }
      const std::string key = key_node.Scalar();
      std::string entry_path = FieldPath(path, key);
      auto [prev, inserted] = seen.emplace(key, key_pos);
      if (!inserted) {
        Error(key_pos, entry_path,
              "duplicate key (first given at line " + std::to_string(prev->second.line) + ")");
        continue;
      }
      ConfigPosition value_pos = PositionOf(value_node, key_pos);
      loaded_->positions[entry_path] = value_pos;
      Message* entry = refl->AddMessage(msg, field);
      if (!SetScalar(key_node, key_pos, entry_path, entry, key_field)) {
        refl->RemoveLast(msg, field);
        continue;
      }
      if (value_field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        MapField(value_node, value_pos, entry_path, entry, value_field);
      } else if (!SetScalar(value_node, value_pos, entry_path, entry, value_field)) {
        refl->RemoveLast(msg, field);
      }
    }
  }

  // Sets (or, for a repeated field, adds) a non-message field from a scalar node.
  bool SetScalar(const YAML::Node& node, ConfigPosition pos, const std::string& path, Message* msg,
                 const FieldDescriptor* field) {
    const Reflection* refl = msg->GetReflection();
    const bool add = field->is_repeated();
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
      std::string valid = ValidEnumNames(*field->enum_type());
      if (!node.IsScalar()) {
        Error(pos, path, "expected one of " + valid + ", got " + DescribeNode(node));
        return false;
      }
      const std::string& text = node.Scalar();
      for (const EnumValueDescriptor* v : WritableValues(*field->enum_type())) {
        if (YamlEnumName(*v) != text) continue;
        if (add) {
          refl->AddEnum(msg, field, v);
        } else {
          refl->SetEnum(msg, field, v);
        }
        return true;
      }
      Error(pos, path, "unknown value " + Quote(text) + "; valid values: " + valid);
      return false;
    }
    if (!node.IsScalar()) {
      Error(pos, path,
            std::string("expected ") + DescribeExpected(*field) + ", got " + DescribeNode(node));
      return false;
    }
    const std::string& text = node.Scalar();
    std::string err;
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        add ? refl->AddString(msg, field, text) : refl->SetString(msg, field, text);
        break;
      case FieldDescriptor::CPPTYPE_BOOL: {
        bool b = false;
        err = ParseBool(text, &b);
        if (err.empty()) add ? refl->AddBool(msg, field, b) : refl->SetBool(msg, field, b);
        break;
      }
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT: {
        double d = 0;
        err = ParseDouble(text, &d);
        if (!err.empty()) break;
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
          add ? refl->AddDouble(msg, field, d) : refl->SetDouble(msg, field, d);
        } else {
          auto f = static_cast<float>(d);
          add ? refl->AddFloat(msg, field, f) : refl->SetFloat(msg, field, f);
        }
        break;
      }
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64:
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64: {
        bool negative = false;
        uint64_t magnitude = 0;
        err = ParseInteger(text, RangeOf(field->cpp_type()), &negative, &magnitude);
        if (!err.empty()) break;
        // Two's complement negation of the magnitude gives the value for every in-range
        // negative number, including the minimum.
        uint64_t bits = negative ? (~magnitude + 1) : magnitude;
        switch (field->cpp_type()) {
          case FieldDescriptor::CPPTYPE_INT32: {
            auto v = static_cast<int32_t>(static_cast<int64_t>(bits));
            add ? refl->AddInt32(msg, field, v) : refl->SetInt32(msg, field, v);
            break;
          }
          case FieldDescriptor::CPPTYPE_INT64: {
            auto v = static_cast<int64_t>(bits);
            add ? refl->AddInt64(msg, field, v) : refl->SetInt64(msg, field, v);
            break;
          }
          case FieldDescriptor::CPPTYPE_UINT32: {
            auto v = static_cast<uint32_t>(bits);
            add ? refl->AddUInt32(msg, field, v) : refl->SetUInt32(msg, field, v);
            break;
          }
          default:
            add ? refl->AddUInt64(msg, field, bits) : refl->SetUInt64(msg, field, bits);
            break;
        }
        break;
      }
      default:
        err = "unsupported field type";
        break;
    }
    if (!err.empty()) {
      Error(pos, path, std::move(err));
      return false;
    }
    return true;
  }

  LoadedConfig* loaded_;
  std::vector<ConfigError>* errors_;
  std::vector<std::string>* errored_paths_;
};

// ---------------------------------------------------------------------------------------
// Writing zero where the schema has a non-zero default.

// 0.5 -> "0.5", not "0.500000".
std::string ShortestText(double d) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(d);
}

// A singular scalar's value as a user would write it, for "use the default (X)" messages.
std::string ValueText(const Message& msg, const FieldDescriptor* field) {
  const Reflection* refl = msg.GetReflection();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return "\"" + refl->GetString(msg, field) + "\"";
    case FieldDescriptor::CPPTYPE_INT32:
      return std::to_string(refl->GetInt32(msg, field));
    case FieldDescriptor::CPPTYPE_INT64:
      return std::to_string(refl->GetInt64(msg, field));
    case FieldDescriptor::CPPTYPE_UINT32:
      return std::to_string(refl->GetUInt32(msg, field));
    case FieldDescriptor::CPPTYPE_UINT64:
      return std::to_string(refl->GetUInt64(msg, field));
    case FieldDescriptor::CPPTYPE_BOOL:
      return refl->GetBool(msg, field) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return ShortestText(refl->GetDouble(msg, field));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return ShortestText(refl->GetFloat(msg, field));
    case FieldDescriptor::CPPTYPE_ENUM:
      return YamlEnumName(*refl->GetEnum(msg, field));
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return "";
  }
  return "";
}

// proto3 cannot tell "written as 0 / empty" from "not written", so ApplyDefaults would
// silently replace `threads: 0` or `listen: ""` with the default. Written keys whose value
// ApplyDefaults changed are reported instead: the user asked for something we do not do.
// Keys that already failed to map (errored_paths) are left alone.
void ReportOverriddenValues(const Message& before, const Message& after, const std::string& path,
                            const LoadedConfig& loaded,
                            const std::vector<std::string>& errored_paths,
                            std::vector<ConfigError>* errors) {
  const Descriptor* desc = before.GetDescriptor();
  const Reflection* refl = before.GetReflection();
  for (int i = 0; i < desc->field_count(); ++i) {
    const FieldDescriptor* field = desc->field(i);
    std::string field_path = FieldPath(path, field->name());
    if (field->is_map()) continue;
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (field->is_repeated()) {
        int n = std::min(refl->FieldSize(before, field), refl->FieldSize(after, field));
        for (int j = 0; j < n; ++j) {
          ReportOverriddenValues(refl->GetRepeatedMessage(before, field, j),
                                 refl->GetRepeatedMessage(after, field, j),
                                 IndexPath(field_path, j), loaded, errored_paths, errors);
        }
      } else if (refl->HasField(before, field)) {
        ReportOverriddenValues(refl->GetMessage(before, field), refl->GetMessage(after, field),
                               field_path, loaded, errored_paths, errors);
      }
      continue;
    }
    if (field->is_repeated() || field->has_presence()) continue;
    auto pos = loaded.positions.find(field_path);
    if (pos == loaded.positions.end()) continue;
    if (std::any_of(errored_paths.begin(), errored_paths.end(),
                    [&](const std::string& bad) { return PathIsUnder(field_path, bad); })) {
      continue;
    }
    std::string was = ValueText(before, field);
    std::string now = ValueText(after, field);
    if (was == now) continue;
    std::string what = field->cpp_type() == FieldDescriptor::CPPTYPE_STRING
                           ? std::string("must not be empty")
                           : was + " is not allowed";
    errors->push_back({loaded.source_name, pos->second.line, pos->second.column, field_path,
                       what + "; omit the key to use the default (" + now + ")"});
  }
}

// Config.service_events, Config.suppression and feeds[].outdated_after (docs/service-events.md,
// docs/hits.md#suppression): a (key path, message) pair for each bad value.
static std::vector<std::pair<std::string, std::string>> CheckServiceEventsAndSuppression(const config::Config& c) {
  std::vector<std::pair<std::string, std::string>> errors;
  auto duration = [&](const std::string& path, const std::string& text, bool zero_ok) {
    Result<std::chrono::milliseconds> d = ParseDuration(text);
    if (!d.ok()) {
      errors.emplace_back(path, d.status().message());
    } else if (d->count() < 0 || (d->count() == 0 && !zero_ok)) {
      errors.emplace_back(path, "must be longer than 0, got " + Quote(text));
    }
  };
  duration("service_events.check_interval", c.service_events().check_interval(), false);
  duration("suppression.window", c.suppression().window(), true);
  for (int i = 0; i < c.feeds_size(); ++i) {
    if (!c.feeds(i).outdated_after().empty()) {
      duration(IndexPath("feeds", i) + ".outdated_after", c.feeds(i).outdated_after(), false);
    }
  }
  for (int i = 0; i < c.allowlists_size(); ++i) {
    if (!c.allowlists(i).outdated_after().empty())
      errors.emplace_back(IndexPath("allowlists", i) + ".outdated_after", "only used by feeds");
  }
  return errors;
}

// Output.events (docs/hits.md#service-events): the filter applies to hits only, so on an
// output that receives service events only it would silently do nothing.
static std::vector<std::pair<std::string, std::string>> CheckOutputEvents(const config::Config& c) {
  std::vector<std::pair<std::string, std::string>> errors;
  for (int i = 0; i < c.outputs_size(); ++i) {
    const config::Output& out = c.outputs(i);
    const config::OutputFilter& f = out.filter();
    const bool filtered = f.min_confidence() > 0 || f.indicator_types_size() > 0 || f.feeds_size() > 0 || f.tags_size() > 0;
    if (out.events() == config::OUTPUT_EVENTS_SERVICE && filtered) {
      errors.emplace_back(IndexPath("outputs", i) + ".filter",
                          "applies to hits only, and this output receives service events only (events: service); "
                          "remove the filter or use events: all");
    }
  }
  return errors;
}

// The syntax of line templates and LEEF delimiters (common/format_syntax.h), of outputs and
// of inputs' reply_back, so that a bad one is reported at its line rather than when the
// daemon builds the formatter.
static std::vector<std::pair<std::string, std::string>> CheckFormatSyntax(const config::Config& c) {
  std::vector<std::pair<std::string, std::string>> errors;
  auto check = [&errors](const std::string& path, const std::string& line_template,
                         const std::string& leef_delimiter) {
    if (!line_template.empty()) {
      if (auto parsed = ParseLineTemplate(line_template); !parsed.ok())
        errors.emplace_back(path + ".line_template", parsed.status().message());
    }
    if (!leef_delimiter.empty()) {
      if (auto parsed = ParseLeefDelimiter(leef_delimiter); !parsed.ok())
        errors.emplace_back(path + ".leef_delimiter", parsed.status().message());
    }
  };
  for (int i = 0; i < c.outputs_size(); ++i) {
    check(IndexPath("outputs", i), c.outputs(i).line_template(), c.outputs(i).leef_delimiter());
  }
  for (int i = 0; i < c.inputs_size(); ++i) {
    const config::Input::ReplyBack& rb = c.inputs(i).reply_back();
    check(IndexPath("inputs", i) + ".reply_back", rb.line_template(), rb.leef_delimiter());
  }
  return errors;
}

// ---------------------------------------------------------------------------------------
// Semantic validation.

// Config.sources (docs/rules.md): names, selectors, rule types and modes. Whether the
// patterns compile is checked by SourceRules::Build (rules/source_rules.h), which needs
// Vectorscan; the daemon calls it with the LoadedConfig, so its errors carry file:line too.
static std::vector<std::pair<std::string, std::string>> CheckSources(const config::Config& c) {
  std::vector<std::pair<std::string, std::string>> errors;
  std::map<std::string, std::string> names;
  std::string default_source;
  for (int i = 0; i < c.sources_size(); ++i) {
    const config::Source& src = c.sources(i);
    const std::string path = IndexPath("sources", i);
    if (src.name().empty()) errors.emplace_back(path + ".name", "required");
    else if (auto [prev, inserted] = names.emplace(src.name(), path); !inserted)
      errors.emplace_back(path + ".name", "duplicate name " + Quote(src.name()) + ", already used by " + prev->second);
    for (int j = 0; j < src.senders_size(); ++j) {
      Result<Indicator> net = ParseIndicator(src.senders(j));
      const bool ip = net.ok() && (net->type == IndicatorType::kIpv4 || net->type == IndicatorType::kIpv6 ||
                                   net->type == IndicatorType::kCidr4 || net->type == IndicatorType::kCidr6);
      if (!ip) errors.emplace_back(IndexPath(path + ".senders", j), "expected an IP address or CIDR, got " + Quote(src.senders(j)));
    }
    for (int j = 0; j < src.hostnames_size(); ++j) {
      if (src.hostnames(j).empty()) errors.emplace_back(IndexPath(path + ".hostnames", j), "must not be empty");
    }
    if (src.senders_size() == 0 && src.hostnames_size() == 0) {
      if (!default_source.empty())
        errors.emplace_back(path, "a second default source (no senders or hostnames); " + default_source + " is one already");
      default_source = path;
    }
    std::set<std::string> rule_names;
    for (int j = 0; j < src.rules_size(); ++j) {
      const config::SourceRule& rule = src.rules(j);
      const std::string rule_path = IndexPath(path + ".rules", j);
      if (rule.name().empty()) errors.emplace_back(rule_path + ".name", "required");
      else if (!rule_names.insert(rule.name()).second)
        errors.emplace_back(rule_path + ".name", "duplicate rule name " + Quote(rule.name()) + " in this source");
      if (rule.regex().empty()) errors.emplace_back(rule_path + ".regex", "required");
      static constexpr std::string_view kTypes[] = {"url", "ip", "domain", "md5", "sha1", "sha256", "context"};
      if (std::find(std::begin(kTypes), std::end(kTypes), rule.type()) == std::end(kTypes))
        errors.emplace_back(rule_path + ".type", "expected url, ip, domain, md5, sha1, sha256 or context, got " + Quote(rule.type()));
      if (rule.extract() != "all" && rule.extract() != "first")
        errors.emplace_back(rule_path + ".extract", "expected all or first, got " + Quote(rule.extract()));
    }
    for (int j = 0; j < src.replace_size(); ++j) {
      if (src.replace(j).regex().empty()) errors.emplace_back(IndexPath(path + ".replace", j) + ".regex", "required");
    }
    for (int j = 0; j < src.ignore_size(); ++j) {
      if (src.ignore(j).empty()) errors.emplace_back(IndexPath(path + ".ignore", j), "must not be empty");
    }
  }
  return errors;
}

class Validator {
 public:
  Validator(LoadedConfig* loaded, const std::vector<std::string>& errored_paths,
            std::vector<ConfigError>* errors)
      : loaded_(loaded), errored_paths_(errored_paths), errors_(errors) {}

  void Run() {
    config::Config& c = loaded_->config;
    std::map<std::string, std::string> names;
    for (int i = 0; i < c.inputs_size(); ++i)
      ValidateInput(IndexPath("inputs", i), c.inputs(i), &names);
    names.clear();
    for (int i = 0; i < c.feeds_size(); ++i)
      ValidateFeed(IndexPath("feeds", i), c.mutable_feeds(i), /*allowlist=*/false, &names);
    names.clear();
    for (int i = 0; i < c.allowlists_size(); ++i) {
      ValidateFeed(IndexPath("allowlists", i), c.mutable_allowlists(i), /*allowlist=*/true, &names);
    }
    names.clear();
    for (int i = 0; i < c.outputs_size(); ++i)
      ValidateOutput(IndexPath("outputs", i), c.outputs(i), &names);

    static constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn", "error"};
    const std::string& level = c.logging().level();
    if (std::find(std::begin(kLevels), std::end(kLevels), level) == std::end(kLevels)) {
      Error("logging.level",
            "unknown level " + Quote(level) + "; valid levels: trace, debug, info, warn, error");
    }
    if (c.threads() < 1 || c.threads() > kMaxThreads) {
      Error("threads", "must be between 1 and " + std::to_string(kMaxThreads) + ", got " +
                           std::to_string(c.threads()));
    }
    for (auto& [path, message] : CheckServiceEventsAndSuppression(c)) Error(path, std::move(message));
    for (auto& [path, message] : CheckSources(c)) Error(path, std::move(message));
    for (auto& [path, message] : CheckOutputEvents(c)) Error(path, std::move(message));
    for (auto& [path, message] : CheckFormatSyntax(c)) Error(path, std::move(message));
    if (!c.metrics_listen().empty()) {
      if (Result<HostPort> hp = ParseHostPort(c.metrics_listen(), /*allow_hostname=*/false); !hp.ok())
        Error("metrics_listen", hp.status().message());
    }
  }

 private:
  void Error(const std::string& path, std::string message) {
    // A key that already failed to map would only produce follow-on noise here.
    for (const std::string& bad : errored_paths_) {
      if (PathIsUnder(path, bad)) return;
    }
    errors_->push_back(loaded_->ErrorAt(path, std::move(message)));
  }

  void ValidateName(const std::string& path, const std::string& name,
                    std::map<std::string, std::string>* names) {
    std::string name_path = path + ".name";
    if (name.empty()) {
      Error(name_path, "required");
      return;
    }
    bool ok = std::all_of(name.begin(), name.end(), [](char ch) {
      return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
             ch == '_' || ch == '.' || ch == '-';
    });
    if (!ok) {
      Error(name_path,
            "invalid name " + Quote(name) + ": use only letters, digits, '_', '.' and '-'");
      return;
    }
    auto [prev, inserted] = names->emplace(name, path);
    if (!inserted) {
      ConfigError first = loaded_->ErrorAt(prev->second + ".name", "");
      Error(name_path, "duplicate name " + Quote(name) + ", already used by " + prev->second +
                           " (line " + std::to_string(first.line) + ")");
    }
  }

  void ValidateInput(const std::string& path, const config::Input& in,
                     std::map<std::string, std::string>* names) {
    ValidateName(path, in.name(), names);
    if (in.protocol() == config::INPUT_PROTOCOL_UNSPECIFIED) {
      Error(path + ".protocol",
            "required; valid values: " + ValidEnumNames(*config::InputProtocol_descriptor()));
    }
    const config::InputProtocol protocol = in.protocol();
    if (protocol == config::INPUT_PROTOCOL_SYSLOG_UNIX) {
      if (in.path().empty()) Error(path + ".path", "required for protocol syslog-unix (the socket's file path)");
      if (!in.listen().empty()) Error(path + ".listen", "not used by protocol syslog-unix; give path instead");
      const std::string& mode = in.socket_mode();
      bool octal = !mode.empty() && mode.size() <= 4 &&
                   std::all_of(mode.begin(), mode.end(), [](char ch) { return ch >= '0' && ch <= '7'; });
      if (!octal) Error(path + ".socket_mode", "expected octal permission bits such as 0660, got " + Quote(mode));
    } else {
      Result<HostPort> hp = ParseHostPort(in.listen(), /*allow_hostname=*/false);
      if (!hp.ok()) Error(path + ".listen", hp.status().message());
      if (!in.path().empty()) Error(path + ".path", "only used by protocol syslog-unix");
      if (!in.socket_mode().empty()) Error(path + ".socket_mode", "only used by protocol syslog-unix");
    }
    if (in.idle_timeout() != "0") ValidateDuration(path + ".idle_timeout", in.idle_timeout());  // "0": never
    if (protocol == config::INPUT_PROTOCOL_SYSLOG_TLS) {
      if (in.tls().cert().empty()) Error(path + ".tls.cert", "required for protocol syslog-tls (PEM file)");
      if (in.tls().key().empty()) Error(path + ".tls.key", "required for protocol syslog-tls (PEM file)");
      if (in.tls().require_client_cert() && in.tls().ca().empty()) {
        Error(path + ".tls.ca", "required when require_client_cert is true (PEM file of the client CA)");
      }
    } else if (in.has_tls()) {
      Error(path + ".tls", "only used by protocol syslog-tls");
    }
    if (protocol == config::INPUT_PROTOCOL_SYSLOG_UDP && in.has_reply_back()) {
      Error(path + ".reply_back", "only used by protocol syslog-tcp, syslog-tls and syslog-unix");
    }
  }

  // Protocol relp: address is required, as for tcp.
  void ValidateRelpOutput(const std::string& path, const config::Output& out) {
    if (out.protocol() != config::OUTPUT_PROTOCOL_RELP) return;
    if (out.address().empty()) {
      Error(path + ".address", "required for protocol relp (host:port)");
      return;
    }
    Result<HostPort> hp = ParseHostPort(out.address(), /*allow_hostname=*/true);
    if (!hp.ok()) {
      Error(path + ".address", hp.status().message());
    } else if (hp->port == 0) {
      Error(path + ".address", "port 0 is not a valid destination");
    }
  }

  void ValidateOutput(const std::string& path, const config::Output& out,
                      std::map<std::string, std::string>* names) {
    ValidateName(path, out.name(), names);
    switch (out.protocol()) {
      case config::OUTPUT_PROTOCOL_UNSPECIFIED:
        Error(path + ".protocol",
              "required; valid values: " + ValidEnumNames(*config::OutputProtocol_descriptor()));
        break;
      case config::OUTPUT_PROTOCOL_TCP: {
        if (out.address().empty()) {
          Error(path + ".address", "required for protocol tcp (host:port)");
          break;
        }
        Result<HostPort> hp = ParseHostPort(out.address(), /*allow_hostname=*/true);
        if (!hp.ok()) {
          Error(path + ".address", hp.status().message());
        } else if (hp->port == 0) {
          Error(path + ".address", "port 0 is not a valid destination");
        }
        break;
      }
      case config::OUTPUT_PROTOCOL_STDOUT:
        if (!out.address().empty()) {
          Error(path + ".address", "not used by protocol stdout; remove it");
        }
        break;
      case config::OUTPUT_PROTOCOL_UDP: {
        Result<HostPort> hp = ParseHostPort(out.address(), /*allow_hostname=*/true);
        if (out.address().empty()) {
          Error(path + ".address", "required for protocol udp (host:port)");
        } else if (!hp.ok()) {
          Error(path + ".address", hp.status().message());
        } else if (hp->port == 0) {
          Error(path + ".address", "port 0 is not a valid destination");
        }
        break;
      }
      case config::OUTPUT_PROTOCOL_FILE:
        if (out.path().empty()) Error(path + ".path", "required for protocol file (the file hits are appended to)");
        if (!out.address().empty()) Error(path + ".address", "not used by protocol file; give path instead");
        break;
      case config::OUTPUT_PROTOCOL_RELP: ValidateRelpOutput(path, out); break;
      default:
        break;
    }
    if (out.protocol() == config::OUTPUT_PROTOCOL_TLS) {
      Result<HostPort> hp = ParseHostPort(out.address(), /*allow_hostname=*/true);
      if (out.address().empty()) {
        Error(path + ".address", "required for protocol tls (host:port)");
      } else if (!hp.ok()) {
        Error(path + ".address", hp.status().message());
      }
      if (out.tls().cert().empty() != out.tls().key().empty()) {
        Error(path + ".tls", "give both cert and key, or neither");
      }
    } else if (out.has_tls()) {
      Error(path + ".tls", "only used by protocol tls");
    }
    if (out.protocol() != config::OUTPUT_PROTOCOL_FILE && !out.path().empty()) {
      Error(path + ".path", "only used by protocol file");
    }
    if (out.framing() == config::OUTPUT_FRAMING_OCTET_COUNTED && out.protocol() != config::OUTPUT_PROTOCOL_TCP &&
        out.protocol() != config::OUTPUT_PROTOCOL_TLS) {
      Error(path + ".framing", "octet-counted is only for protocol tcp or tls");
    }
    if (out.format() == config::OUTPUT_FORMAT_TEMPLATE && out.line_template().empty()) {
      Error(path + ".line_template", "required for format template");
    }
    if (out.format() != config::OUTPUT_FORMAT_TEMPLATE && !out.line_template().empty()) {
      Error(path + ".line_template", "only used by format template");
    }
    if (!out.spool().min_round_gap().empty()) {  // "0" (off) is fine here
      if (auto gap = ParseDuration(out.spool().min_round_gap()); !gap.ok()) {
        Error(path + ".spool.min_round_gap", gap.status().message());
      }
    }
    if (out.spool().disabled() && out.format() != config::OUTPUT_FORMAT_JSON &&
        out.format() != config::OUTPUT_FORMAT_UNSPECIFIED) {
      Error(path + ".spool.disabled", "an output without spool supports format json only");
    }
    if (out.spool().disabled() && out.protocol() != config::OUTPUT_PROTOCOL_TCP &&
        out.protocol() != config::OUTPUT_PROTOCOL_STDOUT) {
      Error(path + ".spool.disabled", "an output without spool supports protocol tcp or stdout only");
    }
  }

  // Feeds and allowlists share the Feed message.
  void ValidateFeed(const std::string& path, config::Feed* feed, bool allowlist,
                    std::map<std::string, std::string>* names) {
    ValidateName(path, feed->name(), names);
    if (feed->path().empty() && feed->url().empty()) {
      Error(path + ".path", "required: give path (a file) or url");
    } else if (!feed->path().empty() && !feed->url().empty()) {
      Error(path + ".url", "give either path or url, not both");
    } else if (!feed->url().empty()) {
      std::string lower;
      for (char ch : feed->url()) lower += AsciiLower(ch);
      bool http = lower.rfind("http://", 0) == 0 && lower.size() > 7;
      bool https = lower.rfind("https://", 0) == 0 && lower.size() > 8;
      if (!http && !https) {
        Error(path + ".url", "must be an http:// or https:// URL, got " + Quote(feed->url()));
      }
    }
    ValidateDuration(path + ".update_interval", feed->update_interval());
    if (!feed->ttl().empty()) ValidateDuration(path + ".ttl", feed->ttl());
    if (feed->has_confidence() && feed->confidence() > 100) {
      Error(path + ".confidence", "must be 0..100, got " + std::to_string(feed->confidence()));
    }
    if (feed->has_max_shrink() && !(feed->max_shrink() >= 0.0 && feed->max_shrink() <= 1.0)) {
      Error(path + ".max_shrink",
            "must be between 0 and 1 (1 disables the check), got " +
                ValueText(*feed, feed->GetDescriptor()->FindFieldByName("max_shrink")));
    }
    for (int i = 0; i < feed->tags_size(); ++i) {
      if (feed->tags(i).empty()) Error(IndexPath(path + ".tags", i), "must not be empty");
    }
    if (feed->context().count("") != 0) {
      Error(path + ".context", "a context field name must not be empty");
    }
    if (feed->drop_indicators() && !allowlist) {
      Error(path + ".drop_indicators", "only for allowlists");
    }

    if (feed->format() == config::FEED_FORMAT_UNSPECIFIED) {
      Error(path + ".format",
            "required; valid values: " + ValidEnumNames(*config::FeedFormat_descriptor()));
      return;
    }
    const std::string format_name =
        YamlEnumName(*config::FeedFormat_descriptor()->FindValueByNumber(feed->format()));
    if (allowlist && feed->format() != config::FEED_FORMAT_PLAIN &&
        feed->format() != config::FEED_FORMAT_WARNINGLIST) {
      Error(path + ".format", "an allowlist's format is plain or warninglist, got " + format_name);
    }
    if (feed->misp_include_non_ids() && feed->format() != config::FEED_FORMAT_MISP) {
      Error(path + ".misp_include_non_ids",
            "only for format misp (this feed's format is " + format_name + ")");
    }
    if (!feed->type().empty()) {
      if (feed->format() != config::FEED_FORMAT_PLAIN) {
        Error(path + ".type", "only for format plain (this feed's format is " + format_name + ")");
      } else if (!ParseTypeName(feed->type())) {
        std::vector<std::string> types;
        for (IndicatorType t : kAllIndicatorTypes) types.emplace_back(TypeName(t));
        Error(path + ".type", "unknown indicator type " + Quote(feed->type()) +
                                  "; valid types: " + Join(types, ", "));
      }
    }
    if (feed->format() != config::FEED_FORMAT_CSV) {
      if (feed->has_csv()) {
        Error(
            path + ".csv",
            "only allowed with format: csv (this feed's format is " +
                YamlEnumName(*config::FeedFormat_descriptor()->FindValueByNumber(feed->format())) +
                ")");
      }
      return;
    }
    config::CsvOptions* csv = feed->mutable_csv();
    const std::string csv_path = path + ".csv";
    const std::string& d = csv->delimiter();
    if (d == "tab" || d == "\\t") {
      csv->set_delimiter("\t");
    } else if (d.size() != 1) {
      Error(csv_path + ".delimiter", "must be one character, \"\\t\" or \"tab\"; got " + Quote(d));
    } else if (d[0] == '"' || d[0] == '\n' || d[0] == '\r') {
      Error(csv_path + ".delimiter", Quote(d) + " cannot be a delimiter");
    } else if (static_cast<unsigned char>(d[0]) >= 0x80) {
      Error(csv_path + ".delimiter", "must be an ASCII character");
    }
    ValidateColumn(csv_path + ".value_column", csv->value_column(), csv->header());
    if (!csv->type_column().empty()) {
      ValidateColumn(csv_path + ".type_column", csv->type_column(), csv->header());
    }
    // Sorted, so errors come out in a stable order.
    std::map<std::string, std::string> context(csv->context_columns().begin(),
                                               csv->context_columns().end());
    for (const auto& [field, column] : context) {
      std::string entry_path = csv_path + ".context_columns." + field;
      if (field.empty()) Error(entry_path, "a context field name must not be empty");
      ValidateColumn(entry_path, column, csv->header());
    }
  }

  void ValidateDuration(const std::string& path, const std::string& text) {
    Result<std::chrono::milliseconds> d = ParseDuration(text);
    if (!d.ok()) {
      Error(path, d.status().message());
    } else if (d->count() <= 0) {
      Error(path, "must be longer than 0, got " + Quote(text));
    }
  }

  void ValidateColumn(const std::string& path, const std::string& column, bool header) {
    if (column.empty()) {
      Error(path, "must name a column: a number from 1, or a header name");
    } else if (IsAllDigits(column)) {
      uint32_t n = 0;
      auto [ptr, ec] = std::from_chars(column.data(), column.data() + column.size(), n);
      if (ec != std::errc() || n == 0) {
        Error(path, "column number " + column + " is out of range (columns are numbered from 1)");
      }
    } else if (!header) {
      Error(path, "column " + Quote(column) +
                      " is a header name, which needs `header: true` (or give a column number)");
    }
  }

  LoadedConfig* loaded_;
  const std::vector<std::string>& errored_paths_;
  std::vector<ConfigError>* errors_;
};

std::string JoinErrors(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const ConfigError& e : errors) {
    if (!out.empty()) out += '\n';
    out += e.ToString();
  }
  return out;
}

bool IsValidHostname(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::string_view last_label;
  size_t start = 0;
  while (start <= host.size()) {
    size_t end = host.find('.', start);
    if (end == std::string_view::npos) end = host.size();
    std::string_view label = host.substr(start, end - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_';
      if (!ok) return false;
    }
    last_label = label;
    start = end + 1;
  }
  // "1.2.3" or "300.1.1.1" are malformed addresses, not names.
  return !IsAllDigits(last_label);
}

// Records where each document starts; the content is not needed.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;

  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// An error if text is not exactly one YAML document (zero is fine: an empty config).
// Throws YAML::ParserException on syntax errors, like YAML::Load.
//
// Needed because of a yaml-cpp 0.7 bug: a stray flow token at block level (", a" on its own
// line) makes the parser return an empty document without consuming the token, again and
// again. YAML::Load then silently returns null for the whole file, and YAML::LoadAll
// allocates documents until memory runs out. The parser is therefore driven here one
// document at a time, and a document that starts where the previous one did is an error.
std::optional<ConfigError> CheckDocuments(const std::string& text, const std::string& source) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts docs;
  auto at = [&](const YAML::Mark& m, std::string message) {
    return ConfigError{source, m.line >= 0 ? m.line + 1 : 0, m.column >= 0 ? m.column + 1 : 0, "",
                       std::move(message)};
  };
  while (parser.HandleNextDocument(docs)) {
    const size_t n = docs.starts.size();
    if (n >= 2 && docs.starts[n - 1].pos == docs.starts[n - 2].pos) {
      const YAML::Mark& m = docs.starts[n - 1];
      const bool comma = m.pos >= 0 && static_cast<size_t>(m.pos) < text.size() &&
                         text[static_cast<size_t>(m.pos)] == ',';
      return at(m, comma ? "YAML syntax error: ',' outside [ ] or { }"
                         : "YAML syntax error: unexpected content");
    }
    if (n >= 3) break;  // a third start tells a second document from a stuck parser
  }
  if (docs.starts.size() >= 2) {
    return at(docs.starts[1], "only one YAML document is allowed; '---' starts a second one");
  }
  return std::nullopt;
}

}  // namespace

// -----------------------------------------------------------------------------------------
// Public API.

std::string ConfigError::ToString() const {
  std::string out = file;
  if (line > 0) {
    out += ':' + std::to_string(line);
    if (column > 0) out += ':' + std::to_string(column);
  }
  out += ": ";
  if (!key_path.empty()) out += key_path + ": ";
  out += message;
  return out;
}

ConfigError LoadedConfig::ErrorAt(std::string_view key_path, std::string message) const {
  std::string_view probe = key_path;
  ConfigPosition pos;
  while (true) {
    auto it = positions.find(probe);
    if (it != positions.end()) {
      pos = it->second;
      break;
    }
    if (probe.empty()) break;
    probe = ParentPath(probe);
  }
  return {source_name, pos.line, pos.column, std::string(key_path), std::move(message)};
}

std::string YamlEnumName(const EnumValueDescriptor& value) {
  std::string prefix = UpperSnake(value.type()->name()) + "_";
  std::string_view name = value.name();
  if (name.size() > prefix.size() && name.substr(0, prefix.size()) == prefix) {
    name.remove_prefix(prefix.size());
  }
  std::string out;
  for (char c : name) out += c == '_' ? '-' : AsciiLower(c);
  return out;
}

namespace {

// Input.reply_back (docs/replyback.md); stream inputs only. An empty line_template is
// filled in by the event processor (its default lives next to the renderer).
void ApplyReplyBackDefaults(config::Input* in) {
  if (in->protocol() == config::INPUT_PROTOCOL_SYSLOG_UDP) return;
  config::Input::ReplyBack* rb = in->mutable_reply_back();
  if (!rb->has_enabled()) rb->set_enabled(true);
  if (rb->format() == config::OUTPUT_FORMAT_UNSPECIFIED) rb->set_format(config::OUTPUT_FORMAT_TEMPLATE);
  if (rb->format() == config::OUTPUT_FORMAT_LEEF && rb->leef_delimiter().empty()) rb->set_leef_delimiter("x09");
  if (rb->max_pending_bytes() == 0) rb->set_max_pending_bytes(1048576);
}

// Config.service_events and Config.suppression (defaults documented in config.proto).
void ApplyServiceEventsAndSuppressionDefaults(config::Config* c) {
  config::ServiceEvents* events = c->mutable_service_events();
  if (!events->has_enabled()) events->set_enabled(true);
  if (events->backlog_high() == 0) events->set_backlog_high(10000);
  if (events->check_interval().empty()) events->set_check_interval("10s");
  config::Suppression* suppression = c->mutable_suppression();
  if (suppression->window().empty()) suppression->set_window("0");
  if (suppression->max_keys() == 0) suppression->set_max_keys(1000000);
}

// Config.sources (defaults documented in config.proto).
void ApplySourceDefaults(config::Source* src) {
  if (!src->has_builtin_extraction()) src->set_builtin_extraction(true);
  for (config::SourceRule& rule : *src->mutable_rules()) {
    if (rule.extract().empty()) rule.set_extract("all");
  }
}

void ApplyFeedDefaults(config::Feed* feed) {
  if (!feed->has_enabled()) feed->set_enabled(true);
  if (!feed->has_subdomains()) feed->set_subdomains(true);
  if (!feed->has_max_shrink()) feed->set_max_shrink(0.5);
  if (feed->update_interval().empty())
    feed->set_update_interval(feed->url().empty() ? "10s" : "1h");
  if (feed->format() == config::FEED_FORMAT_CSV || feed->has_csv()) {
    config::CsvOptions* csv = feed->mutable_csv();
    if (csv->delimiter().empty()) csv->set_delimiter(",");
    if (csv->value_column().empty()) csv->set_value_column("1");
  }
}

}  // namespace

void ApplyDefaults(config::Config* c) {
  if (c->state_dir().empty()) c->set_state_dir("./var/iocd");
  if (c->threads() == 0) c->set_threads(1);
  for (config::Input& in : *c->mutable_inputs()) {
    const bool unix_socket = in.protocol() == config::INPUT_PROTOCOL_SYSLOG_UNIX;
    if (in.listen().empty() && !unix_socket) {
      in.set_listen(in.protocol() == config::INPUT_PROTOCOL_SYSLOG_TLS ? "127.0.0.1:6514" : "127.0.0.1:9999");
    }
    if (in.max_message_bytes() == 0) in.set_max_message_bytes(1048576);
    if (in.max_connections() == 0) in.set_max_connections(1024);
    if (in.idle_timeout().empty()) in.set_idle_timeout("10m");
    if (in.socket_mode().empty() && unix_socket) in.set_socket_mode("0660");
    ApplyReplyBackDefaults(&in);
  }
  if (c->control_socket().empty()) {
    std::string dir = c->state_dir();
    if (dir.back() != '/') dir += '/';
    c->set_control_socket(dir + "control.sock");
  }
  for (auto* feeds : {c->mutable_feeds(), c->mutable_allowlists()}) {
    for (config::Feed& feed : *feeds) ApplyFeedDefaults(&feed);
  }
  for (config::Output& out : *c->mutable_outputs()) {
    if (out.format() == config::OUTPUT_FORMAT_UNSPECIFIED)
      out.set_format(config::OUTPUT_FORMAT_JSON);
    if (out.queue_size() == 0) out.set_queue_size(100000);
    if (out.framing() == config::OUTPUT_FRAMING_UNSPECIFIED) out.set_framing(config::OUTPUT_FRAMING_LF);
    if (out.protocol() == config::OUTPUT_PROTOCOL_FILE) {
      if (out.max_file_bytes() == 0) out.set_max_file_bytes(104857600);
      if (out.max_files() == 0) out.set_max_files(5);
    }
    if (out.format() == config::OUTPUT_FORMAT_LEEF && out.leef_delimiter().empty()) out.set_leef_delimiter("x09");
    if (!out.spool().disabled()) {
      if (out.spool().max_bytes() == 0) out.mutable_spool()->set_max_bytes(uint64_t{1} << 30);
      if (out.spool().max_hits() == 0) out.mutable_spool()->set_max_hits(1000000);
      if (out.spool().min_round_gap().empty()) out.mutable_spool()->set_min_round_gap("0");
    }
  }
  if (c->logging().level().empty()) c->mutable_logging()->set_level("info");
  ApplyServiceEventsAndSuppressionDefaults(c);
  for (config::Source& src : *c->mutable_sources()) ApplySourceDefaults(&src);
}

Result<LoadedConfig> ParseConfigWithPositions(std::string_view yaml_text,
                                              std::string_view source_name,
                                              std::vector<ConfigError>* errors_out) {
  LoadedConfig loaded;
  loaded.source_name = std::string(source_name);
  std::vector<ConfigError> errors;
  std::vector<std::string> errored_paths;
  bool mapped = false;
  try {
    const std::string text(yaml_text);
    std::optional<ConfigError> structure_error = CheckDocuments(text, loaded.source_name);
    if (structure_error) {
      errors.push_back(std::move(*structure_error));
    } else {
      Mapper mapper(&loaded, &errors, &errored_paths);
      mapper.MapRoot(YAML::Load(text));
      mapped = true;
    }
  } catch (const YAML::ParserException& e) {
    // yaml-cpp marks are 0-based.
    errors.push_back({loaded.source_name, e.mark.line >= 0 ? e.mark.line + 1 : 0,
                      e.mark.column >= 0 ? e.mark.column + 1 : 0, "",
                      "YAML syntax error: " + e.msg});
  } catch (const std::exception& e) {
    errors.push_back({loaded.source_name, 0, 0, "", std::string("cannot read YAML: ") + e.what()});
  } catch (...) {
    errors.push_back({loaded.source_name, 0, 0, "", "cannot read YAML: unknown error"});
  }

  if (mapped) {
    config::Config before = loaded.config;
    ApplyDefaults(&loaded.config);
    ReportOverriddenValues(before, loaded.config, "", loaded, errored_paths, &errors);
    for (const ConfigError& e : errors) errored_paths.push_back(e.key_path);
    Validator(&loaded, errored_paths, &errors).Run();
  }

  if (errors.empty()) return loaded;
  std::stable_sort(errors.begin(), errors.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  Status status = Status::InvalidArgument(JoinErrors(errors));
  if (errors_out != nullptr) *errors_out = std::move(errors);
  return status;
}

Result<config::Config> ParseConfig(std::string_view yaml_text, std::string_view source_name) {
  Result<LoadedConfig> loaded = ParseConfigWithPositions(yaml_text, source_name);
  if (!loaded.ok()) return loaded.status();
  return std::move(loaded->config);
}

Result<LoadedConfig> LoadConfigFileWithPositions(const std::string& path,
                                                 std::vector<ConfigError>* errors) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status::IoError("cannot open config file '" + path + "': " + std::strerror(errno));
  }
  std::string text;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Status::IoError("cannot read config file '" + path + "': " + std::strerror(err));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return ParseConfigWithPositions(text, path, errors);
}

Result<config::Config> LoadConfigFile(const std::string& path) {
  Result<LoadedConfig> loaded = LoadConfigFileWithPositions(path);
  if (!loaded.ok()) return loaded.status();
  return std::move(loaded->config);
}

Result<config::Config> DefaultConfig() {
  return ParseConfig(EmbeddedDefaultConfig(), "<embedded default>");
}

Result<HostPort> ParseHostPort(std::string_view text, bool allow_hostname) {
  auto bad = [&](std::string why) { return Status::InvalidArgument(std::move(why)); };
  std::string_view host;
  std::string_view port_text;
  bool bracketed = false;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos)
      return bad("missing ']' after IPv6 address in " + Quote(text));
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest[0] != ':') return bad("expected [ipv6]:port, got " + Quote(text));
    port_text = rest.substr(1);
    bracketed = true;
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("expected host:port, got " + Quote(text));
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return bad("an IPv6 address needs brackets, as in [::1]:9999; got " + Quote(text));
    }
  }
  if (host.empty()) return bad("missing host in " + Quote(text));
  if (port_text.empty()) return bad("missing port in " + Quote(text));
  if (!IsAllDigits(port_text)) return bad("port " + Quote(port_text) + " is not a number");
  uint32_t port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || port > 65535) {
    return bad("port " + std::string(port_text) + " is out of range 0..65535");
  }

  std::string host_str(host);
  unsigned char addr[16];
  if (bracketed) {
    if (inet_pton(AF_INET6, host_str.c_str(), addr) != 1) {
      return bad(Quote(host) + " is not an IPv6 address");
    }
  } else if (inet_pton(AF_INET, host_str.c_str(), addr) != 1) {
    if (!allow_hostname) return bad("host must be an IP address, got " + Quote(host));
    if (!IsValidHostname(host)) return bad(Quote(host) + " is not a valid host name or IP address");
  }
  return HostPort{std::move(host_str), static_cast<uint16_t>(port)};
}

}  // namespace iocd
