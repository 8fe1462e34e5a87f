#include "feeds/kaspersky_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "feeds/testdata_util.h"

namespace iocd {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

// One indicator as "line type display <- value [exact] [last_seen=ms] {key=value}...";
// "exact" marks a domain with subdomains=false.
std::string Describe(const ParsedIndicator& p) {
  std::string out = std::to_string(p.line) + " " + std::string(TypeName(p.indicator.type)) + " " +
                    p.indicator.Display() + " <- " + p.value;
  if (p.indicator.type == IndicatorType::kDomain && !p.subdomains) out += " exact";
  if (p.last_seen_unix_ms != 0) out += " last_seen=" + std::to_string(p.last_seen_unix_ms);
  for (const store::ContextField& f : p.context) out += " {" + f.key() + "=" + f.value() + "}";
  return out;
}

std::vector<std::string> Describe(const FeedParseResult& r) {
  std::vector<std::string> out;
  for (const ParsedIndicator& p : r.indicators) out.push_back(Describe(p));
  return out;
}

const char kImproperStructure[] =
    "The JSON document has an improper structure: missing or superfluous commas, braces, "
    "missing keys, etc.";
const char kNoIndicator[] = ": no indicator field (mask, url, domain, ip, md5, sha1, sha256)";

// ---------------------------------------------------------------------------------------
// Table tests on strings

struct KasperskyCase {
  std::string name;
  std::string content;
  std::vector<std::string> indicators;
  std::vector<std::string> errors;
  std::map<std::string, uint64_t> unsupported = {};
};
void PrintTo(const KasperskyCase& c, std::ostream* os) { *os << c.name; }

class KasperskyJsonTest : public ::testing::TestWithParam<KasperskyCase> {};

TEST_P(KasperskyJsonTest, Parses) {
  const KasperskyCase& c = GetParam();
  FeedParseResult r = ParseKasperskyJsonFeed(c.content);
  EXPECT_THAT(Describe(r), ElementsAreArray(c.indicators));
  EXPECT_THAT(Errors(r), ElementsAreArray(c.errors));
  EXPECT_EQ(r.unsupported, c.unsupported);
  EXPECT_THAT(r.skipped, IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, KasperskyJsonTest,
    ::testing::Values(
        KasperskyCase{"MaskForms",
                      R"([{"mask": "evil.com", "id": 1},
                          {"mask": "Evil.net/Path/x.php", "id": 2},
                          {"mask": "*.dyn.example", "id": 3},
                          {"mask": "198.51.100.7", "id": 4},
                          {"mask": "hxxps://bad[.]example/a", "id": 5},
                          {"mask": " spaced.example ", "id": 6}])",
                      {"1 domain evil.com <- evil.com exact {id=1}",
                       "2 url evil.net/path/x.php <- Evil.net/Path/x.php {id=2}",
                       "3 domain dyn.example <- *.dyn.example {id=3}",
                       "4 ipv4 198.51.100.7 <- 198.51.100.7 {id=4}",
                       "5 url bad.example/a <- https://bad.example/a {id=5}",
                       "6 domain spaced.example <- spaced.example exact {id=6}"},
                      {}},
        KasperskyCase{"WildcardsOtherThanALeadingLabelAreUnsupported",
                      R"([{"mask": "*.evil.com/path"}, {"mask": "evil*.com"},
                          {"mask": "evil.com/*"}, {"mask": "http://*.evil.com"}, {"mask": "*"},
                          {"mask": "*.*.evil.com"}, {"url": "evil.com/*.php"}])",
                      {},
                      {},
                      {{"url mask with wildcard", 7}}},
        KasperskyCase{
            "OtherIndicatorKeys",
            R"([{"url": "http://www.evil.com/a?b=1"}, {"url": "bare.example"},
                          {"domain": "Domain.Example"}, {"ip": "2001:DB8::1"},
                          {"ip": "203.0.113.5:8080"},
                          {"md5": "D41D8CD98F00B204E9800998ECF8427E"},
                          {"sha1": "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
                          {"sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
                          {"SHA256": "cad61b7bd0d2dbfe5eb28c4131ece82a54ba989134657fdc70011afbb66ee046"}])",
            {"1 url evil.com/a?b=1 <- http://www.evil.com/a?b=1",
             "2 domain bare.example <- bare.example", "3 domain domain.example <- Domain.Example",
             "4 ipv6 2001:db8::1 <- 2001:DB8::1", "5 ipv4 203.0.113.5 <- 203.0.113.5:8080",
             "6 md5 d41d8cd98f00b204e9800998ecf8427e <- D41D8CD98F00B204E9800998ECF8427E",
             "7 sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709 <- "
             "da39a3ee5e6b4b0d3255bfef95601890afd80709",
             "8 sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 <- "
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
             "9 sha256 cad61b7bd0d2dbfe5eb28c4131ece82a54ba989134657fdc70011afbb66ee046 <- "
             "cad61b7bd0d2dbfe5eb28c4131ece82a54ba989134657fdc70011afbb66ee046"},
            {}},
        KasperskyCase{"TheFirstPresentKeyIsTheIndicatorAndTheOthersAreContext",
                      R"([{"ip": "1.2.3.4", "domain": "evil.com", "mask": null,
                           "md5": "d41d8cd98f00b204e9800998ecf8427e"}])",
                      {"1 domain evil.com <- evil.com {ip=1.2.3.4} "
                       "{md5=d41d8cd98f00b204e9800998ecf8427e}"},
                      {}},
        KasperskyCase{"ContextIsFlattenedInRecordOrder",
                      R"([{"id": 7, "threat_score": 1.50, "big": 18446744073709551615,
                           "neg": -3, "exp": 1e3, "tor": true, "vpn": false, "none": null,
                           "empty": "", "mask": "evil.com",
                           "whois": {"asn": "64500", "net": {"name": "TEST", "range": null}},
                           "geo": ["de", "fr", 3, null], "tags": [],
                           "urls": [{"url": "a.example/x", "n": 1}, {"url": "b.example/y"}],
                           "nested": [[1, 2], [3]], "text": "tab\there"}])",
                      {"1 domain evil.com <- evil.com exact {id=7} {threat_score=1.5} "
                       "{big=18446744073709551615} {neg=-3} {exp=1000} {tor=true} {vpn=false} "
                       "{whois.asn=64500} {whois.net.name=TEST} {geo=de, fr, 3} "
                       "{urls.url=a.example/x, b.example/y} {urls.n=1} {nested=1, 2, 3} "
                       "{text=tab\there}"},
                      {}},
        KasperskyCase{
            "FileHashesAreIndicatorsWithTheRecordsContext",
            R"([{"mask": "dl.example/a.exe", "id": 1, "files": [
                           {"MD5": "2F9B0474CF98A81F05B8E7E77094AD52", "threat": "Trojan.X",
                            "size": 100},
                           {"sha1": "4cfbfc09ccc967eb3a3cf435841cc8c20ff56aad", "MD5": null},
                           {"SHA256": "cad61b7bd0d2dbfe5eb28c4131ece82a54ba989134657fdc70011afbb66ee046",
                            "names": ["a.exe", "b.exe"]}], "category": "Malware"}])",
            {"1 url dl.example/a.exe <- dl.example/a.exe {id=1} {category=Malware}",
             "1 md5 2f9b0474cf98a81f05b8e7e77094ad52 <- 2F9B0474CF98A81F05B8E7E77094AD52 "
             "{id=1} {category=Malware} {file.threat=Trojan.X} {file.size=100}",
             "1 sha1 4cfbfc09ccc967eb3a3cf435841cc8c20ff56aad <- "
             "4cfbfc09ccc967eb3a3cf435841cc8c20ff56aad {id=1} {category=Malware}",
             "1 sha256 cad61b7bd0d2dbfe5eb28c4131ece82a54ba989134657fdc70011afbb66ee046 <- "
             "cad61b7bd0d2dbfe5eb28c4131ece82a54ba989134657fdc70011afbb66ee046 {id=1} "
             "{category=Malware} {file.names=a.exe, b.exe}"},
            {}},
        KasperskyCase{"FileProblemsAreErrorsOfTheRecord",
                      R"([{"id": 1}, {"id": 2, "files": [
                           "d41d8cd98f00b204e9800998ecf8427e", {"MD5": "xyz"}, {"SHA1": 5},
                           {"md5": "d41d8cd98f00b204e9800998ecf8427e"}]},
                          {"id": 3, "files": []}, {"id": 4, "files": {"md5": "x"}}])",
                      {"2 md5 d41d8cd98f00b204e9800998ecf8427e <- "
                       "d41d8cd98f00b204e9800998ecf8427e {id=2}"},
                      {std::string("1: records[0]") + kNoIndicator,
                       "2: records[1].files[0]: a string, expected an object",
                       "2: records[1].files[1].MD5: not a valid md5: 'xyz'",
                       "2: records[1].files[2].SHA1: a number, expected a string",
                       std::string("3: records[2]") + kNoIndicator,
                       // A "files" that is not an array is plain context.
                       std::string("4: records[3]") + kNoIndicator}},
        KasperskyCase{
            "BadRecords",
            R"([1, "evil.com", null, [], {"ip": 3325256727}, {"ip": ""},
                          {"ip": "1.2.3"}, {"domain": "not a domain"}, {"md5": "abc"},
                          {"mask": {"a": 1}}, {"mask": "ok.example"}])",
            {"11 domain ok.example <- ok.example exact"},
            {"1: records[0]: a number, expected a record object",
             "2: records[1]: a string, expected a record object",
             "3: records[2]: null, expected a record object",
             "4: records[3]: an array, expected a record object",
             "5: records[4].ip: a number, expected a string", "6: records[5].ip: empty value",
             "7: records[6].ip: not a valid ipv4: '1.2.3'",
             "8: records[7].domain: not a valid domain: 'not a domain'",
             "9: records[8].md5: not a valid md5: 'abc'",
             "10: records[9].mask: an object, expected a string"}},
        KasperskyCase{
            "DuplicatesKeepTheFirstRecord",
            R"([{"mask": "evil.com", "id": 1}, {"domain": "EVIL.com", "id": 2},
                          {"ip": "1.2.3.4", "id": 3}, {"mask": "1.2.3.4:80", "id": 4}])",
            {"1 domain evil.com <- evil.com exact {id=1}", "3 ipv4 1.2.3.4 <- 1.2.3.4 {id=3}"},
            {}},
        KasperskyCase{"LastSeenSetsTheTimestamp",
                      R"([{"ip": "1.1.1.1", "first_seen": "01.01.2024 00:00",
                           "last_seen": "02.05.2024 21:40"},
                          {"ip": "2.2.2.2", "last_seen": "31.02.2024 10:00"},
                          {"ip": "3.3.3.3", "last_seen": 1714686000},
                          {"ip": "4.4.4.4", "last_seen": "2024-05-02T21:40:00Z"}])",
                      {"1 ipv4 1.1.1.1 <- 1.1.1.1 last_seen=1714686000000 "
                       "{first_seen=01.01.2024 00:00} {last_seen=02.05.2024 21:40}",
                       "2 ipv4 2.2.2.2 <- 2.2.2.2 {last_seen=31.02.2024 10:00}",
                       "3 ipv4 3.3.3.3 <- 3.3.3.3 {last_seen=1714686000}",
                       "4 ipv4 4.4.4.4 <- 4.4.4.4 {last_seen=2024-05-02T21:40:00Z}"},
                      {}},
        KasperskyCase{"RecordsWrapper",
                      R"({"records": [{"ip": "1.2.3.4"}, {"id": 2}], "total": 2})",
                      {"1 ipv4 1.2.3.4 <- 1.2.3.4"},
                      {std::string("2: records[1]") + kNoIndicator}},
        KasperskyCase{"SingleRecordObject",
                      R"({"mask": "evil.com", "id": 1})",
                      {"1 domain evil.com <- evil.com exact {id=1}"},
                      {}},
        KasperskyCase{"NdjsonLinesAreRecords",
                      "{\"ip\": \"1.2.3.4\"}\r\n"
                      "\n"
                      "{\"ip\": \"5.6.7.8\", \"id\": 2}\n"
                      "{\"ip\": \"9.9.9.9\"\n"
                      "[1]\n"
                      "{\"id\": 5}",
                      {"1 ipv4 1.2.3.4 <- 1.2.3.4", "3 ipv4 5.6.7.8 <- 5.6.7.8 {id=2}"},
                      {std::string("4: records[2]: invalid JSON: ") + kImproperStructure,
                       "5: records[3]: an array, expected a record object",
                       std::string("6: records[4]") + kNoIndicator}},
        KasperskyCase{
            "Bom", "\xEF\xBB\xBF[{\"ip\": \"1.2.3.4\"}]", {"1 ipv4 1.2.3.4 <- 1.2.3.4"}, {}},
        KasperskyCase{"EmptyArray", "[]", {}, {}},
        KasperskyCase{
            "EmptyInputIsAWholeFeedError", "", {}, {"0: invalid JSON: Empty: no JSON found"}},
        KasperskyCase{"WhitespaceOnly", " \n\t\n", {}, {"0: invalid JSON: Empty: no JSON found"}},
        KasperskyCase{"TruncatedArrayLoadsNothing",
                      R"([{"ip": "1.2.3.4"}, {"ip": "5.6.7.8")",
                      {},
                      {std::string("0: invalid JSON: ") + kImproperStructure}},
        KasperskyCase{"PrettyPrintedBrokenArrayIsNotNdjson",
                      "[\n  {\"ip\": \"1.2.3.4\"},\n  {\"ip\": \"5.6.7.8\",}\n]\n",
                      {},
                      {std::string("0: invalid JSON: ") + kImproperStructure}},
        KasperskyCase{"InvalidUtf8",
                      "[{\"ip\": \"1.2.3.4\", \"x\": \"\xff\"}]",
                      {},
                      {"0: invalid JSON: The input is not valid UTF-8"}},
        KasperskyCase{"TopLevelScalar",
                      "\"evil.com\"",
                      {},
                      {"0: invalid JSON: the top level is a string, expected an array of "
                       "records, {\"records\": [...]} or one record object per line"}},
        KasperskyCase{"ControlBytesInMessagesAreEscaped",
                      R"([{"ip": "1.2.3.4\u001b[31m"}])",
                      {},
                      {"1: records[0].ip: not a valid ipv4: '1.2.3.4\\x1b[31m'"}}),
    [](const ::testing::TestParamInfo<KasperskyCase>& param) { return param.param.name; });

TEST(KasperskyJsonTest, CountsPhysicalLines) {
  EXPECT_EQ(ParseKasperskyJsonFeed("[]").lines, 1u);
  EXPECT_EQ(ParseKasperskyJsonFeed("[\n{\"ip\": \"1.2.3.4\"}\n]\n").lines, 3u);
}

struct TimeCase {
  std::string text;
  std::optional<int64_t> ms;
};

TEST(KasperskyJsonTest, ParsesItsTimeFormat) {
  // Expected values from `date -u -d '2024-05-02 21:40' +%s` and the like.
  const std::vector<TimeCase> cases = {
      {"02.05.2024 21:40", 1714686000000},
      {"20.04.2024 12:34:56", 1713616496000},
      {"01.01.1970 00:00", 0},
      {"29.02.2000 00:00", 951782400000},
      {" 02.05.2024 21:40 ", 1714686000000},
      {"29.02.2023 00:00", std::nullopt},
      {"31.04.2024 00:00", std::nullopt},
      {"00.01.2024 00:00", std::nullopt},
      {"01.13.2024 00:00", std::nullopt},
      {"01.01.2024 24:00", std::nullopt},
      {"01.01.2024 23:60", std::nullopt},
      {"01.01.2024 23:59:60", std::nullopt},
      {"1.1.2024 00:00", std::nullopt},
      {"01/01/2024 00:00", std::nullopt},
      {"01.01.2024T00:00", std::nullopt},
      {"01.01.2024", std::nullopt},
      {"2024-05-02 21:40", std::nullopt},
      {"01.01.2024 00:00:0x", std::nullopt},
      {"+1.01.2024 00:00", std::nullopt},
      {"", std::nullopt},
  };
  for (const TimeCase& c : cases) EXPECT_EQ(ParseKasperskyTime(c.text), c.ms) << c.text;
}

// Random bytes, random mixes of JSON tokens, and byte flips of a valid feed never crash;
// a failed document never yields indicators.
TEST(KasperskyJsonTest, RandomInputNeverCrashes) {
  std::mt19937 rng(20240503);
  const std::vector<std::string> tokens = {"[",
                                           "]",
                                           "{",
                                           "}",
                                           ",",
                                           ":",
                                           "\n",
                                           "\"mask\"",
                                           "\"ip\"",
                                           "\"url\"",
                                           "\"files\"",
                                           "\"MD5\"",
                                           "\"last_seen\"",
                                           "\"*.evil.com\"",
                                           "\"evil.com/*\"",
                                           "\"1.2.3.4\"",
                                           "\"02.05.2024 21:40\"",
                                           "\"d41d8cd98f00b204e9800998ecf8427e\"",
                                           "null",
                                           "true",
                                           "1.5",
                                           "\"\"",
                                           "\"\\u0000\"",
                                           "\xff",
                                           "\xEF\xBB\xBF",
                                           "\"records\""};
  const std::string valid =
      R"([{"id": 1, "mask": "*.evil.com", "last_seen": "02.05.2024 21:40", "geo": ["a", "b"],
           "files": [{"MD5": "d41d8cd98f00b204e9800998ecf8427e", "x": {"y": 1}}]},
          {"ip": "1.2.3.4", "whois": {"asn": 1}}])";
  for (int i = 0; i < 10000; ++i) {
    std::string input;
    switch (i % 3) {
      case 0: {
        size_t len = rng() % 200;
        for (size_t j = 0; j < len; ++j) input.push_back(static_cast<char>(rng() % 256));
        break;
      }
      case 1: {
        size_t n = rng() % 60;
        for (size_t j = 0; j < n; ++j) input += tokens[rng() % tokens.size()];
        break;
      }
      default:
        input = valid;
        for (int flips = 1 + rng() % 3; flips > 0; --flips) {
          input[rng() % input.size()] = static_cast<char>(rng() % 256);
        }
    }
    FeedParseResult r = ParseKasperskyJsonFeed(input);
    for (const FeedError& e : r.errors) {
      if (e.line == 0) {
        ASSERT_TRUE(r.indicators.empty()) << i;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// In-repo fixtures, in the style of Kaspersky's demo feeds

FeedParseResult LoadFixture(const std::string& name) {
  std::optional<std::string> content = ReadFile(SourceRoot() / "daemon/feeds/testdata" / name);
  EXPECT_TRUE(content.has_value()) << name;
  return ParseKasperskyJsonFeed(content.value_or(""));
}

TEST(KasperskyFixtureTest, MaliciousUrlFeed) {
  FeedParseResult r = LoadFixture("kaspersky_malicious_url.json");
  const std::string rec1 =
      " last_seen=1714686000000 {id=18512731} {type=1} {first_seen=14.03.2024 08:17} "
      "{last_seen=02.05.2024 21:40} {popularity=3} {geo=ru, de, us} {category=Malware}";
  const std::string rec4 =
      " last_seen=1714694340000 {id=18512802} {type=1} {first_seen=29.04.2024 03:44} "
      "{last_seen=02.05.2024 23:59} {popularity=4} {geo=us} {category=Botnet C&C}";
  EXPECT_THAT(
      Describe(r),
      ElementsAre(
          "1 url cdn-download-check.example/update/setup.exe <- "
          "cdn-download-check.example/update/setup.exe" +
              rec1,
          "1 md5 a18f90ae92b7ac60b17121d08c6530a8 <- A18F90AE92B7AC60B17121D08C6530A8" + rec1 +
              " {file.SHA1=A0E1434A5A6942C49C54EF4D5CAED4DB3A78211C} "
              "{file.SHA256=D97649B1096F4ED46E4BD57A568BBB2E18FFDDC7B414ECCB6A552C2667586CF7} "
              "{file.threat=HEUR:Trojan-Downloader.Win32.Agent.gen}",
          "1 sha1 a0e1434a5a6942c49c54ef4d5caed4db3a78211c <- "
          "A0E1434A5A6942C49C54EF4D5CAED4DB3A78211C" +
              rec1 +
              " {file.MD5=A18F90AE92B7AC60B17121D08C6530A8} "
              "{file.SHA256=D97649B1096F4ED46E4BD57A568BBB2E18FFDDC7B414ECCB6A552C2667586CF7} "
              "{file.threat=HEUR:Trojan-Downloader.Win32.Agent.gen}",
          "1 sha256 d97649b1096f4ed46e4bd57a568bbb2e18ffddc7b414eccb6a552c2667586cf7 <- "
          "D97649B1096F4ED46E4BD57A568BBB2E18FFDDC7B414ECCB6A552C2667586CF7" +
              rec1 +
              " {file.MD5=A18F90AE92B7AC60B17121D08C6530A8} "
              "{file.SHA1=A0E1434A5A6942C49C54EF4D5CAED4DB3A78211C} "
              "{file.threat=HEUR:Trojan-Downloader.Win32.Agent.gen}",
          "2 domain dyn-update-check.example <- *.dyn-update-check.example "
          "last_seen=1714555800000 {id=18512744} {type=2} {first_seen=20.04.2024 11:05} "
          "{last_seen=01.05.2024 09:30} {popularity=5} {geo=br} {category=Phishing}",
          "4 url 198.51.100.77/gate.php <- http://198.51.100.77/gate.php" + rec4,
          "4 md5 2f9b0474cf98a81f05b8e7e77094ad52 <- 2f9b0474cf98a81f05b8e7e77094ad52" + rec4 +
              " {file.SHA256=cad61b7bd0d2dbfe5eb28c4131ece82a54ba989134657fdc70011afbb66ee046} "
              "{file.threat=Backdoor.Win32.Emotet.a}",
          "4 sha256 cad61b7bd0d2dbfe5eb28c4131ece82a54ba989134657fdc70011afbb66ee046 <- "
          "cad61b7bd0d2dbfe5eb28c4131ece82a54ba989134657fdc70011afbb66ee046" +
              rec4 +
              " {file.MD5=2f9b0474cf98a81f05b8e7e77094ad52} "
              "{file.threat=Backdoor.Win32.Emotet.a}",
          // last_seen "31.02.2024 10:00" is not a date: kept as context, no timestamp.
          "5 domain payload-host.example <- payload-host.example exact {id=18512815} {type=2} "
          "{first_seen=01.05.2024 00:00} {last_seen=31.02.2024 10:00} {popularity=2} "
          "{category=Malware}"));
  EXPECT_THAT(Errors(r), ElementsAre(std::string("6: records[5]") + kNoIndicator,
                                     "7: records[6].mask: not a recognised indicator (contains "
                                     "whitespace): 'bad host!/x'"));
  EXPECT_EQ(r.unsupported, (std::map<std::string, uint64_t>{{"url mask with wildcard", 1}}));
  EXPECT_EQ(r.lines, 89u);
}

TEST(KasperskyFixtureTest, IpReputationFeed) {
  FeedParseResult r = LoadFixture("kaspersky_ip_reputation.json");
  EXPECT_THAT(
      Describe(r),
      ElementsAre(
          "1 ipv4 198.51.100.23 <- 198.51.100.23 last_seen=1714674300000 {id=59001} "
          "{threat_score=75} {category=botnet_cnc} {first_seen=10.01.2024 12:00} "
          "{last_seen=02.05.2024 18:25} {popularity=2} {ip_geo=nl} "
          "{ip_whois.net_range=198.51.100.0 - 198.51.100.255} {ip_whois.net_name=TEST-NET-2} "
          "{ip_whois.asn=64500} {ip_whois.country=NL} {ip_whois.created=01.01.2010} "
          "{users_geo=de, fr, it}",
          "2 ipv6 2001:db8::bad <- 2001:db8::bad last_seen=1712907000000 {id=59002} "
          "{threat_score=40.5} {category=scanner} {first_seen=11.04.2024 07:30} "
          "{last_seen=12.04.2024 07:30} {is_tor_exit=false}"));
  EXPECT_THAT(Errors(r), ElementsAre("3: records[2].ip: not a valid ipv4: '198.51.100.300'",
                                     "4: records[3].ip: a number, expected a string",
                                     "5: records[4]: a string, expected a record object"));
  EXPECT_THAT(r.unsupported, IsEmpty());
}

TEST(KasperskyFixtureTest, HashFeedAsNdjson) {
  FeedParseResult r = LoadFixture("kaspersky_hashes.ndjson");
  EXPECT_THAT(Describe(r),
              ElementsAre(
                  // MD5 comes before SHA1/SHA256, which stay context of the record.
                  "1 md5 429221d7a17add95987235d62a98f953 <- 429221D7A17ADD95987235D62A98F953 "
                  "last_seen=1714580400000 {SHA1=88E87A3D3BD8E81D09DA91AC31E972E692D02CFC} "
                  "{SHA256=B471EAC1EB50F50D41C55BD2912F433E664611F6B20C5ED21D810594076D6AAC} "
                  "{file_size=48128} {file_type=PE32} {threat=Trojan.Win32.Loader.xyz} "
                  "{first_seen=03.02.2024 10:11} {last_seen=01.05.2024 16:20} {popularity=4} "
                  "{urls.url=loader-cdn.example/l.bin, mirror.loader-cdn.example/l.bin}",
                  "2 sha256 2f7e186e3d26f8be58d0d7b7ae7dfc60067fa664a3926ebf2eae7bf3fd6b01ff <- "
                  "2f7e186e3d26f8be58d0d7b7ae7dfc60067fa664a3926ebf2eae7bf3fd6b01ff "
                  "last_seen=1713254400000 {file_size=20480} {file_type=DOCM} "
                  "{threat=HEUR:Trojan.MSOffice.SAgent.gen} {first_seen=15.04.2024 08:00} "
                  "{last_seen=16.04.2024 08:00} {popularity=1}",
                  "6 sha1 99fc1e1b37fc34b38d9c32a5f74aaaebcb1e568d <- "
                  "99fc1e1b37fc34b38d9c32a5f74aaaebcb1e568d last_seen=1713616496000 "
                  "{threat=lower-case key} {last_seen=20.04.2024 12:34:56}"));
  EXPECT_THAT(Errors(r),
              ElementsAre("4: records[2].MD5: not a valid md5: 'd7ea23119bc44d2b55e851d0266da36'",
                          std::string("5: records[3]: invalid JSON: ") + kImproperStructure));
}

}  // namespace
}  // namespace iocd
