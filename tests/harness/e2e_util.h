// Helpers shared by the end-to-end tests: temp dirs, files, sending with logger, and
// reading hits back.
#pragma once

#include <string>
#include <vector>

#include "harness/line_receiver.h"

namespace iocd::testing {

// A fresh directory under $TMPDIR, removed with everything in it at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);

// The repository root (IOCD_SOURCE_DIR, set by ctest; else the working directory).
std::string SourceDir();

// The YAML every end-to-end config starts with: state_dir `dir`/state, one syslog-tcp input
// "siem" on 127.0.0.1:0, and a feed list opening with the plain feed "e2e" at `dir`/feed.txt.
// Ends inside that feed's entry, so callers may append its options (indented four spaces),
// more feeds, and then "outputs:".
std::string SiemInputAndPlainFeedYaml(const TempDir& dir);

// The sentinel domain: every test feed lists it, and SendAndCollect sends it last.
inline constexpr char kSentinel[] = "sentinel.iocd-test.net";

// "observable|type => feed:indicator:indicator_type ..." for one JSON hit line.
std::string Summarize(const std::string& hit_line);
bool IsSentinelHit(const std::string& hit_line);
// The summary of the sentinel's hit when the feed is named `feed`.
std::string SentinelSummary(const std::string& feed = "e2e");

// Sends `lines` and then the sentinel with logger over TCP in one connection and returns
// the sorted summaries of every hit received up to and including the sentinel's. iocd
// handles a connection's events in order and the TCP output keeps that order, so all
// earlier hits have arrived once the sentinel's has.
std::vector<std::string> SendAndCollect(LineReceiver& siem, int port, std::vector<std::string> lines,
                                        bool octet_count = false);

}  // namespace iocd::testing
