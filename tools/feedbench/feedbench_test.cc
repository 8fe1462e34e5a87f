#include "feedbench.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "app/feed_source.h"

namespace iocd::bench {
namespace {

// Every generated feed parses into exactly the requested number of indicators, and two
// seeds give disjoint sets: the benchmark's figures are about real, complete imports.
TEST(FeedBenchTest, GeneratedFeedsParseCompletely) {
  for (auto format : {iocd::config::FEED_FORMAT_PLAIN, iocd::config::FEED_FORMAT_CSV,
                      iocd::config::FEED_FORMAT_ZEEK_INTEL, iocd::config::FEED_FORMAT_KASPERSKY_JSON,
                      iocd::config::FEED_FORMAT_STIX2, iocd::config::FEED_FORMAT_MISP}) {
    iocd::config::Feed feed;
    feed.set_format(format);
    if (format == iocd::config::FEED_FORMAT_CSV) feed.mutable_csv()->set_delimiter(";");
    auto a = ParseFeedDocuments(feed, {GenerateFeed(format, 1000, 1)});
    auto b = ParseFeedDocuments(feed, {GenerateFeed(format, 1000, 2)});
    ASSERT_TRUE(a.ok() && b.ok()) << FormatName(format);
    EXPECT_EQ(a->indicators.size(), 1000u) << FormatName(format);
    EXPECT_TRUE(a->errors.empty()) << FormatName(format) << ": " << a->errors[0].message;
    std::set<std::string> keys;
    for (const auto& p : a->indicators) keys.insert(p.indicator.Encoded());
    for (const auto& p : b->indicators) EXPECT_EQ(keys.count(p.indicator.Encoded()), 0u);
  }
}

TEST(FeedBenchTest, SmallRunSucceeds) {
  FeedBenchOptions options;
  options.work_dir = (std::filesystem::temp_directory_path() / "iocd-feedbench-test").string();
  options.load_sizes = {2000};
  options.reload_sizes = {2000};
  std::ostringstream out;
  EXPECT_EQ(RunFeedBench(options, out), 0) << out.str();
  EXPECT_NE(out.str().find("load_plain_2k"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("reload_plain_2k"), std::string::npos) << out.str();
  std::filesystem::remove_all(options.work_dir);
}

}  // namespace
}  // namespace iocd::bench
