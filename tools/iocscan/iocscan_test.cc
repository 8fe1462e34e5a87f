#include "iocscan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/temp_dir.h"
#include "config/config.h"

namespace iocd::scan {
namespace {

using ::testing::HasSubstr;

class ScanTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }
  void Write(const std::string& name, const std::string& content) const {
    std::ofstream(Path(name), std::ios::binary) << content;
  }
  // A config whose feeds are `yaml_feeds` with @DIR@ replaced by the temp dir.
  iocd::config::Config Config(std::string yaml) const {
    for (size_t at; (at = yaml.find("@DIR@")) != std::string::npos;)
      yaml.replace(at, 5, dir_.path());
    auto config = ParseConfig(yaml, "test.yaml");
    EXPECT_TRUE(config.ok()) << config.status().message();
    return *config;
  }
  std::unique_ptr<const ScanIndex> Load(const std::string& yaml,
                                        std::vector<FeedLoadReport>* reports = nullptr) {
    auto index = ScanIndex::Load(Config(yaml), reports);
    EXPECT_TRUE(index.ok()) << index.status().message();
    return index.ok() ? std::move(*index) : nullptr;
  }
  std::string Scan(const ScanIndex& index, std::string_view text, ScanOptions options,
                   ScanStats* stats = nullptr) {
    options.now_unix_us = 1795996800000000;
    Scanner scanner(&index, options);
    std::ostringstream out;
    EXPECT_TRUE(scanner.ScanText(text, "-", out).ok());
    if (stats != nullptr) *stats = scanner.stats();
    return out.str();
  }

  TempDir dir_{"iocscan-test"};
};

constexpr char kTwoFeeds[] = R"(feeds:
  - name: a
    path: @DIR@/a.txt
    format: plain
    confidence: 70
    tags: [x]
  - name: b
    path: @DIR@/b.txt
    format: plain
    subdomains: false
    context: {threat: T}
)";

TEST_F(ScanTest, HitsCarryEveryFeedsEntryWithContext) {
  Write("a.txt", "1.2.3.4  # c2\nevil.com\n10.0.0.0/8\n");
  Write("b.txt", "1.2.3.4\nexact.org\n");
  std::vector<FeedLoadReport> reports;
  auto index = Load(kTwoFeeds, &reports);
  ASSERT_NE(index, nullptr);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].indicators, 3u);
  EXPECT_EQ(reports[1].indicators, 2u);

  ScanStats stats;
  std::string out =
      Scan(*index, "x 1.2.3.4 y\nnothing 11.2.3.45\r\nsub.exact.org exact.org a.evil.com\n10.9.9.9",
           {}, &stats);
  EXPECT_EQ(stats.lines, 4u);
  EXPECT_EQ(stats.hits, 4u);  // 1.2.3.4, exact.org, a.evil.com, 10.9.9.9; not sub.exact.org
  EXPECT_EQ(stats.hit_lines, 3u);
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_THAT(lines[0], HasSubstr(R"("address":"-:1")"));
  EXPECT_THAT(
      lines[0],
      HasSubstr(
          R"({"feed":{"name":"a"},"indicator":{"type":"ipv4","name":"1.2.3.4","confidence":70,"tags":["x"],"context":{"comment":"c2"}})"));
  EXPECT_THAT(
      lines[0],
      HasSubstr(
          R"({"feed":{"name":"b"},"indicator":{"type":"ipv4","name":"1.2.3.4","description":"T","context":{"threat":"T"}})"));
  EXPECT_THAT(lines[1], HasSubstr(R"("address":"-:3")"));
  EXPECT_THAT(lines[1], HasSubstr(R"("atomic":"exact.org")"));
  EXPECT_THAT(lines[2], HasSubstr(R"("atomic":"a.evil.com")"));
  EXPECT_THAT(lines[3], HasSubstr(R"("address":"-:4")"));
  EXPECT_THAT(lines[3], HasSubstr(R"("name":"10.0.0.0/8")"));
}

// Entry lookup (ScanIndex::Find) with many keys sharing probe runs and up to three feeds per
// indicator: every hit names exactly the feeds that list its indicator, each with its own
// comment.
TEST_F(ScanTest, EachHitNamesExactlyTheFeedsThatListIt) {
  std::string a, b, c, text;
  for (int i = 0; i < 300; ++i) {
    const std::string ip = "10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    if (i % 2 == 0) a += ip + " # a" + std::to_string(i) + "\n";
    if (i % 3 == 0) b += ip + " # b" + std::to_string(i) + "\n";
    if (i % 5 == 0) c += ip + " # c" + std::to_string(i) + "\n";
    text += ip + "\n";
  }
  Write("a.txt", a);
  Write("b.txt", b);
  Write("c.txt", c);
  auto index = Load(R"(feeds:
  - {name: a, path: @DIR@/a.txt, format: plain}
  - {name: b, path: @DIR@/b.txt, format: plain}
  - {name: c, path: @DIR@/c.txt, format: plain}
)");
  ASSERT_NE(index, nullptr);
  ScanStats stats;
  std::istringstream out(Scan(*index, text, {}, &stats));
  int expected_hits = 0;
  std::string line;
  for (int i = 0; i < 300; ++i) {
    const bool listed[3] = {i % 2 == 0, i % 3 == 0, i % 5 == 0};
    if (!listed[0] && !listed[1] && !listed[2]) continue;
    ++expected_hits;
    ASSERT_TRUE(std::getline(out, line));
    EXPECT_THAT(line, HasSubstr("\"address\":\"-:" + std::to_string(i + 1) + "\""));
    for (int f = 0; f < 3; ++f) {
      const std::string feed(1, static_cast<char>('a' + f));
      const std::string entry = "{\"feed\":{\"name\":\"" + feed + "\"}";
      const std::string comment = "\"comment\":\"" + feed + std::to_string(i) + "\"";
      EXPECT_EQ(line.find(entry) != std::string::npos, listed[f]) << i << " " << feed;
      EXPECT_EQ(line.find(comment) != std::string::npos, listed[f]) << i << " " << feed;
    }
  }
  EXPECT_FALSE(std::getline(out, line));
  EXPECT_EQ(stats.hits, static_cast<uint64_t>(expected_hits));
  EXPECT_EQ(expected_hits, 150 + 100 + 60 - 50 - 30 - 20 + 10);
}

TEST_F(ScanTest, ThreadsAndChunkSizeDoNotChangeTheOutput) {
  Write("a.txt", "1.2.3.4\nevil.com\n");
  Write("b.txt", "5.6.7.8\n");
  auto index = Load(kTwoFeeds);
  ASSERT_NE(index, nullptr);
  std::string text;
  for (int i = 0; i < 3000; ++i) {
    text += "line " + std::to_string(i) + (i % 7 == 0 ? " src=1.2.3.4" : "") +
            (i % 11 == 0 ? " q=x.evil.com" : "") +
            (i == 1234 ? std::string(20000, 'a') + " 5.6.7.8" : "") + "\n";
  }
  ScanStats one_stats, many_stats;
  ScanOptions one;
  const std::string expected = Scan(*index, text, one, &one_stats);
  ScanOptions many;
  many.threads = 3;
  many.chunk_bytes = 4096;  // smaller than the long line: the chunk grows
  EXPECT_EQ(Scan(*index, text, many, &many_stats), expected);
  EXPECT_EQ(many_stats.lines, 3000u);
  EXPECT_EQ(many_stats.bytes, text.size());
  EXPECT_EQ(many_stats.hits, one_stats.hits);
  EXPECT_EQ(one_stats.hits, 429u + 273u + 1u);  // ceil(3000/7) + ceil(3000/11) + the long line
  EXPECT_THAT(expected, HasSubstr(R"("address":"-:1235")"));
}

TEST_F(ScanTest, WithoutWritingHitsTheCountsAreTheSame) {
  Write("a.txt", "1.2.3.4\nevil.com\n10.0.0.0/8\n");
  Write("b.txt", "1.2.3.4\nexact.org\n");
  auto index = Load(kTwoFeeds);
  ASSERT_NE(index, nullptr);
  const std::string text = "x 1.2.3.4 y\nsub.exact.org exact.org a.evil.com\n10.9.9.9\nnone\n";
  ScanStats written, counted;
  ASSERT_NE(Scan(*index, text, {}, &written), "");
  ScanOptions count_only;
  count_only.write_hits = false;
  EXPECT_EQ(Scan(*index, text, count_only, &counted), "");
  EXPECT_EQ(written.hits, 4u);
  EXPECT_EQ(counted.hits, 4u);
  EXPECT_EQ(counted.hit_lines, 3u);
  EXPECT_EQ(counted.lines, 4u);
}

TEST_F(ScanTest, AllowlistSuppressesAndDropRemoves) {
  Write("a.txt", "1.2.3.4\n1.2.3.5\n");
  Write("b.txt", "9.9.9.9\n");
  Write("allow.txt", "1.2.3.4\n");
  Write("drop.txt", "1.2.3.5\n");
  std::vector<FeedLoadReport> reports;
  auto index = Load(std::string(kTwoFeeds) + R"(allowlists:
  - name: allow
    path: @DIR@/allow.txt
    format: plain
  - name: drop
    path: @DIR@/drop.txt
    format: plain
    drop_indicators: true
)",
                    &reports);
  ASSERT_NE(index, nullptr);
  ASSERT_EQ(reports.size(), 4u);
  EXPECT_TRUE(reports[0].allowlist);
  EXPECT_EQ(reports[2].name, "a");
  EXPECT_EQ(reports[2].dropped_by_allowlist, 1u);
  ScanStats stats;
  EXPECT_EQ(Scan(*index, "1.2.3.4 1.2.3.5 9.9.9.9\n", {}, &stats).find("1.2.3.4\""),
            std::string::npos);
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.suppressed, 1u);  // 1.2.3.5 was never indexed
}

TEST_F(ScanTest, LoadErrorsNameTheFeed) {
  auto missing = ScanIndex::Load(
      Config("feeds:\n  - name: gone\n    path: @DIR@/none.txt\n    format: plain\n"), nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kIoError);
  EXPECT_THAT(missing.status().message(), HasSubstr("feed gone: cannot open"));

  Write("junk.txt", "not an indicator\nalso not\n");
  auto junk = ScanIndex::Load(
      Config("feeds:\n  - name: junk\n    path: @DIR@/junk.txt\n    format: plain\n"), nullptr);
  ASSERT_FALSE(junk.ok());
  EXPECT_EQ(junk.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(
      junk.status().message(),
      HasSubstr("feed junk: no record holds a valid indicator (2 malformed; first, line 1"));

  Write("mixed.txt", "1.2.3.4\nbad line\n");
  std::vector<FeedLoadReport> reports;
  auto mixed = ScanIndex::Load(
      Config("feeds:\n  - name: m\n    path: @DIR@/mixed.txt\n    format: plain\n"), &reports);
  ASSERT_TRUE(mixed.ok());
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].indicators, 1u);
  ASSERT_EQ(reports[0].errors.size(), 1u);
  EXPECT_EQ(reports[0].errors[0].line, 2u);
}

TEST_F(ScanTest, EmptyInputAndReproducibleIds) {
  Write("a.txt", "1.2.3.4\n");
  Write("b.txt", "5.6.7.8\n");
  auto index = Load(kTwoFeeds);
  ASSERT_NE(index, nullptr);
  ScanStats stats;
  EXPECT_EQ(Scan(*index, "", {}, &stats), "");
  EXPECT_EQ(stats.lines, 0u);
  const std::string a = Scan(*index, "1.2.3.4\n5.6.7.8\n", {});
  EXPECT_EQ(a, Scan(*index, "1.2.3.4\n5.6.7.8\n", {}));
  EXPECT_THAT(a, HasSubstr(R"("id":"06617317482000000000000000000000")"));
  EXPECT_THAT(a, HasSubstr(R"("id":"06617317482000000000000000000001")"));
}

}  // namespace
}  // namespace iocd::scan
