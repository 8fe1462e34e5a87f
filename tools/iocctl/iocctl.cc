#include "iocctl.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "control/control_client.h"
#include "output/hit_json.h"
#include "store/indicator_store.h"

namespace iocd {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;  // the daemon answered ERR; store-info found an inconsistency
constexpr int kExitUsage = 2;   // usage, cannot connect, no complete answer, store unusable

struct Options {
  std::string state_dir = "./var/iocd";
  std::string socket;  // empty: <state_dir>/control.sock
  int timeout_seconds = 120;
  std::string feed;  // reload
  bool json = false;  // store-info
};

// Sends one request and prints the answer: body to `out`; an ERR message to `err`.
int SendRequest(const Options& options, const std::string& line, std::ostream& out, std::ostream& err) {
  std::string socket = options.socket.empty()
                           ? (std::filesystem::path(options.state_dir) / "control.sock").string()
                           : options.socket;
  Result<ControlResponse> response = ControlExchange(socket, line, std::chrono::seconds(options.timeout_seconds));
  if (!response.ok()) {
    err << "iocctl: " << response.status().message() << "\n";
    return kExitUsage;
  }
  out << response->body;
  if (!response->ok) {
    err << "iocctl: " << response->error << "\n";
    return kExitFailed;
  }
  return kExitOk;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    uint8_t b = static_cast<uint8_t>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xF]);
  }
  return out;
}

// RFC 3339 UTC with microseconds ("2026-01-02T03:04:05.123000Z"); "-" for 0 (never).
std::string FormatTime(int64_t unix_ms) {
  if (unix_ms == 0) return "-";
  std::string out;
  AppendRfc3339Micros(unix_ms * 1000, &out);
  return out;
}

struct FeedReport {
  iocd::store::FeedState state;
  uint64_t stored = 0;  // entries found under state.id()
  bool consistent() const { return stored == state.indicator_count(); }
};

int StoreInfo(const Options& options, std::ostream& out, std::ostream& err) {
  const std::string path = (std::filesystem::path(options.state_dir) / "store").string();
  // Open() creates a missing store; an inspection tool must not, so a typo in --state-dir
  // does not leave an empty store behind.
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(path) / "CURRENT", ec)) {
    err << "iocctl: no store in " << path << " (wrong --state-dir?)\n";
    return kExitUsage;
  }
  Result<std::unique_ptr<IndicatorStore>> store = IndicatorStore::Open(StoreOptions{path});
  if (!store.ok()) {
    // The store component reports RocksDB's "While lock file: .../LOCK: ..." as IoError.
    const Status status = store.status();  // status() returns a copy: keep it alive
    const std::string& message = status.message();
    if (status.code() == StatusCode::kIoError && message.find("lock") != std::string::npos) {
      err << "iocctl: the store in " << path << " is in use by a running iocd; use `iocctl status`\n";
    } else {
      err << "iocctl: " << message << "\n";
    }
    return kExitUsage;
  }
  Result<std::vector<iocd::store::FeedState>> feeds = (*store)->ListFeeds();
  if (!feeds.ok()) {
    err << "iocctl: " << feeds.status().message() << "\n";
    return kExitUsage;
  }
  std::vector<FeedReport> reports;
  std::map<FeedId, size_t> by_id;
  for (auto& state : *feeds) {
    by_id[state.id()] = reports.size();
    reports.push_back(FeedReport{std::move(state), 0});
  }
  uint64_t total = 0;
  std::map<FeedId, uint64_t> orphans;  // entries under ids no feed has
  Status scan = (*store)->ForEachEntry([&](const Indicator&, FeedId id) {
    ++total;
    auto it = by_id.find(id);
    if (it == by_id.end()) {
      ++orphans[id];
    } else {
      ++reports[it->second].stored;
    }
  });
  if (!scan.ok()) {
    err << "iocctl: reading entries of " << path << ": " << scan.message() << "\n";
    return kExitUsage;
  }
  uint64_t orphaned = 0;
  for (const auto& [id, n] : orphans) orphaned += n;
  bool consistent = orphaned == 0 && std::all_of(reports.begin(), reports.end(),
                                                 [](const FeedReport& r) { return r.consistent(); });

  if (options.json) {
    std::string j = "{\"store\":";
    AppendJsonString(path, &j);
    j += ",\"entries\":" + std::to_string(total) + ",\"feeds\":[";
    for (size_t i = 0; i < reports.size(); ++i) {
      const FeedReport& r = reports[i];
      const auto& s = r.state;
      if (i > 0) j += ",";
      j += "{\"name\":";
      AppendJsonString(s.name(), &j);
      j += ",\"id\":" + std::to_string(s.id()) + ",\"format\":";
      AppendJsonString(s.format(), &j);
      j += ",\"source\":";
      AppendJsonString(s.source(), &j);
      j += ",\"indicator_count\":" + std::to_string(s.indicator_count());
      j += ",\"rejected_lines\":" + std::to_string(s.rejected_lines());
      j += ",\"updated\":";
      AppendJsonString(FormatTime(s.updated_unix_ms()), &j);
      j += ",\"updated_unix_ms\":" + std::to_string(s.updated_unix_ms());
      j += ",\"fingerprint\":";
      AppendJsonString(Hex(s.fingerprint()), &j);
      j += ",\"stored_entries\":" + std::to_string(r.stored);
      j += std::string(",\"consistent\":") + (r.consistent() ? "true" : "false") + "}";
    }
    j += "],\"orphaned_entries\":" + std::to_string(orphaned);
    j += std::string(",\"consistent\":") + (consistent ? "true" : "false") + "}\n";
    out << j;
  } else {
    out << "store: " << path << "\n";
    out << "feeds: " << reports.size() << "\n";
    out << "entries: " << total << "\n";
    for (const FeedReport& r : reports) {
      const auto& s = r.state;
      out << "\nfeed: " << s.name() << "\n";
      out << "  id: " << s.id() << "\n";
      out << "  format: " << s.format() << "\n";
      out << "  source: " << s.source() << "\n";
      out << "  indicator_count: " << s.indicator_count() << "\n";
      out << "  rejected_lines: " << s.rejected_lines() << "\n";
      out << "  updated: " << FormatTime(s.updated_unix_ms()) << "\n";
      out << "  fingerprint: " << Hex(s.fingerprint()).substr(0, 12) << "\n";
      out << "  check: " << (r.consistent() ? "consistent" : "INCONSISTENT: " + std::to_string(r.stored) + " stored")
          << "\n";
    }
    if (orphaned > 0) {
      out << "\nINCONSISTENT: " << orphaned << " entries under feed ids no feed has:";
      for (const auto& [id, n] : orphans) out << " " << id << " (" << n << ")";
      out << "\n";
    }
  }
  if (!consistent) {
    err << "iocctl: the store is inconsistent\n";
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace

int RunIocctl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Options options;
  CLI::App app("iocctl: control a running iocd, inspect its store", "iocctl");
  app.require_subcommand(1);
  app.fallthrough();  // "iocctl store-info --state-dir DIR" works as well as the other order
  app.add_option("--state-dir", options.state_dir, "iocd state directory (default ./var/iocd)");
  app.add_option("--socket", options.socket, "control socket (default <state-dir>/control.sock)");
  app.add_option("--timeout", options.timeout_seconds, "seconds to wait for the daemon's answer (default 120)")
      ->check(CLI::Range(1, 86400));
  CLI::App* reload = app.add_subcommand("reload", "re-read all feeds, or only FEED, in the running iocd");
  reload->add_option("FEED", options.feed, "feed name");
  CLI::App* status = app.add_subcommand("status", "print the running iocd's status");
  CLI::App* metrics =
      app.add_subcommand("metrics", "print the running iocd's counters in the Prometheus text format");
  CLI::App* store_info =
      app.add_subcommand("store-info", "print each stored feed and check the store (no daemon may run)");
  store_info->add_flag("--json", options.json, "one JSON object instead of text");
  app.footer(
      "Exit codes: 0 ok; 1 the daemon answered ERR, or the store is inconsistent; 2 usage error, "
      "cannot connect, store missing or in use.");

  // CLI11 takes the arguments last-first.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e, out, err);
    return code == 0 ? kExitOk : kExitUsage;
  }

  if (*reload) return SendRequest(options, options.feed.empty() ? "reload" : "reload " + options.feed, out, err);
  if (*status) return SendRequest(options, "status", out, err);
  if (*metrics) return SendRequest(options, "metrics", out, err);
  if (*store_info) return StoreInfo(options, out, err);
  err << "iocctl: no command given (try --help)\n";
  return kExitUsage;
}

}  // namespace iocd
