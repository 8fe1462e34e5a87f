// Config loading: turns a YAML file into an iocd.config.Config (proto/config.proto), the
// one typed description of what iocd runs, or into a list of errors a person can act on.
//
// Loading is three steps, always in this order:
//   1. Mapping. The YAML is mapped onto the proto generically through protobuf reflection:
//      a mapping is a message (key = field name), a sequence is a repeated field, a mapping
//      of scalars is a map<> field, a scalar is a string/number/bool/enum field. Enum values
//      are written in the schema's yaml spelling (INPUT_PROTOCOL_SYSLOG_TCP is
//      "syslog-tcp", see YamlEnumName). A new field in config.proto needs no code here.
//   2. ApplyDefaults: the defaults documented in config.proto, in one function.
//   3. Validation: the rules that the schema cannot express (required fields, unique
//      names, addresses that parse, csv options that make sense, ranges).
// Every error carries the source name, 1-based line and column, and the key path
// ("feeds[1].csv.delimiter"). All errors found are reported, not just the first.
//
// What a loaded Config guarantees to its users (they need not re-check): every default is
// filled in (optional fields with a default, such as feeds[].enabled, subdomains and
// max_shrink, are present; control_socket is set); names are present and unique per
// section (inputs, feeds, allowlists, outputs); inputs[].listen parses with
// ParseHostPort(allow_hostname=false) and tcp outputs' address with allow_hostname=true;
// a feed or allowlist has exactly one of path and url (url is http:// or https://);
// update_interval, and ttl when set, parse with ParseDuration and are > 0; confidence is
// 0..100; max_shrink is 0..1; type, when set, is a ParseTypeName name on a plain feed;
// allowlists are plain or warninglist; a csv feed has csv options, and csv.delimiter is
// exactly one byte (a "tab"/"\t" spelling is turned into a real tab character);
// logging.level is trace/debug/info/warn/error; threads is 1..64. Not checked: whether
// feed files exist, urls answer or state_dir is writable (the daemon reports those when it
// uses them; LoadedConfig::ErrorAt gives them a line number).
//
// Errors: a bad config is InvalidArgument whose message holds every error, one per line,
// each "file:line:col: key.path: message". An unreadable file is IoError naming the path.
// Nothing throws: yaml-cpp exceptions are caught inside this component.
//
// Thread safety: all functions are pure (LoadConfigFile reads one file) and thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "proto/config.pb.h"

namespace iocd {

// One problem in a config file. line and column are 1-based; 0 means unknown (then
// ToString leaves them out). key_path is empty for errors not tied to a key (YAML syntax).
struct ConfigError {
  std::string file;
  int line = 0;
  int column = 0;
  std::string key_path;
  std::string message;

  // "iocd.yaml:12:5: outputs[1].address: expected host:port, got 'foo'"
  std::string ToString() const;
};

// 1-based position of a key's value in the source (of the key itself when the value is
// empty).
struct ConfigPosition {
  int line = 0;
  int column = 0;
};

// A config plus where each of its values came from, for errors found after loading
// (e.g. "feeds[0].path: no such file" from the feed loader).
struct LoadedConfig {
  iocd::config::Config config;
  std::string source_name;
  // Key path ("inputs[0].listen", "feeds[1].csv.context_columns.description") -> position.
  // Holds only keys written in the source; defaulted values have no entry.
  std::map<std::string, ConfigPosition, std::less<>> positions;

  // An error at key_path, positioned at that key, or at its nearest written parent
  // ("feeds[0].csv.delimiter" -> "feeds[0].csv" -> "feeds[0]" -> ...).
  ConfigError ErrorAt(std::string_view key_path, std::string message) const;
};

// Parses YAML text: mapping, ApplyDefaults, validation. source_name is used in error
// messages (a path, or "<embedded default>"). An empty document (or only comments) is an
// empty config. On failure the Status message lists every error, one per line, in source
// order; `errors`, if not null, receives them as values too.
Result<LoadedConfig> ParseConfigWithPositions(std::string_view yaml_text,
                                              std::string_view source_name,
                                              std::vector<ConfigError>* errors = nullptr);
Result<iocd::config::Config> ParseConfig(std::string_view yaml_text, std::string_view source_name);

// Reads the file at path (IoError naming the path if it cannot be read), then parses it
// with the path as source name.
Result<LoadedConfig> LoadConfigFileWithPositions(const std::string& path,
                                                 std::vector<ConfigError>* errors = nullptr);
Result<iocd::config::Config> LoadConfigFile(const std::string& path);

// The text of config/iocd.default.yaml, compiled into the binary at build time.
std::string_view EmbeddedDefaultConfig();
// ParseConfig(EmbeddedDefaultConfig(), "<embedded default>").
Result<iocd::config::Config> DefaultConfig();

// Fills every field that is unset (zero, empty, or absent for `optional` fields) with the
// default documented in config.proto. Idempotent. Also creates the csv options of csv feeds.
void ApplyDefaults(iocd::config::Config* config);

// "host:port" or "[ipv6]:port"; port 0..65535 (0 = pick a free port, for listeners).
// The host is an IPv4 literal, a bracketed IPv6 literal, or, only if allow_hostname, a DNS
// name (letters, digits, '-' and '.', labels of 1..63 characters, not all-numeric at the
// end). An unbracketed IPv6 address is an error (the port would be ambiguous).
// host is returned without brackets.
struct HostPort {
  std::string host;
  uint16_t port = 0;
};
Result<HostPort> ParseHostPort(std::string_view text, bool allow_hostname);

// How an enum value is written in YAML: the value name without its type's prefix, lower
// case, '_' -> '-' (INPUT_PROTOCOL_SYSLOG_TCP of InputProtocol -> "syslog-tcp"). For
// logging and messages that name a configured value.
std::string YamlEnumName(const google::protobuf::EnumValueDescriptor& value);

}  // namespace iocd
