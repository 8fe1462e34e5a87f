#include "feeds/warninglist.h"

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
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// One entry as "line type display <- value", with " (exact)" for subdomains=false.
std::string Describe(const ParsedIndicator& p) {
  return std::to_string(p.line) + " " + std::string(TypeName(p.indicator.type)) + " " +
         p.indicator.Display() + " <- " + p.value + (p.subdomains ? "" : " (exact)");
}

std::vector<std::string> Describe(const FeedParseResult& r) {
  std::vector<std::string> out;
  for (const ParsedIndicator& p : r.indicators) {
    EXPECT_THAT(p.context, IsEmpty());
    out.push_back(Describe(p));
  }
  return out;
}

std::string List(std::string_view type, std::string_view entries) {
  return R"({"name": "t", "type": ")" + std::string(type) + R"(", "list": [)" +
         std::string(entries) + "]}";
}

// ---------------------------------------------------------------------------------------
// Table tests on strings

struct WarninglistCase {
  std::string name;
  std::string content;
  std::vector<std::string> indicators;
  std::vector<std::string> substrings;
  std::vector<std::string> errors;
  std::map<std::string, uint64_t> unsupported;
};
void PrintTo(const WarninglistCase& c, std::ostream* os) { *os << c.name; }

class WarninglistTest : public ::testing::TestWithParam<WarninglistCase> {};

TEST_P(WarninglistTest, Parses) {
  const WarninglistCase& c = GetParam();
  Result<Warninglist> r = ParseWarninglist(c.content);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Describe(r->entries), ElementsAreArray(c.indicators));
  EXPECT_THAT(r->substrings, ElementsAreArray(c.substrings));
  EXPECT_THAT(Errors(r->entries), ElementsAreArray(c.errors));
  EXPECT_EQ(r->entries.unsupported, c.unsupported);
  EXPECT_THAT(r->entries.skipped, IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, WarninglistTest,
    ::testing::Values(
        WarninglistCase{"Cidr",
                        List("cidr", R"("10.0.0.0/8", "10.9.9.9/8", "1.2.3.4", "1.2.3.5/32",
                                        "2001:DB8::/32", "::1", "evil.com", "1.2.3.0/40")"),
                        {"1 cidr4 10.0.0.0/8 <- 10.0.0.0/8", "3 ipv4 1.2.3.4 <- 1.2.3.4",
                         "4 ipv4 1.2.3.5 <- 1.2.3.5/32", "5 cidr6 2001:db8::/32 <- 2001:DB8::/32",
                         "6 ipv6 ::1 <- ::1"},
                        {},
                        {},
                        {{"not an indicator", 2}}},
        WarninglistCase{
            "StringValuesAreExact",
            List("string", R"("google.com", "GOOGLE.com", "8.8.8.8", "10.0.0.0/8",
                                          "d41d8cd98f00b204e9800998ecf8427e",
                                          "http://Evil.com/Path", "evil.com/x", " padded.com ")"),
            {"1 domain google.com <- google.com (exact)", "3 ipv4 8.8.8.8 <- 8.8.8.8",
             "4 cidr4 10.0.0.0/8 <- 10.0.0.0/8",
             "5 md5 d41d8cd98f00b204e9800998ecf8427e <- "
             "d41d8cd98f00b204e9800998ecf8427e",
             "6 url evil.com/path <- http://Evil.com/Path", "7 url evil.com/x <- evil.com/x",
             "8 domain padded.com <- padded.com (exact)"},
            {},
            {},
            {}},
        WarninglistCase{"StringEntriesIocdCannotExpressAreUnsupportedNotErrors",
                        List("string", R"("localhost", "com", "", "  ", "a b", "10.0.0.0/99")"),
                        {},
                        {},
                        {},
                        {{"not an indicator", 6}}},
        WarninglistCase{
            "Hostname",
            List("hostname", R"("example.net", ".cdn.example.org",
                                            "*.windowsupdate.com", "Example.NET", "192.0.2.1",
                                            "intranet", "*.", ".")"),
            {"1 domain example.net <- example.net", "2 domain cdn.example.org <- .cdn.example.org",
             "3 domain windowsupdate.com <- *.windowsupdate.com", "5 ipv4 192.0.2.1 <- 192.0.2.1"},
            {},
            {},
            {{"not an indicator", 3}}},
        WarninglistCase{"SubstringsAreLowerCasedAndDeduplicated",
                        List("substring", R"(".Internal.", "sandbox-", "SANDBOX-", "", "x")"),
                        {},
                        {".internal.", "sandbox-", "x"},
                        {},
                        {{"not an indicator", 1}}},
        WarninglistCase{"RegexIsUnsupported",
                        List("regex", R"("^a$", "b.*", 3)"),
                        {},
                        {},
                        {"3: list[2]: a number, expected a string"},
                        {{"warninglist type regex", 2}}},
        WarninglistCase{
            "NonStringEntriesAreErrors",
            List("cidr", R"(null, true, {"a": 1}, ["10.0.0.0/8"], 1.5, "10.0.0.0/8")"),
            {"6 cidr4 10.0.0.0/8 <- 10.0.0.0/8"},
            {},
            {"1: list[0]: null, expected a string", "2: list[1]: a boolean, expected a string",
             "3: list[2]: an object, expected a string", "4: list[3]: an array, expected a string",
             "5: list[4]: a number, expected a string"},
            {}},
        WarninglistCase{"TypeIsCaseInsensitive",
                        List("CIDR", R"("10.0.0.0/8")"),
                        {"1 cidr4 10.0.0.0/8 <- 10.0.0.0/8"},
                        {},
                        {},
                        {}},
        WarninglistCase{"EmptyList", List("string", ""), {}, {}, {}, {}},
        WarninglistCase{"Bom",
                        "\xEF\xBB\xBF" + List("cidr", R"("10.0.0.0/8")"),
                        {"1 cidr4 10.0.0.0/8 <- 10.0.0.0/8"},
                        {},
                        {},
                        {}}),
    [](const ::testing::TestParamInfo<WarninglistCase>& param) { return param.param.name; });

TEST(WarninglistTest, ReadsTheListsMetadata) {
  Result<Warninglist> r = ParseWarninglist(
      R"({"name": "RFC 1918", "description": "private", "type": "cidr", "version": 3,
          "matching_attributes": ["ip-src"], "list": ["10.0.0.0/8"]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->name, "RFC 1918");
  EXPECT_EQ(r->description, "private");
  EXPECT_EQ(r->type, "cidr");
  EXPECT_EQ(r->version, 3);
  EXPECT_EQ(r->entries.lines, 2u);

  r = ParseWarninglist(R"({"type": "cidr", "list": [], "version": "x"})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->name, "");
  EXPECT_EQ(r->version, 0);
}

struct NotAWarninglist {
  std::string name;
  std::string content;
  std::string message;
};
void PrintTo(const NotAWarninglist& c, std::ostream* os) { *os << c.name; }

class NotAWarninglistTest : public ::testing::TestWithParam<NotAWarninglist> {};

TEST_P(NotAWarninglistTest, IsAnInvalidArgument) {
  const NotAWarninglist& c = GetParam();
  Result<Warninglist> r = ParseWarninglist(c.content);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), c.message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, NotAWarninglistTest,
    ::testing::Values(
        NotAWarninglist{"Empty", "", "not a warninglist: invalid JSON: Empty: no JSON found"},
        NotAWarninglist{"Truncated", R"({"type": "cidr", "list": ["10.0.0.0/8")",
                        "not a warninglist: invalid JSON: The JSON document has an improper "
                        "structure: missing or superfluous commas, braces, missing keys, etc."},
        NotAWarninglist{"Array", R"(["10.0.0.0/8"])",
                        "not a warninglist: the document is an array, not an object"},
        NotAWarninglist{"NoList", R"({"type": "cidr"})", "not a warninglist: no \"list\" array"},
        NotAWarninglist{"ListNotArray", R"({"type": "cidr", "list": "10.0.0.0/8"})",
                        "not a warninglist: no \"list\" array"},
        NotAWarninglist{"NoType", R"({"list": []})", "not a warninglist: no \"type\" string"},
        NotAWarninglist{"UnknownType", R"({"type": "glob\u0001", "list": []})",
                        "not a warninglist: unknown type 'glob?' (expected string, hostname, "
                        "cidr, substring or regex)"}),
    [](const ::testing::TestParamInfo<NotAWarninglist>& param) { return param.param.name; });

// Random bytes, and random mixes of warninglist tokens, never crash.
TEST(WarninglistTest, RandomInputNeverCrashes) {
  std::mt19937 rng(20240502);
  const std::vector<std::string> tokens = {"{",
                                           "}",
                                           "[",
                                           "]",
                                           ",",
                                           ":",
                                           "\"type\"",
                                           "\"list\"",
                                           "\"cidr\"",
                                           "\"string\"",
                                           "\"hostname\"",
                                           "\"substring\"",
                                           "\"regex\"",
                                           "\"10.0.0.0/8\"",
                                           "\"evil.com\"",
                                           "\"*.\"",
                                           "\"\"",
                                           "null",
                                           "1",
                                           "-1e999",
                                           "\"\\u0000\"",
                                           " ",
                                           "\xff",
                                           "\xEF\xBB\xBF"};
  int parsed = 0;
  for (int i = 0; i < 10000; ++i) {
    std::string input;
    size_t len = rng() % 200;
    if (i % 2 == 0) {
      for (size_t j = 0; j < len; ++j) input.push_back(static_cast<char>(rng() % 256));
    } else {
      // Half of these start as a valid warninglist so the list loop runs on random entries.
      if (i % 4 == 1) input = R"({"type": "string", "list": [)";
      for (size_t j = 0; j < len / 4; ++j) input += tokens[rng() % tokens.size()];
      if (i % 4 == 1) input += "]}";
    }
    Result<Warninglist> r = ParseWarninglist(input);
    if (!r.ok()) continue;
    ++parsed;
    for (const ParsedIndicator& p : r->entries.indicators) ASSERT_GE(p.line, 1u) << i;
  }
  EXPECT_GT(parsed, 0);
}

// ---------------------------------------------------------------------------------------
// In-repo fixtures, one per type

Warninglist LoadFixture(const std::string& name) {
  std::optional<std::string> content = ReadFile(SourceRoot() / "daemon/feeds/testdata" / name);
  EXPECT_TRUE(content.has_value()) << name;
  Result<Warninglist> r = ParseWarninglist(content.value_or(""));
  EXPECT_TRUE(r.ok()) << name << ": " << r.status().ToString();
  return r.ok() ? std::move(r).value() : Warninglist{};
}

TEST(WarninglistFixtureTest, String) {
  Warninglist w = LoadFixture("warninglist_string.json");
  EXPECT_EQ(w.name, "Local exact-match allowlist");
  EXPECT_EQ(w.type, "string");
  EXPECT_EQ(w.version, 20240501);
  EXPECT_THAT(Describe(w.entries),
              ElementsAre("1 domain example.com <- example.com (exact)",
                          "3 domain login.microsoftonline.com <- login.microsoftonline.com (exact)",
                          "4 ipv4 8.8.8.8 <- 8.8.8.8",
                          "5 ipv6 2001:4860:4860::8888 <- 2001:4860:4860::8888",
                          "6 cidr4 192.0.2.0/24 <- 192.0.2.0/24",
                          "7 md5 d41d8cd98f00b204e9800998ecf8427e <- "
                          "d41d8cd98f00b204e9800998ecf8427e",
                          "8 url example.org/index.html <- https://www.example.org/index.html"));
  // "localhost", "com" and "" cannot be expressed; 42 is not a string at all.
  EXPECT_EQ(w.entries.unsupported, (std::map<std::string, uint64_t>{{"not an indicator", 3}}));
  EXPECT_THAT(Errors(w.entries), ElementsAre("12: list[11]: a number, expected a string"));
  EXPECT_EQ(w.entries.lines, 27u);
}

TEST(WarninglistFixtureTest, Hostname) {
  Warninglist w = LoadFixture("warninglist_hostname.json");
  EXPECT_EQ(w.type, "hostname");
  EXPECT_THAT(Describe(w.entries), ElementsAre("1 domain example.net <- example.net",
                                               "2 domain cdn.example.org <- .cdn.example.org",
                                               "3 domain windowsupdate.com <- *.windowsupdate.com",
                                               "4 ipv4 192.0.2.10 <- 192.0.2.10",
                                               "5 domain sub.example.net <- sub.example.net"));
  EXPECT_EQ(w.entries.unsupported, (std::map<std::string, uint64_t>{{"not an indicator", 1}}));
  EXPECT_THAT(w.entries.errors, IsEmpty());
}

TEST(WarninglistFixtureTest, Cidr) {
  Warninglist w = LoadFixture("warninglist_cidr.json");
  EXPECT_EQ(w.type, "cidr");
  // "10.1.2.3/8" is 10.0.0.0/8 once its host bits are cleared: a duplicate of entry 1.
  EXPECT_THAT(
      Describe(w.entries),
      ElementsAre("1 cidr4 10.0.0.0/8 <- 10.0.0.0/8", "2 cidr4 172.16.0.0/12 <- 172.16.0.0/12",
                  "3 cidr4 192.168.0.0/16 <- 192.168.0.0/16", "4 ipv4 198.51.100.7 <- 198.51.100.7",
                  "5 ipv4 198.51.100.8 <- 198.51.100.8/32", "6 cidr6 fe80::/10 <- FE80::/10",
                  "7 cidr6 2001:db8::/32 <- 2001:db8::/32"));
  EXPECT_EQ(w.entries.unsupported, (std::map<std::string, uint64_t>{{"not an indicator", 2}}));
  EXPECT_THAT(w.entries.errors, IsEmpty());
}

TEST(WarninglistFixtureTest, Substring) {
  Warninglist w = LoadFixture("warninglist_substring.json");
  EXPECT_EQ(w.type, "substring");
  EXPECT_THAT(w.entries.indicators, IsEmpty());
  EXPECT_THAT(w.substrings, ElementsAre(".internal.example", "sandbox-", "-test."));
  EXPECT_EQ(w.entries.unsupported, (std::map<std::string, uint64_t>{{"not an indicator", 1}}));
}

TEST(WarninglistFixtureTest, Regex) {
  Warninglist w = LoadFixture("warninglist_regex.json");
  EXPECT_EQ(w.type, "regex");
  EXPECT_THAT(w.entries.indicators, IsEmpty());
  EXPECT_THAT(w.substrings, IsEmpty());
  EXPECT_EQ(w.entries.unsupported,
            (std::map<std::string, uint64_t>{{"warninglist type regex", 2}}));
}

// ---------------------------------------------------------------------------------------
// Real lists from ../shared/data/allowlists (MISP/misp-warninglists).
//
// The expected counts were verified independently with python3 from the shell: json.load
// each file; per entry (stripped), cidr lists via ipaddress.ip_network(strict=False) (a
// full-length prefix counted as an address) or ip_address; string/hostname lists as a
// 32/40/64-digit hex hash, an address, a network when the value has '/', else a domain
// matching [a-z0-9_-] labels with a non-numeric last label (after dropping "*." or "." for
// hostname lists); values matching nothing counted as unsupported; duplicates by
// normalised value dropped. Every count agreed with the parser's.

struct RealList {
  std::string file;
  std::string type;
  std::map<std::string, uint64_t> by_type;
  uint64_t not_an_indicator;
};
void PrintTo(const RealList& l, std::ostream* os) { *os << l.file; }

class RealWarninglistTest : public ::testing::TestWithParam<RealList> {};

std::filesystem::path SharedAllowlists() { return SharedDataDir() / "allowlists"; }

TEST_P(RealWarninglistTest, ParsesWithExactCounts) {
  const RealList& l = GetParam();
  std::optional<std::string> content = ReadFile(SharedAllowlists() / l.file);
  if (!content) GTEST_SKIP() << "no " << (SharedAllowlists() / l.file);
  Result<Warninglist> r = ParseWarninglist(*content);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->type, l.type);
  EXPECT_FALSE(r->name.empty());
  EXPECT_EQ(CountByType(r->entries), l.by_type);
  EXPECT_THAT(r->substrings, IsEmpty());  // none of these lists is of type substring
  std::map<std::string, uint64_t> unsupported;
  if (l.not_an_indicator > 0) unsupported["not an indicator"] = l.not_an_indicator;
  EXPECT_EQ(r->entries.unsupported, unsupported);
  EXPECT_THAT(r->entries.errors, IsEmpty());
  for (const ParsedIndicator& p : r->entries.indicators) {
    if (p.indicator.type == IndicatorType::kDomain) {
      EXPECT_EQ(p.subdomains, l.type == "hostname") << p.value;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    SharedData, RealWarninglistTest,
    ::testing::Values(
        RealList{"misp-wl_amazon-aws.json",
                 "cidr",
                 {{"cidr4", 1604}, {"cidr6", 2086}, {"ipv4", 146}, {"ipv6", 11}},
                 0},
        // "aquila.it" is a public suffix (ICANN section), refused as an indicator.
        RealList{"misp-wl_cisco_top1000.json", "string", {{"domain", 999}}, 1},
        RealList{"misp-wl_cisco_top10k.json", "string", {{"domain", 9999}}, 1},
        RealList{"misp-wl_cloudflare.json", "cidr", {{"cidr4", 15}, {"cidr6", 7}}, 0},
        RealList{"misp-wl_common-ioc-false-positive.json",
                 "string",
                 {{"md5", 23}, {"sha1", 23}, {"sha256", 23}},
                 0},
        RealList{"misp-wl_crl-hostname.json", "string", {{"domain", 222}}, 0},
        // The sha224 of the empty input is not an indicator type of iocd; the empty
        // ssdeep hash "3::" reads as the IPv6 address 3:: (harmless in an allowlist).
        RealList{"misp-wl_empty-hashes.json",
                 "string",
                 {{"ipv6", 1}, {"md5", 1}, {"sha1", 1}, {"sha256", 1}, {"sha512", 1}},
                 1},
        RealList{"misp-wl_google-gcp.json", "cidr", {{"cidr4", 441}, {"cidr6", 30}}, 0},
        RealList{"misp-wl_ipv6-linklocal.json", "cidr", {{"cidr6", 1}}, 0},
        RealList{"misp-wl_microsoft-azure.json",
                 "cidr",
                 {{"cidr4", 1650}, {"cidr6", 980}, {"ipv4", 22}, {"ipv6", 31}},
                 0},
        RealList{"misp-wl_multicast.json", "cidr", {{"cidr4", 16}}, 0},
        RealList{"misp-wl_public-dns-v4.json", "cidr", {{"ipv4", 62745}}, 0},
        RealList{"misp-wl_rfc1918.json", "cidr", {{"cidr4", 3}}, 0},
        RealList{"misp-wl_rfc3849.json", "cidr", {{"cidr6", 1}}, 0},
        RealList{"misp-wl_rfc5735.json", "cidr", {{"cidr4", 14}, {"ipv4", 1}}, 0},
        RealList{"misp-wl_rfc6598.json", "cidr", {{"cidr4", 1}}, 0},
        RealList{"misp-wl_rfc6761.json", "string", {{"domain", 21}}, 0},
        RealList{"misp-wl_sinkholes.json", "cidr", {{"cidr4", 10}, {"ipv4", 97}}, 0},
        // Bare TLDs ("AAA", "COM") are not domains iocd can match.
        RealList{"misp-wl_tlds.json", "string", {}, 1438},
        RealList{"misp-wl_tranco10k.json", "hostname", {{"domain", 10000}}, 0},
        RealList{"misp-wl_url-shortener.json", "hostname", {{"domain", 255}}, 0},
        RealList{"misp-wl_whats-my-ip.json", "hostname", {{"domain", 234}}, 0}),
    [](const ::testing::TestParamInfo<RealList>& param) {
      std::string name = param.param.file.substr(0, param.param.file.find('.'));
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

TEST(RealWarninglistTest, SpotValues) {
  std::optional<std::string> rfc1918 = ReadFile(SharedAllowlists() / "misp-wl_rfc1918.json");
  std::optional<std::string> empty = ReadFile(SharedAllowlists() / "misp-wl_empty-hashes.json");
  if (!rfc1918 || !empty) GTEST_SKIP() << "no " << SharedAllowlists();

  Result<Warninglist> r = ParseWarninglist(*rfc1918);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->name, "List of RFC 1918 CIDR blocks");
  EXPECT_THAT(Describe(r->entries), ElementsAre("1 cidr4 10.0.0.0/8 <- 10.0.0.0/8",
                                                "2 cidr4 172.16.0.0/12 <- 172.16.0.0/12",
                                                "3 cidr4 192.168.0.0/16 <- 192.168.0.0/16"));

  r = ParseWarninglist(*empty);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(
      Describe(r->entries),
      ElementsAre("1 ipv6 3:: <- 3::",
                  "2 sha512 cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
                  "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e <- "
                  "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
                  "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
                  "4 md5 d41d8cd98f00b204e9800998ecf8427e <- "
                  "d41d8cd98f00b204e9800998ecf8427e",
                  "5 sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709 <- "
                  "da39a3ee5e6b4b0d3255bfef95601890afd80709",
                  "6 sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 "
                  "<- e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
}

}  // namespace
}  // namespace iocd
