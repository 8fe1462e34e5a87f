#include "feeds/stix2.h"

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
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// "line type display <- value"
std::vector<std::string> Describe(const FeedParseResult& r) {
  std::vector<std::string> out;
  for (const ParsedIndicator& p : r.indicators) {
    out.push_back(std::to_string(p.line) + " " + std::string(TypeName(p.indicator.type)) + " " +
                  p.indicator.Display() + " <- " + p.value);
  }
  return out;
}

const ParsedIndicator* Find(const FeedParseResult& r, std::string_view display) {
  for (const ParsedIndicator& p : r.indicators) {
    if (p.indicator.Display() == display) return &p;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------
// ParseStixPattern

struct PatternCase {
  std::string pattern;
  // Exactly one of these describes the expected outcome.
  std::vector<StixComparison> comparisons;
  std::string unsupported;
  std::string error;
};

TEST(StixPatternTest, SupportedPatterns) {
  using T = IndicatorType;
  const PatternCase cases[] = {
      {"[ipv4-addr:value = '1.2.3.4']", {{T::kIpv4, "1.2.3.4", "ipv4-addr:value", 1}}, "", ""},
      {"[ipv4-addr:value = '10.0.0.0/8' OR ipv6-addr:value = '2001:db8::/32']",
       {{T::kIpv4, "10.0.0.0/8", "ipv4-addr:value", 1},
        {T::kIpv6, "2001:db8::/32", "ipv6-addr:value", 35}},
       "",
       ""},
      {"[domain-name:value = 'a.com'] OR [url:value = 'http://x.com/a']",
       {{T::kDomain, "a.com", "domain-name:value", 1},
        {T::kUrl, "http://x.com/a", "url:value", 34}},
       "",
       ""},
      // Only \' and \\ are escapes.
      {R"([url:value = 'http://x.com/it\'s\\a'])",
       {{T::kUrl, R"(http://x.com/it's\a)", "url:value", 1}},
       "",
       ""},
      // Parentheses, no spaces around '=', newlines, lower-case keywords.
      {"([domain-name:value='a.com'])", {{T::kDomain, "a.com", "domain-name:value", 2}}, "", ""},
      {"[(domain-name:value = 'a.com' OR\n domain-name:value = 'b.com')]",
       {{T::kDomain, "a.com", "domain-name:value", 2},
        {T::kDomain, "b.com", "domain-name:value", 34}},
       "",
       ""},
      {"[domain-name:value = 'a.com' or domain-name:value = 'b.com']",
       {{T::kDomain, "a.com", "domain-name:value", 1},
        {T::kDomain, "b.com", "domain-name:value", 32}},
       "",
       ""},
      // Hash names quoted or not, any case, with or without the dash.
      {"[file:hashes.'SHA-256' = 'aa']", {{T::kSha256, "aa", "file:hashes.SHA-256", 1}}, "", ""},
      {"[file:hashes.SHA256 = 'aa']", {{T::kSha256, "aa", "file:hashes.SHA-256", 1}}, "", ""},
      {"[file:hashes.'sha-1' = 'aa']", {{T::kSha1, "aa", "file:hashes.SHA-1", 1}}, "", ""},
      {"[file:hashes.SHA1 = 'aa']", {{T::kSha1, "aa", "file:hashes.SHA-1", 1}}, "", ""},
      {"[file:hashes.md5 = 'aa']", {{T::kMd5, "aa", "file:hashes.MD5", 1}}, "", ""},
      {"[file:hashes.'MD5' = 'aa']", {{T::kMd5, "aa", "file:hashes.MD5", 1}}, "", ""},
      // The value is not validated here.
      {"[ipv4-addr:value = 'not an ip']", {{T::kIpv4, "not an ip", "ipv4-addr:value", 1}}, "", ""},
  };
  for (const PatternCase& c : cases) {
    Result<StixPattern> r = ParseStixPattern(c.pattern);
    ASSERT_TRUE(r.ok()) << c.pattern << ": " << r.status().message();
    EXPECT_EQ(r->unsupported, "") << c.pattern;
    EXPECT_EQ(r->comparisons, c.comparisons) << c.pattern;
  }
}

TEST(StixPatternTest, UnsupportedPatterns) {
  const std::pair<std::string, std::string> cases[] = {
      {"[domain-name:value = 'a.com' AND ipv4-addr:value = '1.2.3.4']", "stix pattern: AND"},
      {"[domain-name:value = 'a.com'] AND [ipv4-addr:value = '1.2.3.4']", "stix pattern: AND"},
      {"[domain-name:value = 'a.com'] FOLLOWEDBY [ipv4-addr:value = '1.2.3.4']",
       "stix pattern: FOLLOWEDBY"},
      {"[ipv4-addr:value = '1.2.3.4'] WITHIN 300 SECONDS", "stix qualifier WITHIN"},
      {"[ipv4-addr:value = '1.2.3.4'] START t'2016-06-01T00:00:00Z' STOP "
       "t'2016-07-01T00:00:00.5Z'",
       "stix qualifier START/STOP"},
      {"[ipv4-addr:value = '1.2.3.4'] REPEATS 5 TIMES", "stix qualifier REPEATS"},
      {"[EXISTS file:name]", "stix pattern: EXISTS"},
      {"[domain-name:value != 'a.com']", "stix operator !="},
      {"[domain-name:value <> 'a.com']", "stix operator <>"},
      {"[domain-name:value NOT = 'a.com']", "stix operator NOT ="},
      {"[domain-name:value LIKE '%.a.com']", "stix operator LIKE"},
      {"[domain-name:value MATCHES '^a\\\\.com$']", "stix operator MATCHES"},
      {"[ipv4-addr:value IN ('1.2.3.4', '5.6.7.8')]", "stix operator IN"},
      {"[ipv4-addr:value ISSUBSET '10.0.0.0/8']", "stix operator ISSUBSET"},
      {"[file:size > 1024]", "stix operator >"},
      {"[network-traffic:dst_port = 443]", "stix object network-traffic"},
      {"[email-addr:value = 'a@b.example']", "stix object email-addr"},
      {"[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Run']",
       "stix object windows-registry-key"},
      {"[process:name = 'evil.exe']", "stix object process"},
      {"[x509-certificate:issuer = 'CN=WEBMAIL']", "stix object x509-certificate"},
      {"[file:name = 'CBricksDoc']", "stix property file:name"},
      {"[file:hashes.'SHA-512' = 'aa']", "stix property file:hashes.SHA-512"},
      {"[domain-name:resolves_to_refs[*].value = '1.2.3.4']",
       "stix property domain-name:resolves_to_refs[*].value"},
      {"[ipv4-addr:value = 16909060]", "stix value integer"},
      {"[domain-name:value = true]", "stix value boolean"},
      {"[url:value = h'00ff']", "stix value hex"},
      // One unsupported part makes the whole pattern unsupported.
      {"[domain-name:value = 'a.com'] OR [x509-certificate:issuer = 'x']",
       "stix object x509-certificate"},
      // Several unsupported parts: structure first, then operators, objects, properties.
      {"[x509-certificate:issuer = 'CN=LM' AND x509-certificate:serial_number = '0e:97']",
       "stix pattern: AND"},
      {"[x509-certificate:issuer LIKE 'CN%'] OR [file:name = 'x']", "stix operator LIKE"},
      {"[file:name = 'x'] OR [process:name = 'y']", "stix object process"},
  };
  for (const auto& [pattern, reason] : cases) {
    Result<StixPattern> r = ParseStixPattern(pattern);
    ASSERT_TRUE(r.ok()) << pattern << ": " << r.status().message();
    EXPECT_EQ(r->unsupported, reason) << pattern;
    EXPECT_THAT(r->comparisons, IsEmpty()) << pattern;
  }
}

TEST(StixPatternTest, SyntaxErrors) {
  const std::string deep = std::string(70, '(') + "[a:b = 'x']" + std::string(70, ')');
  const std::pair<std::string, std::string> cases[] = {
      {"", "at character 1: expected '[' or '(', found end of pattern"},
      {"ipv4-addr:value = 'x'", "at character 1: expected '[' or '(', found 'i'"},
      {"[ipv4-addr:value = '1.2.3.4'", "at character 29: expected ']', found end of pattern"},
      {"[ipv4-addr:value = 1.2.3.4]", "at character 23: expected ']', found '.'"},
      {R"([ipv4-addr:value = 'x\q'])",
       R"(at character 23: expected \' or \\ after a backslash, found 'q')"},
      {"[ipv4-addr:value 'x']", "at character 18: expected a comparison operator, found '''"},
      {"[ipv4-addr = 'x']", "at character 12: expected ':', found '='"},
      {"[ipv4-addr:value = 'x'] OR", "at character 27: expected '[' or '(', found end of pattern"},
      {"[ipv4-addr:value = 'x'] WITHIN SECONDS", "at character 32: expected a number, found 'S'"},
      {"[a:b = 'x'] START t'2016-13-01T00:00:00Z' STOP t'2016-01-01T00:00:00Z'",
       "at character 19: expected an RFC 3339 timestamp, found 't'"},
      {"[ipv4-addr:value = 'x'] garbage", "at character 25: expected end of pattern, found 'g'"},
      {"[ipv4-addr:value = 'unterminated]",
       "at character 20: the string that starts here has no closing quote"},
      {"[ipv4-addr:value = 'x'] \xC3\xA9",
       "at character 25: expected end of pattern, found byte 0xc3"},
      {"[ipv4-addr:value IN '1.2.3.4']", "at character 21: expected '(' after IN, found '''"},
      {"[]", "at character 2: expected an object path (type:property), found ']'"},
      {"[file:hashes. = 'x']", "at character 15: expected a property name, found '='"},
      {"[a:b[x] = 'c']", "at character 6: expected an integer, found 'x'"},
      {"[a:b = '\n']\x01", "at character 12: expected end of pattern, found '\\x01'"},
      {deep, "at character 65: parentheses nested more than 64 deep"},
  };
  for (const auto& [pattern, message] : cases) {
    Result<StixPattern> r = ParseStixPattern(pattern);
    ASSERT_FALSE(r.ok()) << pattern;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), message) << pattern;
  }
}

TEST(Rfc3339Test, Timestamps) {
  const std::pair<std::string, std::optional<int64_t>> cases[] = {
      {"1970-01-01T00:00:00Z", 0},
      {"2015-05-15T09:12:16.432Z", 1431681136432},
      {"2015-05-15T09:12:16.432678Z", 1431681136432},  // beyond ms: truncated
      {"2015-05-15T09:12:16.4Z", 1431681136400},
      {"2024-02-01T10:00:00.123456+01:00", 1706778000123},
      {"2024-02-01T10:00:00+0100", 1706778000000},
      {"2024-02-01 09:00:00z", 1706778000000},
      {"2024-02-29T00:00:00Z", 1709164800000},
      {"1969-12-31T23:59:59Z", -1000},
      {"2023-02-29T00:00:00Z", std::nullopt},
      {"2024-13-01T00:00:00Z", std::nullopt},
      {"2024-01-01T24:00:00Z", std::nullopt},
      {"2024-01-01T00:00:00", std::nullopt},  // no zone
      {"2024-01-01T00:00:00.Z", std::nullopt},
      {"2024-01-01T00:00:00Zjunk", std::nullopt},
      {"2024-1-01T00:00:00Z", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& [text, ms] : cases) EXPECT_EQ(ParseRfc3339UnixMs(text), ms) << text;
}

// ---------------------------------------------------------------------------------------
// ParseStix2Bundle

TEST(Stix2BundleTest, AcceptsBareArrayAndSingleIndicator) {
  const std::string indicator =
      R"({"type": "indicator", "id": "indicator--1", "name": "one",
          "pattern": "[domain-name:value = 'evil.example']", "valid_from": "2020-01-01T00:00:00Z"})";
  FeedParseResult single = ParseStix2Bundle(indicator);
  EXPECT_THAT(Describe(single), ElementsAre("1 domain evil.example <- evil.example"));
  EXPECT_THAT(Context(single.indicators[0]),
              ElementsAre("name=one", "valid_from=2020-01-01T00:00:00Z", "stix_id=indicator--1"));
  EXPECT_EQ(single.lines, 1u);

  FeedParseResult array =
      ParseStix2Bundle("\xEF\xBB\xBF[{\"type\": \"identity\"}, " + indicator + "]");
  EXPECT_THAT(Describe(array), ElementsAre("2 domain evil.example <- evil.example"));
  EXPECT_THAT(array.errors, IsEmpty());
}

TEST(Stix2BundleTest, DocumentErrors) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "0: not valid JSON: "},
      {"{\"type\": \"bundle\", \"objects\": [", "0: not valid JSON: "},
      {"42", "0: not a STIX bundle: the document is neither a JSON object nor an array"},
      {"{\"objects\": []}", "0: not a STIX bundle: the top-level object has no \"type\""},
      {"{\"type\": \"bundle\", \"objects\": {}}", "0: bundle \"objects\" is not an array"},
  };
  for (const auto& [doc, prefix] : cases) {
    FeedParseResult r = ParseStix2Bundle(doc);
    ASSERT_EQ(r.errors.size(), 1u) << doc;
    EXPECT_EQ(Errors(r)[0].substr(0, prefix.size()), prefix) << doc;
    EXPECT_THAT(r.indicators, IsEmpty());
  }
  FeedParseResult empty = ParseStix2Bundle(R"({"type": "bundle", "id": "bundle--1"})");
  EXPECT_THAT(empty.errors, IsEmpty());
  EXPECT_THAT(empty.indicators, IsEmpty());
}

TEST(Stix2BundleTest, Fixture) {
  std::optional<std::string> content = ReadRepoFile("daemon/feeds/testdata/stix2_bundle.json");
  ASSERT_TRUE(content.has_value()) << "run from the repo root or set IOCD_SOURCE_DIR";
  FeedParseResult r = ParseStix2Bundle(*content);
  EXPECT_EQ(r.lines, 32u);
  // 198.51.100.7 is listed again by the second indicator (object 10): the first one wins.
  EXPECT_THAT(
      Describe(r),
      ElementsAre("3 ipv4 198.51.100.7 <- 198.51.100.7", "3 cidr4 203.0.113.0/24 <- 203.0.113.0/24",
                  "3 domain evil.example.com <- Evil.Example.com",
                  "10 sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                  " <- E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
                  "10 md5 d41d8cd98f00b204e9800998ecf8427e <- d41d8cd98f00b204e9800998ecf8427e",
                  "10 sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709"
                  " <- da39a3ee5e6b4b0d3255bfef95601890afd80709",
                  "10 url evil.example.com/gate.php?id=1 <- http://evil.example.com/gate.php?id=1",
                  "10 cidr6 2001:db8::/32 <- 2001:db8::/32"));
  // The description is 511 ASCII bytes and two 2-byte characters: cut at 512 bytes it
  // would split the first one, so 511 bytes remain.
  EXPECT_THAT(
      Context(r.indicators[0]),
      ElementsAre("name=Emotet C2", "description=" + std::string(511, 'x'),
                  "indicator_types=malicious-activity, c2", "labels=botnet",
                  "kill_chain_phases=lockheed-martin-cyber-kill-chain:command-and-control, "
                  "mitre-attack:command-and-control",
                  "confidence=85", "created=2024-01-02T03:04:05.678Z",
                  "modified=2024-01-03T00:00:00Z", "valid_from=2024-01-02T00:00:00Z",
                  "valid_until=2025-01-02T00:00:00.5Z",
                  "stix_id=indicator--00000000-0000-4000-8000-00000000000a",
                  // Emotet once (two relationships), Trickbot via a relationship that comes
                  // after the indicator; the revoked one and the missing target add nothing.
                  "malware=Emotet, Trickbot", "threat_actor=TA542", "intrusion_set=Mummy Spider",
                  "campaign=Spring 2024", "attack_pattern=Phishing", "tool=Cobalt Strike"));
  EXPECT_EQ(r.indicators[0].valid_until_unix_ms, 1735776000500);
  EXPECT_EQ(r.indicators[0].last_seen_unix_ms, 1704240000000);
  // "related-to" and a threat actor's "uses" are not followed.
  EXPECT_THAT(Context(r.indicators[3]),
              ElementsAre("name=Payload hashes", "created=2024-01-02T03:04:05Z",
                          "modified=2024-01-02T03:04:05Z", "valid_from=2024-01-02T00:00:00Z",
                          "stix_id=indicator--00000000-0000-4000-8000-00000000000b"));
  EXPECT_EQ(r.indicators[3].valid_until_unix_ms, 0);
  EXPECT_EQ(r.indicators[3].last_seen_unix_ms, 1704164645000);

  EXPECT_THAT(r.skipped, ElementsAre(Pair("revoked", 1u)));
  EXPECT_THAT(
      r.unsupported,
      UnorderedElementsAre(Pair("stix object x509-certificate", 1u), Pair("stix operator LIKE", 1u),
                           Pair("stix pattern: AND", 1u), Pair("stix pattern_type sigma", 1u),
                           Pair("stix qualifier WITHIN", 1u)));
  EXPECT_THAT(
      Errors(r),
      ElementsAre(
          "17: indicator--00000000-0000-4000-8000-000000000012: pattern syntax error at "
          "character 32: expected ']', found end of pattern in '[ipv4-addr:value = "
          "'192.0.2.10''",
          // The valid first value is not loaded either: all or nothing.
          "18: indicator--00000000-0000-4000-8000-000000000013: ipv4-addr:value '2001:db8::1' "
          "is not a valid IPv4 address or CIDR",
          "19: objects[18] is not a JSON object",
          "20: indicator--00000000-0000-4000-8000-000000000014: no \"pattern\" string",
          "21: indicator--00000000-0000-4000-8000-000000000015: \"modified\" is not an RFC 3339 "
          "timestamp: '\"yesterday\"'"));
}

// Expected numbers for the two OASIS example bundles were computed independently with
// python3 (json + re + ipaddress): every object of type "indicator" is read; a pattern
// containing " AND " is unsupported; the others are split on " OR " into
// `path = 'value'` comparisons; file:name paths are unsupported; the remaining values are
// deduplicated in document order. Commands (from the repo root):
//   python3 -c "import json,collections;
//   b=json.load(open('../shared/data/feeds/stix21_apt1_bundle.json'));
//     print(collections.Counter(o['type'] for o in b['objects']));
//     [print(o['pattern']) for o in b['objects'] if o['type']=='indicator']"
// and the same for stix21_poisonivy_bundle.json; relationship names by joining
// relationship_type == 'indicates' source_ref/target_ref to the objects' names.
TEST(Stix2BundleTest, RealApt1Bundle) {
  std::optional<std::string> content = ReadRepoFile("../shared/data/feeds/stix21_apt1_bundle.json");
  if (!content) GTEST_SKIP() << "../shared/data/feeds/stix21_apt1_bundle.json not present";
  FeedParseResult r = ParseStix2Bundle(*content);
  EXPECT_EQ(r.lines, 76u);  // 12 indicators, 30 relationships, 34 other objects
  std::map<std::string, int> per_type;
  for (const ParsedIndicator& p : r.indicators) ++per_type[std::string(TypeName(p.indicator.type))];
  EXPECT_THAT(per_type, ElementsAre(Pair("cidr4", 4), Pair("domain", 3), Pair("md5", 3)));
  // The two x509-certificate indicators use AND.
  EXPECT_THAT(r.unsupported, ElementsAre(Pair("stix pattern: AND", 2u)));
  EXPECT_THAT(r.errors, IsEmpty());
  EXPECT_THAT(r.skipped, IsEmpty());

  const ParsedIndicator* cidr = Find(r, "223.166.0.0/15");
  ASSERT_NE(cidr, nullptr);
  EXPECT_EQ(cidr->line, 11u);
  EXPECT_THAT(Context(*cidr),
              ElementsAre("name=HTRAN Hop Point Accessor", "description=Test description.",
                          "indicator_types=malicious-activity",
                          "kill_chain_phases=mandiant-attack-lifecycle-model:establish-foothold",
                          "created=2015-05-15T09:12:16.432Z", "modified=2015-05-15T09:12:16.432Z",
                          "valid_from=2015-05-15T09:12:16.432678Z",
                          "stix_id=indicator--031778a4-057f-48e6-9db9-c8d72b81ccd5",
                          "malware=HUC Packet Transmit Tool (HTRAN)"));
  EXPECT_EQ(cidr->last_seen_unix_ms, 1431681136432);
  const ParsedIndicator* domain = Find(r, "hugesoft.org");
  ASSERT_NE(domain, nullptr);
  EXPECT_EQ(domain->line, 15u);
  EXPECT_EQ(Context(*domain).back(), "threat_actor=Ugly Gorilla");
  const ParsedIndicator* md5 = Find(r, "001dd76872d80801692ff942308c64e6");
  ASSERT_NE(md5, nullptr);
  EXPECT_EQ(Context(*md5).front(), "name=Appendix E MD5 hash '001dd76872d80801692ff942308c64e6'");
  EXPECT_EQ(Context(*md5).back(), "stix_id=indicator--8d12f44f-8ac0-4b12-8b4a-3699ca8c9691");
}

TEST(Stix2BundleTest, RealPoisonIvyBundle) {
  std::optional<std::string> content =
      ReadRepoFile("../shared/data/feeds/stix21_poisonivy_bundle.json");
  if (!content) GTEST_SKIP() << "../shared/data/feeds/stix21_poisonivy_bundle.json not present";
  FeedParseResult r = ParseStix2Bundle(*content);
  EXPECT_EQ(r.lines, 155u);
  std::map<std::string, int> per_type;
  for (const ParsedIndicator& p : r.indicators) ++per_type[std::string(TypeName(p.indicator.type))];
  // 25 indicators; 23 domain/ipv4 patterns list 65 values, 43 distinct; the 2 values of
  // the indicator with the bad domain (error below) are not loaded.
  EXPECT_THAT(per_type, ElementsAre(Pair("domain", 24), Pair("ipv4", 17)));
  EXPECT_THAT(r.unsupported, ElementsAre(Pair("stix property file:name", 2u)));
  EXPECT_THAT(r.skipped, IsEmpty());
  // The feed's own typo: "domain autuo.xicp.net" has a space; its indicator (with
  // 60.10.1.115) is not loaded.
  EXPECT_THAT(Errors(r),
              ElementsAre("43: indicator--4e4c4ad7-4909-456a-b6fa-e24a6f682a40: "
                          "domain-name:value 'domain autuo.xicp.net' is not a valid domain"));
  EXPECT_EQ(Find(r, "60.10.1.115"), nullptr);

  const ParsedIndicator* ip = Find(r, "219.76.208.163");
  ASSERT_NE(ip, nullptr);
  EXPECT_EQ(ip->line, 34u);
  EXPECT_EQ(Context(*ip).front(), "name=IP address: 219.76.208.163");
  std::vector<std::string> ip_context = Context(*ip);
  EXPECT_THAT(
      std::vector<std::string>(ip_context.end() - 2, ip_context.end()),
      ElementsAre("malware=PIVY Variant (808e21d6efa2884811fbd0adf67fda78)", "campaign=admin@338"));
  // Listed by several indicators: the first (object 35) wins.
  const ParsedIndicator* shared = Find(r, "113.10.246.30");
  ASSERT_NE(shared, nullptr);
  EXPECT_EQ(shared->line, 35u);
  EXPECT_THAT(Context(*shared),
              ElementsAre("name=www.webserver.dynssl.com",
                          "description=www.webserver.dynssl.com resolved to 113.10.246.30, "
                          "219.90.112.203, 219.90.112.203, 75.126.95.138, 219.90.112.197, and "
                          "202.65.222.45, which overlap with the gwx@123 IP addresses.",
                          "indicator_types=malicious-activity, attribution",
                          "created=2015-05-15T09:12:16.432Z", "modified=2015-05-15T09:12:16.432Z",
                          "valid_from=2015-05-15T09:12:16.432678Z",
                          "stix_id=indicator--329ae6e9-25bd-49e8-89d1-aae4ca52e4a7",
                          "malware=PIVY Variant (8010cae3e8431bb11ed6dc9acabb93b7,)",
                          "campaign=admin@338"));
  const ParsedIndicator* menupass = Find(r, "60.1.1.114");
  ASSERT_NE(menupass, nullptr);
  EXPECT_EQ(menupass->line, 45u);
  EXPECT_EQ(Context(*menupass).back(), "campaign=menuPass");
}

// Random bytes, and random mutations of the fixture, never crash the parsers.
TEST(Stix2BundleTest, RandomInputDoesNotCrash) {
  std::mt19937 rng(20240501);
  std::optional<std::string> fixture = ReadRepoFile("daemon/feeds/testdata/stix2_bundle.json");
  ASSERT_TRUE(fixture.has_value());
  const std::string alphabet = "[]()'\\:.=!<>*, ORANDNOTabcdefipv4-addr:value0123456789t'\n";
  size_t sink = 0;
  for (int i = 0; i < 10000; ++i) {
    std::string bytes(rng() % 200, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    sink += ParseStix2Bundle(bytes).errors.size();
    ParseStixPattern(bytes).IgnoreError();
    std::string pattern(rng() % 60, '\0');
    for (char& c : pattern) c = alphabet[rng() % alphabet.size()];
    ParseStixPattern(pattern).IgnoreError();
    std::string mutated = *fixture;
    for (int m = 0; m < 4; ++m) mutated[rng() % mutated.size()] = static_cast<char>(rng());
    if (i % 10 == 0) sink += ParseStix2Bundle(mutated).indicators.size();
  }
  EXPECT_GT(sink, 0u);
  // Deep JSON nesting is refused by the JSON parser, not the stack.
  EXPECT_EQ(ParseStix2Bundle(std::string(100000, '[')).errors.size(), 1u);
  EXPECT_FALSE(ParseStixPattern(std::string(100000, '(')).ok());
}

}  // namespace
}  // namespace iocd
