// SpooledOutputs against real sockets on 127.0.0.1, real files and a real RocksDB spool in
// a temp dir. Waits end as soon as the awaited data or counter is there; the deadlines only
// guard against hangs.
#include "output/spooled_output.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "common/temp_dir.h"
#include "output/test_socket.h"

namespace iocd {
namespace {

using output_test::Clock;
using output_test::RemainingMs;
using output_test::TestConnection;
using output_test::TestListener;

Clock::time_point Guard() { return Clock::now() + std::chrono::seconds(20); }

bool WaitUntil(const std::function<bool()>& pred) {
  const auto deadline = Guard();
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polling, not synchronisation
  }
  return true;
}

std::shared_ptr<const iocd::hit::Hit> MakeHit(int i, uint32_t confidence = 50) {
  auto hit = std::make_shared<iocd::hit::Hit>();
  hit->set_id("hit-" + std::to_string(i));
  hit->set_observable("10.0.0." + std::to_string(i));
  hit->set_observable_type("ipv4");
  auto* e = hit->add_enrichments();
  e->set_feed("demo");
  e->set_indicator(hit->observable());
  e->set_indicator_type("ipv4");
  e->set_confidence(confidence);
  return hit;
}

iocd::config::Output Template(const std::string& name, iocd::config::OutputProtocol protocol) {
  iocd::config::Output o;
  o.set_name(name);
  o.set_protocol(protocol);
  o.set_format(iocd::config::OUTPUT_FORMAT_TEMPLATE);
  o.set_line_template("%HitId%");
  return o;
}

iocd::config::Output Tcp(const std::string& name, uint16_t port) {
  auto o = Template(name, iocd::config::OUTPUT_PROTOCOL_TCP);
  o.set_address("127.0.0.1:" + std::to_string(port));
  return o;
}

iocd::config::Output File(const std::string& name, const std::string& path) {
  auto o = Template(name, iocd::config::OUTPUT_PROTOCOL_FILE);
  o.set_path(path);
  return o;
}

std::vector<std::string> FileLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> Ids(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) out.push_back("hit-" + std::to_string(i));
  return out;
}

class SpooledOutputsTest : public ::testing::Test {
 protected:
  std::unique_ptr<SpooledOutputs> Open(std::vector<iocd::config::Output> outputs, uint64_t max_records = 1000000,
                                       std::chrono::milliseconds confirm_delay = std::chrono::milliseconds(0),
                                       std::chrono::milliseconds min_round_gap = std::chrono::milliseconds(0)) {
    SpooledOutputsOptions o;
    o.min_round_gap = min_round_gap;
    o.spool_path = dir_.path() + "/spool";
    o.outputs = std::move(outputs);
    o.max_records = max_records;
    o.backoff_base = std::chrono::milliseconds(5);
    o.backoff_cap = std::chrono::milliseconds(50);
    o.confirm_delay = confirm_delay;
    auto r = SpooledOutputs::Open(std::move(o));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  OutputStats StatsOf(SpooledOutputs& s, const std::string& name) {
    for (auto& [n, st] : s.output_stats()) {
      if (n == name) return st;
    }
    return {};
  }

  // Shuts `out` down and expects `output` to have delivered all `hits` submitted, once
  // each, leaving the spool empty.
  void ShutDownAllDelivered(SpooledOutputs& out, const std::string& output, uint64_t hits) {
    out.Shutdown(Guard());
    OutputStats s = StatsOf(out, output);
    EXPECT_EQ(s.submitted, hits);
    EXPECT_EQ(s.delivered, hits);
    EXPECT_EQ(s.resent, 0u);
    EXPECT_EQ(s.pending, 0u);
    EXPECT_EQ(out.spool_stats().records, 0u);
  }

  TempDir dir_;
};

TEST_F(SpooledOutputsTest, TcpDeliversInOrderAndAcknowledges) {
  TestListener siem;
  auto out = Open({Tcp("siem", siem.port())});
  for (int i = 0; i < 5; ++i) out->Submit(MakeHit(i));
  TestConnection c(siem.Accept(Guard()));
  EXPECT_EQ(c.ReadLines(5, Guard()), Ids(0, 5));
  ShutDownAllDelivered(*out, "siem", 5);
}

// With a minimum gap between delivery rounds, hits submitted one by one while rounds are
// held back are still all delivered, once each and in order, and a shutdown does not wait
// for a gap to end.
TEST_F(SpooledOutputsTest, MinRoundGapDeliversEveryHitInOrder) {
  TestListener siem;
  auto out = Open({Tcp("siem", siem.port())}, 1000000, std::chrono::milliseconds(0), std::chrono::milliseconds(20));
  TestConnection c(siem.Accept(Guard()));
  for (int i = 0; i < 40; ++i) out->Submit(MakeHit(i));
  EXPECT_EQ(c.ReadLines(40, Guard()), Ids(0, 40));
  for (int i = 40; i < 60; ++i) out->Submit(MakeHit(i));
  EXPECT_EQ(c.ReadLines(20, Guard()), Ids(40, 60));
  ShutDownAllDelivered(*out, "siem", 60);
}

TEST_F(SpooledOutputsTest, OctetCountedFraming) {
  TestListener siem;
  auto config = Tcp("siem", siem.port());
  config.set_framing(iocd::config::OUTPUT_FRAMING_OCTET_COUNTED);
  auto out = Open({config});
  out->Submit(MakeHit(1));
  out->Submit(MakeHit(22));
  TestConnection c(siem.Accept(Guard()));
  EXPECT_EQ(c.ReadBytes(15, Guard()), "5 hit-16 hit-22");
}

TEST_F(SpooledOutputsTest, UdpSendsOneDatagramPerHit) {
  TestListener siem(SOCK_DGRAM);
  auto config = Template("udp", iocd::config::OUTPUT_PROTOCOL_UDP);
  config.set_address("127.0.0.1:" + std::to_string(siem.port()));
  auto out = Open({config});
  out->Submit(MakeHit(7));
  out->Submit(MakeHit(8));
  std::vector<std::string> got;
  for (int i = 0; i < 2; ++i) {
    pollfd p{siem.fd(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, RemainingMs(Guard())), 1);
    char buf[512];
    const ssize_t n = ::recv(siem.fd(), buf, sizeof(buf), 0);
    got.emplace_back(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(got, Ids(7, 9));
}

TEST_F(SpooledOutputsTest, FiltersPerOutputAndFileRotation) {
  const std::string all = dir_.path() + "/all.log", high = dir_.path() + "/high.log";
  auto rotating = File("all", all);
  rotating.set_max_file_bytes(30);  // "hit-N\n" is 6 bytes: five lines per file
  rotating.set_max_files(5);
  auto filtered = File("high", high);
  filtered.mutable_filter()->set_min_confidence(80);
  auto out = Open({rotating, filtered});
  for (int i = 0; i < 12; ++i) out->Submit(MakeHit(i, i % 3 == 0 ? 90 : 10));
  out->Shutdown(Guard());
  EXPECT_EQ(FileLines(all + ".2"), Ids(0, 5));
  EXPECT_EQ(FileLines(all + ".1"), Ids(5, 10));
  EXPECT_EQ(FileLines(all), Ids(10, 12));
  EXPECT_EQ(FileLines(high), (std::vector<std::string>{"hit-0", "hit-3", "hit-6", "hit-9"}));
  OutputStats s = StatsOf(*out, "high");
  EXPECT_EQ(s.delivered, 4u);
  EXPECT_EQ(s.filtered, 8u);
  EXPECT_EQ(s.pending, 0u);
}

TEST_F(SpooledOutputsTest, EventsRouteServiceEventsAndFilterAppliesToHitsOnly) {
  const std::string hits = dir_.path() + "/hits.log", svc = dir_.path() + "/svc.log", all = dir_.path() + "/all.log";
  auto hits_only = File("hits", hits);  // events unspecified: hits
  auto svc_only = File("svc", svc);
  svc_only.set_events(iocd::config::OUTPUT_EVENTS_SERVICE);
  auto both = File("all", all);
  both.set_events(iocd::config::OUTPUT_EVENTS_ALL);
  both.mutable_filter()->set_min_confidence(80);
  auto out = Open({hits_only, svc_only, both});
  auto event = std::make_shared<iocd::hit::Hit>();
  event->set_id("svc-0");
  event->mutable_service_event()->set_kind("feed_failed");
  out->Submit(MakeHit(0, 90));
  out->Submit(event);
  out->Submit(MakeHit(1, 10));
  out->Shutdown(Guard());
  EXPECT_EQ(FileLines(hits), (std::vector<std::string>{"hit-0", "hit-1"}));
  EXPECT_EQ(FileLines(svc), (std::vector<std::string>{"svc-0"}));
  EXPECT_EQ(FileLines(all), (std::vector<std::string>{"hit-0", "svc-0"}));
  for (const auto& [name, delivered, filtered] :
       {std::tuple<std::string, uint64_t, uint64_t>{"hits", 2, 1}, {"svc", 1, 2}, {"all", 2, 1}}) {
    OutputStats st = StatsOf(*out, name);
    EXPECT_EQ(st.submitted, 3u) << name;
    EXPECT_EQ(st.delivered, delivered) << name;
    EXPECT_EQ(st.filtered, filtered) << name;
  }
}

TEST_F(SpooledOutputsTest, ConcurrentSubmittersAreSpooledOnceEachInOrderPerThread) {
  const std::string path = dir_.path() + "/hits.log";
  auto out = Open({File("file", path)});
  constexpr int kThreads = 4, kPerThread = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto hit = std::make_shared<iocd::hit::Hit>();
        hit->set_id(std::to_string(t) + "-" + std::to_string(i));
        out->Submit(hit);
      }
    });
  }
  for (auto& th : threads) th.join();
  // Submit returns only once its hit is in the spool: all of them are there now.
  EXPECT_EQ(out->spool_stats().next_seq, static_cast<uint64_t>(kThreads * kPerThread));
  out->Shutdown(Guard());
  const std::vector<std::string> lines = FileLines(path);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kPerThread));
  std::vector<int> next(kThreads, 0);  // per thread: the index expected next
  for (const std::string& line : lines) {
    const size_t dash = line.find('-');
    ASSERT_NE(dash, std::string::npos) << line;
    const int t = std::stoi(line.substr(0, dash)), i = std::stoi(line.substr(dash + 1));
    ASSERT_TRUE(t >= 0 && t < kThreads) << line;
    EXPECT_EQ(i, next[t]) << line;
    next[t] = i + 1;
  }
  EXPECT_EQ(next, std::vector<int>(kThreads, kPerThread));
  OutputStats s = StatsOf(*out, "file");
  EXPECT_EQ(s.delivered, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.pending, 0u);
}

TEST_F(SpooledOutputsTest, SubmitBatchSpoolsOnceAndDeliversExactlyItsHitsInOrder) {
  TestListener siem;
  const std::string path = dir_.path() + "/hits.log";
  auto out = Open({Tcp("siem", siem.port()), File("file", path)});
  std::vector<std::shared_ptr<const iocd::hit::Hit>> first, second;
  for (int i = 0; i < 7; ++i) first.push_back(MakeHit(i));
  for (int i = 7; i < 10; ++i) second.push_back(MakeHit(i));
  out->SubmitBatch(first);
  // It returns once every hit of the batch is in the spool.
  EXPECT_EQ(out->spool_stats().next_seq, 7u);
  out->SubmitBatch({});
  out->Submit(MakeHit(10));
  out->SubmitBatch(second);
  EXPECT_EQ(out->spool_stats().next_seq, 11u);
  TestConnection c(siem.Accept(Guard()));
  std::vector<std::string> expected = Ids(0, 7);
  expected.push_back("hit-10");
  for (const std::string& id : Ids(7, 10)) expected.push_back(id);
  EXPECT_EQ(c.ReadLines(11, Guard()), expected);
  out->Shutdown(Guard());
  EXPECT_EQ(FileLines(path), expected);
  for (const std::string name : {"siem", "file"}) {
    const OutputStats s = StatsOf(*out, name);
    EXPECT_EQ(s.submitted, 11u) << name;
    EXPECT_EQ(s.delivered, 11u) << name;
    EXPECT_EQ(s.dropped, 0u) << name;
    EXPECT_EQ(s.pending, 0u) << name;
  }
  const OutputStats total = out->stats();
  EXPECT_EQ(total.submitted, 11u);
  EXPECT_EQ(total.dropped, 0u);
  EXPECT_EQ(out->spool_stats().records, 0u);
  // After Shutdown a batch is counted as dropped, every hit of it.
  out->SubmitBatch(second);
  EXPECT_EQ(out->stats().submitted, 14u);
  EXPECT_EQ(out->stats().dropped, 3u);
}

// A deferring batch is in the spool when the call returns, like SubmitBatch; the next
// deferring batch or WakeDeferred() wakes the delivery, and every hit arrives once, in
// submission order, mixed with undeferred submissions.
TEST_F(SpooledOutputsTest, DeferredWakeUpBatchesAreSpooledAtOnceAndDeliveredInOrder) {
  TestListener siem;
  auto out = Open({Tcp("siem", siem.port())});
  TestConnection c(siem.Accept(Guard()));
  std::vector<std::shared_ptr<const iocd::hit::Hit>> hits;
  for (int i = 0; i < 12; ++i) hits.push_back(MakeHit(i));
  const std::span<const std::shared_ptr<const iocd::hit::Hit>> all(hits);
  out->SubmitBatchDeferringWakeup(all.subspan(0, 3));
  EXPECT_EQ(out->spool_stats().next_seq, 3u);
  out->SubmitBatchDeferringWakeup(all.subspan(3, 2));  // wakes for both batches
  EXPECT_EQ(out->spool_stats().next_seq, 5u);
  EXPECT_EQ(c.ReadLines(5, Guard()), Ids(0, 5));
  out->SubmitBatchDeferringWakeup(all.subspan(5, 1));
  out->WakeDeferred();
  EXPECT_EQ(c.ReadLines(1, Guard()), Ids(5, 6));
  out->WakeDeferred();  // nothing pending
  out->SubmitBatchDeferringWakeup({});
  out->SubmitBatchDeferringWakeup(all.subspan(6, 2));
  out->SubmitBatch(all.subspan(8, 2));
  out->SubmitBatchDeferringWakeup(all.subspan(10, 2));
  EXPECT_EQ(out->spool_stats().next_seq, 12u);
  out->WakeDeferred();
  EXPECT_EQ(c.ReadLines(6, Guard()), Ids(6, 12));
  ShutDownAllDelivered(*out, "siem", 12);
  out->SubmitBatchDeferringWakeup(all.subspan(0, 2));
  out->WakeDeferred();
  EXPECT_EQ(out->stats().submitted, 14u);
  EXPECT_EQ(out->stats().dropped, 2u);
}

TEST_F(SpooledOutputsTest, SubmitBatchHitsSurviveSigkillOnceItReturns) {
  uint16_t port;
  {
    TestListener probe;  // a port that nobody listens on once the probe is closed
    port = probe.port();
  }
  const std::string spool_path = dir_.path() + "/spool";
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The process that crashes: no Shutdown, no destructor, killed right after the call.
    SpooledOutputsOptions o;
    o.spool_path = spool_path;
    o.outputs = {Tcp("siem", port)};
    auto r = SpooledOutputs::Open(std::move(o));
    if (!r.ok()) _exit(3);
    std::vector<std::shared_ptr<const iocd::hit::Hit>> hits;
    for (int i = 0; i < 5; ++i) hits.push_back(MakeHit(i));
    (*r)->SubmitBatch(hits);
    kill(getpid(), SIGKILL);
    _exit(4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  // Every hit of the batch is in the spool, pending for the output, and delivered after
  // the restart.
  TestListener siem(SOCK_STREAM, port);
  auto out = Open({Tcp("siem", port)});
  EXPECT_EQ(out->spool_stats().records, 5u);
  TestConnection c(siem.Accept(Guard()));
  EXPECT_EQ(c.ReadLines(5, Guard()), Ids(0, 5));
  out->Shutdown(Guard());
  EXPECT_EQ(StatsOf(*out, "siem").delivered, 5u);
}

TEST_F(SpooledOutputsTest, UndeliveredHitsSurviveARestart) {
  uint16_t port;
  {
    TestListener probe;  // a port that nobody listens on once the probe is closed
    port = probe.port();
  }
  {
    auto out = Open({Tcp("siem", port)});
    for (int i = 0; i < 3; ++i) out->Submit(MakeHit(i));
    out->Shutdown(Clock::now());
    EXPECT_EQ(StatsOf(*out, "siem").pending, 3u);
    EXPECT_EQ(StatsOf(*out, "siem").dropped, 0u);
  }
  TestListener siem(SOCK_STREAM, port);
  auto out = Open({Tcp("siem", port)});
  out->Submit(MakeHit(3));
  TestConnection c(siem.Accept(Guard()));
  EXPECT_EQ(c.ReadLines(4, Guard()), Ids(0, 4));
}

// Delivery renders the newest hits from memory and reads older ones back from the spool:
// a backlog longer than that window, built while the receiver is down, still arrives
// whole and in order; one the spool's bounds cut arrives without the hits it dropped.
TEST_F(SpooledOutputsTest, BacklogBeyondTheInMemoryWindowArrivesInOrder) {
  for (const auto& [hits, max_records] : {std::pair<int, uint64_t>{5000, 1000000}, {300, 100}}) {
    SCOPED_TRACE(hits);
    uint16_t port;
    {
      TestListener probe;  // a port that nobody listens on once the probe is closed
      port = probe.port();
    }
    TempDir dir;
    SpooledOutputsOptions o;
    o.spool_path = dir.path() + "/spool";
    o.outputs = {Tcp("siem", port)};
    o.max_records = max_records;
    o.backoff_base = std::chrono::milliseconds(5);
    o.backoff_cap = std::chrono::milliseconds(20);
    o.confirm_delay = std::chrono::milliseconds(0);
    auto out = std::move(SpooledOutputs::Open(std::move(o)).value());
    std::vector<std::shared_ptr<const iocd::hit::Hit>> batch;
    for (int i = 0; i < hits; ++i) batch.push_back(MakeHit(i));
    out->SubmitBatch(batch);
    TestListener siem(SOCK_STREAM, port);
    TestConnection c(siem.Accept(Guard()));
    const int kept = static_cast<int>(std::min<uint64_t>(hits, max_records));
    EXPECT_EQ(c.ReadLines(kept, Guard()), Ids(hits - kept, hits));
    // Delivered hits leave the spool with the next acknowledgement, which may follow the
    // last read: until then they count against max_records, and the next hit would push
    // the oldest of them out as an overflow.
    ASSERT_TRUE(WaitUntil([&] { return StatsOf(*out, "siem").pending == 0; }));
    out->Submit(MakeHit(hits));
    EXPECT_EQ(c.ReadLines(1, Guard()), Ids(hits, hits + 1));
    out->Shutdown(Guard());
    OutputStats s = StatsOf(*out, "siem");
    EXPECT_EQ(s.delivered, static_cast<uint64_t>(kept + 1));
    EXPECT_EQ(s.dropped, static_cast<uint64_t>(hits - kept));
    EXPECT_EQ(s.pending, 0u);
  }
}

TEST_F(SpooledOutputsTest, UnconfirmedTailIsResentAfterReconnect) {
  TestListener siem;
  // Nothing is confirmed during the test: everything written is the unconfirmed tail.
  auto out = Open({Tcp("siem", siem.port())}, 1000000, std::chrono::hours(1));
  for (int i = 0; i < 3; ++i) out->Submit(MakeHit(i));
  {
    TestConnection first(siem.Accept(Guard()));
    EXPECT_EQ(first.ReadLines(3, Guard()), Ids(0, 3));
  }  // the receiver drops the connection
  TestConnection second(siem.Accept(Guard()));
  out->Submit(MakeHit(3));
  EXPECT_EQ(second.ReadLines(4, Guard()), Ids(0, 4));
  EXPECT_TRUE(WaitUntil([&] { return StatsOf(*out, "siem").resent >= 3; }));
  out->Shutdown(Guard());
  EXPECT_EQ(StatsOf(*out, "siem").delivered, 4u);
}

TEST_F(SpooledOutputsTest, DeadOutputDoesNotHoldBackOthers) {
  TestListener stuck;  // accepts into the backlog but never reads
  const std::string path = dir_.path() + "/hits.log";
  auto out = Open({Tcp("stuck", stuck.port()), File("file", path)});
  constexpr int kHits = 2000;
  for (int i = 0; i < kHits; ++i) out->Submit(MakeHit(i));
  EXPECT_TRUE(WaitUntil([&] { return StatsOf(*out, "file").delivered == kHits; }));
  EXPECT_EQ(FileLines(path).size(), static_cast<size_t>(kHits));
}

TEST_F(SpooledOutputsTest, OverflowIsCountedPerOutput) {
  uint16_t port;
  {
    TestListener probe;
    port = probe.port();
  }
  auto out = Open({Tcp("down", port)}, /*max_records=*/4);
  for (int i = 0; i < 10; ++i) out->Submit(MakeHit(i));
  out->Shutdown(Clock::now());
  OutputStats s = StatsOf(*out, "down");
  EXPECT_EQ(s.dropped, 6u);
  EXPECT_EQ(s.pending, 4u);
  EXPECT_EQ(out->spool_stats().overflow_records, 6u);
}

// A self-signed certificate for "localhost", written as PEM to dir/cert.pem and dir/key.pem.
bool WriteSelfSignedCert(const std::string& dir) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  X509* x = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:localhost");
  X509_add_ext(x, san, -1);
  X509_EXTENSION_free(san);
  X509_sign(x, key, EVP_sha256());
  FILE* c = std::fopen((dir + "/cert.pem").c_str(), "w");
  FILE* k = std::fopen((dir + "/key.pem").c_str(), "w");
  const bool ok = c != nullptr && k != nullptr && PEM_write_X509(c, x) == 1 &&
                  PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  if (c != nullptr) std::fclose(c);
  if (k != nullptr) std::fclose(k);
  X509_free(x);
  EVP_PKEY_free(key);
  return ok;
}

// Accepts one TLS connection on `listener` and reads n lines from it.
std::vector<std::string> TlsReadLines(TestListener& listener, const std::string& dir, size_t n) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_use_certificate_chain_file(ctx, (dir + "/cert.pem").c_str());
  SSL_CTX_use_PrivateKey_file(ctx, (dir + "/key.pem").c_str(), SSL_FILETYPE_PEM);
  std::vector<std::string> lines;
  const int fd = listener.Accept(Guard());
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) == 1) {
    std::string buf;
    char chunk[4096];
    size_t got = 0;
    while (lines.size() < n && SSL_read_ex(ssl, chunk, sizeof(chunk), &got) == 1) {
      buf.append(chunk, got);
      for (size_t nl; (nl = buf.find('\n')) != std::string::npos;) {
        lines.push_back(buf.substr(0, nl));
        buf.erase(0, nl + 1);
      }
    }
  }
  SSL_free(ssl);
  ::close(fd);
  SSL_CTX_free(ctx);
  return lines;
}

TEST_F(SpooledOutputsTest, TlsVerifiesTheReceiverAndDelivers) {
  ASSERT_TRUE(WriteSelfSignedCert(dir_.path()));
  TestListener siem;
  auto config = Template("tls", iocd::config::OUTPUT_PROTOCOL_TLS);
  config.set_address("127.0.0.1:" + std::to_string(siem.port()));
  config.mutable_tls()->set_ca(dir_.path() + "/cert.pem");
  config.mutable_tls()->set_server_name("localhost");
  auto out = Open({config});
  for (int i = 0; i < 3; ++i) out->Submit(MakeHit(i));
  EXPECT_EQ(TlsReadLines(siem, dir_.path(), 3), Ids(0, 3));
}

TEST_F(SpooledOutputsTest, TlsRefusesAReceiverWithTheWrongName) {
  ASSERT_TRUE(WriteSelfSignedCert(dir_.path()));
  TestListener siem;
  auto config = Template("tls", iocd::config::OUTPUT_PROTOCOL_TLS);
  config.set_address("127.0.0.1:" + std::to_string(siem.port()));
  config.mutable_tls()->set_ca(dir_.path() + "/cert.pem");
  config.mutable_tls()->set_server_name("siem.example.org");
  auto out = Open({config});
  out->Submit(MakeHit(1));
  // The handshake fails on the client side: nothing is read and the hit stays pending.
  EXPECT_TRUE(TlsReadLines(siem, dir_.path(), 1).empty());
  EXPECT_TRUE(WaitUntil([&] { return StatsOf(*out, "tls").connect_failures >= 1; }));
  out->Shutdown(Clock::now());
  EXPECT_EQ(StatsOf(*out, "tls").pending, 1u);
  EXPECT_EQ(StatsOf(*out, "tls").delivered, 0u);
}

TEST(SpoolOptionsForTest, LargestBoundsOfTheSpooledOutputs) {
  iocd::config::Output a, b, memory;
  a.set_name("a");
  a.mutable_spool()->set_max_hits(10);
  b.set_name("b");
  b.mutable_spool()->set_max_bytes(5000);
  b.mutable_spool()->set_sync(true);
  b.mutable_spool()->set_min_round_gap("2ms");
  a.mutable_spool()->set_min_round_gap("0");
  memory.set_name("m");
  memory.mutable_spool()->set_disabled(true);
  memory.mutable_spool()->set_min_round_gap("1s");  // not spooled: does not count
  SpooledOutputsOptions o = SpoolOptionsFor({a, b, memory}, "/var/lib/iocd");
  EXPECT_EQ(o.spool_path, "/var/lib/iocd/spool");
  ASSERT_EQ(o.outputs.size(), 2u);
  EXPECT_EQ(o.outputs[0].name(), "a");
  EXPECT_EQ(o.outputs[1].name(), "b");
  EXPECT_EQ(o.max_records, 1000000u);  // b asks for the default
  EXPECT_EQ(o.max_bytes, uint64_t{1} << 30);
  EXPECT_TRUE(o.sync);
  EXPECT_EQ(o.min_round_gap, std::chrono::milliseconds(2));
  EXPECT_TRUE(SpoolOptionsFor({memory}, "/x").outputs.empty());
}

TEST_F(SpooledOutputsTest, SubmitAfterShutdownIsCountedAsDropped) {
  auto out = Open({File("f", dir_.path() + "/f.log")});
  out->Shutdown(Guard());
  out->Submit(MakeHit(1));
  EXPECT_EQ(out->stats().submitted, 1u);
  EXPECT_EQ(out->stats().dropped, 1u);
  EXPECT_EQ(out->spool_stats().next_seq, 0u);
}

TEST_F(SpooledOutputsTest, BadConfigIsRejected) {
  SpooledOutputsOptions o;
  o.spool_path = dir_.path() + "/spool";
  auto bad = Template("x", iocd::config::OUTPUT_PROTOCOL_FILE);
  o.outputs = {bad};
  auto r = SpooledOutputs::Open(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "output \"x\": path is required for protocol file");
  auto udp = Template("u", iocd::config::OUTPUT_PROTOCOL_UDP);
  udp.set_address("127.0.0.1:9");
  udp.set_framing(iocd::config::OUTPUT_FRAMING_OCTET_COUNTED);
  o.outputs = {udp};
  EXPECT_FALSE(SpooledOutputs::Open(o).ok());
}

}  // namespace
}  // namespace iocd
