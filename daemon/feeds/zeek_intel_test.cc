#include "feeds/zeek_intel.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
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

// One indicator as "line type display <- value {key=value}...".
std::string Describe(const ParsedIndicator& p) {
  std::string out = std::to_string(p.line) + " " + std::string(TypeName(p.indicator.type)) + " " +
                    p.indicator.Display() + " <- " + p.value;
  for (const store::ContextField& f : p.context) out += " {" + f.key() + "=" + f.value() + "}";
  return out;
}

std::vector<std::string> Describe(const FeedParseResult& r) {
  std::vector<std::string> out;
  for (const ParsedIndicator& p : r.indicators) out.push_back(Describe(p));
  return out;
}

const char kHeader[] = "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\n";

// ---------------------------------------------------------------------------------------
// Table tests on strings

struct ZeekCase {
  std::string name;
  std::string content;
  std::vector<std::string> indicators;
  std::vector<std::string> errors;
  std::map<std::string, uint64_t> unsupported = {};
  std::map<std::string, uint64_t> skipped = {};
};
void PrintTo(const ZeekCase& c, std::ostream* os) { *os << c.name; }

class ZeekIntelTest : public ::testing::TestWithParam<ZeekCase> {};

TEST_P(ZeekIntelTest, Parses) {
  const ZeekCase& c = GetParam();
  FeedParseResult r = ParseZeekIntelFeed(c.content);
  EXPECT_THAT(Describe(r), ElementsAreArray(c.indicators));
  EXPECT_THAT(Errors(r), ElementsAreArray(c.errors));
  EXPECT_EQ(r.unsupported, c.unsupported);
  EXPECT_EQ(r.skipped, c.skipped);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ZeekIntelTest,
    ::testing::Values(
        ZeekCase{"EveryType",
                 std::string(kHeader) +
                     "1.2.3.4\tIntel::ADDR\tsrc\tc2\n"
                     "2001:DB8::1\tIntel::ADDR\tsrc\tc2 v6\n"
                     "10.1.0.0/16\tIntel::SUBNET\tsrc\trange\n"
                     "2001:db8::/32\tIntel::SUBNET\tsrc\trange6\n"
                     "Evil.COM\tIntel::DOMAIN\tsrc\tdomain\n"
                     "evil.com/gate.php?id=1\tIntel::URL\tsrc\tno scheme\n"
                     "d41d8cd98f00b204e9800998ecf8427e\tIntel::FILE_HASH\tsrc\tmd5\n"
                     "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709\tIntel::FILE_HASH\tsrc\tsha1\n"
                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\t"
                     "Intel::FILE_HASH\tsrc\tsha256\n",
                 {"2 ipv4 1.2.3.4 <- 1.2.3.4 {source=src} {desc=c2}",
                  "3 ipv6 2001:db8::1 <- 2001:DB8::1 {source=src} {desc=c2 v6}",
                  "4 cidr4 10.1.0.0/16 <- 10.1.0.0/16 {source=src} {desc=range}",
                  "5 cidr6 2001:db8::/32 <- 2001:db8::/32 {source=src} {desc=range6}",
                  "6 domain evil.com <- Evil.COM {source=src} {desc=domain}",
                  "7 url evil.com/gate.php?id=1 <- evil.com/gate.php?id=1 {source=src} {desc=no "
                  "scheme}",
                  "8 md5 d41d8cd98f00b204e9800998ecf8427e <- d41d8cd98f00b204e9800998ecf8427e "
                  "{source=src} {desc=md5}",
                  "9 sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709 <- "
                  "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709 {source=src} {desc=sha1}",
                  "10 sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 <- "
                  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 {source=src} "
                  "{desc=sha256}"},
                 {}},
        ZeekCase{"UrlWithSchemeAndSubnetHostRoute",
                 std::string(kHeader) + "https://www.Evil.com/a/../b\tIntel::URL\tsrc\tx\n"
                                        "10.0.0.1/32\tIntel::SUBNET\tsrc\thost route\n",
                 {"2 url evil.com/b <- https://www.Evil.com/a/../b {source=src} {desc=x}",
                  "3 ipv4 10.0.0.1 <- 10.0.0.1/32 {source=src} {desc=host route}"},
                 {}},
        ZeekCase{"DefaultColumnsBeforeAnyHeader",
                 "# a hand-written file without #fields\n"
                 "1.2.3.4\tIntel::ADDR\tmy-source\n"
                 "evil.com\tIntel::DOMAIN\n"
                 "5.6.7.8\n",
                 {"2 ipv4 1.2.3.4 <- 1.2.3.4 {source=my-source}", "3 domain evil.com <- evil.com"},
                 {"4: row has 1 column(s), expected at least 2 (indicator, indicator_type) "
                  "(columns are separated by '\\x09')"}},
        ZeekCase{"ColumnsInAnyOrderAndAnyMetaColumn",
                 "#fields\tmeta.source\tindicator_type\tignored\tindicator\tmeta.cif_confidence\n"
                 "feedA\tIntel::DOMAIN\tzzz\tbad.example\t85\n",
                 {"2 domain bad.example <- bad.example {source=feedA} {cif_confidence=85}"},
                 {}},
        ZeekCase{"EmptyAndDashMetaValuesAreAbsent",
                 "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n"
                 "1.2.3.4\tIntel::ADDR\t-\t\tx\n"
                 "#unset_field\tNONE\n"
                 "5.6.7.8\tIntel::ADDR\tNONE\t - \t(empty)\n",
                 {"2 ipv4 1.2.3.4 <- 1.2.3.4 {url=x}", "4 ipv4 5.6.7.8 <- 5.6.7.8 {url=(empty)}"},
                 {}},
        ZeekCase{"SeparatorDirective",
                 "#separator \\x2c\n"
                 "#fields,indicator,indicator_type,meta.source\n"
                 "1.2.3.4,Intel::ADDR,comma feed\n",
                 {"3 ipv4 1.2.3.4 <- 1.2.3.4 {source=comma feed}"},
                 {}},
        ZeekCase{"LiteralSeparatorAndBadSeparator",
                 "#separator |\n"
                 "#separator \\xZZ\n"
                 "#fields|indicator|indicator_type\n"
                 "1.2.3.4|Intel::ADDR\n",
                 {"4 ipv4 1.2.3.4 <- 1.2.3.4"},
                 {"2: #separator '\\xZZ' is not one character or \\xNN; keeping the previous one"}},
        ZeekCase{"BomCrlfAndTrailingBlankLines",
                 "\xEF\xBB\xBF#fields\tindicator\tindicator_type\tmeta.source\r\n"
                 "1.2.3.4\tIntel::ADDR\tsrc\r\n"
                 "evil.com\tIntel::DOMAIN\tsrc\r\n"
                 "\r\n"
                 "   \n"
                 "\n",
                 {"2 ipv4 1.2.3.4 <- 1.2.3.4 {source=src}",
                  "3 domain evil.com <- evil.com {source=src}"},
                 {}},
        ZeekCase{"NoFinalNewline",
                 std::string(kHeader) + "1.2.3.4\tIntel::ADDR\tsrc\tlast",
                 {"2 ipv4 1.2.3.4 <- 1.2.3.4 {source=src} {desc=last}"},
                 {}},
        ZeekCase{"UnsupportedTypesAreCounted",
                 std::string(kHeader) +
                     "a@b.example\tIntel::EMAIL\tsrc\tx\n"
                     "c@d.example\tIntel::EMAIL\tsrc\tx\n"
                     "root\tIntel::USER_NAME\tsrc\tx\n"
                     "Mozilla/4.0\tIntel::SOFTWARE\tsrc\tx\n"
                     "5f4dcc3b5aa765d61d8327deb882cf99\tIntel::CERT_HASH\tsrc\tx\n"
                     "evil.exe\tIntel::FILE_NAME\tsrc\tx\n"
                     "abc\tIntel::PUBKEY_HASH\tsrc\tx\n",
                 {},
                 {},
                 {{"zeek type Intel::EMAIL", 2},
                  {"zeek type Intel::USER_NAME", 1},
                  {"zeek type Intel::SOFTWARE", 1},
                  {"zeek type Intel::CERT_HASH", 1},
                  {"zeek type Intel::FILE_NAME", 1},
                  {"zeek type Intel::PUBKEY_HASH", 1}}},
        ZeekCase{
            "ValuesThatDoNotParseAsTheirTypeAreErrors",
            std::string(kHeader) + "999.1.1.1\tIntel::ADDR\tsrc\tx\n"
                                   "evil.com\tIntel::ADDR\tsrc\tx\n"
                                   "1.2.3.4\tIntel::DOMAIN\tsrc\tx\n"
                                   "10.0.0.0/33\tIntel::SUBNET\tsrc\tx\n"
                                   "abcdef\tIntel::FILE_HASH\tsrc\tx\n"
                                   "d41d8cd98f00b204e9800998ecf8427g\tIntel::FILE_HASH\tsrc\tx\n"
                                   "1.2.3.4\tADDR\tsrc\tx\n"
                                   "1.2.3.4\tIntel::\tsrc\tx\n"
                                   "\tIntel::ADDR\tsrc\tx\n"
                                   "-\tIntel::ADDR\tsrc\tx\n"
                                   "1.2.3.4\t-\tsrc\tx\n"
                                   "1.2.3.4\tIntel::ADDR\tsrc\n",
            {},
            {"2: Intel::ADDR: not a valid ipv4: '999.1.1.1'",
             "3: Intel::ADDR: not a valid ipv4: 'evil.com'",
             "4: Intel::DOMAIN: not a valid domain: '1.2.3.4'",
             "5: Intel::SUBNET: not a valid cidr4: '10.0.0.0/33'",
             "6: Intel::FILE_HASH: not an md5, sha1 or sha256 hex digest (6 characters): "
             "'abcdef'",
             "7: Intel::FILE_HASH: not an md5, sha1 or sha256 hex digest (32 characters): "
             "'d41d8cd98f00b204e9800998ecf8427g'",
             "8: indicator_type 'ADDR' is not a Zeek intel type (Intel::ADDR, Intel::DOMAIN, "
             "...)",
             "9: indicator_type 'Intel::' is not a Zeek intel type (Intel::ADDR, "
             "Intel::DOMAIN, ...)",
             "10: empty indicator", "11: empty indicator", "12: empty indicator_type for '1.2.3.4'",
             "13: row has 3 column(s), expected 4 as #fields on line 1 names (columns are "
             "separated by '\\x09')"}},
        ZeekCase{"DuplicatesKeepTheFirstRow",
                 std::string(kHeader) + "evil.com\tIntel::DOMAIN\tfirst\tx\n"
                                        "EVIL.com.\tIntel::DOMAIN\tsecond\ty\n"
                                        "1.2.3.4\tIntel::ADDR\tfirst\tx\n"
                                        "1.2.3.4/32\tIntel::SUBNET\tsecond\ty\n",
                 {"2 domain evil.com <- evil.com {source=first} {desc=x}",
                  "4 ipv4 1.2.3.4 <- 1.2.3.4 {source=first} {desc=x}"},
                 {}},
        ZeekCase{"DefangedValuesAreRefanged",
                 std::string(kHeader) + "hxxp://evil[.]com/x\tIntel::URL\tsrc\tx\n",
                 {"2 url evil.com/x <- http://evil.com/x {source=src} {desc=x}"},
                 {}},
        ZeekCase{"UnusableHeaderSkipsItsRowsUntilTheNextHeader",
                 "#fields\tindicator\tmeta.source\n"
                 "1.2.3.4\tsrc\n"
                 "5.6.7.8\tsrc\n"
                 "#fields\tindicator_type\tindicator\n"
                 "Intel::ADDR\t9.9.9.9\n",
                 {"5 ipv4 9.9.9.9 <- 9.9.9.9"},
                 {"1: #fields line has no 'indicator_type' column (columns are separated by "
                  "'\\x09')"},
                 {},
                 {{"row under an unusable #fields line", 2}}},
        ZeekCase{"SpaceSeparatedHeaderIsReportedOnce",
                 "#fields indicator indicator_type\n"
                 "1.2.3.4 Intel::ADDR\n",
                 {},
                 {"1: #fields line has no 'indicator' column (columns are separated by '\\x09')"},
                 {},
                 {{"row under an unusable #fields line", 1}}},
        ZeekCase{"ControlBytesInMessagesAreEscaped",
                 std::string(kHeader) + "a\x01\x1b[31m\tIntel::ADDR\tsrc\tx\n",
                 {},
                 {"2: Intel::ADDR: not a valid ipv4: 'a\\x01\\x1b[31m'"}},
        ZeekCase{"EmptyAndCommentOnlyInput", "", {}, {}},
        ZeekCase{"OnlyComments", "#fields\tindicator\tindicator_type\n# nothing\n\n", {}, {}}),
    [](const ::testing::TestParamInfo<ZeekCase>& param) { return param.param.name; });

TEST(ZeekIntelTest, CountsPhysicalLines) {
  EXPECT_EQ(ParseZeekIntelFeed("").lines, 0u);
  EXPECT_EQ(ParseZeekIntelFeed("a\nb").lines, 2u);
  EXPECT_EQ(ParseZeekIntelFeed("a\nb\n\n").lines, 3u);
}

TEST(ZeekIntelTest, DomainsKeepTheDefaultSubdomainsFlag) {
  FeedParseResult r = ParseZeekIntelFeed(std::string(kHeader) + "evil.com\tIntel::DOMAIN\ts\td\n");
  ASSERT_EQ(r.indicators.size(), 1u);
  EXPECT_TRUE(r.indicators[0].subdomains);
  EXPECT_EQ(r.indicators[0].last_seen_unix_ms, 0);
  EXPECT_EQ(r.indicators[0].valid_until_unix_ms, 0);
}

// Random bytes, and random mixes of the format's own tokens, never crash; every position
// stays inside the input.
TEST(ZeekIntelTest, RandomInputNeverCrashes) {
  std::mt19937 rng(20240501);
  const std::vector<std::string> tokens = {"\t",
                                           "\n",
                                           "\r\n",
                                           "#fields",
                                           "#separator \\x09",
                                           "#separator \\x",
                                           "indicator",
                                           "indicator_type",
                                           "meta.source",
                                           "Intel::ADDR",
                                           "Intel::URL",
                                           "Intel::FILE_HASH",
                                           "Intel::SUBNET",
                                           "Intel::EMAIL",
                                           "1.2.3.4",
                                           "::1",
                                           "10.0.0.0/8",
                                           "evil.com",
                                           "/",
                                           "d41d8cd98f00b204e9800998ecf8427e",
                                           "-",
                                           "#",
                                           " ",
                                           "\xEF\xBB\xBF",
                                           "\xff",
                                           "\0"};
  for (int i = 0; i < 10000; ++i) {
    std::string input;
    size_t len = rng() % 200;
    if (i % 2 == 0) {
      for (size_t j = 0; j < len; ++j) input.push_back(static_cast<char>(rng() % 256));
    } else {
      for (size_t j = 0; j < len / 4; ++j) input += tokens[rng() % tokens.size()];
    }
    FeedParseResult r = ParseZeekIntelFeed(input);
    for (const FeedError& e : r.errors) ASSERT_LE(e.line, r.lines) << i;
    for (const ParsedIndicator& p : r.indicators) ASSERT_LE(p.line, r.lines) << i;
  }
}

// ---------------------------------------------------------------------------------------
// In-repo fixture

TEST(ZeekIntelTest, Fixture) {
  std::optional<std::string> content =
      ReadFile(SourceRoot() / "daemon/feeds/testdata/zeek_intel_mixed.intel");
  ASSERT_TRUE(content.has_value()) << "daemon/feeds/testdata/zeek_intel_mixed.intel";
  FeedParseResult r = ParseZeekIntelFeed(*content);
  EXPECT_EQ(r.lines, 24u);
  EXPECT_THAT(
      Describe(r),
      ElementsAre(
          "8 ipv4 198.51.100.23 <- 198.51.100.23 {source=local-cti} {desc=Emotet C2 (epoch 5)} "
          "{url=https://cti.example.org/e/1} {do_notice=T}",
          "9 ipv6 2001:db8:0:1::5 <- 2001:db8:0:1::5 {source=local-cti} {desc=scanner} "
          "{do_notice=F}",
          "10 cidr4 203.0.113.0/24 <- 203.0.113.0/24 {source=local-cti} {desc=bulletproof "
          "hosting range} {do_notice=F}",
          "11 domain update-check.example <- update-check.example {source=local-cti} "
          "{desc=phishing kit host} {do_notice=T} {if_in=DNS::IN_REQUEST}",
          // #empty_field declares "(empty)", so the url cell of line 13 is absent.
          "13 url login.update-check.example/verify.php <- login.update-check.example/verify.php "
          "{source=local-cti} {desc=credential phish} {do_notice=T} {if_in=HTTP::IN_URL}",
          "14 md5 44d88612fea8a8f36de82e1278abb02f <- 44d88612fea8a8f36de82e1278abb02f "
          "{source=local-cti} {desc=EICAR md5} {do_notice=F} {if_in=Files::IN_HASH}",
          "15 sha1 3395856ce81f2b7382dee72602f798b642f14140 <- "
          "3395856ce81f2b7382dee72602f798b642f14140 {source=local-cti} {desc=EICAR sha1} "
          "{do_notice=F} {if_in=Files::IN_HASH}",
          "16 sha256 275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f <- "
          "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f {source=local-cti} "
          "{desc=EICAR sha256} {do_notice=F} {if_in=Files::IN_HASH}",
          "21 domain evil.example <- evil.example {source=local-cti} {desc=defanged} "
          "{do_notice=F}"));
  EXPECT_THAT(Errors(r),
              ElementsAre("19: Intel::FILE_HASH: not an md5, sha1 or sha256 hex digest (31 "
                          "characters): '44d88612fea8a8f36de82e1278abb02'",
                          "20: Intel::ADDR: not a valid ipv4: '198.51.100.300'",
                          "22: row has 3 column(s), expected 7 as #fields on line 6 names "
                          "(columns are separated by '\\x09')"));
  EXPECT_EQ(r.unsupported, (std::map<std::string, uint64_t>{{"zeek type Intel::EMAIL", 1},
                                                            {"zeek type Intel::USER_NAME", 1}}));
  EXPECT_THAT(r.skipped, IsEmpty());
}

// ---------------------------------------------------------------------------------------
// Real feeds from ../shared/data/feeds (CriticalPathSecurity/Zeek-Intelligence-Feeds).
//
// The expected counts were computed independently of iocd from the shell: per file,
// distinct indicators by type after the same normalisation (python3's ipaddress for
// addresses and subnets, lower-case for domains and hashes, scheme/"www."/port stripped
// and lower-cased for URLs), rows of unsupported types counted by type, and values that are
// not valid for their declared type counted as errors. Simple cases agree with awk, e.g.
//   awk -F'\t' '!/^#/ && NF && $2=="Intel::ADDR" && !s[$1]++' zeekintel_cobaltstrike_ips.intel
// prints 804 lines (2087 rows: the feed lists many addresses several times).

struct RealZeekFeed {
  std::string file;
  uint64_t lines;
  std::map<std::string, uint64_t> by_type;
  std::map<std::string, uint64_t> unsupported;
  size_t errors;
};
void PrintTo(const RealZeekFeed& f, std::ostream* os) { *os << f.file; }

class RealZeekFeedTest : public ::testing::TestWithParam<RealZeekFeed> {};

std::filesystem::path SharedFeeds() { return SharedDataDir() / "feeds"; }

TEST_P(RealZeekFeedTest, ParsesWithExactCounts) {
  const RealZeekFeed& f = GetParam();
  std::optional<std::string> content = ReadFile(SharedFeeds() / f.file);
  if (!content) GTEST_SKIP() << "no " << (SharedFeeds() / f.file);
  FeedParseResult r = ParseZeekIntelFeed(*content);
  EXPECT_EQ(r.lines, f.lines);
  EXPECT_EQ(CountByType(r), f.by_type);
  EXPECT_EQ(r.unsupported, f.unsupported);
  EXPECT_EQ(r.errors.size(), f.errors) << (r.errors.empty() ? "" : r.errors[0].message);
  EXPECT_THAT(r.skipped, IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(
    SharedData, RealZeekFeedTest,
    ::testing::Values(
        RealZeekFeed{"zeekintel_Amnesty_NSO_Domains.intel",
                     1425,
                     {{"domain", 1407}},
                     {{"zeek type Intel::EMAIL", 17}},
                     0},
        RealZeekFeed{"zeekintel_abuse-ch-ipblocklist.intel", 7981, {{"ipv4", 7607}}, {}, 0},
        RealZeekFeed{"zeekintel_abuse-ch-malware.intel", 829, {{"sha1", 828}}, {}, 0},
        RealZeekFeed{"zeekintel_abuse-ch-threatfox-ip.intel", 3494, {{"ipv4", 2342}}, {}, 0},
        RealZeekFeed{"zeekintel_cobaltstrike_ips.intel", 2088, {{"ipv4", 804}}, {}, 0},
        RealZeekFeed{"zeekintel_cps-collected-iocs.intel",
                     49869,
                     {{"cidr4", 5},
                      {"cidr6", 5},
                      {"domain", 675},
                      {"ipv4", 30397},
                      {"ipv6", 20},
                      {"md5", 196},
                      {"sha1", 66},
                      {"sha256", 276},
                      {"url", 12465}},
                     {{"zeek type Intel::EMAIL", 1134}},
                     3},
        RealZeekFeed{"zeekintel_openphish.intel", 301, {{"url", 296}}, {}, 0},
        RealZeekFeed{"zeekintel_predict_intel.intel", 123, {{"domain", 45}}, {}, 0},
        RealZeekFeed{"zeekintel_tor-exit.intel", 3252, {{"ipv4", 1372}}, {}, 0}),
    [](const ::testing::TestParamInfo<RealZeekFeed>& param) {
      std::string name = param.param.file.substr(0, param.param.file.find('.'));
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

const ParsedIndicator* Find(const FeedParseResult& r, std::string_view display) {
  for (const ParsedIndicator& p : r.indicators) {
    if (p.indicator.Display() == display) return &p;
  }
  return nullptr;
}

TEST(RealZeekFeedTest, SampleIndicators) {
  std::optional<std::string> cobalt = ReadFile(SharedFeeds() / "zeekintel_cobaltstrike_ips.intel");
  std::optional<std::string> predict = ReadFile(SharedFeeds() / "zeekintel_predict_intel.intel");
  std::optional<std::string> cps = ReadFile(SharedFeeds() / "zeekintel_cps-collected-iocs.intel");
  if (!cobalt || !predict || !cps) GTEST_SKIP() << "no " << SharedFeeds();

  // The Cobalt Strike feed lists 127.0.0.1 (lines 153, 478 and 2050): a false positive
  // that the loopback allowlist, not the parser, has to deal with. The first row wins.
  FeedParseResult r = ParseZeekIntelFeed(*cobalt);
  const ParsedIndicator* loopback = Find(r, "127.0.0.1");
  ASSERT_NE(loopback, nullptr);
  EXPECT_EQ(Describe(*loopback),
            "153 ipv4 127.0.0.1 <- 127.0.0.1 {source=CobaltStrike-IP} {do_notice=F} "
            "{desc=CobaltStrike}");

  // The "predicted" domains include www.bing.com (line 44), another false positive.
  r = ParseZeekIntelFeed(*predict);
  const ParsedIndicator* bing = Find(r, "www.bing.com");
  ASSERT_NE(bing, nullptr);
  EXPECT_EQ(Describe(*bing),
            "44 domain www.bing.com <- www.bing.com {source=CPS-PREDICT} {do_notice=F} "
            "{desc=MALWARE}");

  r = ParseZeekIntelFeed(*cps);
  const ParsedIndicator* subnet = Find(r, "192.42.116.0/24");
  ASSERT_NE(subnet, nullptr);
  EXPECT_EQ(Describe(*subnet),
            "49647 cidr4 192.42.116.0/24 <- 192.42.116.0/24 {source=CPS-CTI} {do_notice=F} "
            "{desc=RECON-BruteForce}");
  const ParsedIndicator* url = Find(r, "85.239.52.47/tidc.php");
  ASSERT_NE(url, nullptr);
  EXPECT_EQ(Describe(*url),
            "76 url 85.239.52.47/tidc.php <- http://85.239.52.47/TIDC.php {source=CPS-CTI} "
            "{do_notice=F} {desc=MALWARE}");
  // The three rows of this feed whose value is not of the declared type.
  EXPECT_THAT(
      Errors(r),
      ElementsAre("118: Intel::DOMAIN: not a valid domain: '159.135.140.82'",
                  "49207: Intel::DOMAIN: not a valid domain: "
                  "'he335f2d353d.publicvm.com/ws/agent/'",
                  "49208: Intel::DOMAIN: not a valid domain: 'ukrdopomoga.space/ws/agent/'"));
}

}  // namespace
}  // namespace iocd
