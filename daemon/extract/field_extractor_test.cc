#include "extract/field_extractor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "parse/event_parser.h"

namespace iocd {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;

std::vector<std::string> Describe(std::string_view message) {
  EventParser parser;
  ParsedEvent event;
  parser.Parse(message, &event);
  std::vector<FieldObservable> found;
  ExtractFromEvent(event, &found);
  std::vector<std::string> out;
  for (const FieldObservable& f : found) {
    out.push_back(std::string(TypeName(f.observable.indicator.type)) + " " + f.field + " " +
                  std::string(f.observable.text));
  }
  return out;
}

TEST(FieldExtractorTest, ReportsFieldNames) {
  EXPECT_THAT(Describe("CEF:0|V|P|1|2|N|3|src=10.0.0.1 request=http://evil.com/x dhost=evil.com"),
              ElementsAre("ipv4 src 10.0.0.1", "url request http://evil.com/x",
                          "domain request evil.com"));
  EXPECT_THAT(Describe("{\"tls\":{\"sni\":\"l2.io\"},\"dns\":{\"rrname\":\"a.example.com\"}}"),
              ElementsAre("domain tls.sni l2.io", "domain dns.rrname a.example.com"));
  EXPECT_THAT(Describe("Oct 11 22:14:15 h sshd[1]: Failed password from 198.51.100.1"),
              ElementsAre("ipv4 message 198.51.100.1"));
}

TEST(FieldExtractorTest, AnAttributeWithoutAKeyIsReportedAsMessage) {
  // Regression (extract fuzzer): a LEEF attribute " =value" has an empty key.
  EXPECT_THAT(Describe("LEEF:1.0|V|P|1|E|src=10.0.0.1\t =evil.example.com"),
              ElementsAre("ipv4 src 10.0.0.1", "domain message evil.example.com"));
}

TEST(FieldExtractorTest, SplitsCompositeFields) {
  EXPECT_THAT(Describe("{\"EventData\":{\"Hashes\":\"SHA1=3395856CE81F2B7382DEE72602F798B642F14140,"
                       "MD5=44D88612FEA8A8F36DE82E1278ABB02F\"}}"),
              ElementsAre("sha1 EventData.Hashes.SHA1 3395856CE81F2B7382DEE72602F798B642F14140",
                          "md5 EventData.Hashes.MD5 44D88612FEA8A8F36DE82E1278ABB02F"));
  // A value with spaces is not composite.
  EXPECT_THAT(Describe("a=1 msg=x=198.51.100.1, y"), ElementsAre("ipv4 msg 198.51.100.1"));
}

TEST(FieldExtractorTest, HostPortAndDedupFirstFieldWins) {
  EXPECT_THAT(Describe("src=198.51.100.1:5555 dst=c2.example.net:443 peer=198.51.100.1"),
              ElementsAre("ipv4 src 198.51.100.1", "domain dst c2.example.net"));
}

TEST(FieldExtractorTest, OffsetsAreWithinTheFieldValue) {
  EventParser parser;
  ParsedEvent event;
  parser.Parse("{\"h\":\"MD5=44D88612FEA8A8F36DE82E1278ABB02F\",\"m\":\"to 198.51.100.1\"}", &event);
  std::vector<FieldObservable> found;
  ExtractFromEvent(event, &found);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].observable.offset, 4u);
  EXPECT_EQ(found[1].observable.offset, 3u);
}

TEST(FieldExtractorTest, AppendsWithoutDedupAgainstExistingEntries) {
  EventParser parser;
  ParsedEvent event;
  parser.Parse("a=198.51.100.1 b=198.51.100.2", &event);
  std::vector<FieldObservable> found;
  ExtractFromEvent(event, &found);
  ExtractFromEvent(event, &found);
  EXPECT_EQ(found.size(), 4u);
}

TEST(SplitLinesTest, DropsCrBeforeLfKeepsEmptyLinesAndAnUnterminatedLast) {
  EXPECT_TRUE(SplitLines("").empty());
  EXPECT_THAT(SplitLines("a\n"), ElementsAre("a"));
  EXPECT_THAT(SplitLines("a\r\n\nb\rc\r\nlast"), ElementsAre("a", "", "b\rc", "last"));
  EXPECT_THAT(SplitLines("\r\n\n"), ElementsAre("", ""));
}

TEST(FieldExtractorTest, ManyObservablesDedupedPastLinearLimit) {
  std::string line;
  for (int i = 0; i < 40; ++i) line += "k" + std::to_string(i) + "=198.51.100." + std::to_string(i % 20) + " ";
  EXPECT_EQ(Describe(line).size(), 20u);
}

// The in-repo fixtures, one per format: the exact observables and fields of every line.
struct Fixture {
  const char* file;
  std::vector<std::string> lines;  // DescribeLines() output, one entry per input line
};

std::string ReadFixture(const std::string& name) {
  const char* dir = std::getenv("IOCD_SOURCE_DIR");
  fs::path path = fs::path(dir != nullptr ? dir : ".") / "tests" / "data" / "logs" / name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class FixtureTest : public ::testing::TestWithParam<Fixture> {};

TEST_P(FixtureTest, ExactObservablesAndFields) {
  const Fixture& f = GetParam();
  std::istringstream got(DescribeLines(ReadFixture(f.file)));
  std::vector<std::string> lines;
  for (std::string line; std::getline(got, line);) lines.push_back(line);
  EXPECT_EQ(lines, f.lines);
}

const std::vector<Fixture>& Fixtures() {
  static const std::vector<Fixture> fixtures = {
      {"cef.log",
       {"cef"
        "\tipv4 src 10.0.0.1"
        "\tipv4 dst 198.51.100.7"
        "\turl request http://bad.example.com/dl/payload.bin"
        "\tdomain request bad.example.com"
        "\tmd5 fileHash 44d88612fea8a8f36de82e1278abb02f",
        "cef"
        "\tdomain dhost c2.example.net"
        "\tipv4 msg 203.0.113.9"
        "\tsha1 cs1.SHA1 3395856CE81F2B7382DEE72602F798B642F14140"
        "\tmd5 cs1.MD5 44D88612FEA8A8F36DE82E1278ABB02F",
        "text"}},
      {"leef1.log",
       {"leef"
        "\tipv4 src 192.0.2.10"
        "\tipv4 dst 172.50.123.1"
        "\turl url https://login.example.org/reset?u=1"
        "\tdomain url login.example.org"
        "\tdomain msg mx.example.com"}},
      {"leef2.log",
       {"leef"
        "\tipv4 src 10.0.1.8"
        "\tipv4 dst 203.0.113.44"
        "\tdomain domain evil.example.net",
        "leef"
        "\tipv4 src 198.51.100.1"
        "\tsha256 fileHash 275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
        "leef"
        "\tipv4 dst 198.51.100.20"
        "\tdomain host cdn.example.com"}},
      {"rfc5424.log",
       {"text"
        "\tipv4 sd.origin.ip 192.0.2.99"
        "\tdomain sd.alert@32473.sni phish.example.com"
        "\tipv4 message 203.0.113.80",
        "text"
        "\tipv4 message 198.51.100.3"}},
      {"rfc3164.log",
       {"text"
        "\tdomain message ns.example.com"
        "\tipv4 message 173.234.31.186",
        "text"
        "\tipv4 message 218.188.2.4",
        "text"
        "\turl message files.example.org/setup.py"
        "\tdomain message files.example.org"}},
      {"suricata.json",
       {"json"
        "\tipv4 src_ip 192.168.86.85"
        "\tipv4 dest_ip 195.80.156.70"
        "\tdomain tls.sni l2.io",
        "json"
        "\tipv4 src_ip 10.0.0.5"
        "\tipv4 dest_ip 10.0.0.1"
        "\tdomain dns.rrname bad.example.com"
        "\tipv4 dns.answers.rdata 203.0.113.5"
        "\tipv4 dns.answers.rdata 203.0.113.6",
        "json"
        "\tipv4 src_ip 203.0.113.7"
        "\tdomain http.hostname dl.example.net"
        "\tmd5 fileinfo.md5 44d88612fea8a8f36de82e1278abb02f"
        "\tsha256 fileinfo.sha256 275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"}},
      {"sysmon.json",
       {"json"
        "\tdomain Computer ws1.corp.example.com"
        "\turl EventData.CommandLine http://203.0.113.50/stage2"
        "\tipv4 EventData.CommandLine 203.0.113.50"
        "\tsha1 EventData.Hashes.SHA1 3395856CE81F2B7382DEE72602F798B642F14140"
        "\tmd5 EventData.Hashes.MD5 44D88612FEA8A8F36DE82E1278ABB02F"
        "\tsha256 EventData.Hashes.SHA256 275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F"
        "\tmd5 EventData.Hashes.IMPHASH F34D5F2D4577ED6D9CEEC516C1F5A744",
        "json"
        "\tipv4 EventData.SourceIp 10.1.1.5"
        "\tipv4 EventData.DestinationIp 198.51.100.66"
        "\tdomain EventData.DestinationHostname c2.example.org"}},
      {"squid.log",
       {"text"
        "\tipv4 message 10.105.21.199"
        "\tdomain message login.example.com"
        "\tipv4 message 209.73.177.115",
        "text"
        "\tipv4 message 10.105.21.199"
        "\turl message http://www.example.net/styles.css"
        "\tdomain message www.example.net"
        "\tipv4 message 207.58.145.61"}},
      {"kv.log",
       {"kv"
        "\tipv4 srcip 10.1.1.1"
        "\tipv4 dstip 198.51.100.200"
        "\tdomain hostname update.example.com"
        "\tipv4 msg 203.0.113.9",
        "kv"
        "\tdomain rhost scanner.example.net"}},
  };
  return fixtures;
}

INSTANTIATE_TEST_SUITE_P(Logs, FixtureTest, ::testing::ValuesIn(Fixtures()),
                         [](const auto& param_info) {
                           std::string name = param_info.param.file;
                           for (char& c : name) {
                             if (c == '.') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace iocd
