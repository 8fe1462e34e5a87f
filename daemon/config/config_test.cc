#include "config/config.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace iocd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The shape of config/iocd.default.yaml.
constexpr std::string_view kShape = R"(state_dir: ./var/iocd
inputs:
  - name: siem
    protocol: syslog-tcp
    listen: 127.0.0.1:9999
feeds:
  - name: demo
    path: config/feeds/demo.txt
    format: plain
outputs:
  - name: console
    protocol: stdout
    format: json
)";

// Every error ParseConfigWithPositions reports for yaml, as "file:line:col: path: message".
std::vector<std::string> Errors(std::string_view yaml) {
  std::vector<ConfigError> errors;
  Result<LoadedConfig> r = ParseConfigWithPositions(yaml, "iocd.yaml", &errors);
  EXPECT_FALSE(r.ok()) << "expected errors for:\n" << yaml;
  std::vector<std::string> out;
  for (const ConfigError& e : errors) out.push_back(e.ToString());
  if (!r.ok()) {
    // The Status carries the same errors, one per line.
    std::string joined;
    for (const std::string& s : out) joined += (joined.empty() ? "" : "\n") + s;
    EXPECT_EQ(r.status().message(), joined);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
  return out;
}

std::string SourceDir() {
  const char* dir = std::getenv("IOCD_SOURCE_DIR");
  return dir != nullptr && *dir != '\0' ? dir : ".";
}

TEST(ParseConfigTest, ParsesTheDefaultShape) {
  Result<config::Config> r = ParseConfig(kShape, "iocd.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const config::Config& c = *r;
  EXPECT_EQ(c.state_dir(), "./var/iocd");
  EXPECT_EQ(c.threads(), 1u);
  EXPECT_EQ(c.logging().level(), "info");

  ASSERT_EQ(c.inputs_size(), 1);
  EXPECT_EQ(c.inputs(0).name(), "siem");
  EXPECT_EQ(c.inputs(0).protocol(), config::INPUT_PROTOCOL_SYSLOG_TCP);
  EXPECT_EQ(c.inputs(0).listen(), "127.0.0.1:9999");
  EXPECT_EQ(c.inputs(0).max_message_bytes(), 1048576u);
  EXPECT_EQ(c.inputs(0).max_connections(), 1024u);

  ASSERT_EQ(c.feeds_size(), 1);
  EXPECT_EQ(c.feeds(0).name(), "demo");
  EXPECT_EQ(c.feeds(0).path(), "config/feeds/demo.txt");
  EXPECT_EQ(c.feeds(0).format(), config::FEED_FORMAT_PLAIN);
  EXPECT_TRUE(c.feeds(0).has_enabled());
  EXPECT_TRUE(c.feeds(0).enabled());
  EXPECT_FALSE(c.feeds(0).has_csv());
  EXPECT_EQ(c.feeds(0).url(), "");
  EXPECT_EQ(c.feeds(0).update_interval(), "10s");
  EXPECT_TRUE(c.feeds(0).subdomains());
  EXPECT_EQ(c.feeds(0).max_shrink(), 0.5);
  EXPECT_FALSE(c.feeds(0).has_confidence());
  EXPECT_EQ(c.feeds(0).ttl(), "");
  EXPECT_EQ(c.allowlists_size(), 0);
  EXPECT_EQ(c.control_socket(), "./var/iocd/control.sock");

  ASSERT_EQ(c.outputs_size(), 1);
  EXPECT_EQ(c.outputs(0).name(), "console");
  EXPECT_EQ(c.outputs(0).protocol(), config::OUTPUT_PROTOCOL_STDOUT);
  EXPECT_EQ(c.outputs(0).format(), config::OUTPUT_FORMAT_JSON);
  EXPECT_EQ(c.outputs(0).address(), "");
  EXPECT_EQ(c.outputs(0).queue_size(), 100000u);
}

TEST(ParseConfigTest, ParsesEveryValueKind) {
  Result<config::Config> r = ParseConfig(R"(
state_dir: /var/lib/iocd
threads: 4
logging: {level: debug}
inputs:
  - {name: a, protocol: syslog-tcp, listen: "[::1]:0", max_message_bytes: 65536, max_connections: 8}
feeds:
  - name: bad-ips
    path: feeds/bad.csv
    format: csv
    enabled: no
    csv:
      delimiter: tab
      header: yes
      value_column: ip
      type_column: 3
      context_columns:
        description: desc
        first_seen: 5
outputs:
  - name: siem
    protocol: tcp
    address: siem.example.org:6514
    queue_size: 10
)",
                                         "t.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const config::Config& c = *r;
  EXPECT_EQ(c.state_dir(), "/var/lib/iocd");
  EXPECT_EQ(c.threads(), 4u);
  EXPECT_EQ(c.logging().level(), "debug");
  EXPECT_EQ(c.inputs(0).listen(), "[::1]:0");
  EXPECT_EQ(c.inputs(0).max_message_bytes(), 65536u);
  EXPECT_EQ(c.inputs(0).max_connections(), 8u);
  const config::Feed& f = c.feeds(0);
  EXPECT_EQ(f.format(), config::FEED_FORMAT_CSV);
  EXPECT_TRUE(f.has_enabled());
  EXPECT_FALSE(f.enabled());
  EXPECT_EQ(f.csv().delimiter(), "\t");  // "tab" is normalised to the character
  EXPECT_TRUE(f.csv().header());
  EXPECT_EQ(f.csv().value_column(), "ip");
  EXPECT_EQ(f.csv().type_column(), "3");
  ASSERT_EQ(f.csv().context_columns_size(), 2u);
  EXPECT_EQ(f.csv().context_columns().at("description"), "desc");
  EXPECT_EQ(f.csv().context_columns().at("first_seen"), "5");
  EXPECT_EQ(c.outputs(0).protocol(), config::OUTPUT_PROTOCOL_TCP);
  EXPECT_EQ(c.outputs(0).address(), "siem.example.org:6514");
  EXPECT_EQ(c.outputs(0).format(), config::OUTPUT_FORMAT_JSON);
  EXPECT_EQ(c.outputs(0).queue_size(), 10u);
}

TEST(ParseConfigTest, BooleansAcceptYamlSpellings) {
  const struct {
    const char* text;
    bool value;
  } cases[] = {{"true", true},   {"yes", true}, {"on", true},   {"True", true},
               {"false", false}, {"no", false}, {"off", false}, {"OFF", false}};
  for (const auto& tc : cases) {
    std::string yaml =
        "feeds:\n  - {name: f, path: p, format: plain, enabled: " + std::string(tc.text) + "}\n";
    Result<config::Config> r = ParseConfig(yaml, "t.yaml");
    ASSERT_TRUE(r.ok()) << tc.text << ": " << r.status().ToString();
    EXPECT_EQ(r->feeds(0).enabled(), tc.value) << tc.text;
  }
  EXPECT_THAT(Errors("feeds:\n  - {name: f, path: p, format: plain, enabled: maybe}\n"),
              ElementsAre("iocd.yaml:2:48: feeds[0].enabled: expected a boolean "
                          "(true/false/yes/no/on/off), got 'maybe'"));
}

TEST(ParseConfigTest, EmptyDocumentIsAnEmptyConfigWithDefaults) {
  for (std::string_view yaml : {"", "# only a comment\n", "---\n"}) {
    Result<config::Config> r = ParseConfig(yaml, "t.yaml");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->state_dir(), "./var/iocd");
    EXPECT_EQ(r->threads(), 1u);
    EXPECT_EQ(r->logging().level(), "info");
    EXPECT_EQ(r->inputs_size(), 0);
    EXPECT_EQ(r->feeds_size(), 0);
    EXPECT_EQ(r->outputs_size(), 0);
  }
}

TEST(ParseConfigTest, EmptyValuesForMessagesAndListsAreAllowed) {
  Result<config::Config> r = ParseConfig("logging:\ninputs:\nfeeds: []\n", "t.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->logging().level(), "info");
  EXPECT_EQ(r->inputs_size(), 0);
}

TEST(ApplyDefaultsTest, FillsEveryDocumentedDefault) {
  config::Config c;
  c.add_inputs()->set_name("in");
  config::Feed* csv_feed = c.add_feeds();
  csv_feed->set_format(config::FEED_FORMAT_CSV);
  config::Feed* plain_feed = c.add_feeds();
  plain_feed->set_format(config::FEED_FORMAT_PLAIN);
  plain_feed->set_enabled(false);
  c.add_outputs();
  config::Feed* remote = c.add_allowlists();
  remote->set_url("https://example.org/list.json");
  remote->set_subdomains(false);
  remote->set_max_shrink(1);

  ApplyDefaults(&c);
  EXPECT_EQ(c.state_dir(), "./var/iocd");
  EXPECT_EQ(c.threads(), 1u);
  EXPECT_EQ(c.logging().level(), "info");
  EXPECT_EQ(c.inputs(0).listen(), "127.0.0.1:9999");
  EXPECT_EQ(c.inputs(0).max_message_bytes(), 1048576u);
  EXPECT_EQ(c.inputs(0).max_connections(), 1024u);
  EXPECT_TRUE(c.feeds(0).enabled());
  ASSERT_TRUE(c.feeds(0).has_csv());
  EXPECT_EQ(c.feeds(0).csv().delimiter(), ",");
  EXPECT_EQ(c.feeds(0).csv().value_column(), "1");
  EXPECT_FALSE(c.feeds(0).csv().header());
  EXPECT_FALSE(c.feeds(1).enabled());  // written values are kept
  EXPECT_FALSE(c.feeds(1).has_csv());  // csv options only for csv feeds
  EXPECT_EQ(c.outputs(0).format(), config::OUTPUT_FORMAT_JSON);
  EXPECT_EQ(c.outputs(0).queue_size(), 100000u);
  EXPECT_EQ(c.control_socket(), "./var/iocd/control.sock");
  EXPECT_EQ(c.feeds(0).update_interval(), "10s");  // a file: a cheap size/mtime check
  EXPECT_TRUE(c.feeds(0).has_subdomains());
  EXPECT_TRUE(c.feeds(0).subdomains());
  EXPECT_TRUE(c.feeds(0).has_max_shrink());
  EXPECT_EQ(c.feeds(0).max_shrink(), 0.5);
  EXPECT_FALSE(c.feeds(0).has_confidence());  // no default
  // Allowlists get the feed defaults too; written values are kept.
  EXPECT_TRUE(c.allowlists(0).enabled());
  EXPECT_EQ(c.allowlists(0).update_interval(), "1h");  // a url
  EXPECT_FALSE(c.allowlists(0).subdomains());
  EXPECT_EQ(c.allowlists(0).max_shrink(), 1.0);

  config::Config with_dir;
  with_dir.set_state_dir("/var/lib/iocd/");
  ApplyDefaults(&with_dir);
  EXPECT_EQ(with_dir.control_socket(), "/var/lib/iocd/control.sock");

  config::Config again = c;
  ApplyDefaults(&again);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(c, again));
}

TEST(DefaultConfigTest, EmbeddedDefaultParsesToTheDocumentedShape) {
  EXPECT_THAT(std::string(EmbeddedDefaultConfig()), HasSubstr("state_dir: ./var/iocd\n"));
  Result<config::Config> def = DefaultConfig();
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  // The issue's shape, plus the default allowlist of reserved addresses.
  Result<config::Config> shape = ParseConfig(std::string(kShape) +
                                                 "allowlists:\n"
                                                 "  - name: reserved\n"
                                                 "    path: config/allowlists/reserved.txt\n"
                                                 "    format: plain\n",
                                             "shape");
  ASSERT_TRUE(shape.ok()) << shape.status().ToString();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*def, *shape))
      << def->DebugString();
}

TEST(DefaultConfigTest, EmbeddedDefaultMatchesTheFileInTheTree) {
  Result<LoadedConfig> file =
      LoadConfigFileWithPositions(SourceDir() + "/config/iocd.default.yaml");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  Result<config::Config> def = DefaultConfig();
  ASSERT_TRUE(def.ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(file->config, *def));
}

TEST(ExampleConfigTest, ExampleFileParses) {
  std::string path = SourceDir() + "/config/iocd.example.yaml";
  Result<config::Config> r = LoadConfigFile(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const config::Config& c = *r;
  const config::Feed* csv_feed = nullptr;
  for (const config::Feed& f : c.feeds()) {
    if (f.name() == "partner-csv") csv_feed = &f;
  }
  ASSERT_NE(csv_feed, nullptr);
  EXPECT_EQ(csv_feed->csv().delimiter(), ";");
  EXPECT_EQ(csv_feed->csv().value_column(), "1");
  ASSERT_EQ(csv_feed->csv().context_columns().count("description"), 1u);
  EXPECT_EQ(csv_feed->csv().context_columns().at("description"), "2");
  EXPECT_EQ(csv_feed->format(), config::FEED_FORMAT_CSV);
  EXPECT_EQ(c.inputs_size(), 1);
  EXPECT_EQ(c.feeds_size(), 5);
  EXPECT_EQ(c.allowlists_size(), 1);
  EXPECT_EQ(c.outputs_size(), 5);
  const config::Output* tcp = nullptr;
  for (const config::Output& o : c.outputs()) {
    if (o.name() == "siem-hits") tcp = &o;
  }
  ASSERT_NE(tcp, nullptr);
  EXPECT_EQ(tcp->protocol(), config::OUTPUT_PROTOCOL_TCP);
  EXPECT_EQ(tcp->address(), "127.0.0.1:9998");
  EXPECT_EQ(c.outputs(2).format(), config::OUTPUT_FORMAT_LEEF);
  EXPECT_EQ(c.outputs(2).filter().min_confidence(), 50u);
  EXPECT_EQ(c.outputs(3).protocol(), config::OUTPUT_PROTOCOL_FILE);
  EXPECT_EQ(c.outputs(4).format(), config::OUTPUT_FORMAT_TEMPLATE);
}

TEST(ParseConfigErrorsTest, UnknownKeyAtTopLevel) {
  EXPECT_THAT(Errors("state_dir: ./x\nthread: 2\n"),
              ElementsAre("iocd.yaml:2:1: thread: unknown key 'thread'; valid keys: state_dir, "
                          "inputs, feeds, outputs, logging, threads, allowlists, control_socket, "
                          "sources, service_events, suppression, skip_allowlisted_observables, metrics_listen"));
}

TEST(ParseConfigErrorsTest, UnknownKeyNested) {
  EXPECT_THAT(Errors("inputs:\n"
                     "  - name: siem\n"
                     "    protocol: syslog-tcp\n"
                     "    listn: 127.0.0.1:1\n"),
              ElementsAre("iocd.yaml:4:5: inputs[0].listn: unknown key 'listn'; valid keys: name, "
                          "protocol, listen, max_message_bytes, max_connections, idle_timeout, path, "
                          "socket_mode, tls, reply_back"));
  EXPECT_THAT(Errors("feeds:\n"
                     "  - name: f\n"
                     "    path: p\n"
                     "    format: csv\n"
                     "    csv:\n"
                     "      delim: ';'\n"),
              ElementsAre("iocd.yaml:6:7: feeds[0].csv.delim: unknown key 'delim'; valid keys: "
                          "delimiter, value_column, type_column, context_columns, header"));
}

TEST(ParseConfigErrorsTest, WrongTypes) {
  const struct {
    const char* yaml;
    const char* error;
  } cases[] = {
      {"threads: abc\n", "iocd.yaml:1:10: threads: expected an unsigned integer, got 'abc'"},
      {"threads: 1.5\n", "iocd.yaml:1:10: threads: expected an unsigned integer, got '1.5'"},
      {"state_dir: {a: 1}\n", "iocd.yaml:1:12: state_dir: expected a string, got a mapping"},
      {"state_dir:\n  - a\n", "iocd.yaml:2:3: state_dir: expected a string, got a sequence"},
      {"state_dir:\n", "iocd.yaml:1:1: state_dir: expected a string, got an empty value"},
      {"logging: [info]\n", "iocd.yaml:1:10: logging: expected a mapping, got a sequence"},
      {"logging: info\n", "iocd.yaml:1:10: logging: expected a mapping, got the scalar 'info'"},
      {"inputs: siem\n", "iocd.yaml:1:9: inputs: expected a sequence, got the scalar 'siem'"},
      {"inputs:\n  name: siem\n", "iocd.yaml:2:3: inputs: expected a sequence, got a mapping"},
      {"inputs:\n  - siem\n",
       "iocd.yaml:2:5: inputs[0]: expected a mapping, got the scalar 'siem'"},
      {"feeds:\n  - {name: f, path: p, format: csv, csv: {context_columns: [1, 2]}}\n",
       "iocd.yaml:2:60: feeds[0].csv.context_columns: expected a mapping, got a sequence"},
      {"feeds:\n  - {name: f, path: p, format: csv, csv: {context_columns: {a: [1]}}}\n",
       "iocd.yaml:2:64: feeds[0].csv.context_columns.a: expected a string, got a sequence"},
  };
  for (const auto& tc : cases) {
    EXPECT_THAT(Errors(tc.yaml), ElementsAre(tc.error)) << tc.yaml;
  }
}

TEST(ParseConfigErrorsTest, NegativeAndOutOfRangeUnsigned) {
  EXPECT_THAT(Errors("threads: -1\n"),
              ElementsAre("iocd.yaml:1:10: threads: expected an unsigned integer, got negative "
                          "value -1"));
  EXPECT_THAT(
      Errors("inputs:\n  - name: a\n    protocol: syslog-tcp\n    max_message_bytes: 4294967296\n"),
      ElementsAre("iocd.yaml:4:24: inputs[0].max_message_bytes: value 4294967296 is out of "
                  "range 0..4294967295"));
  EXPECT_THAT(Errors("threads: 99999999999999999999999\n"),
              ElementsAre("iocd.yaml:1:10: threads: value 99999999999999999999999 is out of "
                          "range 0..4294967295"));
  Result<config::Config> max = ParseConfig(
      "inputs:\n  - {name: a, protocol: syslog-tcp, max_message_bytes: 4294967295}\n", "t");
  ASSERT_TRUE(max.ok()) << max.status().ToString();
  EXPECT_EQ(max->inputs(0).max_message_bytes(), 4294967295u);
}

TEST(ParseConfigErrorsTest, BadEnumValues) {
  for (const char* value :
       {"udp", "unspecified", "SYSLOG_TCP", "syslog_tcp", "input-protocol-syslog-tcp"}) {
    EXPECT_THAT(Errors("inputs:\n  - name: a\n    protocol: " + std::string(value) + "\n"),
                ElementsAre("iocd.yaml:3:15: inputs[0].protocol: unknown value '" +
                            std::string(value) +
                            "'; valid values: syslog-tcp, syslog-udp, syslog-tls, syslog-unix"));
  }
  EXPECT_THAT(Errors("outputs:\n  - {name: o, protocol: stdout, format: xml}\n"),
              ElementsAre("iocd.yaml:2:41: outputs[0].format: unknown value 'xml'; valid "
                          "values: json, cef, leef, rfc5424, template"));
  EXPECT_THAT(Errors("feeds:\n  - {name: f, path: p, format: [plain]}\n"),
              ElementsAre("iocd.yaml:2:32: feeds[0].format: expected one of plain, csv, "
                          "kaspersky-json, misp, stix2, zeek-intel, warninglist, got a sequence"));
}

TEST(ParseConfigTest, InputProtocolDefaults) {
  Result<config::Config> r = ParseConfig(
      "inputs:\n"
      "  - {name: udp, protocol: syslog-udp}\n"
      "  - {name: tls, protocol: syslog-tls, tls: {cert: s.pem, key: s.key}}\n"
      "  - {name: unix, protocol: syslog-unix, path: /run/iocd/log.sock}\n"
      "  - {name: tcp, protocol: syslog-tcp, idle_timeout: 0}\n",
      "t");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const config::Config& c = *r;
  EXPECT_EQ(c.inputs(0).listen(), "127.0.0.1:9999");
  EXPECT_EQ(c.inputs(0).idle_timeout(), "10m");
  EXPECT_EQ(c.inputs(0).socket_mode(), "");
  EXPECT_EQ(c.inputs(1).listen(), "127.0.0.1:6514");
  EXPECT_EQ(c.inputs(1).tls().cert(), "s.pem");
  EXPECT_FALSE(c.inputs(1).tls().require_client_cert());
  EXPECT_EQ(c.inputs(2).listen(), "");
  EXPECT_EQ(c.inputs(2).path(), "/run/iocd/log.sock");
  EXPECT_EQ(c.inputs(2).socket_mode(), "0660");
  EXPECT_EQ(c.inputs(2).max_connections(), 1024u);
  EXPECT_EQ(c.inputs(3).idle_timeout(), "0");
}

TEST(ParseConfigErrorsTest, InputProtocolOptions) {
  EXPECT_THAT(Errors("inputs:\n  - name: u\n    protocol: syslog-unix\n"),
              ElementsAre("iocd.yaml:2:5: inputs[0].path: required for protocol syslog-unix (the socket's file "
                          "path)"));
  EXPECT_THAT(Errors("inputs:\n  - name: u\n    protocol: syslog-unix\n    path: /tmp/s\n"
                     "    listen: 127.0.0.1:1\n    socket_mode: rw\n"),
              ElementsAre("iocd.yaml:5:13: inputs[0].listen: not used by protocol syslog-unix; give path instead",
                          "iocd.yaml:6:18: inputs[0].socket_mode: expected octal permission bits such as 0660, "
                          "got 'rw'"));
  EXPECT_THAT(Errors("inputs:\n  - name: t\n    protocol: syslog-tcp\n    path: /tmp/s\n"
                     "    idle_timeout: soon\n    tls: {cert: a}\n"),
              ElementsAre("iocd.yaml:4:11: inputs[0].path: only used by protocol syslog-unix",
                          ::testing::StartsWith("iocd.yaml:5:19: inputs[0].idle_timeout: "),
                          "iocd.yaml:6:10: inputs[0].tls: only used by protocol syslog-tls"));
  EXPECT_THAT(Errors("inputs:\n  - name: s\n    protocol: syslog-tls\n    tls: {require_client_cert: true}\n"),
              ElementsAre(::testing::EndsWith("inputs[0].tls.cert: required for protocol syslog-tls (PEM file)"),
                          ::testing::EndsWith("inputs[0].tls.key: required for protocol syslog-tls (PEM file)"),
                          ::testing::EndsWith("inputs[0].tls.ca: required when require_client_cert is true (PEM "
                                              "file of the client CA)")));
}

TEST(ParseConfigErrorsTest, ListenAddresses) {
  const struct {
    const char* listen;
    const char* error;  // nullptr: valid
  } cases[] = {
      {"127.0.0.1", "expected host:port, got '127.0.0.1'"},
      {"127.0.0.1:99999", "port 99999 is out of range 0..65535"},
      {"localhost:9999", "host must be an IP address, got 'localhost'"},
      {"'::1:9999'", "an IPv6 address needs brackets, as in [::1]:9999; got '::1:9999'"},
      {"'[::1]:9999'", nullptr},
      {"0.0.0.0:0", nullptr},
  };
  for (const auto& tc : cases) {
    std::string yaml = std::string("inputs:\n  - name: a\n    protocol: syslog-tcp\n    listen: ") +
                       tc.listen + "\n";
    if (tc.error == nullptr) {
      Result<config::Config> r = ParseConfig(yaml, "t");
      EXPECT_TRUE(r.ok()) << tc.listen << ": " << r.status().ToString();
    } else {
      EXPECT_THAT(Errors(yaml),
                  ElementsAre(std::string("iocd.yaml:4:13: inputs[0].listen: ") + tc.error))
          << tc.listen;
    }
  }
}

TEST(ParseConfigErrorsTest, OutputAddresses) {
  EXPECT_THAT(Errors("outputs:\n  - {name: o, protocol: tcp, address: foo}\n"),
              ElementsAre("iocd.yaml:2:39: outputs[0].address: expected host:port, got 'foo'"));
  EXPECT_THAT(Errors("outputs:\n  - {name: o, protocol: tcp, address: 'siem:0'}\n"),
              ElementsAre("iocd.yaml:2:39: outputs[0].address: port 0 is not a valid destination"));
  EXPECT_THAT(Errors("outputs:\n  - name: o\n    protocol: tcp\n"),
              ElementsAre("iocd.yaml:2:5: outputs[0].address: required for protocol tcp "
                          "(host:port)"));
  EXPECT_THAT(Errors("outputs:\n  - {name: o, protocol: stdout, address: '127.0.0.1:1'}\n"),
              ElementsAre("iocd.yaml:2:42: outputs[0].address: not used by protocol stdout; "
                          "remove it"));
  Result<config::Config> ok =
      ParseConfig("outputs:\n  - {name: o, protocol: tcp, address: 'siem-1.corp:6514'}\n", "t");
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
}

TEST(ParseConfigTest, OutputFormatsProtocolsAndSpool) {
  Result<config::Config> c = ParseConfig(
      "outputs:\n"
      "  - {name: a, protocol: tcp, address: 'siem:514', format: rfc5424, framing: octet-counted}\n"
      "  - {name: b, protocol: udp, address: 'siem:514', format: leef}\n"
      "  - name: c\n"
      "    protocol: file\n"
      "    path: /var/log/iocd/hits.log\n"
      "    format: template\n"
      "    line_template: '%Date% %MatchedIndicator%'\n"
      "    filter: {min_confidence: 50, feeds: [x], tags: [c2], indicator_types: [ipv4]}\n"
      "    spool: {max_hits: 10, max_bytes: 1000, sync: true}\n"
      "  - {name: d, protocol: stdout, format: json, spool: {disabled: true}}\n",
      "t");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->outputs(0).format(), config::OUTPUT_FORMAT_RFC5424);
  EXPECT_EQ(c->outputs(0).framing(), config::OUTPUT_FRAMING_OCTET_COUNTED);
  EXPECT_EQ(c->outputs(0).spool().max_hits(), 1000000u);
  EXPECT_EQ(c->outputs(0).spool().max_bytes(), uint64_t{1} << 30);
  EXPECT_EQ(c->outputs(1).protocol(), config::OUTPUT_PROTOCOL_UDP);
  EXPECT_EQ(c->outputs(1).framing(), config::OUTPUT_FRAMING_LF);
  EXPECT_EQ(c->outputs(1).leef_delimiter(), "x09");
  EXPECT_EQ(c->outputs(2).max_file_bytes(), 104857600u);
  EXPECT_EQ(c->outputs(2).max_files(), 5u);
  EXPECT_EQ(c->outputs(2).filter().min_confidence(), 50u);
  EXPECT_EQ(c->outputs(2).spool().max_hits(), 10u);
  EXPECT_TRUE(c->outputs(2).spool().sync());
  EXPECT_TRUE(c->outputs(3).spool().disabled());
}

TEST(ParseConfigErrorsTest, OutputFormatAndProtocolOptions) {
  EXPECT_THAT(Errors("outputs:\n  - {name: o, protocol: file}\n"),
              ElementsAre("iocd.yaml:2:5: outputs[0].path: required for protocol file (the file hits are "
                          "appended to)"));
  EXPECT_THAT(Errors("outputs:\n  - {name: o, protocol: udp}\n"),
              ElementsAre("iocd.yaml:2:5: outputs[0].address: required for protocol udp (host:port)"));
  EXPECT_THAT(Errors("outputs:\n  - {name: o, protocol: udp, address: 'a:1', framing: octet-counted}\n"),
              ElementsAre(HasSubstr("outputs[0].framing: octet-counted is only for protocol tcp or tls")));
  EXPECT_THAT(Errors("outputs:\n  - {name: o, protocol: stdout, format: template}\n"),
              ElementsAre(HasSubstr("outputs[0].line_template: required for format template")));
  EXPECT_THAT(Errors("outputs:\n  - name: o\n    protocol: stdout\n    format: template\n"
                     "    line_template: 'hit %Observable'\n"),
              ElementsAre("iocd.yaml:5:20: outputs[0].line_template: '%' at offset 4 has no closing '%' "
                          "(write %% for a literal %)"));
  EXPECT_THAT(Errors("outputs:\n  - {name: o, protocol: stdout, spool: {min_round_gap: soon}}\n"),
              ElementsAre(HasSubstr("outputs[0].spool.min_round_gap: bad duration 'soon'")));
  EXPECT_THAT(Errors("metrics_listen: localhost:9514\n"), ElementsAre(HasSubstr("iocd.yaml:1:17: metrics_listen: ")));
  auto v6 = ParseConfig("metrics_listen: '[::1]:9514'\n", "iocd.yaml");
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_EQ(v6->metrics_listen(), "[::1]:9514");
  EXPECT_THAT(Errors("outputs:\n  - {name: o, protocol: stdout, format: leef, leef_delimiter: '|'}\n"),
              ElementsAre(HasSubstr("outputs[0].leef_delimiter: \"|\": not usable as a delimiter")));
  EXPECT_THAT(Errors("inputs:\n  - name: siem\n    protocol: syslog-tcp\n    listen: 127.0.0.1:1\n"
                     "    reply_back:\n      line_template: '%a b%'\n"),
              ElementsAre("iocd.yaml:6:22: inputs[0].reply_back.line_template: bad placeholder name \"a b\" "
                          "at offset 0"));
  EXPECT_THAT(Errors("outputs:\n  - {name: o, protocol: stdout, format: cef, spool: {disabled: true}}\n"),
              ElementsAre(HasSubstr("outputs[0].spool.disabled: an output without spool supports format json only")));
}

TEST(ParseConfigErrorsTest, DuplicateNames) {
  EXPECT_THAT(Errors("inputs:\n"
                     "  - {name: siem, protocol: syslog-tcp, listen: '127.0.0.1:1'}\n"
                     "  - {name: siem, protocol: syslog-tcp, listen: '127.0.0.1:2'}\n"
                     "feeds:\n"
                     "  - {name: f, path: a, format: plain}\n"
                     "  - {name: g, path: b, format: plain}\n"
                     "  - {name: f, path: c, format: plain}\n"
                     "outputs:\n"
                     "  - {name: siem, protocol: stdout}\n"),
              ElementsAre("iocd.yaml:3:12: inputs[1].name: duplicate name 'siem', already used "
                          "by inputs[0] (line 2)",
                          "iocd.yaml:7:12: feeds[2].name: duplicate name 'f', already used by "
                          "feeds[0] (line 5)"));
}

TEST(ParseConfigErrorsTest, BadNames) {
  EXPECT_THAT(Errors("outputs:\n  - {name: 'my output', protocol: stdout}\n"),
              ElementsAre("iocd.yaml:2:12: outputs[0].name: invalid name 'my output': use only "
                          "letters, digits, '_', '.' and '-'"));
}

TEST(ParseConfigErrorsTest, MissingRequiredFields) {
  EXPECT_THAT(Errors("inputs:\n"
                     "  - listen: 127.0.0.1:1\n"
                     "feeds:\n"
                     "  - name: f\n"
                     "outputs:\n"
                     "  -\n"),
              ElementsAre("iocd.yaml:2:5: inputs[0].name: required",
                          "iocd.yaml:2:5: inputs[0].protocol: required; valid values: syslog-tcp, "
                          "syslog-udp, syslog-tls, syslog-unix",
                          "iocd.yaml:4:5: feeds[0].path: required: give path (a file) or url",
                          "iocd.yaml:4:5: feeds[0].format: required; valid values: plain, csv, "
                          "kaspersky-json, misp, stix2, zeek-intel, warninglist",
                          "iocd.yaml:6:3: outputs[0].name: required",
                          "iocd.yaml:6:3: outputs[0].protocol: required; valid values: tcp, "
                          "stdout, udp, file, tls, relp"));
}

TEST(ParseConfigErrorsTest, OutputEventsAndRelp) {
  EXPECT_THAT(Errors("outputs:\n  - {name: o, protocol: relp}\n"),
              ElementsAre("iocd.yaml:2:5: outputs[0].address: required for protocol relp (host:port)"));
  EXPECT_THAT(Errors("outputs:\n  - {name: o, protocol: stdout, events: some}\n"),
              ElementsAre("iocd.yaml:2:41: outputs[0].events: unknown value 'some'; valid values: hits, "
                          "service, all"));
}

TEST(ParseConfigErrorsTest, CsvOptions) {
  EXPECT_THAT(
      Errors("feeds:\n  - name: f\n    path: p\n    format: plain\n    csv: {header: true}\n"),
      ElementsAre("iocd.yaml:5:10: feeds[0].csv: only allowed with format: csv (this "
                  "feed's format is plain)"));
  EXPECT_THAT(Errors("feeds:\n  - {name: f, path: p, format: csv, csv: {delimiter: ';;'}}\n"),
              ElementsAre("iocd.yaml:2:54: feeds[0].csv.delimiter: must be one character, "
                          "\"\\t\" or \"tab\"; got ';;'"));
  EXPECT_THAT(Errors("feeds:\n  - {name: f, path: p, format: csv, csv: {value_column: ip}}\n"),
              ElementsAre("iocd.yaml:2:57: feeds[0].csv.value_column: column 'ip' is a header "
                          "name, which needs `header: true` (or give a column number)"));
  EXPECT_THAT(Errors("feeds:\n  - {name: f, path: p, format: csv, csv: {value_column: 0}}\n"),
              ElementsAre("iocd.yaml:2:57: feeds[0].csv.value_column: column number 0 is out of "
                          "range (columns are numbered from 1)"));
  EXPECT_THAT(
      Errors("feeds:\n  - {name: f, path: p, format: csv, csv: {context_columns: {d: desc}}}\n"),
      ElementsAre("iocd.yaml:2:64: feeds[0].csv.context_columns.d: column 'desc' is a header "
                  "name, which needs `header: true` (or give a column number)"));

  // "\t" (backslash t, as written in a plain or single-quoted scalar) and a real tab.
  for (std::string_view d : {"'\\t'", "\"\\t\"", "tab"}) {
    std::string yaml =
        "feeds:\n  - {name: f, path: p, format: csv, csv: {delimiter: " + std::string(d) + "}}\n";
    Result<config::Config> r = ParseConfig(yaml, "t");
    ASSERT_TRUE(r.ok()) << d << ": " << r.status().ToString();
    EXPECT_EQ(r->feeds(0).csv().delimiter(), "\t") << d;
  }
  // A csv feed without csv options gets the defaults.
  Result<config::Config> r = ParseConfig("feeds:\n  - {name: f, path: p, format: csv}\n", "t");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->feeds(0).csv().delimiter(), ",");
  EXPECT_EQ(r->feeds(0).csv().value_column(), "1");
}

TEST(ParseConfigTest, FeedSourcesAndOptions) {
  Result<config::Config> r = ParseConfig(R"(
control_socket: "off"
feeds:
  - name: remote
    url: https://feeds.example.org/bad.txt
    format: plain
    type: domain
    update_interval: 15m
    ttl: 7d
    confidence: 80
    tags: [c2, botnet]
    subdomains: false
    max_shrink: 0.25
    context: {threat: Emotet}
  - name: misp
    path: feeds/misp
    format: misp
    misp_include_non_ids: true
allowlists:
  - name: top
    path: allow/top.json
    format: warninglist
    drop_indicators: true
)",
                                         "t.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->control_socket(), "off");
  const config::Feed& f = r->feeds(0);
  EXPECT_EQ(f.url(), "https://feeds.example.org/bad.txt");
  EXPECT_EQ(f.type(), "domain");
  EXPECT_EQ(f.update_interval(), "15m");
  EXPECT_EQ(f.ttl(), "7d");
  EXPECT_TRUE(f.has_confidence());
  EXPECT_EQ(f.confidence(), 80u);
  EXPECT_THAT(std::vector<std::string>(f.tags().begin(), f.tags().end()),
              ElementsAre("c2", "botnet"));
  EXPECT_FALSE(f.subdomains());
  EXPECT_EQ(f.max_shrink(), 0.25);
  EXPECT_EQ(f.context().at("threat"), "Emotet");
  EXPECT_TRUE(r->feeds(1).misp_include_non_ids());
  ASSERT_EQ(r->allowlists_size(), 1);
  EXPECT_EQ(r->allowlists(0).format(), config::FEED_FORMAT_WARNINGLIST);
  EXPECT_TRUE(r->allowlists(0).drop_indicators());
  EXPECT_EQ(r->allowlists(0).update_interval(), "10s");
}

TEST(ParseConfigErrorsTest, FeedSourcesAndOptions) {
  const struct {
    const char* entry;  // one feeds[] entry in flow style, on line 2
    const char* error;
  } cases[] = {
      {"{name: f, format: plain}",
       "iocd.yaml:2:5: feeds[0].path: required: give path (a file) or url"},
      {"{name: f, path: p, url: 'http://x/y', format: plain}",
       "iocd.yaml:2:29: feeds[0].url: give either path or url, not both"},
      {"{name: f, url: 'ftp://x/y', format: plain}",
       "iocd.yaml:2:20: feeds[0].url: must be an http:// or https:// URL, got 'ftp://x/y'"},
      {"{name: f, path: p, format: plain, update_interval: soon}",
       "iocd.yaml:2:56: feeds[0].update_interval: bad duration 'soon': expected a number (use "
       "e.g. 30s, 15m, 1h, 7d)"},
      {"{name: f, path: p, format: plain, ttl: 0s}",
       "iocd.yaml:2:44: feeds[0].ttl: must be longer than 0, got '0s'"},
      {"{name: f, path: p, format: plain, confidence: 101}",
       "iocd.yaml:2:51: feeds[0].confidence: must be 0..100, got 101"},
      {"{name: f, path: p, format: plain, max_shrink: 1.5}",
       "iocd.yaml:2:51: feeds[0].max_shrink: must be between 0 and 1 (1 disables the check), got "
       "1.5"},
      {"{name: f, path: p, format: plain, max_shrink: lots}",
       "iocd.yaml:2:51: feeds[0].max_shrink: expected a number, got 'lots'"},
      {"{name: f, path: p, format: plain, type: ipv5}",
       "iocd.yaml:2:45: feeds[0].type: unknown indicator type 'ipv5'; valid types: ipv4, ipv6, "
       "cidr4, cidr6, domain, url, md5, sha1, sha256, url-mask, sha512"},
      {"{name: f, path: p, format: stix2, type: ipv4}",
       "iocd.yaml:2:45: feeds[0].type: only for format plain (this feed's format is stix2)"},
      {"{name: f, path: p, format: plain, misp_include_non_ids: yes}",
       "iocd.yaml:2:61: feeds[0].misp_include_non_ids: only for format misp (this feed's format "
       "is plain)"},
      {"{name: f, path: p, format: plain, drop_indicators: true}",
       "iocd.yaml:2:56: feeds[0].drop_indicators: only for allowlists"},
      {"{name: f, path: p, format: plain, tags: [a, '']}",
       "iocd.yaml:2:49: feeds[0].tags[1]: must not be empty"},
      {"{name: f, path: p, format: plain, update_interval: ''}",
       "iocd.yaml:2:56: feeds[0].update_interval: must not be empty; omit the key to use the "
       "default (\"10s\")"},
  };
  for (const auto& tc : cases) {
    EXPECT_THAT(Errors(std::string("feeds:\n  - ") + tc.entry + "\n"), ElementsAre(tc.error))
        << tc.entry;
  }
  EXPECT_THAT(Errors("allowlists:\n  - {name: a, path: p, format: csv}\n"),
              ElementsAre("iocd.yaml:2:32: allowlists[0].format: an allowlist's format is plain or "
                          "warninglist, got csv"));
  EXPECT_THAT(Errors("allowlists:\n  - {name: a, path: p, format: plain}\n"
                     "  - {name: a, path: q, format: plain}\n"),
              ElementsAre("iocd.yaml:3:12: allowlists[1].name: duplicate name 'a', already used by "
                          "allowlists[0] (line 2)"));
  // A feed and an allowlist may share a name: they are different sections.
  Result<config::Config> r = ParseConfig(
      "feeds:\n  - {name: a, path: p, format: plain}\n"
      "allowlists:\n  - {name: a, path: q, format: plain}\n",
      "t");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
}

TEST(ParseConfigErrorsTest, ExplicitZeroWhereTheDefaultIsNotZero) {
  EXPECT_THAT(Errors("threads: 0\n"),
              ElementsAre("iocd.yaml:1:10: threads: 0 is not allowed; omit the key to use the "
                          "default (1)"));
  EXPECT_THAT(Errors("inputs:\n  - {name: a, protocol: syslog-tcp, listen: ''}\n"),
              ElementsAre("iocd.yaml:2:45: inputs[0].listen: must not be empty; omit the key to "
                          "use the default (\"127.0.0.1:9999\")"));
}

TEST(ParseConfigErrorsTest, RangesAndLevels) {
  EXPECT_THAT(Errors("threads: 65\nlogging:\n  level: verbose\n"),
              ElementsAre("iocd.yaml:1:10: threads: must be between 1 and 64, got 65",
                          "iocd.yaml:3:10: logging.level: unknown level 'verbose'; valid levels: "
                          "trace, debug, info, warn, error"));
}

TEST(ParseConfigErrorsTest, DuplicateKeys) {
  EXPECT_THAT(Errors("threads: 2\nthreads: 3\n"),
              ElementsAre("iocd.yaml:2:1: threads: duplicate key (first given at line 1)"));
}

TEST(ParseConfigErrorsTest, TopLevelMustBeAMapping) {
  EXPECT_THAT(Errors("- a\n- b\n"),
              ElementsAre("iocd.yaml:1:1: expected a mapping of config keys at the top level, "
                          "got a sequence"));
  EXPECT_THAT(Errors("hello\n"),
              ElementsAre("iocd.yaml:1:1: expected a mapping of config keys at the top level, "
                          "got the scalar 'hello'"));
}

TEST(ParseConfigErrorsTest, YamlSyntaxErrorHasItsPosition) {
  EXPECT_THAT(Errors("threads: 1\ninputs: [a, b\nstate_dir: x\n"),
              ElementsAre("iocd.yaml:3:10: YAML syntax error: end of sequence flow not found"));
  EXPECT_THAT(Errors("state_dir: a: b\n"),
              ElementsAre("iocd.yaml:1:13: YAML syntax error: illegal map value"));
}

TEST(ParseConfigErrorsTest, OnlyOneDocument) {
  EXPECT_THAT(Errors("threads: 1\n---\nthreads: 2\n"),
              ElementsAre("iocd.yaml:2:1: only one YAML document is allowed; '---' starts a "
                          "second one"));
  EXPECT_THAT(Errors("threads: 1\n...\n---\n"),
              ElementsAre("iocd.yaml:3:1: only one YAML document is allowed; '---' starts a "
                          "second one"));
}

// yaml-cpp 0.7 loops on a stray ',' at block level (LoadAll allocates until memory runs
// out; Load silently returns an empty document).
TEST(ParseConfigErrorsTest, StrayCommaIsAnErrorNotAHang) {
  EXPECT_THAT(Errors(", a\n"),
              ElementsAre("iocd.yaml:1:1: YAML syntax error: ',' outside [ ] or { }"));
  EXPECT_THAT(Errors("# comment\n, Default: ./var/iocd\nthreads: 1\n"),
              ElementsAre("iocd.yaml:2:1: YAML syntax error: ',' outside [ ] or { }"));
  EXPECT_THAT(Errors("- a\n, b\n"),
              ElementsAre("iocd.yaml:2:1: YAML syntax error: ',' outside [ ] or { }"));
}

TEST(ParseConfigErrorsTest, ReportsEveryErrorInSourceOrder) {
  EXPECT_THAT(Errors("threads: many\n"
                     "inputs:\n"
                     "  - name: siem\n"
                     "    protocol: udp\n"
                     "    listen: localhost:9999\n"
                     "feeds:\n"
                     "  - name: f\n"
                     "    path: p\n"
                     "    format: plain\n"
                     "    colour: red\n"
                     "outputs:\n"
                     "  - {name: o, protocol: tcp}\n"
                     "logging: {level: loud}\n"),
              ElementsAre("iocd.yaml:1:10: threads: expected an unsigned integer, got 'many'",
                          "iocd.yaml:4:15: inputs[0].protocol: unknown value 'udp'; valid "
                          "values: syslog-tcp, syslog-udp, syslog-tls, syslog-unix",
                          "iocd.yaml:5:13: inputs[0].listen: host must be an IP address, got "
                          "'localhost'",
                          "iocd.yaml:10:5: feeds[0].colour: unknown key 'colour'; valid keys: "
                          "name, path, format, csv, enabled, url, update_interval, confidence, "
                          "tags, ttl, subdomains, max_shrink, type, context, "
                          "misp_include_non_ids, drop_indicators, outdated_after",
                          "iocd.yaml:12:5: outputs[0].address: required for protocol tcp "
                          "(host:port)",
                          "iocd.yaml:13:18: logging.level: unknown level 'loud'; valid levels: "
                          "trace, debug, info, warn, error"));
}

TEST(ParseConfigErrorsTest, HostileInputIsAnErrorNotACrash) {
  const std::string deep_flow(100000, '[');
  std::string deep_block;
  for (int i = 0; i < 3000; ++i) deep_block += std::string(static_cast<size_t>(i), ' ') + "a:\n";
  const std::string inputs[] = {
      deep_flow,
      deep_block,
      "threads: *nowhere\n",
      "? [a, b]\n: 1\n",
      "inputs:\n  - ? {x: 1}\n    : 2\n",
      std::string("threads: \0\xff\xfe\n", 14),
      "\tthreads: 1\n",
      "a: &x [*x]\n",
      "feeds:\n  - {name: f, path: p, format: csv, csv: {context_columns: {? [k]: 1}}}\n",
      "\"unterminated\n",
      "key: 'unterminated\n",
      "%YAML 9.9\n---\na: 1\n",
      "!!binary abc: 1\n",
  };
  for (const std::string& yaml : inputs) {
    Result<config::Config> r = ParseConfig(yaml, "t");
    EXPECT_FALSE(r.ok()) << yaml.substr(0, 40);
    EXPECT_FALSE(r.status().message().empty());
  }
}

TEST(ParseConfigErrorsTest, SourceNameAppearsInErrors) {
  Result<config::Config> r = ParseConfig("threads: x\n", "/etc/iocd/iocd.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "/etc/iocd/iocd.yaml:1:10: threads: expected an unsigned integer, got 'x'");
}

TEST(LoadConfigFileTest, MissingFileNamesThePath) {
  Result<config::Config> r = LoadConfigFile("/nonexistent/dir/iocd.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_EQ(r.status().message(),
            "cannot open config file '/nonexistent/dir/iocd.yaml': No such file or directory");
}

TEST(LoadConfigFileTest, ADirectoryIsNotAConfigFile) {
  Result<config::Config> r = LoadConfigFile(SourceDir() + "/config");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_THAT(r.status().message(), HasSubstr("/config': Is a directory"));
}

TEST(LoadedConfigTest, PositionsAndErrorAt) {
  Result<LoadedConfig> r = ParseConfigWithPositions(kShape, "iocd.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source_name, "iocd.yaml");
  EXPECT_EQ(r->ErrorAt("feeds[0].path", "no such file").ToString(),
            "iocd.yaml:8:11: feeds[0].path: no such file");
  // Not written: the nearest written parent.
  EXPECT_EQ(r->ErrorAt("feeds[0].csv.delimiter", "x").ToString(),
            "iocd.yaml:7:5: feeds[0].csv.delimiter: x");
  EXPECT_EQ(r->ErrorAt("logging.level", "x").ToString(), "iocd.yaml:1:1: logging.level: x");
}

TEST(ConfigErrorTest, ToStringLeavesOutUnknownParts) {
  EXPECT_EQ((ConfigError{"f.yaml", 12, 5, "outputs[1].address", "bad"}).ToString(),
            "f.yaml:12:5: outputs[1].address: bad");
  EXPECT_EQ((ConfigError{"f.yaml", 0, 0, "", "bad"}).ToString(), "f.yaml: bad");
  EXPECT_EQ((ConfigError{"f.yaml", 3, 0, "", "bad"}).ToString(), "f.yaml:3: bad");
}

TEST(YamlEnumNameTest, DropsThePrefixAndLowerCases) {
  EXPECT_EQ(YamlEnumName(*config::InputProtocol_descriptor()->FindValueByNumber(
                config::INPUT_PROTOCOL_SYSLOG_TCP)),
            "syslog-tcp");
  EXPECT_EQ(YamlEnumName(
                *config::OutputFormat_descriptor()->FindValueByNumber(config::OUTPUT_FORMAT_JSON)),
            "json");
  EXPECT_EQ(
      YamlEnumName(*config::FeedFormat_descriptor()->FindValueByNumber(config::FEED_FORMAT_CSV)),
      "csv");
}

TEST(ParseHostPortTest, Table) {
  const struct {
    const char* text;
    bool allow_hostname;
    const char* host;  // nullptr: error
    uint16_t port;
    const char* error;
  } cases[] = {
      {"127.0.0.1:9999", false, "127.0.0.1", 9999, ""},
      {"0.0.0.0:0", false, "0.0.0.0", 0, ""},
      {"10.1.2.3:65535", false, "10.1.2.3", 65535, ""},
      {"[::1]:9999", false, "::1", 9999, ""},
      {"[2001:db8::5]:514", true, "2001:db8::5", 514, ""},
      {"siem.example.org:6514", true, "siem.example.org", 6514, ""},
      {"localhost:1", true, "localhost", 1, ""},
      {"log_collector:514", true, "log_collector", 514, ""},
      {"127.0.0.1:9999", true, "127.0.0.1", 9999, ""},
      {"", false, nullptr, 0, "expected host:port, got ''"},
      {"127.0.0.1", false, nullptr, 0, "expected host:port, got '127.0.0.1'"},
      {"127.0.0.1:", false, nullptr, 0, "missing port in '127.0.0.1:'"},
      {":9999", false, nullptr, 0, "missing host in ':9999'"},
      {"127.0.0.1:99999", false, nullptr, 0, "port 99999 is out of range 0..65535"},
      {"127.0.0.1:65536", false, nullptr, 0, "port 65536 is out of range 0..65535"},
      {"127.0.0.1:123456789012345678901", false, nullptr, 0,
       "port 123456789012345678901 is out of range 0..65535"},
      {"127.0.0.1:-1", false, nullptr, 0, "port '-1' is not a number"},
      {"127.0.0.1:http", false, nullptr, 0, "port 'http' is not a number"},
      {"localhost:9999", false, nullptr, 0, "host must be an IP address, got 'localhost'"},
      {"256.1.1.1:1", false, nullptr, 0, "host must be an IP address, got '256.1.1.1'"},
      {"256.1.1.1:1", true, nullptr, 0, "'256.1.1.1' is not a valid host name or IP address"},
      {"-bad.example:1", true, nullptr, 0, "'-bad.example' is not a valid host name or IP address"},
      {"a..b:1", true, nullptr, 0, "'a..b' is not a valid host name or IP address"},
      {"::1:9999", false, nullptr, 0,
       "an IPv6 address needs brackets, as in [::1]:9999; got '::1:9999'"},
      {"[::1]", false, nullptr, 0, "expected [ipv6]:port, got '[::1]'"},
      {"[::1:9999", false, nullptr, 0, "missing ']' after IPv6 address in '[::1:9999'"},
      {"[127.0.0.1]:1", false, nullptr, 0, "'127.0.0.1' is not an IPv6 address"},
      {"[]:1", false, nullptr, 0, "missing host in '[]:1'"},
  };
  for (const auto& tc : cases) {
    Result<HostPort> r = ParseHostPort(tc.text, tc.allow_hostname);
    if (tc.host != nullptr) {
      ASSERT_TRUE(r.ok()) << tc.text << ": " << r.status().ToString();
      EXPECT_EQ(r->host, tc.host) << tc.text;
      EXPECT_EQ(r->port, tc.port) << tc.text;
    } else {
      ASSERT_FALSE(r.ok()) << tc.text;
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << tc.text;
      EXPECT_EQ(r.status().message(), tc.error) << tc.text;
    }
  }
}

}  // namespace
}  // namespace iocd
