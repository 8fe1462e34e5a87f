#include "rules/source_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "config/config.h"

namespace iocd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Compiles the sources of a YAML config (loaded and validated like iocd's own).
std::unique_ptr<SourceRules> Compile(const std::string& yaml) {
  Result<LoadedConfig> loaded = ParseConfigWithPositions(yaml, "iocd.yaml");
  EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
  if (!loaded.ok()) return nullptr;
  Result<std::unique_ptr<SourceRules>> rules = SourceRules::Build(*loaded);
  EXPECT_TRUE(rules.ok()) << rules.status().ToString();
  return rules.ok() ? std::move(*rules) : nullptr;
}

// The error lines of compiling the sources of a YAML config that maps and validates.
std::string BuildError(const std::string& yaml) {
  Result<LoadedConfig> loaded = ParseConfigWithPositions(yaml, "iocd.yaml");
  if (!loaded.ok()) return "config: " + loaded.status().message();
  Result<std::unique_ptr<SourceRules>> rules = SourceRules::Build(*loaded);
  return rules.ok() ? "" : rules.status().message();
}

// "type field text@offset" per observable.
std::vector<std::string> Describe(const SourceMatch& m) {
  std::vector<std::string> out;
  for (const FieldObservable& f : m.observables) {
    out.push_back(std::string(TypeName(f.observable.indicator.type)) + " " + f.field + " " +
                  std::string(f.observable.text) + "@" + std::to_string(f.observable.offset));
  }
  return out;
}

// The one source of a config with a default source holding these rule lines.
const CompiledSource& Only(const SourceRules& rules) {
  const CompiledSource* s = rules.Select("", "");
  EXPECT_NE(s, nullptr);
  return *s;
}

TEST(SourceRulesTest, EachRuleTypeYieldsItsObservablesUnderTheRuleName) {
  auto rules = Compile(R"(sources:
  - name: proxy
    rules:
      - {name: dst, regex: 'dst=\d+\.\d+\.\d+\.\d+', type: ip}
      - {name: host, regex: '[a-z]+\.example\.org', type: domain}
      - {name: req, regex: 'https?://[^ ]+', type: url}
      - {name: md5, regex: '\b[0-9a-f]{32}\b', type: md5}
      - {name: sha1, regex: '\b[0-9a-f]{40}\b', type: sha1}
      - {name: sha256, regex: '\b[0-9a-f]{64}\b', type: sha256}
)");
  ASSERT_NE(rules, nullptr);
  const std::string md5(32, 'a'), sha1(40, 'b'), sha256(64, 'c');
  // "dst=" is part of the ip rule's match: ParseIndicator does not read it, so it is rejected.
  const std::string msg = "dst=10.1.2.3 www.example.org http://Evil.COM/x " + md5 + " " + sha1 + " " + sha256;
  SourceMatch m;
  Only(*rules).Apply(msg, &m);
  EXPECT_THAT(Describe(m), ElementsAre("domain host www.example.org@13", "url req http://Evil.COM/x@29",
                                       "domain req Evil.COM@36", "md5 md5 " + md5 + "@47",
                                       "sha1 sha1 " + sha1 + "@80", "sha256 sha256 " + sha256 + "@121"));
  EXPECT_EQ(m.rejected, 1u);
  EXPECT_EQ(m.observables[1].observable.indicator.key, "evil.com/x");
  EXPECT_FALSE(m.ignored);
  EXPECT_EQ(m.text, msg);
}

TEST(SourceRulesTest, CaptureGroupOneIsTheValue) {
  auto rules = Compile(R"y(sources:
  - name: fw
    rules:
      - {name: src, regex: 'src=(\d+\.\d+\.\d+\.\d+)', type: ip}
      - {name: user, regex: 'user="([^"]*)"', type: context}
      - {name: site, regex: '(?i)HOST: ([a-z.]+)', type: domain}
)y");
  ASSERT_NE(rules, nullptr);
  SourceMatch m;
  Only(*rules).Apply(R"(src=192.0.2.7 user="alice b" host: Evil.com)", &m);
  EXPECT_THAT(Describe(m), ElementsAre("ipv4 src 192.0.2.7@4", "domain site Evil.com@35"));
  EXPECT_THAT(m.context, ElementsAre(ContextValue{"user", "alice b"}));
}

TEST(SourceRulesTest, CaptureGroupsInPcreSyntaxAndReplacementGroups) {
  // Groups are read with PCRE2, the dialect Vectorscan's patterns are written in: named
  // groups of every spelling work, and $n / $& / $$ in a replacement.
  auto rules = Compile(R"y(sources:
  - name: fw
    replace:
      - {regex: 'user\((\w+)\)@(\w+)', with: '$2$$$1 [$&] $x'}
    rules:
      - {name: py, regex: 'a=(?P<v>\w+)', type: context}
      - {name: perl, regex: 'b=(?<v>\w+)', type: context}
      - {name: who, regex: '\w+\$\w+', type: context}
)y");
  ASSERT_NE(rules, nullptr);
  SourceMatch m;
  Only(*rules).Apply("a=one b=two user(bob)@corp", &m);
  EXPECT_EQ(m.text, "a=one b=two corp$bob [user(bob)@corp] $x");
  EXPECT_EQ(m.replaced, 1u);
  EXPECT_THAT(m.context, ElementsAre(ContextValue{"py", "one"}, ContextValue{"perl", "two"},
                                     ContextValue{"who", "corp$bob"}));
  EXPECT_EQ(m.context[0].value.data(), m.text.data() + 2);
}

TEST(SourceRulesTest, ExtractFirstKeepsTheLeftmostValidValue) {
  auto rules = Compile(R"(sources:
  - name: s
    rules:
      - {name: all, regex: 'a=\S+', type: context}
      - {name: first, regex: 'b=(\S+)', type: ip, extract: first}
)");
  ASSERT_NE(rules, nullptr);
  SourceMatch m;
  Only(*rules).Apply("a=1 b=999.0.0.1 a=2 b=10.0.0.1 b=10.0.0.2 a=3", &m);
  EXPECT_THAT(Describe(m), ElementsAre("ipv4 first 10.0.0.1@22"));
  EXPECT_EQ(m.rejected, 1u);  // 999.0.0.1
  EXPECT_THAT(m.context, ElementsAre(ContextValue{"all", "a=1"}, ContextValue{"all", "a=2"},
                                     ContextValue{"all", "a=3"}));
}

TEST(SourceRulesTest, MatchesAreLeftmostLongestAndDoNotOverlap) {
  auto rules = Compile(R"(sources:
  - name: s
    rules:
      - {name: lazy, regex: 'x.*?y', type: context}
      - {name: digits, regex: '\d+', type: context}
)");
  ASSERT_NE(rules, nullptr);
  SourceMatch m;
  Only(*rules).Apply("x1y2y 34", &m);
  // A lazy quantifier behaves as greedy (docs/rules.md); "\d+" takes 1, 2 and 34 whole.
  EXPECT_THAT(m.context, ElementsAre(ContextValue{"lazy", "x1y2y"}, ContextValue{"digits", "1"},
                                     ContextValue{"digits", "2"}, ContextValue{"digits", "34"}));
}

TEST(SourceRulesTest, PatternWithoutStartOfMatchFallsBackToPcre2) {
  // Vectorscan: "Pattern is too large" with HS_FLAG_SOM_LEFTMOST, fine without it.
  auto rules = Compile(R"(sources:
  - name: s
    rules:
      - {name: far, regex: '(foo|bar).{100,300}baz', type: context}
      - {name: ip, regex: '\d+\.\d+\.\d+\.\d+', type: ip}
)");
  ASSERT_NE(rules, nullptr);
  SourceMatch m;
  const std::string msg = "1.2.3.4 bar" + std::string(150, '-') + "baz foo" + std::string(99, '-') + "baz";
  Only(*rules).Apply(msg, &m);
  EXPECT_THAT(m.context, ElementsAre(ContextValue{"far", "bar"}));
  EXPECT_EQ(m.context[0].value.data(), m.text.data() + 8);
  EXPECT_THAT(Describe(m), ElementsAre("ipv4 ip 1.2.3.4@0"));
  Only(*rules).Apply("no match here 5.6.7.8", &m);
  EXPECT_TRUE(m.context.empty());
  EXPECT_THAT(Describe(m), ElementsAre("ipv4 ip 5.6.7.8@14"));
}

TEST(SourceRulesTest, AnIndicatorIsReportedOncePerEvent) {
  auto rules = Compile(R"(sources:
  - name: s
    rules:
      - {name: a, regex: 'evil\.com', type: domain}
      - {name: b, regex: 'https?://[^ ]+', type: url}
)");
  ASSERT_NE(rules, nullptr);
  SourceMatch m;
  Only(*rules).Apply("http://evil.com/x evil.com", &m);
  EXPECT_THAT(Describe(m), ElementsAre("url b http://evil.com/x@0", "domain b evil.com@7"));
}

TEST(SourceRulesTest, ReplaceRulesRunInOrderBeforeExtraction) {
  auto rules = Compile(R"(sources:
  - name: s
    replace:
      - {regex: 'hxxp', with: 'http'}
      - {regex: '(\w+)\[\.\](\w+)', with: '$1.$2'}
      - {regex: 'junk '}
    rules:
      - {name: u, regex: 'https?://\S+', type: url}
)");
  ASSERT_NE(rules, nullptr);
  SourceMatch m;
  const std::string msg = "junk hxxp://evil[.]com/a junk hxxps://b[.]org/c";
  Only(*rules).Apply(msg, &m);
  EXPECT_EQ(m.text, "http://evil.com/a https://b.org/c");
  EXPECT_EQ(m.replaced, 6u);
  EXPECT_THAT(Describe(m), ElementsAre("url u http://evil.com/a@0", "domain u evil.com@7",
                                       "url u https://b.org/c@18", "domain u b.org@26"));
  // The observables point into the rewritten text, which the SourceMatch owns.
  EXPECT_EQ(m.observables[0].observable.text.data(), m.text.data());
}

TEST(SourceRulesTest, IgnoredEventsYieldNothing) {
  auto rules = Compile(R"(sources:
  - name: s
    replace: [{regex: 'NOISE', with: 'health-check'}]
    ignore: ['^health', 'GET /status']
    rules: [{name: ip, regex: '\d+\.\d+\.\d+\.\d+', type: ip}]
)");
  ASSERT_NE(rules, nullptr);
  SourceMatch m;
  Only(*rules).Apply("NOISE from 10.0.0.1", &m);  // ignored after the rewrite
  EXPECT_TRUE(m.ignored);
  EXPECT_TRUE(m.observables.empty());
  Only(*rules).Apply("10.0.0.1 GET /status", &m);
  EXPECT_TRUE(m.ignored);
  Only(*rules).Apply("10.0.0.1 GET /login", &m);
  EXPECT_FALSE(m.ignored);
  EXPECT_THAT(Describe(m), ElementsAre("ipv4 ip 10.0.0.1@0"));
}

TEST(SourceRulesTest, SelectsBySenderHostnameThenDefault) {
  auto rules = Compile(R"(sources:
  - name: catchall
    builtin_extraction: false
  - name: fw
    senders: [10.1.0.0/16, 192.0.2.9, '2001:db8::/32']
  - name: proxies
    hostnames: ['proxy-*.corp', 'Squid']
  - name: overlap
    senders: [10.1.2.3]
)");
  ASSERT_NE(rules, nullptr);
  EXPECT_EQ(rules->size(), 4u);
  auto name = [&](std::string_view sender, std::string_view host) {
    const CompiledSource* s = rules->Select(sender, host);
    return s == nullptr ? std::string("none") : s->name();
  };
  EXPECT_EQ(name("10.1.200.3:514", ""), "fw");
  EXPECT_EQ(name("10.1.2.3:514", ""), "fw");  // config order: fw comes before overlap
  EXPECT_EQ(name("192.0.2.9", ""), "fw");
  EXPECT_EQ(name("[2001:db8::1]:6514", ""), "fw");
  EXPECT_EQ(name("2001:db8::1", ""), "fw");
  EXPECT_EQ(name("[::ffff:192.0.2.9]:514", ""), "fw");
  EXPECT_EQ(name("192.0.2.10:514", "PROXY-7.CORP"), "proxies");
  EXPECT_EQ(name("unix:pid=12", "squid"), "proxies");
  EXPECT_EQ(name("192.0.2.10:514", "proxy-7.corp.example"), "catchall");
  EXPECT_EQ(name("garbage", ""), "catchall");
  EXPECT_FALSE(rules->Select("", "")->builtin_extraction());
  EXPECT_TRUE(rules->Select("192.0.2.9", "")->builtin_extraction());

  auto no_default = Compile("sources: [{name: fw, senders: [10.0.0.0/8]}]\n");
  ASSERT_NE(no_default, nullptr);
  EXPECT_EQ(no_default->Select("11.0.0.1:1", "x"), nullptr);
  SourceMatch m;
  no_default->Select("10.0.0.1:1", "")->Apply("a 10.0.0.1 b", &m);  // no rules: nothing found
  EXPECT_TRUE(m.observables.empty());
  EXPECT_EQ(m.text, "a 10.0.0.1 b");
}

TEST(SourceRulesTest, HostnamePatterns) {
  EXPECT_TRUE(HostnameMatches("fw-*", "FW-01"));
  EXPECT_TRUE(HostnameMatches("*", ""));
  EXPECT_TRUE(HostnameMatches("*.corp", "a.b.corp"));
  EXPECT_TRUE(HostnameMatches("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(HostnameMatches("a*b*c", "aXbYbZ"));
  EXPECT_FALSE(HostnameMatches("fw", "fw1"));
  EXPECT_FALSE(HostnameMatches("", "x"));
}

TEST(SourceRulesTest, BadPatternsAreErrorsNamingSourceRuleAndEngine) {
  EXPECT_EQ(BuildError(R"(sources:
  - name: fw
    rules:
      - {name: ok, regex: 'a+', type: context}
      - {name: broken, regex: 'a(b', type: ip}
)"),
            "iocd.yaml:5:31: sources[0].rules[1].regex: source 'fw', rule 'broken': 'a(b': Vectorscan: "
            "Missing close parenthesis for group started at index 1.");
  EXPECT_THAT(BuildError("sources: [{name: fw, ignore: ['(?<=x)y', 'ok'], replace: [{regex: '[z'}]}]\n"),
              testing::AllOf(HasSubstr("iocd.yaml:1:31: sources[0].ignore[0]: source 'fw', ignore pattern "
                                       "'(?<=x)y': Vectorscan: "),
                             HasSubstr("sources[0].replace[0].regex: source 'fw', replace: '[z': Vectorscan: ")));
  // Matching the empty string would report every offset.
  EXPECT_THAT(BuildError("sources: [{name: fw, rules: [{name: r, regex: 'a*', type: context}]}]\n"),
              HasSubstr("rule 'r': 'a*': Vectorscan: "));
}

TEST(SourceRulesTest, StructuralErrorsFromBuildWithoutConfigValidation) {
  google::protobuf::RepeatedPtrField<config::Source> sources;
  config::Source* a = sources.Add();
  a->set_name("a");
  a->add_senders("10.0.0.0/33");
  config::SourceRule* r = a->add_rules();
  r->set_name("r");
  r->set_regex("x");
  r->set_type("ipv4");
  r->set_extract("some");
  sources.Add()->set_name("d1");
  sources.Add()->set_name("d2");
  Result<std::unique_ptr<SourceRules>> rules = SourceRules::Build(sources);
  ASSERT_FALSE(rules.ok());
  EXPECT_EQ(rules.status().message(),
            "sources[0].senders[0]: source 'a': expected an IP address or CIDR, got '10.0.0.0/33'\n"
            "sources[0].rules[0].type: source 'a', rule 'r': type must be url, ip, domain, md5, sha1, "
            "sha256 or context, got 'ipv4'\n"
            "sources[0].rules[0].extract: source 'a', rule 'r': extract must be all or first, got 'some'\n"
            "sources[2]: source 'd2': a second default source (no senders or hostnames); 'd1' is one already");
}

TEST(SourceRulesTest, ConfigValidationChecksSourcesWithLines) {
  std::vector<ConfigError> errors;
  Result<LoadedConfig> loaded = ParseConfigWithPositions(R"(sources:
  - name: fw
    senders: [bad]
    rules:
      - {name: r, regex: 'x', type: hash, extract: last}
      - {name: r, type: ip}
  - name: fw
)",
                                                         "iocd.yaml", &errors);
  ASSERT_FALSE(loaded.ok());
  std::vector<std::string> lines;
  for (const ConfigError& e : errors) lines.push_back(e.ToString());
  EXPECT_THAT(lines, ElementsAre(
                         "iocd.yaml:3:15: sources[0].senders[0]: expected an IP address or CIDR, got 'bad'",
                         "iocd.yaml:5:37: sources[0].rules[0].type: expected url, ip, domain, md5, sha1, "
                         "sha256 or context, got 'hash'",
                         "iocd.yaml:5:52: sources[0].rules[0].extract: expected all or first, got 'last'",
                         "iocd.yaml:6:9: sources[0].rules[1].regex: required",
                         "iocd.yaml:6:16: sources[0].rules[1].name: duplicate rule name 'r' in this source",
                         "iocd.yaml:7:11: sources[1].name: duplicate name 'fw', already used by sources[0]"));
  Result<LoadedConfig> ok = ParseConfigWithPositions("sources: [{name: fw, rules: [{name: r, regex: x, type: ip}]}]\n",
                                                     "iocd.yaml");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(ok->config.sources(0).builtin_extraction());  // defaults applied
  EXPECT_EQ(ok->config.sources(0).rules(0).extract(), "all");
}

TEST(SourceRulesTest, BinaryAndHugeInputNeverCrash) {
  auto rules = Compile(R"(sources:
  - name: s
    replace: [{regex: '(a+)', with: '<$1>'}]
    rules:
      - {name: any, regex: '(.+)', type: context}
      - {name: u, regex: 'http://\S+', type: url}
      - {name: d, regex: '\S+\.\S+', type: domain}
)");
  ASSERT_NE(rules, nullptr);
  std::string binary;
  for (int i = 0; i < 4096; ++i) binary.push_back(static_cast<char>(i * 7));
  binary += "\xff\xfe http://\xc3\xa9vil.com/\x00x \xe2\x82 Bücher.de";
  SourceMatch m;
  Only(*rules).Apply(binary, &m);
  EXPECT_EQ(m.scan_errors, 0u);
  // A capture span longer than kMaxCaptureSpan is not handed to PCRE2: left as is.
  const std::string huge(1 << 20, 'a');
  Only(*rules).Apply(huge, &m);
  EXPECT_EQ(m.text, huge);
  EXPECT_EQ(m.replaced, 0u);
  EXPECT_EQ(m.rejected, 1u);  // "(.+)" over 1 MiB
  Only(*rules).Apply(std::string_view(), &m);
  EXPECT_TRUE(m.observables.empty());
  EXPECT_EQ(m.scan_errors, 0u);
  EXPECT_TRUE(m.context.empty());
}

TEST(SourceRulesTest, ManyThreadsGetTheSameAnswers) {
  auto rules = Compile(R"(sources:
  - name: s
    replace: [{regex: '\[\.\]', with: '.'}]
    ignore: ['^skip']
    rules:
      - {name: ip, regex: 'ip=(\S+)', type: ip}
      - {name: u, regex: 'https?://\S+', type: url}
      - {name: who, regex: 'user=\w+', type: context}
)");
  ASSERT_NE(rules, nullptr);
  constexpr int kThreads = 8;
  constexpr int kRounds = 2000;
  std::vector<int> good(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      SourceMatch m;
      for (int i = 0; i < kRounds; ++i) {
        const std::string msg = "ip=10.0." + std::to_string(t) + "." + std::to_string(i % 250) +
                                " user=u" + std::to_string(t) + " http://e[.]com/" + std::to_string(i);
        rules->Select("1.2.3.4:5", "")->Apply(msg, &m);
        const bool ok = m.observables.size() == 3 && m.context.size() == 1 &&
                        m.observables[0].observable.text ==
                            "10.0." + std::to_string(t) + "." + std::to_string(i % 250) &&
                        m.observables[1].observable.indicator.key == "e.com/" + std::to_string(i) &&
                        m.context[0].value == "user=u" + std::to_string(t);
        rules->Select("", "")->Apply("skip " + msg, &m);
        good[t] += ok && m.ignored ? 1 : 0;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(good[t], kRounds) << "thread " << t;
}

}  // namespace
}  // namespace iocd

namespace iocd {
namespace {

TEST(SourceRulesTest, ExampleConfigSourcesCompileAndWork) {
  const char* src = std::getenv("IOCD_SOURCE_DIR");
  const std::string path = std::string(src != nullptr ? src : ".") + "/config/iocd.example.yaml";
  Result<LoadedConfig> loaded = LoadConfigFileWithPositions(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  Result<std::unique_ptr<SourceRules>> rules = SourceRules::Build(*loaded);
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  const CompiledSource* squid = (*rules)->Select("10.20.3.4:40000", "");
  ASSERT_NE(squid, nullptr);
  EXPECT_EQ(squid->name(), "squid");
  EXPECT_FALSE(squid->builtin_extraction());
  SourceMatch m;
  squid->Apply("1157689320.327   2864 10.105.21.199 TCP_MISS/200 10182 GET hxxp://www.evil[.]com/ badeyek "
               "DIRECT/207.58.145.61 text/html",
               &m);
  EXPECT_THAT(Describe(m), ElementsAre("ipv4 client 10.105.21.199@22", "url url http://www.evil.com/@59",
                                       "domain url www.evil.com@66", "ipv4 server 207.58.145.61@95"));
  EXPECT_THAT(m.context, ElementsAre(ContextValue{"user", "badeyek"}));
  squid->Apply("1157689320.327 1 10.0.0.1 TCP_HIT/200 1 GET http://update.corp.example/x - DIRECT/-", &m);
  EXPECT_TRUE(m.ignored);
  EXPECT_EQ((*rules)->Select("10.21.0.1:1", "PROXY-2.corp.example")->name(), "squid");
}

}  // namespace
}  // namespace iocd
