// Test-only helpers of the feeds tests (daemon/feeds/*_test.cc): reading the in-repo
// fixtures and the shared real-data kit, and listing a FeedParseResult for exact
// comparison. Library code never includes this header.
//
// Paths: ctest sets IOCD_SOURCE_DIR to the repository root and runs the tests in it, so
// fixtures are read as SourceRoot() / "daemon/feeds/testdata/...". The shared data kit
// (SharedDataDir()) lies outside the repository and is absent in a fresh clone: a test
// that reads it must GTEST_SKIP when the file is missing, never fail.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "feeds/feed_parser.h"

namespace iocd {

// $IOCD_SOURCE_DIR when set and not empty, else the working directory.
inline std::filesystem::path SourceRoot() {
  const char* dir = std::getenv("IOCD_SOURCE_DIR");
  return (dir != nullptr && *dir != '\0') ? std::filesystem::path(dir) : ".";
}

// The bytes of the file at path, unchanged; nullopt when it cannot be opened.
inline std::optional<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// A file of the repository, by its path relative to the repository root.
inline std::optional<std::string> ReadRepoFile(const std::string& relative) {
  return ReadFile(SourceRoot() / relative);
}

// The shared real-data kit: $IOCD_SOURCE_DIR/../shared/data (feeds/, allowlists/, ...).
inline std::filesystem::path SharedDataDir() { return SourceRoot() / "../shared/data"; }

// One "line: message" per error, in order.
inline std::vector<std::string> Errors(const FeedParseResult& r) {
  std::vector<std::string> out;
  for (const FeedError& e : r.errors) out.push_back(std::to_string(e.line) + ": " + e.message);
  return out;
}

// Indicators per type name ("ipv4", "domain", ...).
inline std::map<std::string, uint64_t> CountByType(const FeedParseResult& r) {
  std::map<std::string, uint64_t> out;
  for (const ParsedIndicator& p : r.indicators) ++out[std::string(TypeName(p.indicator.type))];
  return out;
}

// One "key=value" per context field, in order.
inline std::vector<std::string> Context(const ParsedIndicator& p) {
  std::vector<std::string> out;
  for (const store::ContextField& f : p.context) out.push_back(f.key() + "=" + f.value());
  return out;
}

}  // namespace iocd
