#include "extract/extractor.h"

#include "extract/chunk_classifier.h"
#include "extract/psl_prefilter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <libpsl.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace iocd {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace std::string_literals;

// (type name, text as written)
using Found = std::pair<std::string, std::string>;

std::vector<Observable> ExtractAll(std::string_view text) {
  std::vector<Observable> out;
  ExtractObservables(text, &out);
  return out;
}

std::vector<Found> Extract(std::string_view text) {
  std::vector<Found> found;
  for (const Observable& o : ExtractAll(text)) {
    found.emplace_back(std::string(TypeName(o.indicator.type)), std::string(o.text));
  }
  return found;
}

Indicator Parsed(std::string_view text) {
  Result<Indicator> r = ParseIndicator(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : Indicator{IndicatorType::kDomain, ""};
}

struct Case {
  const char* name;
  std::string input;
  std::vector<Found> want;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"empty", "", {}},
      {"squid",
       "1700000000.123    150 192.168.1.10 TCP_MISS/200 1234 GET "
       "http://evil.example.com/path/x.php?a=1 - HIER_DIRECT/93.184.216.34 text/html",
       {{"ipv4", "192.168.1.10"},
        {"url", "http://evil.example.com/path/x.php?a=1"},
        {"domain", "evil.example.com"},
        {"ipv4", "93.184.216.34"}}},
      {"apache_combined",
       "203.0.113.5 - frank [10/Oct/2023:13:55:36 -0700] \"GET /downloads/tool.exe HTTP/1.1\" "
       "200 2326 \"http://www.example.com/start.html\" \"Mozilla/5.0 (Windows NT 10.0; Win64; "
       "x64)\"",
       {{"ipv4", "203.0.113.5"},
        {"url", "http://www.example.com/start.html"},
        {"domain", "www.example.com"}}},
      {"cef",
       "CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1 "
       "dst=2.1.2.2 spt=1232 request=http://evil.com/dl/payload.bin "
       "fileHash=44d88612fea8a8f36de82e1278abb02f",
       {{"ipv4", "10.0.0.1"},
        {"ipv4", "2.1.2.2"},
        {"url", "http://evil.com/dl/payload.bin"},
        {"domain", "evil.com"},
        {"md5", "44d88612fea8a8f36de82e1278abb02f"}}},
      {"sysmon_hashes",
       "Image: C:\\Windows\\x.exe Hashes=SHA1=3395856CE81F2B7382DEE72602F798B642F14140,"
       "MD5=44D88612FEA8A8F36DE82E1278ABB02F,"
       "SHA256=275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F,"
       "IMPHASH=F34D5F2D4577ED6D9CEEC516C1F5A744",
       {{"sha1", "3395856CE81F2B7382DEE72602F798B642F14140"},
        {"md5", "44D88612FEA8A8F36DE82E1278ABB02F"},
        {"sha256", "275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F"},
        {"md5", "F34D5F2D4577ED6D9CEEC516C1F5A744"}}},
      {"hash_with_prefix",
       "md5:44d88612fea8a8f36de82e1278abb02f.",
       {{"md5", "44d88612fea8a8f36de82e1278abb02f"}}},
      {"not_hashes",
       "44d88612fea8a8f36de82e1278abb02 44d88612fea8a8f36de82e1278abb02f0 "
       "12345678901234567890123456789012 44d88612fea8a8f36de82e1278abb02g",
       {}},
      {"ipv6_after_equals", "dst=2001:db8::1 ", {{"ipv6", "2001:db8::1"}}},
      {"ipv6_bracketed_port", "connect to [2001:db8::1]:443 ok", {{"ipv6", "2001:db8::1"}}},
      {"ipv6_trailing_double_colon", "net 2001:db8:: up", {{"ipv6", "2001:db8::"}}},
      {"ipv6_zone", "from fe80::1%eth0", {{"ipv6", "fe80::1"}}},
      {"ipv6_loopback", "bind ::1", {{"ipv6", "::1"}}},
      {"ipv4_mapped", "peer ::ffff:1.2.3.4", {{"ipv4", "::ffff:1.2.3.4"}}},
      {"ipv4_port", "client 1.2.3.4:5555 connected", {{"ipv4", "1.2.3.4"}}},
      {"ipv4_in_brackets_and_parens",
       "[1.2.3.4] (5.6.7.8): <9.9.9.9>",
       {{"ipv4", "1.2.3.4"}, {"ipv4", "5.6.7.8"}, {"ipv4", "9.9.9.9"}}},
      {"ipv4_arrow", "1.2.3.4:80->5.6.7.8:443", {{"ipv4", "1.2.3.4"}, {"ipv4", "5.6.7.8"}}},
      {"ipv4_bad", "1.2.3.256 01.2.3.4 1.2.3 1.2.3.4.5", {}},
      {"cidr_is_not_a_url", "block 10.0.0.0/8", {{"ipv4", "10.0.0.0"}}},
      {"url_with_scheme",
       "GET http://x.com/a?b=c HTTP/1.1",
       {{"url", "http://x.com/a?b=c"}, {"domain", "x.com"}}},
      {"url_uppercase_scheme_and_host",
       "HTTPS://Evil.COM:8443/a",
       {{"url", "HTTPS://Evil.COM:8443/a"}, {"domain", "Evil.COM"}}},
      {"url_ipv4_host",
       "fetch http://1.2.3.4/x",
       {{"url", "http://1.2.3.4/x"}, {"ipv4", "1.2.3.4"}}},
      {"url_ipv6_host",
       "fetch http://[2001:db8::2]:8080/x",
       {{"url", "http://[2001:db8::2]:8080/x"}, {"ipv6", "2001:db8::2"}}},
      {"url_userinfo",
       "ftp://user:pw@files.evil.org/x.zip",
       {{"url", "ftp://user:pw@files.evil.org/x.zip"}, {"domain", "files.evil.org"}}},
      {"url_trailing_punctuation",
       "(see http://evil.com/a).",
       {{"url", "http://evil.com/a"}, {"domain", "evil.com"}}},
      {"url_in_brackets",
       "[http://evil.com/]",
       {{"url", "http://evil.com/"}, {"domain", "evil.com"}}},
      {"url_balanced_paren_kept",
       "http://en.wiki.org/A_(b)",
       {{"url", "http://en.wiki.org/A_(b)"}, {"domain", "en.wiki.org"}}},
      {"url_ends_at_quote_and_backslash",
       "u=\"http://evil.com/a\\\"\"",
       {{"url", "http://evil.com/a"}, {"domain", "evil.com"}}},
      {"url_after_label",
       "url:http://evil.com/x",
       {{"url", "http://evil.com/x"}, {"domain", "evil.com"}}},
      {"two_urls",
       "http://a.com/1 https://b.com/2",
       {{"url", "http://a.com/1"},
        {"domain", "a.com"},
        {"url", "https://b.com/2"},
        {"domain", "b.com"}}},
      {"url_without_valid_host", "http://localhost/x http:// https://-", {}},
      {"not_a_scheme", "xhttp://evil.com/", {{"domain", "evil.com"}}},
      {"url_without_scheme",
       "GET evil.com/gate.php?id=5&x=y now",
       {{"url", "evil.com/gate.php?id=5&x=y"}, {"domain", "evil.com"}}},
      {"url_without_scheme_after_key",
       "request=evil.com/a?b=c",
       {{"url", "evil.com/a?b=c"}, {"domain", "evil.com"}}},
      {"url_without_scheme_ipv4_port",
       "1.2.3.4:8080/admin",
       {{"url", "1.2.3.4:8080/admin"}, {"ipv4", "1.2.3.4"}}},
      {"url_without_scheme_query_only",
       "evil.com?q=1",
       {{"url", "evil.com?q=1"}, {"domain", "evil.com"}}},
      {"host_with_slash_only", "evil.com/ done", {{"domain", "evil.com"}}},
      {"paths", "/var/log/messages /usr/lib/libc.so.6 text/html Mozilla/5.0 /index.html", {}},
      {"path_segment_domain", "/etc/nginx/sites/example.com/x", {{"domain", "example.com"}}},
      {"domain_trailing_dot",
       "query evil.com. IN A; resolved www.evil.net.",
       {{"domain", "evil.com"}, {"domain", "www.evil.net"}}},
      {"domain_separators",
       "<evil.com> (evil.org) host=evil.net, 'a.io' \"b.io\"",
       {{"domain", "evil.com"},
        {"domain", "evil.org"},
        {"domain", "evil.net"},
        {"domain", "a.io"},
        {"domain", "b.io"}}},
      {"domain_port", "evil.com:443", {{"domain", "evil.com"}}},
      {"domain_underscore", "_dmarc.example.com", {{"domain", "_dmarc.example.com"}}},
      {"domain_idn", "xn--80ak6aa92e.xn--p1ai", {{"domain", "xn--80ak6aa92e.xn--p1ai"}}},
      {"email",
       "from user@evil.com to <alice@mail.evil.org>",
       {{"domain", "evil.com"}, {"domain", "mail.evil.org"}}},
      {"email_ipv4", "root@10.1.2.3", {{"ipv4", "10.1.2.3"}}},
      {"json",
       "{\"src_ip\":\"1.2.3.4\",\"domain\":\"evil.com\"}",
       {{"ipv4", "1.2.3.4"}, {"domain", "evil.com"}}},
      {"not_domains",
       "notadomain file.txt a.exe index.html java.lang java.lang.String "
       "System.Net.WebClient config.yaml a.b.c1 -.com x.c",
       {}},
      {"versions", "version 1.2.3 build 10.0.19041 v2.1 1.2.3-beta", {}},
      {"timestamps", "12:34:56 2024-01-01T12:34:56.789Z 10/Oct/2023:13:55:36", {}},
      {"ipv6_lookalikes", ":: 12:34:56 00:11:22:33:44:55 std::string a:b", {}},
      {"bare_numbers", "0 42 1700000000 3.14", {}},
      {"duplicates_reported_once",
       "1.2.3.4 then 1.2.3.4:80 and evil.com EVIL.COM evil.com.",
       {{"ipv4", "1.2.3.4"}, {"domain", "evil.com"}}},
      {"url_host_duplicate_of_domain",
       "evil.com http://evil.com/x",
       {{"domain", "evil.com"}, {"url", "http://evil.com/x"}}},
      {"binary_garbage",
       "\xff\xfe\x00\x01"
       "1.2.3.4\x80\xc3"
       "evil.com\x00\xc0\xaf"s,
       {{"ipv4", "1.2.3.4"}, {"domain", "evil.com"}}},
      {"invalid_utf8_in_url",
       "http://evil.com/a\xff\xfe"
       "b"s,
       {{"url", "http://evil.com/a"}, {"domain", "evil.com"}}},
  };
  return cases;
}

class ExtractorTableTest : public testing::TestWithParam<Case> {};

TEST_P(ExtractorTableTest, FindsExactly) {
  const Case& c = GetParam();
  EXPECT_EQ(Extract(c.input), c.want);
}

TEST_P(ExtractorTableTest, TextsLieInTheInputAtTheirOffsets) {
  const Case& c = GetParam();
  for (const Observable& o : ExtractAll(c.input)) {
    ASSERT_LE(o.offset + o.text.size(), c.input.size());
    EXPECT_EQ(o.text.data(), c.input.data() + o.offset);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, ExtractorTableTest, testing::ValuesIn(Cases()),
                         [](const testing::TestParamInfo<Case>& param) {
                           return param.param.name;
                         });

TEST(ExtractorTest, IndicatorsAreCanonical) {
  const std::string line =
      "MD5=44D88612FEA8A8F36DE82E1278ABB02F HTTPS://WWW.Evil.COM:8443/A?B=1 "
      "dst=2001:DB8:0:0::1 peer ::ffff:1.2.3.4 Evil.ORG.";
  std::vector<Observable> got = ExtractAll(line);
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got[0].indicator, Parsed("44d88612fea8a8f36de82e1278abb02f"));
  EXPECT_EQ(got[1].indicator, Parsed("https://www.evil.com/a?b=1"));
  EXPECT_EQ(got[1].indicator.key, "evil.com/a?b=1");
  EXPECT_EQ(got[2].indicator, (Indicator{IndicatorType::kDomain, "www.evil.com"}));
  EXPECT_EQ(got[3].indicator, Parsed("2001:db8::1"));
  EXPECT_EQ(got[4].indicator, Parsed("1.2.3.4"));
  EXPECT_EQ(got[5].indicator, (Indicator{IndicatorType::kDomain, "evil.org"}));
  EXPECT_EQ(got[5].text, "Evil.ORG");
  EXPECT_EQ(got[5].offset, line.size() - 9);
}

// A plain host after a scheme is reported from what NormalizeUrl learnt about it: as
// written, "www." kept in the domain, and without LooksLikeDomainName's guess.
TEST(ExtractorTest, PlainUrlHostsAsWritten) {
  const std::string line = "x HTTP://WWW.Evil.COM/A#f y http://setup.py/a?B";
  std::vector<Observable> got = ExtractAll(line);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].indicator, (Indicator{IndicatorType::kUrl, "evil.com/a"}));
  EXPECT_EQ(got[0].text, "HTTP://WWW.Evil.COM/A#f");
  EXPECT_EQ(got[1].indicator, (Indicator{IndicatorType::kDomain, "www.evil.com"}));
  EXPECT_EQ(got[1].text, "WWW.Evil.COM");
  EXPECT_EQ(got[1].offset, 9u);
  EXPECT_EQ(got[2].indicator, (Indicator{IndicatorType::kUrl, "setup.py/a?b"}));
  EXPECT_EQ(got[3].indicator, (Indicator{IndicatorType::kDomain, "setup.py"}));
  EXPECT_EQ(got[3].offset, line.find("setup.py"));
}

TEST(ExtractorTest, ReportsOffsets) {
  std::vector<Observable> got = ExtractAll("src=1.2.3.4 x http://a.com/p");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].offset, 4u);
  EXPECT_EQ(got[1].offset, 14u);
  EXPECT_EQ(got[2].offset, 21u);
  EXPECT_EQ(got[2].text, "a.com");
}

TEST(ExtractorTest, AppendsAndDeduplicatesPerCall) {
  std::vector<Observable> out;
  ExtractObservables("1.2.3.4", &out);
  ExtractObservables("1.2.3.4 evil.com", &out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].text, "1.2.3.4");
  EXPECT_EQ(out[1].text, "1.2.3.4");
  EXPECT_EQ(out[2].text, "evil.com");
}

TEST(ExtractorTest, ManyDistinctObservablesAreDeduplicated) {
  std::string line;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 100; ++i) line += "ip=10.0.0." + std::to_string(i) + " ";
  }
  std::vector<Observable> got = ExtractAll(line);
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(got[static_cast<size_t>(i)].indicator, Parsed("10.0.0." + std::to_string(i)));
}

TEST(ExtractorTest, OneMebibyteLine) {
  std::string line;
  int written = 0;
  while (line.size() < (1u << 20)) {
    line += "src=10.0." + std::to_string(written / 256) + "." + std::to_string(written % 256) +
            " msg=aaaaaaaaaaaa ";
    ++written;
  }
  line += "http://evil.com/end";
  std::vector<Observable> got = ExtractAll(line);
  ASSERT_EQ(got.size(), static_cast<size_t>(written) + 2);
  EXPECT_EQ(got.back().text, "evil.com");
  EXPECT_EQ(got.back().offset, line.size() - 12);
}

// Inputs built to make a naive implementation quadratic; they must finish and find what
// they hold.
TEST(ExtractorTest, PathologicalOneMebibyteInputs) {
  const size_t kSize = 1 << 20;
  auto repeat = [&](std::string_view unit) {
    std::string s;
    while (s.size() < kSize) s += unit;
    return s;
  };
  EXPECT_THAT(Extract(std::string(kSize, 'a')), IsEmpty());
  EXPECT_THAT(Extract(repeat("http://")), IsEmpty());
  EXPECT_THAT(Extract(repeat("a=")), IsEmpty());
  EXPECT_THAT(Extract(repeat("a/b=")), IsEmpty());
  EXPECT_THAT(Extract(repeat("a:")), IsEmpty());
  EXPECT_THAT(Extract(repeat("a/")), IsEmpty());
  EXPECT_THAT(Extract(repeat("x.") + " "), IsEmpty());
  EXPECT_THAT(Extract(repeat("a=....")), IsEmpty());
  EXPECT_THAT(Extract(repeat("1.2.3.4 ")), ElementsAre(Found{"ipv4", "1.2.3.4"}));
  const std::string long_url = repeat("evil.com/");
  EXPECT_THAT(Extract(long_url), ElementsAre(Found{"url", long_url}, Found{"domain", "evil.com"}));
}

TEST(ExtractorTest, LooksLikeDomainName) {
  EXPECT_TRUE(LooksLikeDomainName("evil.com"));
  EXPECT_TRUE(LooksLikeDomainName("EVIL.COM"));
  EXPECT_TRUE(LooksLikeDomainName("evil.com."));
  EXPECT_TRUE(LooksLikeDomainName("a.xn--p1ai"));
  EXPECT_FALSE(LooksLikeDomainName("evil"));
  EXPECT_FALSE(LooksLikeDomainName("evil.c"));
  EXPECT_FALSE(LooksLikeDomainName("evil.c0m"));
  EXPECT_FALSE(LooksLikeDomainName("1.2.3"));
  EXPECT_FALSE(LooksLikeDomainName("file.TXT"));
  EXPECT_FALSE(LooksLikeDomainName("java.lang"));
  EXPECT_FALSE(LooksLikeDomainName("java.lang.String"));
  EXPECT_FALSE(LooksLikeDomainName("a." + std::string(64, 'x')));
  // Public suffix list: the TLD must be listed, and the name must be below the suffix.
  EXPECT_TRUE(LooksLikeDomainName("evil.co.uk"));
  EXPECT_TRUE(LooksLikeDomainName("user.github.io"));
  EXPECT_TRUE(LooksLikeDomainName("bad.top"));
  EXPECT_TRUE(LooksLikeDomainName("dd625ffb4fc54735b281862aa1cd6cd4.us-west1.gcp.cloud.es.io"));
  EXPECT_FALSE(LooksLikeDomainName("co.uk"));
  EXPECT_FALSE(LooksLikeDomainName("github.io"));
  EXPECT_FALSE(LooksLikeDomainName("a.b"));
  EXPECT_FALSE(LooksLikeDomainName("file.unknowntld"));
  EXPECT_FALSE(LooksLikeDomainName("index.html"));
  EXPECT_FALSE(LooksLikeDomainName("chrome.exe"));
  EXPECT_FALSE(LooksLikeDomainName("host.local"));
  // Real TLDs that are mostly file names in logs.
  EXPECT_FALSE(LooksLikeDomainName("setup.py"));
  EXPECT_FALSE(LooksLikeDomainName("invoice.zip"));
  EXPECT_FALSE(LooksLikeDomainName("workers2.properties"));
  EXPECT_FALSE(LooksLikeDomainName("SVCHOST.EXE-E8610451.pf"));
  // Wildcard and exception rules ("*.ck", "!www.ck"; "*.kawasaki.jp", "!city.kawasaki.jp").
  EXPECT_FALSE(LooksLikeDomainName("foo.ck"));
  EXPECT_TRUE(LooksLikeDomainName("a.foo.ck"));
  EXPECT_TRUE(LooksLikeDomainName("www.ck"));
  EXPECT_FALSE(LooksLikeDomainName("x.kawasaki.jp"));
  EXPECT_TRUE(LooksLikeDomainName("city.kawasaki.jp"));
  EXPECT_TRUE(LooksLikeDomainName("y.x.kawasaki.jp"));
}

// CheckDomainName asks libpsl whether a name is a public suffix where the definition reads
// "has a registrable domain"; the two must agree for every name with a dot and no leading
// one. Checked on names made from every rule of the installed list (plain, wildcard,
// exception, IDN), with the context the extractor uses. The PSL prefilter in front of
// libpsl must never contradict it on those names.
TEST(ExtractorTest, RegistrableDomainIsNotBeingAPublicSuffix) {
  std::ifstream list("/usr/share/publicsuffix/public_suffix_list.dat");
  if (!list) GTEST_SKIP() << "no /usr/share/publicsuffix/public_suffix_list.dat";
  const psl_ctx_t* psl = psl_builtin() != nullptr ? psl_builtin() : psl_latest(nullptr);
  ASSERT_NE(psl, nullptr);
  const PslPrefilter* prefilter = psl == psl_builtin() ? PslPrefilter::ForBuiltin() : nullptr;
  if (prefilter != nullptr) {
    EXPECT_EQ(prefilter, PslPrefilter::ForBuiltin());  // built once
  }
  size_t names = 0;
  size_t suffixes = 0;
  size_t skipped = 0;
  for (std::string line; std::getline(list, line);) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    if (line.empty() || line.starts_with("//")) continue;
    std::string rule = line;
    if (rule.starts_with("!")) rule.erase(0, 1);
    if (rule.starts_with("*.")) rule.erase(0, 2);
    std::vector<std::string> tried = {rule,          "x." + rule,    "www." + rule,
                                      "a.b." + rule, "city." + rule, "xn--p1ai." + rule};
    if (size_t dot = rule.find('.'); dot != std::string::npos) {
      tried.push_back("zz" + rule.substr(dot));
      tried.push_back(rule.substr(dot + 1));
      tried.push_back("x." + rule.substr(dot + 1));
    }
    for (const std::string& name : tried) {
      if (name.find('.') == std::string::npos) continue;
      ++names;
      // PslPrefilter (when the installed list is libpsl's built-in one) may leave a name to
      // libpsl but never says "surely not" for a public suffix, in any case.
      std::string upper = name;
      for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
      const bool surely_not = prefilter != nullptr &&
                              prefilter->SurelyNotPublicSuffix(name, FoldedNameHash(name));
      if (prefilter != nullptr) {
        EXPECT_EQ(prefilter->SurelyNotPublicSuffix(upper, FoldedNameHash(upper)), surely_not)
            << name;
      }
      skipped += surely_not;
      EXPECT_EQ(psl_registrable_domain(psl, name.c_str()) != nullptr,
                psl_is_public_suffix(psl, name.c_str()) == 0)
          << name;
      // The extractor's verdict (cache, PSL prefilter) never calls a public suffix a domain,
      // whatever its case.
      if (psl_is_public_suffix(psl, name.c_str()) != 0) {
        ++suffixes;
        EXPECT_FALSE(surely_not) << name;
        EXPECT_FALSE(LooksLikeDomainName(name)) << name;
        EXPECT_FALSE(LooksLikeDomainName(upper)) << upper;
      }
    }
  }
  EXPECT_GT(names, 50000u);
  EXPECT_GT(suffixes, 10000u);
  if (prefilter != nullptr) {
    EXPECT_GT(prefilter->entry_count(), 9000u);
    EXPECT_GT(prefilter->wildcard_count(), 50u);
    // Most names that are not suffixes are recognised as such.
    EXPECT_GT(skipped, (names - suffixes) / 2);
  }
}

// Random byte strings, biased towards the characters and fragments the extractor cares
// about: it must not crash, and every observable's text must lie in the input at its
// offset and be canonical for its type.
TEST(ExtractorTest, RandomInputsAreSafe) {
  static const std::vector<std::string> kFragments = {
      "1.2.3.4",  "::",
      ":",        ".",
      "/",        "=",
      "@",        "[",
      "]",        "http://",
      "https://", "evil.com",
      "?",        "#",
      "%",        "-",
      " ",        "\"",
      "\xff",     "\0"s,
      "ffff",     "a",
      "0",        "2001:db8",
      "xn--",     "44d88612fea8a8f36de82e1278abb02f",
      ",",        ")",
      "("};
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<size_t> fragment(0, kFragments.size() - 1);
  std::uniform_int_distribution<int> coin(0, 2);
  std::uniform_int_distribution<int> parts(0, 40);
  size_t total_found = 0;
  for (int i = 0; i < 10000; ++i) {
    std::string input;
    for (int n = parts(rng); n > 0; --n) {
      if (coin(rng) == 0) {
        input.push_back(static_cast<char>(byte(rng)));
      } else {
        input += kFragments[fragment(rng)];
      }
    }
    std::vector<Observable> got = ExtractAll(input);
    total_found += got.size();
    for (const Observable& o : got) {
      ASSERT_LE(o.offset + o.text.size(), input.size());
      ASSERT_EQ(o.text.data(), input.data() + o.offset);
      ASSERT_FALSE(o.text.empty());
      std::optional<Indicator> decoded = Indicator::Decode(o.indicator.Encoded());
      ASSERT_TRUE(decoded.has_value()) << testing::PrintToString(input);
    }
    for (size_t a = 0; a < got.size(); ++a) {
      for (size_t b = a + 1; b < got.size(); ++b)
        ASSERT_FALSE(got[a].indicator == got[b].indicator);
    }
  }
  EXPECT_GT(total_found, 1000u);  // the generator does reach the classifiers
}

}  // namespace
}  // namespace iocd

namespace iocd {
namespace {

// False positives found reviewing the golden files of real logs (Suricata tls.* fields).
TEST(ExtractorTest, CertificateSerialIsNotIpv6) {
  EXPECT_THAT(Extract("serial=5C:9C:E1:09:78:87:F8:07"), IsEmpty());
  // Real addresses with 2-digit groups still count when compressed or of other widths.
  EXPECT_THAT(Extract("a=fe80::1:2 b=2001:db8:0:0:0:0:0:11"),
              ElementsAre(Found{"ipv6", "fe80::1:2"}, Found{"ipv6", "2001:db8:0:0:0:0:0:11"}));
}

TEST(ExtractorTest, X509SubjectIsNotAUrl) {
  EXPECT_THAT(Extract("CN=*.icloud.com/OU=management:idms.group.506364/O=Apple Inc./C=US"),
              ElementsAre(Found{"domain", "icloud.com"}));
  // A query after the path keeps its '='.
  EXPECT_THAT(Extract("evil.com/gate.php?id=1"),
              ElementsAre(Found{"url", "evil.com/gate.php?id=1"}, Found{"domain", "evil.com"}));
}

}  // namespace
}  // namespace iocd

namespace iocd {
namespace {

// The first pass classifies the text 64 bytes at a time and only looks closer around '.',
// ':' and runs of 16 hex digits: every observable must be found wherever it falls relative
// to those chunks (inside one, across one or two boundaries), including in short texts and
// at the very end.
TEST(ExtractorTest, FindsObservablesAtEveryOffset) {
  const std::string md5 = "d41d8cd98f00b204e9800998ecf8427e";
  const std::string sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  for (size_t pad = 0; pad < 150; ++pad) {
    SCOPED_TRACE(pad);
    const std::string words(pad, 'w');
    EXPECT_THAT(Extract(words + " " + md5), ElementsAre(Found{"md5", md5}));
    EXPECT_THAT(Extract(words + " " + sha256 + " " + words), ElementsAre(Found{"sha256", sha256}));
    EXPECT_THAT(Extract(std::string(pad, ' ') + "hash=" + md5 + ";"),
                ElementsAre(Found{"md5", md5}));
    EXPECT_THAT(Extract(words + " 10.1.2.3"), ElementsAre(Found{"ipv4", "10.1.2.3"}));
    if (pad < 60) {  // a label has 63 bytes at most
      const std::string domain = "x" + words + ".evil.com";
      EXPECT_THAT(Extract(domain), ElementsAre(Found{"domain", domain}));
    }
    EXPECT_THAT(Extract(words + " x.evil.com"), ElementsAre(Found{"domain", "x.evil.com"}));
    EXPECT_THAT(Extract("src=" + std::string(pad, '1') + " dst=" + md5 + ":443"),
                ElementsAre(Found{"md5", md5}));
    // A digest glued to other letters, or 33 hex digits, is no digest.
    EXPECT_THAT(Extract(words + md5.substr(0, 31)), IsEmpty());
    EXPECT_THAT(Extract(words + " " + md5 + "a"), IsEmpty());
    EXPECT_THAT(Extract(words + " x" + md5), IsEmpty());
  }
}

// A URL's "://" is found from the chunk masks: at every position around one and two chunk
// boundaries (its ':' in a chunk's last two bytes, its scheme in the chunk before), the URL
// ends the token before it where its scheme begins, and the text after it is scanned again.
TEST(ExtractorTest, FindsUrlsAtEveryOffset) {
  for (size_t pad = 0; pad < 150; ++pad) {
    SCOPED_TRACE(pad);
    const std::string words(pad, 'w');
    EXPECT_THAT(Extract(words + " http://evil.com/a 1.2.3.4"),
                ElementsAre(Found{"url", "http://evil.com/a"}, Found{"domain", "evil.com"},
                            Found{"ipv4", "1.2.3.4"}));
    // The token "x.org=" ends where "https" begins; "hxxp" and "xhttp" are no schemes.
    EXPECT_THAT(Extract(words + " x.org=https://b.net/p?q=1 xhttp://c.org hxxp://d.io"),
                ElementsAre(Found{"domain", "x.org"}, Found{"url", "https://b.net/p?q=1"},
                            Found{"domain", "b.net"}, Found{"domain", "c.org"},
                            Found{"domain", "d.io"}));
    // A scheme that is no URL: nothing up to its end is searched for "://" again.
    EXPECT_THAT(Extract(words + " http://// ftp://1.2.3.4/x"),
                ElementsAre(Found{"url", "ftp://1.2.3.4/x"}, Found{"ipv4", "1.2.3.4"}));
    // "://" cut by the end of the text, or written with '?'.
    EXPECT_THAT(Extract(words + " a.io http:/"), ElementsAre(Found{"domain", "a.io"}));
    EXPECT_THAT(Extract(words + " a.io http:/?b.io"),
                ElementsAre(Found{"domain", "a.io"}, Found{"domain", "b.io"}));
  }
}

// Parts of a path and of a ':' list without a '.' are skipped unless they can hold a
// digest: the digests and names among them are still found, at every length.
TEST(ExtractorTest, FindsDigestsAndNamesAmongPathParts) {
  const std::string md5 = "d41d8cd98f00b204e9800998ecf8427e";
  for (size_t pad = 0; pad < 70; ++pad) {
    SCOPED_TRACE(pad);
    const std::string word(pad, 'p');
    EXPECT_THAT(Extract("/" + word + "/" + md5 + "/x.io/" + word),
                ElementsAre(Found{"md5", md5}, Found{"domain", "x.io"}));
    if (pad == 0 || pad > 63) {  // "#.io" is trimmed to "io"; a label has 63 bytes at most
      EXPECT_THAT(Extract("GET /" + word + "/a.php?" + md5 + "#" + word + ".io"),
                  ElementsAre(Found{"md5", md5}));
    } else {
      EXPECT_THAT(Extract("GET /" + word + "/a.php?" + md5 + "#" + word + ".io"),
                  ElementsAre(Found{"md5", md5}, Found{"domain", word + ".io"}));
    }
    EXPECT_THAT(Extract("k:" + word + ":" + md5 + ":00:1b"), ElementsAre(Found{"md5", md5}));
    EXPECT_THAT(Extract("00:1b:" + word + ":x.io:" + md5 + "1"),
                ElementsAre(Found{"domain", "x.io"}));
  }
}

// Tokens with '=' of up to 64 bytes are split at masks, longer ones byte by byte; pieces
// without '.' or ':' under 32 bytes are skipped. The same observables either way, for
// tokens of every length around that boundary.
const std::string kEmptyMd5 = "d41d8cd98f00b204e9800998ecf8427e";
const std::string kEmptySha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";

TEST(ExtractorTest, FindsObservablesInKeyValueTokensOfEveryLength) {
  const std::string& md5 = kEmptyMd5;
  for (size_t pad = 0; pad < 72; ++pad) {
    SCOPED_TRACE(pad);
    const std::string key(pad, 'k');
    EXPECT_THAT(Extract(key + "=10.1.2.3"), ElementsAre(Found{"ipv4", "10.1.2.3"}));
    EXPECT_THAT(Extract(key + "=" + md5), ElementsAre(Found{"md5", md5}));
    EXPECT_THAT(Extract("fileHash=" + key + "=" + kEmptySha1),
                ElementsAre(Found{"sha1", kEmptySha1}));
    EXPECT_THAT(Extract(md5 + "=" + key), ElementsAre(Found{"md5", md5}));
    EXPECT_THAT(Extract(key + "=" + std::string(31, 'a') + "=1.2.3.4"),
                ElementsAre(Found{"ipv4", "1.2.3.4"}));
    EXPECT_THAT(Extract(key + "=x.io/p?q=1"),
                ElementsAre(Found{"url", "x.io/p?q=1"}, Found{"domain", "x.io"}));
    // The '?' is trimmed from "?k=evil.com/x" when it is tried as a URL: its host would
    // hold the '=', which no host does; the next piece is the URL.
    EXPECT_THAT(Extract("a=?" + key + "=evil.com/x"),
                ElementsAre(Found{"url", "evil.com/x"}, Found{"domain", "evil.com"}));
    EXPECT_THAT(Extract("a=" + key + "=b/c=d"), IsEmpty());
    if (pad == 0 || pad > 63) {  // ".io" is trimmed to "io"; a label has 63 bytes at most
      EXPECT_THAT(Extract("a=" + key + ".io=b"), IsEmpty());
    } else {
      EXPECT_THAT(Extract("a=" + key + ".io=b"), ElementsAre(Found{"domain", key + ".io"}));
    }
    // A 32-digit run that is not a whole piece, and a 31-digit run: no digest.
    EXPECT_THAT(Extract(key + "=" + md5 + "g"), IsEmpty());
    EXPECT_THAT(Extract(key + "=" + md5.substr(1) + "=" + key), IsEmpty());
  }
}

// Atoms with ':' of up to 64 bytes are examined through masks, longer ones byte by byte:
// zones, trailing colons and ':' lists give the same observables at every length.
TEST(ExtractorTest, FindsObservablesInColonAtomsOfEveryLength) {
  for (size_t pad = 0; pad < 72; ++pad) {
    SCOPED_TRACE(pad);
    const std::string zone(pad, 'z');
    EXPECT_THAT(Extract("[2001:db8::1%" + zone + "]"), ElementsAre(Found{"ipv6", "2001:db8::1"}));
    EXPECT_THAT(Extract("1.2.3.4" + std::string(pad + 1, ':')),
                ElementsAre(Found{"ipv4", "1.2.3.4"}));
    EXPECT_THAT(Extract("x.io" + std::string(pad + 1, ':') + "8080"),
                ElementsAre(Found{"domain", "x.io"}));
    EXPECT_THAT(Extract(zone + ":9.8.7.6:" + zone), ElementsAre(Found{"ipv4", "9.8.7.6"}));
    EXPECT_THAT(Extract(zone + ":12:34:56.789"), IsEmpty());
    std::string mac = "00";
    for (size_t i = 0; i < pad / 3; ++i) mac += ":1b";
    EXPECT_THAT(Extract(mac), IsEmpty());
  }
}

// Texts shorter than a block are classified from loads that stay inside them: every
// observable is found at either end of a short text of every length, alone or as a view
// into a longer buffer (whose bytes outside the view must not count).
TEST(ExtractorTest, FindsObservablesInShortTexts) {
  for (size_t pad = 0; pad < 14; ++pad) {
    SCOPED_TRACE(pad);
    const std::string spaces(pad, ' ');
    const std::string name = std::string(pad + 2, 'b') + ".io";
    EXPECT_THAT(Extract("1.2.3.4" + spaces), ElementsAre(Found{"ipv4", "1.2.3.4"}));
    EXPECT_THAT(Extract(spaces + "a.io"), ElementsAre(Found{"domain", "a.io"}));
    EXPECT_THAT(Extract("u@" + name), ElementsAre(Found{"domain", name}));
    EXPECT_THAT(Extract(name + "::"), ElementsAre(Found{"domain", name}));
    EXPECT_THAT(Extract(name + ":8080"), ElementsAre(Found{"domain", name}));
    EXPECT_THAT(Extract("k:" + name), ElementsAre(Found{"domain", name}));
    EXPECT_THAT(Extract(std::string(pad, 'w')), IsEmpty());
    const std::string buffer = "9.9.9.9 " + name + " 8.8.8.8";
    std::string_view middle = std::string_view(buffer).substr(8, name.size());
    EXPECT_THAT(Extract(middle), ElementsAre(Found{"domain", name}));
    EXPECT_THAT(Extract(middle.substr(1)), ElementsAre(Found{"domain", name.substr(1)}));
    EXPECT_THAT(Extract(std::string_view(buffer).substr(7, 1)), IsEmpty());
  }
}

// The domain cache keys on the lower-cased name: names that differ in one byte, or only in
// case, get their own answers.
TEST(ExtractorTest, SimilarNamesGetTheirOwnVerdicts) {
  for (int round = 0; round < 2; ++round) {
    EXPECT_THAT(Extract("id.orig_h id.orig_p"), IsEmpty());
    EXPECT_THAT(Extract("evil-aaaa.com evil-aaab.zip"),
                ElementsAre(Found{"domain", "evil-aaaa.com"}));
    EXPECT_THAT(Extract("EVIL-AAAB.COM"), ElementsAre(Found{"domain", "EVIL-AAAB.COM"}));
    EXPECT_FALSE(LooksLikeDomainName("evil-aaab.zip"));
    EXPECT_TRUE(LooksLikeDomainName("EVIL-AAAB.COM"));
  }
}

}  // namespace
}  // namespace iocd

namespace iocd {
namespace {

// One line of what ExtractObservables found, with everything a caller can see.
std::string Describe(const std::vector<Observable>& found) {
  std::string s;
  for (const Observable& o : found) {
    s += std::string(TypeName(o.indicator.type)) + " " + o.indicator.Display() + " " +
         std::to_string(o.offset) + " " + std::string(o.text) + "\n";
  }
  return s;
}

// Every chunk classifier (AVX-512BW, AVX2, SSSE3, SSE2, portable; those this CPU has) must give
// the extractor the same observables: the table cases and random texts long enough to
// hold tokens across chunk boundaries, compared with the portable path.
TEST(ExtractorTest, EveryChunkClassifierFindsTheSame) {
  static const std::vector<std::string> kFragments = {
      "1.2.3.4", "10.0.0.1:443", "::1", "fe80::1%eth0", "evil.com", "a.b.example.co.uk",
      "http://x.evil.com/a?b=c", "https://[::1]/x", "user@mail.ru", "host:8080", "md5:",
      "CN=x.com/OU=y", "evil.com/gate.php?id=1", "HIER_DIRECT/93.184.216.34", "12:34:56",
      "=", "/", "?", "#", "@", ":", ".", " ", " ", "\t", "\"", "(", "]", ",", "\xff", "-", "_",
      "44d88612fea8a8f36de82e1278abb02f", "3395856CE81F2B7382DEE72602F798B642F14140",
      "0123456789abcdef", "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"};
  std::mt19937 rng(99);
  std::uniform_int_distribution<size_t> fragment(0, kFragments.size() - 1);
  std::uniform_int_distribution<int> parts(0, 60);
  std::vector<std::string> inputs;
  for (const Case& c : Cases()) inputs.push_back(c.input);
  for (int i = 0; i < 3000; ++i) {
    std::string input;
    for (int n = parts(rng); n > 0; --n) input += kFragments[fragment(rng)];
    inputs.push_back(input);
  }
  const ChunkIsa saved = ActiveChunkIsa();
  ASSERT_TRUE(SetChunkIsaForTesting(ChunkIsa::kPortable));
  std::vector<std::string> want;
  size_t observables = 0;
  for (const std::string& input : inputs) {
    std::vector<Observable> found = ExtractAll(input);
    observables += found.size();
    want.push_back(Describe(found));
  }
  EXPECT_GT(observables, 10000u);  // the generator does reach the classifiers (15788)
  for (ChunkIsa isa : {ChunkIsa::kSse2, ChunkIsa::kSsse3, ChunkIsa::kAvx2, ChunkIsa::kAvx512}) {
    if (!SetChunkIsaForTesting(isa)) continue;
    SCOPED_TRACE(static_cast<int>(isa));
    for (size_t i = 0; i < inputs.size(); ++i) {
      ASSERT_EQ(Describe(ExtractAll(inputs[i])), want[i]) << testing::PrintToString(inputs[i]);
    }
  }
  ASSERT_TRUE(SetChunkIsaForTesting(saved));
}

// The scan skips a token that lies in one chunk when it surely holds nothing (under 32
// bytes, no "::" and under six ':', under three '.', and only digits, '.' and ':' after its
// first '.'); a token that crosses a chunk boundary is always classified. So each token,
// written inside the first chunk and again across the boundary, must give the same
// observables, on every chunk classifier: the skip rule never drops one.
TEST(ExtractorTest, SkippedTokensHoldNothing) {
  static const std::vector<std::string> kPieces = {
      "1", "23", "255", "0", ".", ".", ":", ":", "::", "io",   "a",       "f",  "x",
      "-", "/",  "@",   "=", "#", "%", "_", "9", "ab", ".com", "::ffff:", "ae", "cc"};
  std::mt19937 rng(7);
  std::uniform_int_distribution<size_t> piece(0, kPieces.size() - 1);
  std::uniform_int_distribution<int> count(1, 14);
  static const std::vector<std::string> kBorderTokens = {"12:34:56.789",
                                                         "1793491200.007",
                                                         "7.88.1",
                                                         "1.2.3.4",
                                                         "1:2:3:4:5:6:1.2.3.4",
                                                         "0:1:2:3:4:5:6:7",
                                                         "::1",
                                                         "1::",
                                                         "9.io",
                                                         "1.2.io",
                                                         "a.1.2",
                                                         "1.2.3",
                                                         "x.io:80",
                                                         "1.2:3",
                                                         "1.ae",
                                                         "12.be:443",
                                                         "2.cc/x"};
  std::vector<std::string> tokens = kBorderTokens;
  while (tokens.size() < 6000) {
    std::string token;
    for (int n = count(rng); n > 0 && token.size() < 40; --n) token += kPieces[piece(rng)];
    tokens.push_back(token);
  }
  const std::string tail(20, 'w');
  const ChunkIsa saved = ActiveChunkIsa();
  size_t found = 0;
  for (ChunkIsa isa : {ChunkIsa::kPortable, ChunkIsa::kSse2, ChunkIsa::kSsse3, ChunkIsa::kAvx2,
                       ChunkIsa::kAvx512}) {
    if (!SetChunkIsaForTesting(isa)) continue;
    SCOPED_TRACE(static_cast<int>(isa));
    for (const std::string& token : tokens) {
      // At offset 2 (inside the first chunk) and at offset 62 (across its end).
      const std::vector<Found> inside = Extract("w " + token + " " + tail);
      const std::vector<Found> across = Extract(std::string(61, 'w') + " " + token + " " + tail);
      ASSERT_EQ(inside, across) << token;
      found += inside.size();
    }
  }
  EXPECT_GT(found, 3000u);  // the tokens do make observables
  ASSERT_TRUE(SetChunkIsaForTesting(saved));
}

}  // namespace
}  // namespace iocd

namespace iocd {
namespace {

// LooksLikeDomainName caches its answers per thread (16-way sets, names up to 62 bytes
// inline): with far more names than the cache holds, each name asked again - after others
// evicted it, or never cached because it is long - gets the same answer as the first time.
TEST(ExtractorTest, DomainVerdictsSurviveEviction) {
  const std::string long_prefix = std::string(40, 'x') + "." + std::string(20, 'y');
  std::vector<std::string> names;
  for (int i = 0; i < 40000; ++i) {
    const std::string label = "host" + std::to_string(i);
    switch (i % 4) {
      case 0: names.push_back(label + ".example.com"); break;  // a domain
      case 1: names.push_back(label + ".png"); break;          // no listed TLD
      case 2: names.push_back(long_prefix + label + ".de"); break;  // too long to cache
      default: names.push_back(label + ".co.uk"); break;      // a domain
    }
  }
  std::vector<bool> first;
  for (const std::string& name : names) first.push_back(LooksLikeDomainName(name));
  EXPECT_EQ(std::count(first.begin(), first.end(), true), 30000);
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < names.size(); ++i) {
      ASSERT_EQ(LooksLikeDomainName(names[i]), first[i]) << names[i];
    }
  }
  EXPECT_FALSE(LooksLikeDomainName("host1.png"));
  EXPECT_TRUE(LooksLikeDomainName(long_prefix + "host2.de"));
  EXPECT_THAT(Extract("a HOST0.Example.COM b " + long_prefix + "host2.de"),
              ElementsAre(Found{"domain", "HOST0.Example.COM"},
                          Found{"domain", long_prefix + "host2.de"}));
}

// Names of every length around the cache's entry sizes (up to 62 bytes inline, longer ones
// in a table of their own), asked cold, then again from the cache, in upper case, and next
// to a name that differs from it in one byte only (its last letter before the TLD) or in
// its TLD (a file extension): each gets the same verdict every time and, as a domain, its
// own lower-cased key.
TEST(ExtractorTest, DomainVerdictsHoldAtEveryNameLength) {
  // size bytes (8 or more: no listed suffix such as "ar.com"): labels of up to 9 letters,
  // then '.' and tld, the byte before the TLD replaced by last.
  auto name_of = [](size_t size, char last, std::string_view tld) {
    std::string name;
    const size_t body = size - 4;
    for (size_t i = 0; i < body; ++i) {
      const bool dot = i % 10 == 9 && i + 1 < body;
      name += dot ? '.' : static_cast<char>('a' + i % 26);
    }
    name.back() = last;
    return name + "." + std::string(tld);
  };
  auto upper = [](std::string s) {
    for (char& c : s) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    return s;
  };
  for (int round = 0; round < 3; ++round) {
    for (size_t size = 8; size <= 130; ++size) {
      const std::string name = name_of(size, 'x', "com");
      const std::string sibling = name_of(size, 'z', "com");
      const std::string file = name_of(size, 'x', "zip");
      SCOPED_TRACE(name);
      ASSERT_EQ(name.size(), size);
      const std::pair<std::string, const std::string*> asks[] = {
          {round == 2 ? upper(name) : name, &name}, {sibling, &sibling},
          {upper(sibling), &sibling}};
      for (const auto& [asked, key] : asks) {
        EXPECT_TRUE(LooksLikeDomainName(asked));
        std::vector<Observable> found = ExtractAll(asked);
        ASSERT_EQ(found.size(), 1u);
        EXPECT_EQ(found[0].indicator.type, IndicatorType::kDomain);
        EXPECT_EQ(found[0].indicator.key, *key);
        EXPECT_EQ(found[0].text, asked);
      }
      EXPECT_FALSE(LooksLikeDomainName(file));
      EXPECT_FALSE(LooksLikeDomainName(upper(file)));
      EXPECT_THAT(Extract(file), IsEmpty());
    }
  }
}

}  // namespace
}  // namespace iocd
