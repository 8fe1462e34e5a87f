// Table tests for the normalisers shared by indicators and observables: URLs (Kaspersky's
// published rules), domains (case, trailing dot, IDN, public suffixes), URL masks, hashes.
#include <gtest/gtest.h>

#include <cctype>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "indicator/indicator.h"

namespace iocd {
namespace {

struct UrlCase {
  std::string_view in;
  std::optional<std::string_view> out;  // nullopt: rejected
  bool idempotent = true;               // whether out normalises to itself
};

class NormalizeUrlVectors : public testing::TestWithParam<UrlCase> {};

TEST_P(NormalizeUrlVectors, Normalises) {
  const UrlCase& c = GetParam();
  std::optional<std::string> got = NormalizeUrl(c.in);
  if (!c.out) {
    EXPECT_EQ(got, std::nullopt) << c.in;
    return;
  }
  ASSERT_TRUE(got.has_value()) << c.in;
  EXPECT_EQ(*got, *c.out) << c.in;
  // Normalisation is idempotent, except where a second pass would peel one more layer.
  if (c.idempotent) {
    EXPECT_EQ(NormalizeUrl(*got), *got) << c.in;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Kaspersky, NormalizeUrlVectors,
    testing::Values(
        // The documented examples.
        UrlCase{"https://www.example.com:443/?q=hello%20world#fragment", "example.com/?q=hello world"},
        UrlCase{"http://example.com:80", "example.com"},
        // Scheme, www., port, userinfo, fragment.
        UrlCase{"ftp://example.com/file", "example.com/file"},
        UrlCase{"HTTPS://EXAMPLE.COM/", "example.com"},
        UrlCase{"//example.com/a", "example.com/a"},
        UrlCase{"http://user:pass@example.com/a", "example.com/a"},
        UrlCase{"http://a@b@example.com/a", "example.com/a"},
        UrlCase{"http://example.com:8080/a", "example.com/a"},
        UrlCase{"http://example.com:/a", "example.com/a"},
        UrlCase{"http://example.com/a#frag/with?stuff", "example.com/a"},
        UrlCase{"http://www.example.com", "example.com"},
        UrlCase{"http://WWW.Example.Com/", "example.com"},
        UrlCase{"http://www.www.example.com/", "www.example.com", false},
        UrlCase{"http://www.com/", "www.com"},
        UrlCase{"http://www2.example.com/", "www2.example.com"},
        // Host: case, dots, numeric IPv4 forms, IPv6, percent-encoding, IDN.
        UrlCase{"http://example..com/a", "example.com/a"},
        UrlCase{"http://.example.com./a", "example.com/a"},
        UrlCase{"http://example.com.../", "example.com"},
        UrlCase{"http://0x7f.1/", "127.0.0.1"},
        UrlCase{"http://0x7f000001/", "127.0.0.1"},
        UrlCase{"http://017700000001/", "127.0.0.1"},
        UrlCase{"http://2130706433/", "127.0.0.1"},
        UrlCase{"http://0177.0.0.1/", "127.0.0.1"},
        UrlCase{"http://127.1/x", "127.0.0.1/x"},
        UrlCase{"http://1.2.3.4:8080/x", "1.2.3.4/x"},
        UrlCase{"http://[2001:DB8::1]:8080/x", "[2001:db8::1]/x"},
        UrlCase{"http://[::ffff:1.2.3.4]/x", "1.2.3.4/x"},
        UrlCase{"http://ex%61mple.com/", "example.com"},
        // Dotted quads take a shortcut (their own text); other numeric forms do not.
        UrlCase{"http://10.20.30.40/x", "10.20.30.40/x"},
        UrlCase{"http://10.20.30.40", "10.20.30.40"},
        UrlCase{"http://010.20.30.40/", "8.20.30.40"},
        UrlCase{"http://0.0.0.0/a", "0.0.0.0/a"},
        // Paths long enough to be read 16 bytes a step, with what ends or refuses the
        // one-pass path past the first 16 bytes.
        UrlCase{"http://Evil.com/ABCDEFGHIJKLMNOPQRSTUVWXYZ/Index.PHP?Q=1",
                "evil.com/abcdefghijklmnopqrstuvwxyz/index.php?q=1"},
        UrlCase{"http://evil.com/ABCDEFGHIJKLMNOP", "evil.com/abcdefghijklmnop"},
        UrlCase{"http://evil.com/abcdefghijklmnopqrstuvwx//y", "evil.com/abcdefghijklmnopqrstuvwx/y"},
        UrlCase{"http://evil.com/abcdefghijklmnopqrstuvwx/./y", "evil.com/abcdefghijklmnopqrstuvwx/y"},
        UrlCase{"http://evil.com/abcdefghijklmnopqrstuvwx%41yz", "evil.com/abcdefghijklmnopqrstuvwxayz"},
        UrlCase{"http://evil.com/abcdefghijklmnopqrstuvwx\\yz", "evil.com/abcdefghijklmnopqrstuvwx/yz"},
        UrlCase{"http://evil.com/abcdefghijklmnopqrstuvwxyz#ABC//", "evil.com/abcdefghijklmnopqrstuvwxyz"},
        UrlCase{"http://Bücher.example/a", "xn--bcher-kva.example/a"},
        UrlCase{"http://www.bücher.de/", "xn--bcher-kva.de"},
        // Path: dot segments, backslashes, empty segments, decoding once, case.
        UrlCase{"http://example.com/a/./b/../c", "example.com/a/c"},
        UrlCase{"http://example.com/../../a", "example.com/a"},
        UrlCase{"http://example.com/a/b/..", "example.com/a"},
        UrlCase{"http://example.com/a/%2e%2e/b", "example.com/b"},
        UrlCase{"http://example.com\\a\\b", "example.com/a/b"},
        UrlCase{"http://example.com/a\\..\\b", "example.com/b"},
        UrlCase{"http://example.com//a///b/", "example.com/a/b/"},
        UrlCase{"http://example.com/A/B.PHP", "example.com/a/b.php"},
        UrlCase{"http://example.com/%41%62?X=%3D", "example.com/ab?x=="},
        UrlCase{"http://example.com/%2541", "example.com/%41", false},  // decoded once only
        UrlCase{"http://example.com/a%zzb", "example.com/a%zzb"},
        UrlCase{"http://example.com/a%2", "example.com/a%2"},
        UrlCase{"http://example.com/a b", "example.com/a b"},
        // Query.
        UrlCase{"http://example.com?a=1", "example.com/?a=1"},
        UrlCase{"http://example.com/p?A=B&C=%44", "example.com/p?a=b&c=d"},
        UrlCase{"http://example.com/p?", "example.com/p"},
        UrlCase{"http://example.com/?", "example.com"},
        UrlCase{"http://example.com/p?a=/../b", "example.com/p?a=/../b"},
        UrlCase{"http://example.com#x", "example.com"},
        UrlCase{"http://example.com?#x", "example.com"},
        UrlCase{"http://example.com?Q#x?y", "example.com/?q"},
        UrlCase{"http://Ex-1_a.example.COM/A.b/?%41b%", "ex-1_a.example.com/a.b/?ab%"},
        UrlCase{"http://a.b/.", "a.b"},
        UrlCase{"http://example.com/a.", "example.com/a."},
        UrlCase{"http://example.123/", std::nullopt},
        // Without a scheme.
        UrlCase{"example.com/gate.php", "example.com/gate.php"},
        UrlCase{"  example.com/x  ", "example.com/x"},
        // Rejected: no host, bad host.
        UrlCase{"http:///path", std::nullopt},
        UrlCase{"http://bad host/", std::nullopt},
        UrlCase{"http://", std::nullopt},
        UrlCase{"http://com/", std::nullopt},
        UrlCase{"http://ex*ample.com/", std::nullopt},
        UrlCase{"http://[zz::1]/", std::nullopt}));

// The overload that also reports the host: set only for a plain name after a scheme, and
// then what UrlHost() and NormalizeDomain() give for the same URL.
TEST(NormalizeUrlHostPartsTest, PlainHostsOnly) {
  struct Case {
    std::string_view url;
    std::string_view host;        // "" when not reported
    std::string_view domain_key;
  };
  const Case cases[] = {
      {"http://Evil.Example.com/Gate.php?ID=1", "Evil.Example.com", "evil.example.com"},
      {"https://WWW.example.com", "WWW.example.com", "www.example.com"},
      {"http://WWW.Example.com/X?Q=1", "WWW.Example.com", "www.example.com"},
      {"http://www.a.b?x", "www.a.b", "www.a.b"},
      {"http://www.io/x", "www.io", "www.io"},  // "www." kept in the key too
      {"http://wwwx.example.com/", "wwwx.example.com", "wwwx.example.com"},
      {"http://a.b#c", "a.b", "a.b"},
      {"ftp://x.example.org?q", "x.example.org", "x.example.org"},
      {"http://user@example.com/", "", ""},      // userinfo: general path
      {"http://example.com:8080/", "", ""},      // port
      {"http://1.2.3.4/x", "", ""},              // address
      {"http://[::1]/x", "", ""},
      {"http://example..com/", "", ""},          // collapsed by the general path
      {"http://ex%61mple.com/", "", ""},
      {"http://Bücher.example/", "", ""},
      {"example.com/x", "", ""},                 // no scheme
      {" http://example.com/x", "", ""},         // UrlHost() would not trim
      {"http://example.com/a//b", "", ""},       // path needs resolving
  };
  for (const Case& c : cases) {
    UrlHostParts parts;
    parts.domain_key = "stale";
    std::optional<std::string> key = NormalizeUrl(c.url, &parts);
    EXPECT_EQ(key, NormalizeUrl(c.url)) << c.url;
    EXPECT_EQ(parts.host, c.host) << c.url;
    EXPECT_EQ(parts.domain_key, c.domain_key) << c.url;
    if (!c.host.empty()) {
      EXPECT_EQ(parts.host.data(), UrlHost(c.url).data()) << c.url;
      EXPECT_EQ(NormalizeDomain(parts.host), std::string(c.domain_key)) << c.url;
    }
  }
}

// The plain-URL path's host checks (16 bytes a step, then byte by byte) against
// NormalizeDomain on hosts of 1-90 bytes: labels of every length up to past 63, empty
// labels, numeric last labels, every host byte class and a stop byte at each position.
// The plain path reports the host exactly when it starts with a letter, holds only
// [A-Za-z0-9._-], has no trailing dot and NormalizeDomain accepts it.
TEST(NormalizeUrlHostPartsTest, HostChecksAtEveryLength) {
  auto plain = [](const std::string& host) {
    if (host.empty() || !std::isalpha(static_cast<unsigned char>(host[0])) || host.back() == '.')
      return false;
    for (char c : host) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_')
        return false;
    }
    return NormalizeDomain(host).has_value();
  };
  std::vector<std::string> hosts;
  for (size_t size = 1; size <= 90; ++size) {
    for (size_t label : {size_t{1}, size_t{5}, size_t{15}, size_t{16}, size_t{17}, size_t{63},
                         size_t{64}, size_t{100}}) {
      std::string host;
      for (size_t i = 0; i < size; ++i) host.push_back(i % (label + 1) == label ? '.' : 'a');
      hosts.push_back(host);
      for (size_t at = 0; at < size; ++at) {
        for (char c : {'.', 'Z', '9', '-', '_', '/', '\x80', '%', ':'}) {
          std::string tried = host;
          tried[at] = c;
          hosts.push_back(tried);
        }
      }
      hosts.push_back(host + ".9");
      hosts.push_back(host + ".a9");
      hosts.push_back("WWW." + host);
    }
  }
  size_t reported = 0;
  for (const std::string& host : hosts) {
    for (const char* path : {"/Path/x.php?Q=1", "", "?x=1234567890123456"}) {
      const std::string url = "http://" + host + path;
      UrlHostParts parts;
      std::optional<std::string> key = NormalizeUrl(url, &parts);
      EXPECT_EQ(key, NormalizeUrl(url)) << url;
      if (plain(host)) {
        ++reported;
        EXPECT_EQ(parts.host, host) << url;
        EXPECT_EQ(parts.domain_key, NormalizeDomain(host)) << url;
      } else if (!parts.host.empty()) {
        // The stop byte ends the host early ("a/b", "a?b"): the host is the part before it.
        EXPECT_TRUE(plain(std::string(parts.host))) << url;
        EXPECT_EQ(url.substr(7, parts.host.size()), parts.host) << url;
      }
    }
  }
  EXPECT_GT(reported, 10000u);
}

TEST(NormalizeDomainTest, Vectors) {
  struct Case {
    std::string_view in;
    std::optional<std::string_view> out;
  };
  for (const Case& c : {
           Case{"Evil.COM", "evil.com"},
           Case{"evil.com.", "evil.com"},
           Case{"EVIL.com.", "evil.com"},
           Case{"a-b_c.evil.co.uk", "a-b_c.evil.co.uk"},
           Case{"xn--bcher-kva.de", "xn--bcher-kva.de"},
           Case{"Bücher.de", "xn--bcher-kva.de"},
           Case{"BÜCHER.DE", "xn--bcher-kva.de"},
           Case{"faß.de", "xn--fa-hia.de"},  // non-transitional: ß is kept
           Case{"пример.рф", "xn--e1afmkfd.xn--p1ai"},
           Case{"例え.テスト", "xn--r8jz45g.xn--zckzah"},
           Case{"evil..com", std::nullopt},
           Case{"evil.com..", std::nullopt},
           Case{"com", std::nullopt},
           Case{"1.2.3.4", std::nullopt},
           Case{"a b.com", std::nullopt},
           Case{"\xff\xfe.com", std::nullopt},  // invalid UTF-8
           Case{"", std::nullopt},
       }) {
    EXPECT_EQ(NormalizeDomain(c.in), c.out) << c.in;
    EXPECT_EQ(IsNormalizableDomain(c.in), c.out.has_value()) << c.in;
  }
}

// IsNormalizableDomain answers exactly what NormalizeDomain does, on every name length up
// to past the 253-byte limit (with and without a trailing dot) and with a bad byte, an
// empty label, a long label or a numeric last label at each position.
TEST(NormalizeDomainTest, IsNormalizableDomainAgreesWithNormalizeDomain) {
  size_t accepted = 0;
  std::vector<size_t> sizes;
  for (size_t size = 0; size <= 260; ++size) {
    if (size < 24 || (size >= 60 && size <= 68) || size >= 248) sizes.push_back(size);
  }
  for (size_t size : sizes) {
    std::string name(size, 'a');
    for (size_t i = 4; i < size; i += 5) name[i] = '.';
    for (const std::string& base :
         {name, name + ".", name + "..", name + "9", std::string(size, 'b') + ".com"}) {
      for (size_t at = 0; at <= base.size(); ++at) {
        for (const char* c : {"", "A", ".", " ", "9", "-", "_", "\xc3\xbc", "\x80", "x"}) {
          const std::string tried = base.substr(0, at) + c + base.substr(at);
          const bool normalizable = NormalizeDomain(tried).has_value();
          accepted += normalizable;
          ASSERT_EQ(IsNormalizableDomain(tried), normalizable) << tried;
        }
      }
    }
  }
  EXPECT_GT(accepted, 10000u);
}

TEST(PublicSuffixTest, RejectedAsIndicatorsOnly) {
  for (std::string_view suffix : {"co.uk", "CO.UK", "com.au", "co.uk.", "gov.uk"}) {
    Result<Indicator> got = ParseIndicator(suffix);
    ASSERT_FALSE(got.ok()) << suffix;
    EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(got.status().message().find("public suffix"), std::string::npos) << got.status().message();
    EXPECT_FALSE(ParseIndicatorAs(IndicatorType::kDomain, suffix).ok()) << suffix;
    // The normaliser (the observable side) still accepts it.
    EXPECT_TRUE(NormalizeDomain(suffix).has_value()) << suffix;
  }
  EXPECT_TRUE(IsPublicSuffix("com"));
  EXPECT_TRUE(IsPublicSuffix("co.uk"));
  EXPECT_FALSE(IsPublicSuffix("evil.co.uk"));
  EXPECT_FALSE(IsPublicSuffix("example.com"));
  // Private-section entries are services feeds list on purpose.
  EXPECT_FALSE(IsPublicSuffix("github.io"));
  EXPECT_EQ(ParseIndicator("ddns.net")->Display(), "ddns.net");
  // Unlisted TLDs are not suffixes (no "*" default rule).
  EXPECT_FALSE(IsPublicSuffix("dyn.example"));
  EXPECT_EQ(ParseIndicator("evil.co.uk")->Display(), "evil.co.uk");
  EXPECT_EQ(ParseIndicator("Bücher.de")->Display(), "xn--bcher-kva.de");
  // A URL on a public suffix is an exact URL, not a registry-wide match: allowed.
  EXPECT_EQ(ParseIndicator("http://co.uk/x")->Display(), "co.uk/x");
}

struct MaskCase {
  std::string_view in;
  std::optional<std::string_view> key;  // nullopt: ParseIndicator rejects it
  std::string_view fixed_host;
};

class UrlMaskVectors : public testing::TestWithParam<MaskCase> {};

TEST_P(UrlMaskVectors, ParsesAsMask) {
  const MaskCase& c = GetParam();
  Result<Indicator> got = ParseIndicator(c.in);
  if (!c.key) {
    EXPECT_FALSE(got.ok()) << c.in << " parsed as " << (got.ok() ? got->Display() : "");
    return;
  }
  ASSERT_TRUE(got.ok()) << c.in << ": " << got.status().ToString();
  EXPECT_EQ(got->type, IndicatorType::kUrlMask);
  EXPECT_EQ(got->key, *c.key);
  EXPECT_EQ(UrlMaskFixedHost(got->key), c.fixed_host);
  auto decoded = Indicator::Decode(got->Encoded());
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, *got);
}

INSTANTIATE_TEST_SUITE_P(
    Masks, UrlMaskVectors,
    testing::Values(MaskCase{"*.evil.com/gate/*", "*.evil.com/gate/*", "evil.com"},
                    MaskCase{"http://*.Evil.com:8080/Gate/*#x", "*.evil.com/gate/*", "evil.com"},
                    MaskCase{"*.evil.com", "*.evil.com", "evil.com"},
                    MaskCase{"**.evil.com/a/**", "*.evil.com/a/*", "evil.com"},
                    MaskCase{"evil.com/*", "evil.com/*", "evil.com"},
                    MaskCase{"www.evil.com/*.php", "evil.com/*.php", "evil.com"},
                    MaskCase{"evil*.com", "evil*.com", "com"},
                    MaskCase{"a*b.c.evil.com/x", "a*b.c.evil.com/x", "c.evil.com"},
                    MaskCase{"*.*.evil.co.uk", "*.*.evil.co.uk", "evil.co.uk"},
                    MaskCase{"1.2.3.*/x", "1.2.3.*/x", ""},
                    MaskCase{"1.2.3.4/*", "1.2.3.4/*", "1.2.3.4"},
                    MaskCase{"*.bücher.de/*", "*.xn--bcher-kva.de/*", "xn--bcher-kva.de"},
                    MaskCase{"evil.com/a/./b/../*?Q=%41*", "evil.com/a/*?q=a*", "evil.com"},
                    // Rejected: no fixed label, a whole public suffix, bad characters.
                    MaskCase{"*", std::nullopt, ""},
                    MaskCase{"*/x", std::nullopt, ""},
                    MaskCase{"*.*", std::nullopt, ""},
                    MaskCase{"*.com", std::nullopt, ""},
                    MaskCase{"*.co.uk/*", std::nullopt, ""},
                    MaskCase{"*.*.com", std::nullopt, ""},
                    MaskCase{"ev il*.com", std::nullopt, ""},
                    MaskCase{"*.ev!l.com", std::nullopt, ""}));

TEST(UrlMaskMatchesTest, Vectors) {
  struct Case {
    std::string_view mask, url;
    bool match;
  };
  for (const Case& c : {
           Case{"*.evil.com/gate/*", "a.evil.com/gate/x.php", true},
           Case{"*.evil.com/gate/*", "a.b.evil.com/gate/x/y?z=1", true},
           Case{"*.evil.com/gate/*", "evil.com/gate/x.php", false},
           Case{"*.evil.com/gate/*", "a.evil.com/gate", false},
           Case{"*.evil.com/gate/*", "a.evil.com/other/gate/x", false},
           // '*' in the host never reaches into the path.
           Case{"*.evil.com/gate/*", "x.com/.evil.com/gate/a", false},
           Case{"*.evil.com", "a.evil.com", true},
           Case{"*.evil.com", "a.evil.com/any/path?q", true},
           Case{"*.evil.com", "evil.com", false},
           Case{"*.evil.com", "notevil.com", false},
           Case{"*.evil.com", "a.evil.com.other", false},
           Case{"evil*.com", "evil1.com/x", true},
           Case{"evil*.com", "evil.com", true},
           Case{"evil*.com", "a.evil1.com", false},
           Case{"evil.com/*", "evil.com", true},
           Case{"evil.com/*", "evil.com/", true},
           Case{"evil.com/*", "evil.com/a", true},
           Case{"evil.com/*", "evil.com/?q=1", true},
           Case{"evil.com/*", "a.evil.com/a", false},
           Case{"evil.com/*.php", "evil.com/a/b.php", true},
           Case{"evil.com/*.php", "evil.com/a/b.php5", false},
           Case{"evil.com/a/*?q=*", "evil.com/a/b?q=1", true},
           Case{"evil.com/a/*?q=*", "evil.com/a/b", false},
           Case{"1.2.3.*/x", "1.2.3.4/x", true},
           Case{"1.2.3.*/x", "1.2.3.4/y", false},
       }) {
    EXPECT_EQ(UrlMaskMatches(c.mask, c.url), c.match) << c.mask << " vs " << c.url;
  }
}

TEST(HashTest, AllSizesCaseInsensitive) {
  const std::string sha512(128, 'A');
  Result<Indicator> got = ParseIndicator(sha512);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->type, IndicatorType::kSha512);
  EXPECT_EQ(got->key, std::string(64, '\xaa'));
  EXPECT_EQ(got->Display(), std::string(128, 'a'));
  EXPECT_EQ(*ParseIndicatorAs(IndicatorType::kSha512, std::string(128, 'a')), *got);
  EXPECT_FALSE(ParseIndicatorAs(IndicatorType::kSha256, sha512).ok());
  EXPECT_EQ(ParseIndicator(std::string(64, 'f'))->type, IndicatorType::kSha256);
  EXPECT_EQ(ParseIndicator(std::string(40, 'F'))->type, IndicatorType::kSha1);
  EXPECT_EQ(ParseIndicator(std::string(32, 'f'))->type, IndicatorType::kMd5);
  EXPECT_EQ(ParseIndicator(std::string(32, 'F'))->key, ParseIndicator(std::string(32, 'f'))->key);
  EXPECT_FALSE(ParseIndicator(std::string(127, 'a')).ok());
  EXPECT_FALSE(ParseIndicator(std::string(130, 'a')).ok());
  auto decoded = Indicator::Decode(got->Encoded());
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, *got);
}

}  // namespace
}  // namespace iocd
