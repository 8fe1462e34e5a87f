#include "feeds/misp.h"

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

// "line type display <- value"
std::vector<std::string> Describe(const FeedParseResult& r) {
  std::vector<std::string> out;
  for (const ParsedIndicator& p : r.indicators) {
    out.push_back(std::to_string(p.line) + " " + std::string(TypeName(p.indicator.type)) + " " +
                  p.indicator.Display() + " <- " + p.value);
  }
  return out;
}

// An event with one attribute of the given type and value (JSON string contents).
std::string OneAttribute(const std::string& type, const std::string& value) {
  return R"({"Event": {"Attribute": [{"type": ")" + type + R"(", "value": ")" + value +
         R"(", "uuid": "a1", "to_ids": true}]}})";
}

// One line per attribute outcome: the indicators ("md5 <display>"), or "skipped <reason>",
// "unsupported <reason>", "error <message>".
std::vector<std::string> Outcome(const FeedParseResult& r) {
  std::vector<std::string> out;
  for (const ParsedIndicator& p : r.indicators) {
    out.push_back(std::string(TypeName(p.indicator.type)) + " " + p.indicator.Display());
  }
  for (const auto& [reason, n] : r.skipped) out.push_back("skipped " + reason);
  for (const auto& [reason, n] : r.unsupported) out.push_back("unsupported " + reason);
  for (const FeedError& e : r.errors) out.push_back("error " + e.message);
  return out;
}

TEST(MispAttributeTest, Types) {
  const std::string kSha256 = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
  struct Case {
    std::string type, value;
    std::vector<std::string> outcome;
  };
  const Case cases[] = {
      {"ip-src", "198.51.100.7", {"ipv4 198.51.100.7"}},
      {"ip-dst", " 2001:db8::1 ", {"ipv6 2001:db8::1"}},
      {"ip-dst", "10.0.0.0/8", {"cidr4 10.0.0.0/8"}},
      {"ip-dst", "2001:db8::/32", {"cidr6 2001:db8::/32"}},
      {"ip-src|port", "198.51.100.7|443", {"ipv4 198.51.100.7"}},
      {"ip-dst|port", "2001:db8::1|0", {"ipv6 2001:db8::1"}},
      {"domain", "Evil.Example.com", {"domain evil.example.com"}},
      {"hostname", "www.evil.example", {"domain www.evil.example"}},
      {"domain|ip", "evil.example|192.0.2.1", {"domain evil.example", "ipv4 192.0.2.1"}},
      {"url", "http://evil.example/a?b=c", {"url evil.example/a?b=c"}},
      {"md5", "D41D8CD98F00B204E9800998ECF8427E", {"md5 d41d8cd98f00b204e9800998ecf8427e"}},
      {"sha1",
       "da39a3ee5e6b4b0d3255bfef95601890afd80709",
       {"sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709"}},
      {"sha256", kSha256, {"sha256 " + kSha256}},
      {"filename|md5",
       "a|b.exe|d41d8cd98f00b204e9800998ecf8427e",
       {"md5 d41d8cd98f00b204e9800998ecf8427e"}},
      {"filename|sha256", "x.dll|" + kSha256, {"sha256 " + kSha256}},
      {"link", "https://blog.example/post", {"skipped misp type link"}},
      {"sha512", "cf83", {"unsupported misp type sha512"}},
      {"uri", "/gate.php", {"unsupported misp type uri"}},
      {"regkey", "HKLM\\\\Run", {"unsupported misp type regkey"}},
      {"mutex", "Global\\\\x", {"unsupported misp type mutex"}},
      {"email-src", "a@b.example", {"unsupported misp type email-src"}},
      {"filename", "a.exe", {"unsupported misp type filename"}},
      {"ip-src",
       "evil.example",
       {"error Event.Attribute[0] (uuid a1): ip-src value 'evil.example' is not a valid IP "
        "address or CIDR"}},
      {"domain",
       "not a domain",
       {"error Event.Attribute[0] (uuid a1): domain value 'not a domain' is not a valid domain"}},
      {"md5",
       "abc",
       {"error Event.Attribute[0] (uuid a1): md5 value 'abc' is not a valid MD5 hash"}},
      {"sha1",
       "d41d8cd98f00b204e9800998ecf8427e",
       {"error Event.Attribute[0] (uuid a1): sha1 value 'd41d8cd98f00b204e9800998ecf8427e' is "
        "not a valid SHA-1 hash"}},
      {"ip-dst|port",
       "192.0.2.1",
       {"error Event.Attribute[0] (uuid a1): ip-dst|port value '192.0.2.1' has no '|' between "
        "its two parts"}},
      {"ip-dst|port",
       "192.0.2.1|65536",
       {"error Event.Attribute[0] (uuid a1): ip-dst|port value '192.0.2.1|65536' does not end "
        "in a port number 0-65535"}},
      {"ip-dst|port",
       "evil.example|80",
       {"error Event.Attribute[0] (uuid a1): ip-dst|port value 'evil.example|80' does not start "
        "with a valid IP address"}},
      // Either part bad: neither is loaded.
      {"domain|ip",
       "evil.example|nope",
       {"error Event.Attribute[0] (uuid a1): domain|ip value 'evil.example|nope' does not end "
        "in a valid IP address"}},
      {"domain|ip",
       "evil.example|1.2.3.4|5.6.7.8",
       {"error Event.Attribute[0] (uuid a1): domain|ip value 'evil.example|1.2.3.4|5.6.7.8' has "
        "more than two parts"}},
      {"filename|sha1",
       "x.exe|abc",
       {"error Event.Attribute[0] (uuid a1): filename|sha1 value 'x.exe|abc' does not end in a "
        "valid sha1 hash"}},
  };
  for (const Case& c : cases) {
    FeedParseResult r = ParseMispEvent(OneAttribute(c.type, c.value), MispOptions{});
    EXPECT_EQ(Outcome(r), c.outcome) << c.type << " " << c.value;
    EXPECT_EQ(r.lines, 1u);
  }
}

TEST(MispAttributeTest, FlagsAndOptions) {
  // to_ids false (as a boolean, "0" or 0): skipped unless include_non_ids, and then the
  // type decides. An absent to_ids counts as true. Deleted comes first.
  const std::string non_ids =
      R"({"Attribute": [{"type": "ip-dst", "value": "192.0.2.1", "to_ids": false},
                        {"type": "link", "value": "http://x.example/", "to_ids": false},
                        {"type": "text", "value": "note", "to_ids": "0"},
                        {"type": "domain", "value": "x.example", "to_ids": 0},
                        {"type": "domain", "value": "y.example"},
                        {"type": "domain", "value": "z.example", "to_ids": "1", "deleted": true}]})";
  EXPECT_THAT(Outcome(ParseMispEvent(non_ids, {})),
              ElementsAre("domain y.example", "skipped deleted", "skipped to_ids=false"));
  FeedParseResult all = ParseMispEvent(non_ids, MispOptions{.include_non_ids = true});
  EXPECT_THAT(Outcome(all), ElementsAre("ipv4 192.0.2.1", "domain x.example", "domain y.example",
                                        "skipped deleted", "skipped misp type link",
                                        "unsupported misp type text"));
  EXPECT_THAT(all.skipped, ElementsAre(Pair("deleted", 1u), Pair("misp type link", 1u)));
  EXPECT_EQ(all.lines, 6u);
}

TEST(MispAttributeTest, ContextAndTimes) {
  const std::string event = R"({"Event": {
      "info": "Campaign X", "uuid": "ev-1", "threat_level_id": 2, "date": "2024-01-31",
      "Tag": [{"name": "tlp:green"}, {"name": "misp-galaxy:mitre-attack-pattern=\"Phishing - T1566\""},
              {"name": "type:OSINT"}],
      "Attribute": [
        {"type": "ip-dst", "value": "192.0.2.1", "uuid": "a-1", "category": "Network activity",
         "comment": "  C2  ", "to_ids": true, "timestamp": "1700000000",
         "last_seen": "2024-01-31T12:00:00.250000+00:00",
         "Tag": [{"name": "TLP:AMBER+STRICT"}, {"name": "type:OSINT"},
                 {"name": "misp-galaxy:mitre-tool=\"Cobalt Strike - S0154\""}]},
        {"type": "domain", "value": "b.example", "uuid": "a-2", "to_ids": true,
         "timestamp": 1700000001, "last_seen": "not a time"},
        {"type": "domain", "value": "c.example", "to_ids": true, "timestamp": "soon"}],
      "Object": [{"name": "domain-ip", "Attribute": [
        {"type": "filename|md5", "value": "a.exe|d41d8cd98f00b204e9800998ecf8427e",
         "uuid": "a-3", "to_ids": true, "category": "Payload delivery"}]}]}})";
  FeedParseResult r = ParseMispEvent(event, {});
  ASSERT_EQ(r.indicators.size(), 4u) << ::testing::PrintToString(Errors(r));
  EXPECT_THAT(
      Context(r.indicators[0]),
      ElementsAre("event=Campaign X", "event_uuid=ev-1", "threat_level=Medium", "date=2024-01-31",
                  "category=Network activity", "comment=C2", "attribute_uuid=a-1",
                  "tags=tlp:green, misp-galaxy:mitre-attack-pattern=\"Phishing - T1566\", "
                  "type:OSINT, TLP:AMBER+STRICT, "
                  "misp-galaxy:mitre-tool=\"Cobalt Strike - S0154\"",
                  "tlp=amber+strict", "mitre_attack=Phishing - T1566, Cobalt Strike - S0154"));
  EXPECT_EQ(r.indicators[0].last_seen_unix_ms, 1706702400250);
  EXPECT_EQ(r.indicators[0].valid_until_unix_ms, 0);
  // A malformed last_seen falls back to the timestamp; a malformed timestamp gives 0.
  EXPECT_EQ(r.indicators[1].last_seen_unix_ms, 1700000001000);
  EXPECT_EQ(r.indicators[2].last_seen_unix_ms, 0);
  EXPECT_THAT(Context(r.indicators[3]),
              ElementsAre("event=Campaign X", "event_uuid=ev-1", "threat_level=Medium",
                          "date=2024-01-31", "category=Payload delivery", "attribute_uuid=a-3",
                          "object=domain-ip", "filename=a.exe",
                          "tags=tlp:green, misp-galaxy:mitre-attack-pattern=\"Phishing - T1566\", "
                          "type:OSINT",
                          "tlp=green", "mitre_attack=Phishing - T1566"));
  EXPECT_EQ(r.indicators[3].line, 4u);
}

TEST(MispEventTest, DocumentErrors) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "0: not valid JSON: "},
      {"{\"Event\": ", "0: not valid JSON: "},
      {"[]", "0: not a MISP event: the document is not a JSON object"},
      {"{\"Event\": []}", "0: not a MISP event: \"Event\" is not a JSON object"},
  };
  for (const auto& [doc, prefix] : cases) {
    FeedParseResult r = ParseMispEvent(doc, {});
    ASSERT_EQ(r.errors.size(), 1u) << doc;
    EXPECT_EQ(Errors(r)[0].substr(0, prefix.size()), prefix) << doc;
  }
  FeedParseResult bad = ParseMispEvent(
      R"({"Attribute": [17, {"value": "x"}, {"type": "md5"}], "Object": [3, {"name": "o"}]})", {});
  EXPECT_THAT(Errors(bad), ElementsAre("1: Event.Attribute[0] is not a JSON object",
                                       "2: Event.Attribute[1]: no \"type\" string",
                                       "3: Event.Attribute[2]: no \"value\" string"));
  EXPECT_THAT(ParseMispEvent("{}", {}).errors, IsEmpty());
}

TEST(MispEventTest, Fixture) {
  std::optional<std::string> content =
      ReadRepoFile("daemon/feeds/testdata/misp_event_objects.json");
  ASSERT_TRUE(content.has_value()) << "run from the repo root or set IOCD_SOURCE_DIR";
  FeedParseResult r = ParseMispEvent(*content, {});
  EXPECT_EQ(r.lines, 20u);  // 15 event attributes + 3 + 1 + 1 in objects
  // Attribute 12 repeats 203.0.113.5 and is dropped.
  EXPECT_THAT(
      Describe(r),
      ElementsAre("1 ipv4 203.0.113.5 <- 203.0.113.5", "2 ipv4 198.51.100.9 <- 198.51.100.9",
                  "3 domain c2.example.net <- c2.example.net", "3 ipv4 192.0.2.44 <- 192.0.2.44",
                  "4 url c2.example.net/panel/login.php <- https://c2.example.net/panel/login.php",
                  "5 sha256 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae <- "
                  "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
                  "13 cidr4 10.20.0.0/16 <- 10.20.0.0/16",
                  "17 md5 d41d8cd98f00b204e9800998ecf8427e <- D41D8CD98F00B204E9800998ECF8427E",
                  "18 sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709 <- "
                  "da39a3ee5e6b4b0d3255bfef95601890afd80709"));
  const std::string event_tags =
      "tags=tlp:amber, misp-galaxy:mitre-attack-pattern=\"Spearphishing Attachment - "
      "T1566.001\", misp-galaxy:threat-actor=\"Sofacy\"";
  // The attribute's tlp:red wins over the event's tlp:amber.
  EXPECT_THAT(Context(r.indicators[0]),
              ElementsAre("event=Phishing wave with Example Loader",
                          "event_uuid=5f3c1a2b-0000-4000-8000-00000000e001", "threat_level=High",
                          "date=2024-02-01", "category=Network activity", "comment=C2 server",
                          "attribute_uuid=5f3c1a2b-0000-4000-8000-0000000a0001",
                          event_tags + ", tlp:red, kill-chain:Command and Control", "tlp=red",
                          "mitre_attack=Spearphishing Attachment - T1566.001"));
  EXPECT_EQ(r.indicators[0].last_seen_unix_ms, 1706778000123);  // 10:00:00.123+01:00
  EXPECT_EQ(r.indicators[4].last_seen_unix_ms, 1700000444000);  // integer timestamp
  EXPECT_THAT(
      Context(r.indicators[5]),
      ElementsAre("event=Phishing wave with Example Loader",
                  "event_uuid=5f3c1a2b-0000-4000-8000-00000000e001", "threat_level=High",
                  "date=2024-02-01", "category=Payload delivery",
                  "attribute_uuid=5f3c1a2b-0000-4000-8000-0000000a0005", "filename=invoice.pdf.exe",
                  event_tags, "tlp=amber", "mitre_attack=Spearphishing Attachment - T1566.001"));
  // An object attribute: the object's name, its own galaxy tag added, tlp:amber once.
  EXPECT_THAT(Context(r.indicators[8]),
              ElementsAre("event=Phishing wave with Example Loader",
                          "event_uuid=5f3c1a2b-0000-4000-8000-00000000e001", "threat_level=High",
                          "date=2024-02-01", "category=Payload delivery",
                          "attribute_uuid=5f3c1a2b-0000-4000-8000-0000000a0018", "object=file",
                          event_tags + ", misp-galaxy:mitre-attack-pattern=\"User Execution - "
                                       "T1204\"",
                          "tlp=amber",
                          "mitre_attack=Spearphishing Attachment - T1566.001, User Execution - "
                          "T1204"));
  // Deleted: attribute 7 and the deleted object's attribute 19. to_ids=false: 6, 9, 20.
  EXPECT_THAT(r.skipped, ElementsAre(Pair("deleted", 2u), Pair("misp type link", 1u),
                                     Pair("to_ids=false", 3u)));
  EXPECT_THAT(r.unsupported,
              ElementsAre(Pair("misp type filename", 1u), Pair("misp type mutex", 1u),
                          Pair("misp type sha512", 1u)));
  EXPECT_THAT(Errors(r),
              ElementsAre("11: Event.Attribute[10] (uuid 5f3c1a2b-0000-4000-8000-0000000a0011): "
                          "md5 value 'xyz' is not a valid MD5 hash",
                          "14: Event.Attribute[13] (uuid 5f3c1a2b-0000-4000-8000-0000000a0014): "
                          "ip-dst|port value '192.0.2.1|99999' does not end in a port number "
                          "0-65535"));

  FeedParseResult all = ParseMispEvent(*content, MispOptions{.include_non_ids = true});
  EXPECT_EQ(all.indicators.size(), 11u);  // + mail.example.org and the object's URL
  EXPECT_THAT(all.skipped, ElementsAre(Pair("deleted", 2u), Pair("misp type link", 2u)));
}

TEST(MispManifestTest, Manifests) {
  Result<std::vector<std::string>> ok = ParseMispManifest(
      "\xEF\xBB\xBF{\"5F3C1A2B-0000-4000-8000-00000000E001\": {\"info\": \"x\"},"
      " \"0b5b2c8e-2222-4a6a-9c0f-5a1b2c3d4e02\": {},"
      " \"5F3C1A2B-0000-4000-8000-00000000E001\": {}}");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_THAT(*ok, ElementsAre("5F3C1A2B-0000-4000-8000-00000000E001",
                               "0b5b2c8e-2222-4a6a-9c0f-5a1b2c3d4e02"));
  Result<std::vector<std::string>> empty = ParseMispManifest("{}");
  ASSERT_TRUE(empty.ok());
  EXPECT_THAT(*empty, IsEmpty());

  const std::pair<std::string, std::string> bad[] = {
      {"", "MISP manifest is not valid JSON: "},
      {"[\"0b5b2c8e-2222-4a6a-9c0f-5a1b2c3d4e02\"]",
       "MISP manifest is not a JSON object keyed by event uuid"},
      {"{\"0b5b2c8e-2222-4a6a-9c0f-5a1b2c3d4e02\": {}, \"../../etc/passwd\": {}}",
       "MISP manifest key 2 '../../etc/passwd' is not an event uuid (8-4-4-4-12 hex digits)"},
      {"{\"0b5b2c8e-2222-4a6a-9c0f-5a1b2c3d4e0g\": {}}",
       "MISP manifest key 1 '0b5b2c8e-2222-4a6a-9c0f-5a1b2c3d4e0g' is not an event uuid "
       "(8-4-4-4-12 hex digits)"},
  };
  for (const auto& [doc, prefix] : bad) {
    Result<std::vector<std::string>> r = ParseMispManifest(doc);
    ASSERT_FALSE(r.ok()) << doc;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message().substr(0, prefix.size()), prefix) << doc;
  }
}

TEST(MispManifestTest, FeedDirectoryFixture) {
  const std::string dir = "daemon/feeds/testdata/misp_feed/";
  std::optional<std::string> manifest = ReadRepoFile(dir + "manifest.json");
  ASSERT_TRUE(manifest.has_value()) << "run from the repo root or set IOCD_SOURCE_DIR";
  Result<std::vector<std::string>> uuids = ParseMispManifest(*manifest);
  ASSERT_TRUE(uuids.ok()) << uuids.status().ToString();
  ASSERT_THAT(*uuids, ElementsAre("0b5b2c8e-1111-4a6a-9c0f-5a1b2c3d4e01",
                                  "0b5b2c8e-2222-4a6a-9c0f-5a1b2c3d4e02"));

  std::optional<std::string> first = ReadRepoFile(dir + (*uuids)[0] + ".json");
  ASSERT_TRUE(first.has_value());
  FeedParseResult r1 = ParseMispEvent(*first, {});
  EXPECT_THAT(Describe(r1), ElementsAre("1 domain first.example.com <- first.example.com",
                                        "2 ipv6 2001:db8:1::7 <- 2001:db8:1::7"));
  EXPECT_THAT(Context(r1.indicators[1]),
              ElementsAre("event=First event", "event_uuid=0b5b2c8e-1111-4a6a-9c0f-5a1b2c3d4e01",
                          "threat_level=Medium", "date=2024-03-01", "category=Network activity",
                          "attribute_uuid=0b5b2c8e-1111-4a6a-9c0f-00000000a002", "tags=TLP:GREEN",
                          "tlp=green"));
  EXPECT_EQ(r1.indicators[1].last_seen_unix_ms, 1709251201000);

  // The second file is a bare event object; each event file is parsed on its own, so
  // first.example.com is listed again here (the store keeps one entry per feed).
  std::optional<std::string> second = ReadRepoFile(dir + (*uuids)[1] + ".json");
  ASSERT_TRUE(second.has_value());
  FeedParseResult r2 = ParseMispEvent(*second, {});
  EXPECT_THAT(
      Describe(r2),
      ElementsAre("1 sha256 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
                  " <- 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
                  "2 domain first.example.com <- first.example.com"));
  EXPECT_THAT(
      Context(r2.indicators[0]),
      ElementsAre("event=Second event", "event_uuid=0b5b2c8e-2222-4a6a-9c0f-5a1b2c3d4e02",
                  "threat_level=Undefined", "date=2024-03-02", "category=Payload delivery",
                  "comment=dropper", "attribute_uuid=0b5b2c8e-2222-4a6a-9c0f-00000000a001"));
  EXPECT_THAT(r1.errors, IsEmpty());
  EXPECT_THAT(r2.errors, IsEmpty());
}

// Expected numbers verified with python3 from the repo root:
//   python3 -c "import json,collections; e=json.load(open(
//     '../shared/data/feeds/misp_event_circl_xorist_57c4445b.json'))['Event'];
//     print([(a['type'], a['to_ids']) for a in e['Attribute']], e.get('Object'))"
// 9 attributes, no objects: link x2, comment, text with to_ids false (4 skipped);
// filename and regkey|value with to_ids true (unsupported); md5, sha1, sha256 (indicators).
TEST(MispEventTest, RealCirclXoristEvent) {
  std::optional<std::string> content =
      ReadRepoFile("../shared/data/feeds/misp_event_circl_xorist_57c4445b.json");
  if (!content)
    GTEST_SKIP() << "../shared/data/feeds/misp_event_circl_xorist_57c4445b.json not present";
  FeedParseResult r = ParseMispEvent(*content, {});
  EXPECT_EQ(r.lines, 9u);
  EXPECT_THAT(
      Describe(r),
      ElementsAre("6 md5 0749bae92ca336a02c83d126e04ec628 <- 0749bae92ca336a02c83d126e04ec628",
                  "7 sha1 77b0c41b7d340b8a3d903f21347bbf06aa766b5b <- "
                  "77b0c41b7d340b8a3d903f21347bbf06aa766b5b",
                  "8 sha256 b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68 <- "
                  "b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68"));
  EXPECT_THAT(r.skipped, ElementsAre(Pair("to_ids=false", 4u)));
  EXPECT_THAT(r.unsupported,
              ElementsAre(Pair("misp type filename", 1u), Pair("misp type regkey|value", 1u)));
  EXPECT_THAT(r.errors, IsEmpty());
  EXPECT_THAT(
      Context(r.indicators[0]),
      ElementsAre("event=Ransomware - Xorist", "event_uuid=57c4445b-c548-4654-af0b-4be3950d210f",
                  "threat_level=Low", "date=2016-08-29", "category=Payload delivery",
                  "comment=Imported via the Freetext Import Tool",
                  "attribute_uuid=57c4448b-454c-4d17-90d1-4d2f950d210f",
                  "tags=tlp:white, circl:incident-classification=\"malware\", "
                  "ms-caro-malware:malware-type=\"Ransom\", "
                  "malware_classification:malware-category=\"Ransomware\"",
                  "tlp=white"));
  EXPECT_EQ(r.indicators[0].last_seen_unix_ms, 1472480395000);

  FeedParseResult all = ParseMispEvent(*content, MispOptions{.include_non_ids = true});
  EXPECT_EQ(all.indicators.size(), 3u);
  EXPECT_THAT(all.skipped, ElementsAre(Pair("misp type link", 2u)));
  EXPECT_THAT(all.unsupported,
              ElementsAre(Pair("misp type comment", 1u), Pair("misp type filename", 1u),
                          Pair("misp type regkey|value", 1u), Pair("misp type text", 1u)));
}

// Random bytes, and random mutations of the fixtures, never crash the parsers.
TEST(MispEventTest, RandomInputDoesNotCrash) {
  std::mt19937 rng(20240502);
  std::optional<std::string> fixture =
      ReadRepoFile("daemon/feeds/testdata/misp_event_objects.json");
  ASSERT_TRUE(fixture.has_value());
  size_t sink = 0;
  for (int i = 0; i < 10000; ++i) {
    std::string bytes(rng() % 200, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    sink += ParseMispEvent(bytes, {}).errors.size();
    sink += ParseMispManifest(bytes).ok() ? 0 : 1;
    if (i % 10 == 0) {
      std::string mutated = *fixture;
      for (int m = 0; m < 4; ++m) mutated[rng() % mutated.size()] = static_cast<char>(rng());
      sink +=
          ParseMispEvent(mutated, MispOptions{.include_non_ids = (i % 20 == 0)}).indicators.size();
    }
  }
  EXPECT_GT(sink, 0u);
}

}  // namespace
}  // namespace iocd
