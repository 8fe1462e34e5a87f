#include "harness/e2e_util.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness/run_command.h"

namespace iocd::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "iocd-e2e-XXXXXX").string();
  path_ = mkdtemp(tmpl.data());
}

TempDir::~TempDir() { fs::remove_all(path_); }

void WriteFile(const std::string& path, const std::string& content) {
  // Written beside and renamed over, as feed publishers do, so iocd never reads half a file.
  std::string tmp = path + ".tmp";
  std::ofstream(tmp, std::ios::binary | std::ios::trunc) << content;
  fs::rename(tmp, path);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string SiemInputAndPlainFeedYaml(const TempDir& dir) {
  return "state_dir: " + (dir / "state") +
         "\n"
         "inputs:\n"
         "  - name: siem\n"
         "    protocol: syslog-tcp\n"
         "    listen: 127.0.0.1:0\n"
         "feeds:\n"
         "  - name: e2e\n"
         "    path: " + (dir / "feed.txt") +
         "\n"
         "    format: plain\n";
}

std::string SourceDir() {
  const char* dir = std::getenv("IOCD_SOURCE_DIR");
  return dir != nullptr ? dir : fs::current_path().string();
}

std::string Summarize(const std::string& line) {
  auto hit = nlohmann::json::parse(line);
  std::string out;
  for (const auto& e : hit["threat"]["enrichments"]) {
    if (out.empty()) {
      out = e["matched"]["atomic"].get<std::string>() + "|" + e["matched"]["type"].get<std::string>() + " =>";
    }
    out += " " + e["feed"]["name"].get<std::string>() + ":" + e["indicator"]["name"].get<std::string>() + ":" +
           e["indicator"]["type"].get<std::string>();
  }
  return out;
}

bool IsSentinelHit(const std::string& line) { return line.find(kSentinel) != std::string::npos; }

std::string SentinelSummary(const std::string& feed) {
  return std::string(kSentinel) + "|domain => " + feed + ":" + kSentinel + ":domain";
}

std::vector<std::string> SendAndCollect(LineReceiver& siem, int port, std::vector<std::string> lines,
                                        bool octet_count) {
  siem.Clear();
  lines.push_back(std::string("end of batch ") + kSentinel);
  std::string input;
  for (const auto& l : lines) input += l + "\n";
  std::vector<std::string> argv = {"logger", "--tcp", "-n", "127.0.0.1", "-P", std::to_string(port), "-t", "e2e"};
  if (octet_count) argv.push_back("--octet-count");
  CommandResult sent = RunCommand(argv, input);
  if (sent.exit_code != 0) return {"logger failed: " + sent.err};
  std::vector<std::string> received = siem.WaitFor(IsSentinelHit);
  if (received.empty()) return {"no sentinel hit arrived"};
  std::vector<std::string> out;
  for (const auto& line : received) out.push_back(Summarize(line));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace iocd::testing
