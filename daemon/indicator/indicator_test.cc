#include "indicator/indicator.h"

#include <gtest/gtest.h>

namespace iocd {
namespace {

struct DetectCase {
  std::string_view input;
  IndicatorType type;
  std::string_view display;
};

class DetectTest : public testing::TestWithParam<DetectCase> {};

TEST_P(DetectTest, DetectsTypeAndNormalises) {
  const DetectCase& c = GetParam();
  Result<Indicator> got = ParseIndicator(c.input);
  ASSERT_TRUE(got.ok()) << c.input << ": " << got.status().ToString();
  EXPECT_EQ(TypeName(got->type), TypeName(c.type)) << c.input;
  EXPECT_EQ(got->Display(), c.display) << c.input;
  // The encoded form round-trips.
  auto decoded = Indicator::Decode(got->Encoded());
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, *got);
}

INSTANTIATE_TEST_SUITE_P(
    AllTypes, DetectTest,
    testing::Values(
        DetectCase{"107.148.149.156", IndicatorType::kIpv4, "107.148.149.156"},
        DetectCase{"  1.2.3.4\t", IndicatorType::kIpv4, "1.2.3.4"},
        DetectCase{"1.2.3.4:8080", IndicatorType::kIpv4, "1.2.3.4"},
        DetectCase{"2001:db8::1", IndicatorType::kIpv6, "2001:db8::1"},
        DetectCase{"2001:DB8:0:0:0:0:0:1", IndicatorType::kIpv6, "2001:db8::1"},
        DetectCase{"[2001:db8::1]:443", IndicatorType::kIpv6, "2001:db8::1"},
        DetectCase{"::ffff:1.2.3.4", IndicatorType::kIpv4, "1.2.3.4"},
        DetectCase{"10.0.0.0/8", IndicatorType::kCidr4, "10.0.0.0/8"},
        DetectCase{"10.1.2.3/8", IndicatorType::kCidr4, "10.0.0.0/8"},
        DetectCase{"0.0.0.0/0", IndicatorType::kCidr4, "0.0.0.0/0"},
        DetectCase{"1.2.3.4/32", IndicatorType::kIpv4, "1.2.3.4"},
        DetectCase{"2001:db8::/32", IndicatorType::kCidr6, "2001:db8::/32"},
        DetectCase{"2001:db8:ffff::1/33", IndicatorType::kCidr6, "2001:db8:8000::/33"},
        DetectCase{"2001:db8::1/128", IndicatorType::kIpv6, "2001:db8::1"},
        DetectCase{"Evil.COM", IndicatorType::kDomain, "evil.com"},
        DetectCase{"evil.com.", IndicatorType::kDomain, "evil.com"},
        DetectCase{"a-b_c.evil.co.uk", IndicatorType::kDomain, "a-b_c.evil.co.uk"},
        DetectCase{"http://evil.com/gate.php", IndicatorType::kUrl, "evil.com/gate.php"},
        DetectCase{"evil.com/gate.php", IndicatorType::kUrl, "evil.com/gate.php"},
        DetectCase{"1.2.3.4/x/y.bin", IndicatorType::kUrl, "1.2.3.4/x/y.bin"},
        DetectCase{"d41d8cd98f00b204e9800998ecf8427e", IndicatorType::kMd5,
                   "d41d8cd98f00b204e9800998ecf8427e"},
        DetectCase{"DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", IndicatorType::kSha1,
                   "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        DetectCase{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                   IndicatorType::kSha256,
                   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}));

TEST(ParseIndicatorTest, RejectsWithReason) {
  for (std::string_view bad : {"", "   ", "foo", "1.2.3", "256.1.1.1", "01.2.3.4", "1.2.3.4/33",
                               "2001:db8::/129", "evil..com", "a b.com", "123.456", "-", "http://",
                               "d41d8cd98f00b204e9800998ecf8427", "g41d8cd98f00b204e9800998ecf8427e",
                               "1.2.3.4:99999999"}) {
    Result<Indicator> got = ParseIndicator(bad);
    EXPECT_FALSE(got.ok()) << "'" << bad << "' parsed as " << (got.ok() ? got->Display() : "");
    if (!got.ok()) {
      EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
      EXPECT_FALSE(got.status().message().empty());
    }
  }
}

TEST(ParseIndicatorAsTest, EnforcesType) {
  EXPECT_TRUE(ParseIndicatorAs(IndicatorType::kMd5, "d41d8cd98f00b204e9800998ecf8427e").ok());
  EXPECT_FALSE(ParseIndicatorAs(IndicatorType::kSha1, "d41d8cd98f00b204e9800998ecf8427e").ok());
  EXPECT_EQ(ParseIndicatorAs(IndicatorType::kIpv4, "2001:db8::1")->type, IndicatorType::kIpv6);
  EXPECT_EQ(ParseIndicatorAs(IndicatorType::kCidr4, "10.0.0.0/8")->type, IndicatorType::kCidr4);
  EXPECT_EQ(ParseIndicatorAs(IndicatorType::kDomain, "evil.com")->Display(), "evil.com");
  EXPECT_FALSE(ParseIndicatorAs(IndicatorType::kDomain, "1.2.3.4").ok());
  // A URL column may hold scheme-less URLs or bare hosts.
  EXPECT_EQ(ParseIndicatorAs(IndicatorType::kUrl, "evil.com")->Display(), "evil.com");
}

TEST(TypeNameTest, RoundTripsAndAliases) {
  for (IndicatorType t : kAllIndicatorTypes) {
    EXPECT_EQ(ParseTypeName(TypeName(t)), t);
  }
  EXPECT_EQ(ParseTypeName("IPv4-Addr"), IndicatorType::kIpv4);
  EXPECT_EQ(ParseTypeName("hostname"), IndicatorType::kDomain);
  EXPECT_EQ(ParseTypeName("SHA-256"), IndicatorType::kSha256);
  EXPECT_EQ(ParseTypeName("regkey"), std::nullopt);
}

TEST(RefangTest, UndoesCommonDefanging) {
  struct Case {
    std::string_view in, out;
  };
  for (const Case& c : {
           Case{"107.148.149[.]156", "107.148.149.156"},
           Case{"singamofing[.]com", "singamofing.com"},
           Case{"hxxp://evil[.]com/a", "http://evil.com/a"},
           Case{"hXXps[:]//x[.]org", "https://x.org"},
           Case{"hxxps[://]x(.)org", "https://x.org"},
           Case{"evil[dot]com", "evil.com"},
           Case{"evil(DOT)com", "evil.com"},
           Case{"evil{.}com", "evil.com"},
           Case{"evil\\.com", "evil.com"},
           Case{"user[@]evil.com", "user@evil.com"},
           Case{"fxp://files.evil.com", "ftp://files.evil.com"},
           Case{"  plain.com  ", "plain.com"},
       }) {
    EXPECT_EQ(Refang(c.in), c.out) << c.in;
  }
}

TEST(NormalizeUrlTest, Vectors) {
  struct Case {
    std::string_view in, out;
  };
  for (const Case& c : {
           Case{"https://www.example.com:443/?q=hello%20world#fragment", "example.com/?q=hello world"},
           Case{"http://example.com:80", "example.com"},
           Case{"http://example.com/", "example.com"},
           Case{"HTTP://User:Pw@EXAMPLE.com/Path/A.php", "example.com/path/a.php"},
           Case{"http://example..com./a", "example.com/a"},
           Case{"http://0x7f.0.0.1/a", "127.0.0.1/a"},
           Case{"http://2130706433/", "127.0.0.1"},
           Case{"http://0177.0.0.1/", "127.0.0.1"},
           Case{"http://example.com/a/./b/../c", "example.com/a/c"},
           Case{"http://example.com\\a\\b", "example.com/a/b"},
           Case{"http://example.com//a///b/", "example.com/a/b/"},
           Case{"http://example.com/%41%62?X=%3D", "example.com/ab?x=="},
           Case{"http://[2001:db8::1]:8080/x", "[2001:db8::1]/x"},
           Case{"example.com/gate.php", "example.com/gate.php"},
       }) {
    auto got = NormalizeUrl(c.in);
    ASSERT_TRUE(got.has_value()) << c.in;
    EXPECT_EQ(*got, c.out) << c.in;
  }
  EXPECT_EQ(NormalizeUrl("http:///path"), std::nullopt);
  EXPECT_EQ(NormalizeUrl("http://bad host/"), std::nullopt);
}

TEST(UrlHostTest, ExtractsHost) {
  EXPECT_EQ(UrlHost("http://user@Evil.com:80/a"), "Evil.com");
  EXPECT_EQ(UrlHost("evil.com/a"), "evil.com");
  EXPECT_EQ(UrlHost("https://[::1]:443/"), "[::1]");
}

// Every digest length decodes, in either case; a non-hex byte at any position, or a wrong
// length, gives nothing.
TEST(DecodeHexDigestTest, DecodesOnlyWholeHexDigests) {
  for (size_t len : {32u, 40u, 64u, 128u}) {
    std::string hex;
    std::string raw;
    for (size_t i = 0; i < len / 2; ++i) {
      const auto byte = static_cast<unsigned char>(i * 37 + 11);
      hex += "0123456789aBcDeF"[byte >> 4];
      hex += "0123456789AbCdEf"[byte & 15];
      raw += static_cast<char>(byte);
    }
    EXPECT_EQ(DecodeHexDigest(hex), raw) << hex;
    for (size_t pos = 0; pos < len; ++pos) {
      for (char bad : {'g', 'G', '/', ':', '@', '`', ' ', '\x80', '\0'}) {
        std::string wrong = hex;
        wrong[pos] = bad;
        EXPECT_EQ(DecodeHexDigest(wrong), std::nullopt) << pos << " " << int{bad};
      }
    }
    EXPECT_EQ(DecodeHexDigest(hex.substr(1)), std::nullopt);
    EXPECT_EQ(DecodeHexDigest(hex + "0"), std::nullopt);
  }
}

TEST(IpParseTest, StrictDottedQuad) {
  EXPECT_EQ(ParseIpv4("0.0.0.0"), 0u);
  EXPECT_EQ(ParseIpv4("255.255.255.255"), 0xffffffffu);
  EXPECT_EQ(ParseIpv4("1.2.3.4"), 0x01020304u);
  EXPECT_EQ(ParseIpv4("1.2.3.4."), std::nullopt);
  EXPECT_EQ(ParseIpv4("1.2.3.04"), std::nullopt);
  EXPECT_EQ(ParseIpv4("1.2.3.4.5"), std::nullopt);
  EXPECT_TRUE(ParseIpv6("::").has_value());
  EXPECT_FALSE(ParseIpv6("1:2:3").has_value());
}

}  // namespace
}  // namespace iocd
