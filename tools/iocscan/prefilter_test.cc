// LinePrefilter must never rule out a line the full path (ExtractObservables + the index)
// finds a match in. Table cases: each hazard, with a check that the full path really does
// match it (so the case tests something). Differential tests: random log-like lines and
// the real logs, hits with and without the prefilter byte for byte.
#include "prefilter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "common/temp_dir.h"
#include "config/config.h"
#include "extract/extractor.h"
#include "iocscan.h"
#include "match/indicator_index.h"

namespace iocd::scan {
namespace {

// An index and a prefilter of the same indicators, as ScanIndex builds them.
struct Set {
  std::shared_ptr<const IndicatorIndex> index;
  std::unique_ptr<const LinePrefilter> filter;
  std::unique_ptr<const LinePrefilter> sse2;  // the same, never using AVX2
};

Set MakeSet(const std::vector<std::string>& values) {
  IndexBuilder builder;
  std::vector<std::string> encoded;
  for (const std::string& v : values) {
    Result<Indicator> ind = ParseIndicator(v);
    EXPECT_TRUE(ind.ok()) << v;
    if (!ind.ok()) continue;
    EXPECT_TRUE(builder.Add(*ind, 0).ok()) << v;
    encoded.push_back(ind->Encoded());
  }
  std::sort(encoded.begin(), encoded.end());
  std::vector<std::string_view> views(encoded.begin(), encoded.end());
  return Set{std::move(builder).Build(), LinePrefilter::Build(views),
             LinePrefilter::Build(views, /*allow_avx2=*/false)};
}

// Whether the full path finds any index match in line.
bool FullPathMatches(const Set& set, std::string_view line) {
  std::vector<Observable> observables;
  ExtractObservables(line, &observables);
  std::vector<IndexMatch> matches;
  for (const Observable& o : observables) set.index->Lookup(o.indicator, &matches);
  return !matches.empty();
}

struct Case {
  const char* what;
  std::vector<std::string> indicators;
  std::string line;
};

class HazardTest : public ::testing::TestWithParam<Case> {};

TEST_P(HazardTest, FullPathMatchesAndPrefilterKeepsTheLine) {
  const Case& c = GetParam();
  Set set = MakeSet(c.indicators);
  ASSERT_TRUE(FullPathMatches(set, c.line)) << c.what << ": the case matches nothing";
  EXPECT_TRUE(set.filter->MayHit(c.line)) << c.what << ": " << c.line;
  EXPECT_TRUE(set.sse2->MayHit(c.line)) << c.what << " (SSE2): " << c.line;
}

const std::string kSha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

INSTANTIATE_TEST_SUITE_P(
    Hazards, HazardTest,
    ::testing::Values(
        Case{"plain domain", {"evil.com"}, "dns query evil.com A"},
        Case{"upper case", {"evil.com"}, "query EVIL.COM"},
        Case{"subdomain", {"evil.com"}, "GET a.b.Evil.com/x"},
        Case{"trailing dot", {"evil.com"}, "q=evil.com. rcode=0"},
        Case{"trailing dots and dash", {"evil.com"}, "host evil.com.-_ ok"},
        Case{"leading dash", {"evil.com"}, "x -evil.com y"},
        Case{"user@host", {"evil.com"}, "from bob@mail.evil.com"},
        Case{"host:port", {"evil.com"}, "connect evil.com:8443"},
        Case{"url host with port and userinfo", {"evil.com"}, "http://u:p@www.evil.com:81/a"},
        Case{"url host with trailing dot", {"evil.com"}, "see HTTP://EVIL.COM./x"},
        Case{"scheme glued to a name", {"evil.com"}, "x evil.com.http://a.org/ y"},
        Case{"url key www and port", {"http://evil.com/gate.php"}, "GET https://www.EVIL.com:443/gate.php"},
        Case{"url key userinfo", {"http://evil.com/gate.php"}, "http://a@b@evil.com/gate.php"},
        Case{"url percent-escaped host", {"http://evil.com/x"}, "http://ev%69l.com/x"},
        Case{"url percent-escaped dot", {"http://evil.com/x"}, "http://evil%2ecom/x"},
        Case{"url percent-encoded IDN host", {"http://xn--bcher-kva.de/x"}, "http://b%C3%BCcher.de/x"},
        Case{"url repeated dots", {"http://evil.com/x"}, "http://evil..com/x"},
        Case{"url leading dots", {"http://evil.com/x"}, "http://..evil.com/x"},
        Case{"url ended by a backslash", {"evil.com"}, "http://evil.com\\a\\b"},
        Case{"url hex host", {"http://127.0.0.1/x"}, "http://0x7f.1/x"},
        Case{"url integer host", {"http://127.0.0.1/x"}, "http://2130706433/x"},
        Case{"url octal host", {"http://127.0.0.1/x"}, "http://0177.0.0.01/x"},
        Case{"url mapped v6 host", {"http://1.2.3.4/x"}, "http://[::ffff:1.2.3.4]/x"},
        Case{"url mapped v6 hex host", {"http://1.2.3.4/x"}, "http://[::ffff:102:304]/x"},
        Case{"scheme-less url", {"evil.com/gate.php"}, "GET evil.com/gate.php HTTP/1.1"},
        Case{"url mask", {"*.evil.com/gate/*"}, "http://a.b.evil.com/gate/x.php"},
        Case{"url mask single fixed label", {"evil*.com/x"}, "http://evil22.com/x"},
        Case{"url mask without fixed host", {"1.2.3.*/x"}, "http://1.2.3.9/x"},
        Case{"url mask with a numeric fixed host, ipv4 beside", {"*.2.3.4/x", "5.6.7.8"}, "GET 5.6.7.8"},
        Case{"url mask with a numeric fixed host", {"*.2.3.4/x", "5.6.7.8"}, "http://1.2.3.4/x"},
        Case{"host-only url mask on a domain", {"*.evil.com"}, "dns a.evil.com"},
        Case{"ipv4", {"1.2.3.4"}, "src=1.2.3.4 dst=5.6.7.8"},
        Case{"ipv4 with port", {"1.2.3.4"}, "1.2.3.4:443"},
        Case{"ipv4 trailing dot", {"1.2.3.4"}, "to 1.2.3.4."},
        Case{"ipv4 in squid field", {"1.2.3.4"}, "HIER_DIRECT/1.2.3.4 text/html"},
        Case{"ipv4 url host", {"1.2.3.4"}, "http://1.2.3.4:8080/x"},
        Case{"ipv4 mapped v6", {"1.2.3.4"}, "from ::ffff:1.2.3.4 port 1"},
        Case{"ipv4 mapped v6 hex", {"1.2.3.4"}, "from ::FFFF:102:304 port 1"},
        Case{"ipv4 mapped v6 full", {"1.2.3.4"}, "0:0:0:0:0:ffff:102:304"},
        Case{"ipv4 mapped v6 with a dotted quad", {"1.2.3.4"}, "0:0:0:0:0:ffff:1.2.3.4."},
        Case{"cidr4", {"10.20.0.0/16"}, "src=10.20.33.44"},
        Case{"cidr4 /1", {"128.0.0.0/1"}, "dst 200.1.1.1"},
        Case{"cidr4 via mapped v6", {"10.20.0.0/16"}, "::ffff:a14:221c"},
        Case{"ipv6", {"2001:db8::1"}, "src=2001:DB8:0:0::1"},
        Case{"ipv6 full form", {"2001:db8::1"}, "2001:0db8:0000:0000:0000:0000:0000:0001"},
        Case{"ipv6 zone", {"fe80::1"}, "fe80::1%eth0"},
        Case{"cidr6", {"2001:db8:abcd::/48"}, "[2001:db8:abcd::7]:443"},
        Case{"ipv6 url host", {"2001:db8::1"}, "http://[2001:db8::1]/"},
        Case{"md5 mixed case", {"d41d8cd98f00b204e9800998ecf8427e"}, "MD5=D41D8CD98F00B204e9800998ecf8427e"},
        Case{"sha1 in field", {"da39a3ee5e6b4b0d3255bfef95601890afd80709"},
             "Hashes=SHA1=DA39A3EE5E6B4B0D3255BFEF95601890AFD80709,MD5=x"},
        Case{"sha256 with colon", {kSha256}, "sha256:" + kSha256},
        Case{"sha256 trimmed", {kSha256}, "file -" + kSha256 + "_."},
        Case{"digest at line end", {kSha256}, "abc " + kSha256},
        Case{"digest in a 17-byte line tail", {"d41d8cd98f00b204e9800998ecf8427e"},
             "0123456789abcde d41d8cd98f00b204e9800998ecf8427e"}),
    [](const ::testing::TestParamInfo<Case>& param_info) {
      std::string name;
      for (char c : std::string(param_info.param.what)) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return name + "_" + std::to_string(param_info.index);
    });

TEST(PrefilterTest, LinesThatCannotHitAreSkipped) {
  Set set = MakeSet({"evil.com", "1.2.3.4", "d41d8cd98f00b204e9800998ecf8427e", "http://bad.org/x"});
  for (const char* line : {"", "plain words only", "Nov 30 12:34:56 host sshd[1]: ok",
                           "notevil.com 11.2.3.45 1.2.3.44 evil.co", "GET http://good.org/x.php",
                           "d41d8cd98f00b204e9800998ecf8427f", "12:34:56.789 a::b"}) {
    EXPECT_FALSE(set.filter->MayHit(line)) << line;
    EXPECT_FALSE(FullPathMatches(set, line)) << line;
  }
}

TEST(PrefilterTest, V6TriggersOnlyWhenNeeded) {
  Set v4 = MakeSet({"1.2.3.4"});
  EXPECT_FALSE(v4.filter->MayHit("addr 2001:db8::1 up"));  // no ffff: cannot be an ipv4
  EXPECT_TRUE(v4.filter->MayHit("addr ::ffff:9.9.9.9 up"));  // could be: a candidate
  Set none = MakeSet({"evil.com"});
  EXPECT_FALSE(none.filter->MayHit("addr ::ffff:9.9.9.9 up"));
}

TEST(PrefilterTest, MacAddressesAndTimesAreNoIpv6) {
  Set v6 = MakeSet({"2001:db8::1"});
  EXPECT_FALSE(v6.filter->MayHit("MAC=00:1b:21:3a:8c:8b:00:50:56:a2:b4:25:08:00 12:34:56.789"));
  EXPECT_TRUE(v6.filter->MayHit("a 1:2:3:4:5:6:7:8 b"));
  EXPECT_TRUE(v6.filter->MayHit("a 1:2:3:4:5:6:1.2.3.4 b"));
}

TEST(PrefilterTest, AnAnchorlessMaskPassesEveryLine) {
  Set set = MakeSet({"1.2.3.*/x"});
  EXPECT_TRUE(set.filter->passes_all());
  EXPECT_TRUE(set.filter->MayHit("nothing here"));
}

// ---- Differential: the same Scanner with and without the prefilter. ----

// A seeded soup of log-like tokens with every hazard above mixed in.
class Soup {
 public:
  explicit Soup(uint32_t seed) : rng_(seed) {}
  std::string Line() {
    std::string line;
    const int tokens = Pick(1, 12);
    for (int i = 0; i < tokens; ++i) {
      if (i > 0) line += Separator();
      line += Token();
    }
    return line;
  }

 private:
  int Pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  template <typename T>
  const T& Of(const std::vector<T>& v) { return v[static_cast<size_t>(Pick(0, static_cast<int>(v.size()) - 1))]; }
  std::string Separator() {
    static const std::vector<std::string> seps = {" ", " ", " ", "=", ",", "\t", "\"", "|", ";", " [", "] ", "/", ":", "@", "\xc3\xa9", " - ", "", ".", "-", "_"};
    return Of(seps);
  }
  std::string MixCase(std::string s) {
    const int mode = Pick(0, 3);
    for (char& c : s) {
      if (mode == 1 || (mode == 2 && Pick(0, 1) == 0)) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return s;
  }
  std::string Label() {
    static const std::vector<std::string> labels = {"www", "a", "mail", "cdn", "evil", "bad-x", "x_y", "update", "login", "b1", "xn--bcher-kva", "0x7f", "s3"};
    return Of(labels);
  }
  std::string Tld() {
    static const std::vector<std::string> tlds = {"com", "net", "org", "de", "co.uk", "io", "ru", "exe", "py", "1", "local"};
    return Of(tlds);
  }
  std::string Domain() {
    std::string d;
    for (int n = Pick(1, 3); n > 0; --n) d += Label() + ".";
    return MixCase(d + Tld());
  }
  std::string Ipv4() {
    static const std::vector<std::string> fixed = {"1.2.3.4", "10.20.30.40", "192.168.0.1", "8.8.8.8", "127.0.0.1"};
    if (Pick(0, 1) == 0) return Of(fixed);
    return std::to_string(Pick(0, 255)) + "." + std::to_string(Pick(0, 3)) + "." +
           std::to_string(Pick(0, 3)) + "." + std::to_string(Pick(0, 9));
  }
  std::string Hex(size_t n) {
    static const char* digits = "0123456789abcdefABCDEF";
    static const std::vector<std::string> fixed = {"d41d8cd98f00b204e9800998ecf8427e",
                                                   "da39a3ee5e6b4b0d3255bfef95601890afd80709", kSha256};
    for (const auto& f : fixed) {
      if (f.size() == n && Pick(0, 1) == 0) return MixCase(f);
    }
    std::string s;
    for (size_t i = 0; i < n; ++i) s += digits[Pick(0, 21)];
    return s;
  }
  std::string Host() {
    switch (Pick(0, 9)) {
      case 0: return Ipv4();
      case 1: return "0x7f.1";
      case 2: return std::to_string(Pick(0, 1) == 0 ? 2130706433 : 16909060);
      case 3: return "[::ffff:" + Ipv4() + "]";
      case 4: return "[::ffff:102:304]";
      case 5: return "ev%69l.com";
      case 6: return Domain() + "..";
      case 7: return "b%C3%BCcher.de";
      default: return Domain();
    }
  }
  std::string Url() {
    static const std::vector<std::string> schemes = {"http://", "https://", "HTTP://", "ftp://", "", "hxxp://"};
    std::string u = Of(schemes);
    if (Pick(0, 4) == 0) u += "user:pw@";
    if (Pick(0, 3) == 0) u += "www.";
    u += Host();
    if (Pick(0, 3) == 0) u += ":" + std::to_string(Pick(1, 65535));
    static const std::vector<std::string> paths = {"/", "/gate.php", "/a/../b", "/x?id=1", "\\a\\b", "/%41%42", "/index.html#f", ""};
    return u + MixCase(Of(paths));
  }
  std::string Token() {
    static const std::vector<std::string> words = {"MAC=00:1b:21:3a:8c:8b:00:50:56:a2:b4:25:08:00", "1:2:3:4:5:6:7:8", "0:0:0:0:0:ffff:1.2.3.4", "::ffff:102:304.", ".2001:db8::1.", "GET", "src", "dst", "user", "sshd[123]:", "12:34:56", "Nov", "30", "ok", "DENY", "-", "2026-11-30T12:00:00Z", "TCP_MISS/200", "1.2.3", "java.lang.String", "setup.py", "a::b", "::1", "fe80::1%eth0", "2001:db8::1", "2001:DB8:0:0:0:0:0:1"};
    switch (Pick(0, 11)) {
      case 0: return Of(words);
      case 1: return Of(words) + "=" + Domain();
      case 2: return Domain() + Of(std::vector<std::string>{"", ".", ":53", "-", "_", "/"});
      case 3: return Ipv4() + Of(std::vector<std::string>{"", ":80", "/24", ".", "/x"});
      case 4: return Url();
      case 5: return Hex(static_cast<size_t>(Of(std::vector<int>{32, 40, 64, 31, 33})));
      case 6: return "::ffff:" + Ipv4();
      case 7: return std::string(1, static_cast<char>(Pick(1, 255))) + Domain();
      case 8: return "bob@" + Domain();
      case 9: return Of(std::vector<std::string>{"md5:", "sha1=", "Hashes=SHA256="}) + Hex(static_cast<size_t>(Of(std::vector<int>{32, 40, 64})));
      default: return Of(words);
    }
  }
  std::mt19937 rng_;
};

// What the full extractor finds in lines, as feed values: hosts, their parents, urls.
std::vector<std::string> IndicatorsFrom(const std::vector<std::string>& lines) {
  std::set<std::string> values;
  for (const std::string& line : lines) {
    std::vector<Observable> observables;
    ExtractObservables(line, &observables);
    for (const Observable& o : observables) {
      const std::string shown = o.indicator.Display();
      values.insert(shown);
      if (o.indicator.type == IndicatorType::kDomain) {
        const size_t dot = shown.find('.');
        if (dot != std::string::npos && std::count(shown.begin(), shown.end(), '.') >= 2)
          values.insert(shown.substr(dot + 1));  // a parent domain
      }
    }
  }
  return {values.begin(), values.end()};
}

class DifferentialTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }
  std::unique_ptr<const ScanIndex> Load(const std::string& yaml) {
    auto config = ParseConfig(yaml, "test.yaml");
    EXPECT_TRUE(config.ok()) << config.status().message();
    if (!config.ok()) return nullptr;
    auto index = ScanIndex::Load(*config, nullptr);
    EXPECT_TRUE(index.ok()) << index.status().message();
    return index.ok() ? std::move(*index) : nullptr;
  }
  // The hits of text with the prefilter on or off.
  std::string Scan(const ScanIndex& index, std::string_view text, bool prefilter, ScanStats* stats) {
    ScanOptions options;
    options.now_unix_us = 1795996800000000;
    options.prefilter = prefilter;
    options.chunk_bytes = 1 << 16;
    Scanner scanner(&index, options);
    std::ostringstream out;
    EXPECT_TRUE(scanner.ScanText(text, "-", out).ok());
    *stats = scanner.stats();
    return out.str();
  }
  void ExpectSameHits(const ScanIndex& index, const std::string& text, uint64_t* hits) {
    ScanStats with, without;
    const std::string a = Scan(index, text, true, &with);
    const std::string b = Scan(index, text, false, &without);
    EXPECT_TRUE(a == b) << "the hits differ";
    EXPECT_EQ(with.hits, without.hits);
    EXPECT_EQ(with.hit_lines, without.hit_lines);
    EXPECT_EQ(with.suppressed, without.suppressed);
    EXPECT_EQ(with.lines, without.lines);
    EXPECT_EQ(without.prefiltered, 0u);
    if (a != b) {
      std::istringstream sa(a), sb(b);
      std::string la, lb;
      while (std::getline(sa, la) && std::getline(sb, lb)) {
        if (la != lb) {
          ADD_FAILURE() << "first difference:\n  with:    " << la << "\n  without: " << lb;
          break;
        }
      }
    }
    *hits = with.hits;
  }
  TempDir dir_{"prefilter-test"};
};

TEST_F(DifferentialTest, RandomLinesGiveTheSameHitsWithAndWithoutThePrefilter) {
  Soup soup(20261130);
  std::vector<std::string> lines;
  for (int i = 0; i < 20000; ++i) lines.push_back(soup.Line());
  // Indicators from the observables of the even lines (so the odd ones hit only by chance),
  // plus a few masks and ranges.
  std::vector<std::string> half;
  for (size_t i = 0; i < lines.size(); i += 2) half.push_back(lines[i]);
  std::vector<std::string> values = IndicatorsFrom(half);
  ASSERT_GT(values.size(), 1000u);
  std::ofstream feed(Path("feed.txt"));
  for (const std::string& v : values) feed << v << "\n";
  feed << "10.0.0.0/8\n1.2.0.0/16\n*.evil.com/gate*\nbad-x.*/x\n";
  feed.close();
  std::ofstream allow(Path("allow.txt"));
  allow << "8.8.8.8\n" << values[values.size() / 2] << "\n";
  allow.close();
  auto index = Load("feeds:\n  - name: f\n    path: " + Path("feed.txt") +
                    "\n    format: plain\nallowlists:\n  - name: a\n    path: " + Path("allow.txt") +
                    "\n    format: plain\n");
  ASSERT_NE(index, nullptr);
  // The AVX2 and SSE2 scans answer alike, line by line.
  {
    std::ifstream in(Path("feed.txt"));
    std::vector<std::string> listed;
    for (std::string v; std::getline(in, v);) {
      // The loader skips what does not parse; the anchorless mask would pass every line.
      if (ParseIndicator(v).ok() && v != "bad-x.*/x") listed.push_back(v);
    }
    Set set = MakeSet(listed);
    size_t candidates = 0;
    for (const std::string& l : lines) {
      ASSERT_EQ(set.filter->MayHit(l), set.sse2->MayHit(l)) << l;
      candidates += set.filter->MayHit(l);
    }
    EXPECT_LT(candidates, lines.size());
  }
  std::string text;
  for (const std::string& l : lines) text += l + (l.size() % 7 == 0 ? "\r\n" : "\n");
  uint64_t hits = 0;
  ExpectSameHits(*index, text, &hits);
  EXPECT_GT(hits, 5000u);

  // The same lines against literal indicators only (the benchmark's kind), where the
  // prefilter skips most lines.
  std::ofstream literal(Path("literal.txt"));
  for (const std::string& v : values) {
    if (v.find('/') == std::string::npos && v.find(':') == std::string::npos) literal << v << "\n";
  }
  literal.close();
  auto literal_index = Load("feeds:\n  - name: f\n    path: " + Path("literal.txt") + "\n    format: plain\n");
  ASSERT_NE(literal_index, nullptr);
  ExpectSameHits(*literal_index, text, &hits);
  EXPECT_GT(hits, 1000u);
}

// The real logs and feeds of /work/shared (when present): every feed at once against every
// log, with and without the prefilter.
TEST_F(DifferentialTest, RealLogsGiveTheSameHitsWithAndWithoutThePrefilter) {
  const char* source = std::getenv("IOCD_SOURCE_DIR");
  const std::filesystem::path shared =
      std::filesystem::path(source != nullptr ? source : ".") / ".." / "shared" / "data";
  if (!std::filesystem::is_directory(shared / "logs") || !std::filesystem::is_directory(shared / "feeds")) {
    GTEST_SKIP() << "no " << shared.string();
  }
  // The feeds as plain lists of values: one per line of every text feed file. Lines that
  // are no indicator are counted as malformed and skipped by the loader.
  std::ofstream feed(Path("shared.txt"));
  size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(shared / "feeds")) {
    if (!entry.is_regular_file() || entry.file_size() > (64u << 20)) continue;
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      for (char& c : line) if (c == ',' || c == '\t' || c == ';' || c == '"') c = '\n';
      feed << line << "\n";
    }
    ++files;
  }
  feed.close();
  ASSERT_GT(files, 0u);
  auto index = Load("feeds:\n  - name: shared\n    path: " + Path("shared.txt") + "\n    format: plain\n");
  ASSERT_NE(index, nullptr);
  uint64_t total_hits = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(shared / "logs")) {
    if (!entry.is_regular_file() || entry.file_size() > (256u << 20)) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    SCOPED_TRACE(entry.path().string());
    uint64_t hits = 0;
    ExpectSameHits(*index, buf.str(), &hits);
    total_hits += hits;
  }
  RecordProperty("hits", std::to_string(total_hits));
}

}  // namespace
}  // namespace iocd::scan
