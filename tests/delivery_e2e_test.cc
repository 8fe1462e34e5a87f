// End-to-end hit delivery with rsyslog as the real SIEM-side receiver: the real iocd
// binary, a real feed, util-linux logger as the event sender, and rsyslogd (started in the
// foreground with a generated config: imtcp, imrelp or imtcp+TLS (lmnsd_ossl) inputs, each
// writing %rawmsg% to its own file). Covers every format, a receiver outage and an iocd
// crash, the relp protocol and tls delivery (docs/hits.md). Waits end as soon as the
// awaited lines are there; their deadlines only guard against hangs.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "harness/e2e_util.h"
#include "harness/iocd_process.h"
#include "harness/run_command.h"

extern char** environ;

namespace iocd::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr char kRsyslogd[] = "/usr/sbin/rsyslogd";
constexpr char kImrelp[] = "/usr/lib/x86_64-linux-gnu/rsyslog/imrelp.so";
constexpr char kLmnsdOssl[] = "/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so";

// A TCP port on 127.0.0.1 that was free a moment ago (rsyslog cannot bind port 0 and tell
// us which port it got).
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool CanConnect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Polls `pred` (cheap: it reads small files) until true; the deadline is a hang guard.
bool WaitUntil(const std::function<bool()>& pred, std::chrono::seconds guard = std::chrono::seconds(90)) {
  const auto deadline = Clock::now() + guard;
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// rsyslogd in the foreground (-n) with one input per named sink (imtcp unless set_input()
// says otherwise), each sink written raw (%rawmsg%, one message per line) to dir/<sink>.log.
class Rsyslog {
 public:
  enum class Input { kTcp, kRelp, kTls };
  Rsyslog(std::string dir, std::vector<std::string> sinks) : dir_(std::move(dir)), sinks_(std::move(sinks)) {
    for (const auto& s : sinks_) ports_[s] = FreePort();
  }
  ~Rsyslog() { Stop(); }

  int port(const std::string& sink) { return ports_.at(sink); }
  // Before Start(). kTls needs set_tls() too.
  void set_input(const std::string& sink, Input input) { inputs_[sink] = input; }
  // PEM files of the TLS inputs' CA, server certificate and key.
  void set_tls(std::string ca, std::string cert, std::string key) {
    tls_ca_ = std::move(ca);
    tls_cert_ = std::move(cert);
    tls_key_ = std::move(key);
  }
  std::string file(const std::string& sink) const { return dir_ + "/" + sink + ".log"; }

  bool Start() {
    const std::string work = dir_ + "/rsyslog-work";
    std::filesystem::create_directories(work);
    std::string tls_files;
    if (!tls_cert_.empty()) {
      tls_files = " DefaultNetstreamDriverCAFile=\"" + tls_ca_ + "\" DefaultNetstreamDriverCertFile=\"" + tls_cert_ +
                  "\" DefaultNetstreamDriverKeyFile=\"" + tls_key_ + "\"";
    }
    std::string conf = "global(workDirectory=\"" + work +
                       "\" maxMessageSize=\"64k\" parser.escapeControlCharactersOnReceive=\"off\"" + tls_files +
                       ")\n"
                       "module(load=\"imtcp\")\n"
                       "template(name=\"raw\" type=\"string\" string=\"%rawmsg%\\n\")\n";
    bool relp_loaded = false;
    for (const auto& s : sinks_) {
      const Input input = inputs_.count(s) != 0 ? inputs_[s] : Input::kTcp;
      if (input == Input::kRelp && !relp_loaded) {
        conf += "module(load=\"imrelp\")\n";
        relp_loaded = true;
      }
      const std::string common = " address=\"127.0.0.1\" port=\"" + std::to_string(ports_[s]) + "\" ruleset=\"r_" + s + "\"";
      if (input == Input::kRelp) {
        conf += "input(type=\"imrelp\"" + common + ")\n";
      } else if (input == Input::kTls) {
        conf += "input(type=\"imtcp\"" + common +
                " streamDriver.name=\"ossl\" streamDriver.mode=\"1\" streamDriver.authMode=\"anon\")\n";
      } else {
        conf += "input(type=\"imtcp\"" + common + ")\n";
      }
      conf += "ruleset(name=\"r_" + s + "\") { action(type=\"omfile\" file=\"" + file(s) + "\" template=\"raw\") }\n";
    }
    const std::string conf_path = dir_ + "/rsyslog.conf";
    WriteFile(conf_path, conf);
    std::vector<std::string> args = {kRsyslogd, "-n", "-f", conf_path, "-i", dir_ + "/rsyslog.pid"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, kRsyslogd, nullptr, nullptr, argv.data(), environ) != 0) return false;
    // Ready once every input accepts connections.
    return WaitUntil([&] {
      for (const auto& s : sinks_) {
        if (!CanConnect(ports_[s])) return false;
      }
      return true;
    }, std::chrono::seconds(30));
  }

  // SIGTERM and wait: rsyslog closes its inputs and flushes its files.
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  std::string dir_;
  std::vector<std::string> sinks_;
  std::map<std::string, int> ports_;
  std::map<std::string, Input> inputs_;
  std::string tls_ca_, tls_cert_, tls_key_;
  pid_t pid_ = -1;
};

// (hit id, matched observable) of one received line in `format`; empty id if it does not
// parse as that format.
using Parsed = std::pair<std::string, std::string>;

std::string Match(const std::string& line, const std::string& re) {
  std::smatch m;
  return std::regex_search(line, m, std::regex(re)) ? m[1].str() : "";
}

Parsed ParseLine(const std::string& format, const std::string& line) {
  if (format == "json") {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return {};
    return {j["event"]["id"].get<std::string>(), j["threat"]["enrichments"][0]["matched"]["atomic"].get<std::string>()};
  }
  if (format == "cef") {
    if (line.rfind("CEF:0|iocd|iocd|1.0|", 0) != 0) return {};
    return {Match(line, R"( externalId=(\S+))"), Match(line, R"( cs1=(\S+))")};
  }
  if (format == "leef") {
    if (line.rfind("LEEF:2.0|iocd|iocd|1.0|", 0) != 0) return {};
    std::map<std::string, std::string> attrs;
    std::stringstream ss(line.substr(line.find("|x09|") + 5));
    for (std::string kv; std::getline(ss, kv, '\t');) {
      const size_t eq = kv.find('=');
      if (eq != std::string::npos) attrs[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    return {attrs["hitId"], attrs["observable"]};
  }
  if (format == "rfc5424") {
    if (line.rfind("<132>1 ", 0) != 0) return {};
    return {Match(line, R"re(\[iocd@32473 id="([^"]+)")re"), Match(line, R"re( observable="([^"]+)")re")};
  }
  if (format == "template") {
    std::stringstream ss(line);
    std::string tag, id, observable;
    ss >> tag >> id >> observable;
    if (tag != "iocd-hit") return {};
    return {id, observable};
  }
  return {};
}

struct Received {
  std::vector<Parsed> hits;
  std::vector<std::string> unparsed;
  std::set<std::string> observables() const {
    std::set<std::string> out;
    for (const auto& h : hits) out.insert(h.second);
    return out;
  }
  std::set<std::string> ids() const {
    std::set<std::string> out;
    for (const auto& h : hits) out.insert(h.first);
    return out;
  }
};

Received ReadHits(const std::string& format, const std::string& path) {
  Received r;
  for (const auto& line : ReadLines(path)) {
    Parsed p = ParseLine(format, line);
    if (p.first.empty()) {
      r.unparsed.push_back(line);
    } else {
      r.hits.push_back(p);
    }
  }
  return r;
}

std::string Ip(int i) { return "198.51.100." + std::to_string(i); }

class DeliveryEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(kRsyslogd, X_OK) != 0) GTEST_SKIP() << kRsyslogd << " is not installed (tools/bootstrap.sh)";
    std::string feed = "# delivery e2e feed\n";
    for (int i = 1; i <= 200; ++i) feed += Ip(i) + "\n";
    feed += std::string(kSentinel) + "\n";
    WriteFile(dir_ / "feed.txt", feed);
  }

  // A config with the given outputs (YAML list items, already indented).
  std::string WriteConfig(const std::string& outputs) {
    const std::string path = dir_ / "iocd.yaml";
    WriteFile(path, SiemInputAndPlainFeedYaml(dir_) +
                        "    confidence: 80\n"
                        "outputs:\n" +
                        outputs);
    return path;
  }

  std::unique_ptr<IocdProcess> StartIocd(const std::string& config) {
    auto p = std::make_unique<IocdProcess>(IOCD_BINARY, std::vector<std::string>{"--config", config});
    EXPECT_TRUE(p->Start());
    EXPECT_TRUE(p->WaitForLog("iocd ready")) << p->log();
    return p;
  }

  // One event per IP in [from, to), then (if asked) the sentinel, sent with logger.
  void Send(IocdProcess& iocd, int from, int to, bool sentinel) {
    std::string input;
    for (int i = from; i < to; ++i) input += "connection from " + Ip(i) + " port 443 denied\n";
    input += "a clean line without indicators\n";
    if (sentinel) input += std::string("lookup ") + kSentinel + "\n";
    CommandResult sent = RunCommand(
        {"logger", "--tcp", "-n", "127.0.0.1", "-P", std::to_string(iocd.InputPort("siem")), "-t", "e2e"}, input);
    ASSERT_EQ(sent.exit_code, 0) << sent.err;
  }

  // 40 hits arrive; rsyslog stops and 80 more are spooled by iocd; rsyslog is back on the
  // same port and 30 more and the sentinel follow: every hit id arrives, at least once.
  // The number of duplicates is printed and recorded.
  void OutageLosesNoHit(Rsyslog& rsyslog, IocdProcess& iocd, const std::string& label) {
    const std::string file = rsyslog.file("siem");
    Send(iocd, 1, 41, false);
    ASSERT_TRUE(WaitUntil([&] { return ReadHits("template", file).observables().size() == 40; })) << iocd.log();

    rsyslog.Stop();
    Send(iocd, 41, 101, false);
    Send(iocd, 101, 121, false);

    ASSERT_TRUE(rsyslog.Start());
    Send(iocd, 121, 151, true);
    std::set<std::string> expected = Expected(1, 151);
    ASSERT_TRUE(WaitUntil([&] { return ReadHits("template", file).observables() == expected; }))
        << "missing hits; log:\n" << iocd.log();
    Received r = ReadHits("template", file);
    EXPECT_THAT(r.unparsed, ::testing::IsEmpty());
    EXPECT_EQ(r.ids().size(), 151u);
    const size_t duplicates = r.hits.size() - r.ids().size();
    std::cout << label << " outage: " << r.hits.size() << " lines for " << r.ids().size() << " hits, " << duplicates
              << " duplicate(s)\n";
    RecordProperty("duplicates", static_cast<int>(duplicates));
  }

  std::set<std::string> Expected(int from, int to) {
    std::set<std::string> out = {kSentinel};
    for (int i = from; i < to; ++i) out.insert(Ip(i));
    return out;
  }

  TempDir dir_;
};

TEST_F(DeliveryEndToEndTest, EveryFormatArrivesAtRsyslogAndParses) {
  const std::vector<std::string> formats = {"json", "cef", "leef", "rfc5424", "template"};
  Rsyslog rsyslog(dir_.path(), formats);
  ASSERT_TRUE(rsyslog.Start());
  std::string outputs;
  for (const auto& f : formats) {
    outputs += "  - name: out-" + f + "\n    protocol: tcp\n    address: 127.0.0.1:" + std::to_string(rsyslog.port(f)) +
               "\n    format: " + f + "\n";
    if (f == "rfc5424") outputs += "    framing: octet-counted\n";
    if (f == "template") outputs += "    line_template: 'iocd-hit %HitId% %MatchedIndicator% %Category%'\n";
  }
  auto iocd = StartIocd(WriteConfig(outputs));
  Send(*iocd, 1, 11, /*sentinel=*/true);

  std::set<std::string> ids_of_json;
  for (const auto& f : formats) {
    SCOPED_TRACE(f);
    ASSERT_TRUE(WaitUntil([&] { return ReadHits(f, rsyslog.file(f)).observables().count(kSentinel) == 1; }))
        << iocd->log();
    Received r = ReadHits(f, rsyslog.file(f));
    EXPECT_THAT(r.unparsed, ::testing::IsEmpty());
    EXPECT_EQ(r.observables(), Expected(1, 11));
    EXPECT_EQ(r.hits.size(), 11u);  // no duplicates without an outage
    if (f == "json") {
      ids_of_json = r.ids();
    } else {
      EXPECT_EQ(r.ids(), ids_of_json);  // the same hits, with the same ids, in every format
    }
  }
}

TEST_F(DeliveryEndToEndTest, ReceiverOutageLosesNoHit) {
  Rsyslog rsyslog(dir_.path(), {"siem"});
  ASSERT_TRUE(rsyslog.Start());
  auto iocd = StartIocd(WriteConfig("  - name: siem\n    protocol: tcp\n    address: 127.0.0.1:" +
                                    std::to_string(rsyslog.port("siem")) +
                                    "\n    format: template\n    line_template: 'iocd-hit %HitId% %MatchedIndicator%'\n"));
  OutageLosesNoHit(rsyslog, *iocd, "tcp");
}

TEST_F(DeliveryEndToEndTest, SpooledHitsSurviveSigkill) {
  Rsyslog rsyslog(dir_.path(), {"siem"});  // not started yet: the receiver is down
  const std::string local = dir_ / "local.log";
  const std::string config = WriteConfig(
      "  - name: siem\n    protocol: tcp\n    address: 127.0.0.1:" + std::to_string(rsyslog.port("siem")) +
      "\n    format: template\n    line_template: 'iocd-hit %HitId% %MatchedIndicator%'\n"
      "  - name: local\n    protocol: file\n    path: " + local +
      "\n    format: template\n    line_template: 'iocd-hit %HitId% %MatchedIndicator%'\n");
  {
    auto iocd = StartIocd(config);
    Send(*iocd, 1, 26, true);
    // The file output only writes what the shared spool holds, so once it has all 26 hits
    // they are all spooled for the receiver too.
    ASSERT_TRUE(WaitUntil([&] { return ReadHits("template", local).observables() == Expected(1, 26); }))
        << iocd->log();
    iocd->Signal(SIGKILL);
    EXPECT_EQ(iocd->Wait(), -1);
  }
  auto iocd = StartIocd(config);
  EXPECT_THAT(iocd->log(), ::testing::HasSubstr("undelivered hit(s) from before the start"));
  ASSERT_TRUE(rsyslog.Start());
  const std::string file = rsyslog.file("siem");
  ASSERT_TRUE(WaitUntil([&] { return ReadHits("template", file).observables() == Expected(1, 26); }))
      << iocd->log();
  Received r = ReadHits("template", file);
  EXPECT_EQ(r.ids().size(), 26u);
  EXPECT_EQ(r.hits.size(), 26u);  // the receiver never saw them before: no duplicates
  EXPECT_EQ(r.ids(), ReadHits("template", local).ids());
}

// The template output of one output named "siem" with `protocol_lines` (indented YAML).
std::string SiemOutput(const std::string& protocol_lines) {
  return "  - name: siem\n" + protocol_lines +
         "    format: template\n    line_template: 'iocd-hit %HitId% %MatchedIndicator%'\n";
}

// rsyslog with an imrelp input "siem" and iocd with a relp output to it.
class RelpDeliveryTest : public DeliveryEndToEndTest {
 protected:
  void SetUp() override {
    DeliveryEndToEndTest::SetUp();
    if (IsSkipped()) return;
    if (::access(kImrelp, R_OK) != 0) GTEST_SKIP() << kImrelp << " is missing (package rsyslog-relp)";
    rsyslog_ = std::make_unique<Rsyslog>(dir_.path(), std::vector<std::string>{"siem"});
    rsyslog_->set_input("siem", Rsyslog::Input::kRelp);
    ASSERT_TRUE(rsyslog_->Start());
    iocd_ = StartIocd(WriteConfig(
        SiemOutput("    protocol: relp\n    address: 127.0.0.1:" + std::to_string(rsyslog_->port("siem")) + "\n")));
  }

  std::unique_ptr<Rsyslog> rsyslog_;
  std::unique_ptr<IocdProcess> iocd_;
};

TEST_F(RelpDeliveryTest, EveryHitArrivesOnce) {
  Send(*iocd_, 1, 31, /*sentinel=*/true);
  const std::string file = rsyslog_->file("siem");
  ASSERT_TRUE(WaitUntil([&] { return ReadHits("template", file).observables() == Expected(1, 31); }))
      << iocd_->log();
  Received r = ReadHits("template", file);
  EXPECT_THAT(r.unparsed, ::testing::IsEmpty());
  EXPECT_EQ(r.ids().size(), 31u);
  EXPECT_EQ(r.hits.size(), 31u);  // acknowledged delivery without an outage: no duplicates
}

TEST_F(RelpDeliveryTest, ReceiverOutageLosesNoHit) {
  // Duplicates are possible only for a batch whose acknowledgement the outage cut off.
  OutageLosesNoHit(*rsyslog_, *iocd_, "relp");
}

TEST_F(DeliveryEndToEndTest, TlsOutputDeliversToRsyslogOssl) {
  if (::access(kLmnsdOssl, R_OK) != 0) GTEST_SKIP() << kLmnsdOssl << " is missing (package rsyslog-openssl)";
  // A self-signed certificate for localhost serves as the receiver's certificate and CA.
  const std::string cert = dir_ / "server.pem", key = dir_ / "server.key";
  CommandResult made = RunCommand({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                   "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days",
                                   "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"});
  if (made.exit_code != 0) GTEST_SKIP() << "openssl could not make a test certificate: " << made.err;
  Rsyslog rsyslog(dir_.path(), {"siem"});
  rsyslog.set_input("siem", Rsyslog::Input::kTls);
  rsyslog.set_tls(cert, cert, key);
  ASSERT_TRUE(rsyslog.Start());
  auto iocd = StartIocd(WriteConfig(SiemOutput("    protocol: tls\n    address: 127.0.0.1:" +
                                               std::to_string(rsyslog.port("siem")) + "\n    tls:\n      ca: " + cert +
                                               "\n      server_name: localhost\n")));
  Send(*iocd, 1, 21, /*sentinel=*/true);
  const std::string file = rsyslog.file("siem");
  ASSERT_TRUE(WaitUntil([&] { return ReadHits("template", file).observables() == Expected(1, 21); }))
      << iocd->log();
  Received r = ReadHits("template", file);
  EXPECT_THAT(r.unparsed, ::testing::IsEmpty());
  EXPECT_EQ(r.ids().size(), 21u);
  EXPECT_EQ(r.hits.size(), 21u);
}

}  // namespace
}  // namespace iocd::testing
