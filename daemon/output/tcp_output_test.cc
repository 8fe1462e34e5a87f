// Tests of the TCP output against a real listener on 127.0.0.1 standing in for the SIEM.
// Synchronisation is by reading from the socket (poll with a generous deadline that only
// guards against a hang) and by Shutdown(), which joins the output's thread; never by
// sleeping.
#include "output/tcp_output.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "output/hit_json.h"
#include "output/test_socket.h"

namespace iocd {
namespace {

using output_test::Clock;
using output_test::TestConnection;
using output_test::TestListener;

// Only a failure guard: every wait ends as soon as the awaited data is there.
Clock::time_point Guard() { return Clock::now() + std::chrono::seconds(10); }

std::shared_ptr<const iocd::hit::Hit> MakeHit(int i, size_t raw_size = 0) {
  auto hit = std::make_shared<iocd::hit::Hit>();
  hit->set_id("hit-" + std::to_string(i));
  hit->set_detected_unix_us(1795317947000000 + i);
  hit->set_input("siem");
  hit->set_sender("127.0.0.1:40000");
  std::string raw = "<13>event " + std::to_string(i) + " from 10.1.2.3";
  if (raw.size() < raw_size) raw.resize(raw_size, 'x');
  hit->set_raw_event(raw);
  hit->set_observable("10.1.2.3");
  hit->set_observable_type("ipv4");
  hit->set_field("message");
  auto* e = hit->add_enrichments();
  e->set_feed("demo");
  e->set_indicator("10.0.0.0/8");
  e->set_indicator_type("cidr4");
  return hit;
}

std::vector<std::string> Lines(int from, int to) {  // formatted hits [from, to)
  std::vector<std::string> lines;
  for (int i = from; i < to; ++i) lines.push_back(FormatHitJson(*MakeHit(i)));
  return lines;
}

TcpOutputOptions Options(uint16_t port, size_t queue_size = 100000) {
  TcpOutputOptions o;
  o.name = "siem";
  o.host = "127.0.0.1";
  o.port = std::to_string(port);
  o.queue_size = queue_size;
  o.backoff_base = std::chrono::milliseconds(1);
  o.backoff_cap = std::chrono::milliseconds(20);
  return o;
}

// Waits until the output has failed to connect `n` times, so a test knows the receiver was
// really down while hits queued. Polls the counter (yielding): there is no event to wait on,
// and the wait ends as soon as the count is reached.
bool WaitForConnectFailures(const HitOutput& out, uint64_t n, Clock::time_point deadline) {
  while (out.stats().connect_failures < n) {
    if (Clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// A port nothing listens on: bound once to pick it, then released.
uint16_t ReservePort() {
  TestListener l;
  return l.ok() ? l.port() : 0;
}

TEST(TcpHitOutputTest, HitsArriveAsExactLinesInOrder) {
  TestListener listener;
  ASSERT_TRUE(listener.ok());
  auto out = NewTcpHitOutput(Options(listener.port()));
  EXPECT_EQ(out->name(), "siem");
  for (int i = 0; i < 200; ++i) out->Submit(MakeHit(i));

  TestConnection conn(listener.Accept(Guard()));
  EXPECT_EQ(conn.ReadLines(200, Guard()), Lines(0, 200));

  out->Shutdown(Guard());  // everything is already written: returns once the thread ends
  std::string rest;
  EXPECT_TRUE(conn.ReadToEof(Guard(), &rest));  // the output closes on shutdown
  EXPECT_EQ(rest, "");
  const OutputStats s = out->stats();
  EXPECT_EQ(s.submitted, 200u);
  EXPECT_EQ(s.delivered, 200u);
  EXPECT_EQ(s.dropped, 0u);
}

TEST(TcpHitOutputTest, LargeHitsSpanSeveralWritesAndStayWhole) {
  TestListener listener;
  ASSERT_TRUE(listener.ok());
  auto out = NewTcpHitOutput(Options(listener.port()));
  std::vector<std::string> want;
  for (int i = 0; i < 12; ++i) {
    auto hit = MakeHit(i, 100000 + 1000 * i);  // more than max_batch_bytes in total
    want.push_back(FormatHitJson(*hit));
    out->Submit(hit);
  }
  TestConnection conn(listener.Accept(Guard()));
  EXPECT_EQ(conn.ReadLines(12, Guard()), want);
  out->Shutdown(Guard());
  EXPECT_EQ(out->stats().delivered, 12u);
}

TEST(TcpHitOutputTest, HitsFromSeveralThreadsKeepEachThreadsOrder) {
  TestListener listener;
  ASSERT_TRUE(listener.ok());
  auto out = NewTcpHitOutput(Options(listener.port()));
  constexpr int kThreads = 4, kPerThread = 250;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) out->Submit(MakeHit(t * kPerThread + i));
    });
  }
  TestConnection conn(listener.Accept(Guard()));
  const auto lines = conn.ReadLines(kThreads * kPerThread, Guard());
  for (auto& th : threads) th.join();
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kPerThread));
  std::vector<int> next(kThreads, 0);  // per thread: the index expected next
  const std::vector<std::string> all = Lines(0, kThreads * kPerThread);
  for (const auto& line : lines) {
    bool matched = false;
    for (int t = 0; t < kThreads && !matched; ++t) {
      if (next[t] < kPerThread && line == all[t * kPerThread + next[t]]) {
        ++next[t];
        matched = true;
      }
    }
    ASSERT_TRUE(matched) << "unexpected or out-of-order line: " << line.substr(0, 120);
  }
  out->Shutdown(Guard());
  EXPECT_EQ(out->stats().delivered, static_cast<uint64_t>(kThreads * kPerThread));
}

TEST(TcpHitOutputTest, QueuedHitsArriveOnceTheReceiverComesUp) {
  const uint16_t port = ReservePort();
  ASSERT_NE(port, 0);
  auto out = NewTcpHitOutput(Options(port));
  for (int i = 0; i < 5; ++i) out->Submit(MakeHit(i));
  ASSERT_TRUE(WaitForConnectFailures(*out, 2, Guard()));  // down, and retried with backoff

  TestListener listener(SOCK_STREAM, port);
  ASSERT_TRUE(listener.ok()) << "port " << port << " was taken in between";
  TestConnection conn(listener.Accept(Guard()));
  EXPECT_EQ(conn.ReadLines(5, Guard()), Lines(0, 5));

  out->Shutdown(Guard());
  std::string rest;
  EXPECT_TRUE(conn.ReadToEof(Guard(), &rest));
  EXPECT_EQ(rest, "");
  const OutputStats s = out->stats();
  EXPECT_EQ(s.delivered, 5u);
  EXPECT_EQ(s.dropped, 0u);
}

// The receiver reads hits 0..4, closes the connection, and keeps listening. Hits 5..9 are
// submitted right after the close. Asserted: the output notices the close before writing
// (it checks for the receiver's FIN before every write, and its idle read sees it too),
// reconnects, and hits 5..9 arrive on the new connection exactly once, in order; nothing
// is lost or dropped. (A close that the output cannot see before writing, such as a
// receiver crashing with the data in flight, loses what the kernel had accepted; see
// docs/hits.md.)
TEST(TcpHitOutputTest, ReconnectsAfterTheReceiverClosesMidStream) {
  TestListener listener;
  ASSERT_TRUE(listener.ok());
  auto out = NewTcpHitOutput(Options(listener.port()));
  for (int i = 0; i < 5; ++i) out->Submit(MakeHit(i));
  {
    TestConnection first(listener.Accept(Guard()));
    ASSERT_EQ(first.ReadLines(5, Guard()), Lines(0, 5));
  }  // closed here

  for (int i = 5; i < 10; ++i) out->Submit(MakeHit(i));
  TestConnection second(listener.Accept(Guard()));
  EXPECT_EQ(second.ReadLines(5, Guard()), Lines(5, 10));

  out->Shutdown(Guard());
  std::string rest;
  EXPECT_TRUE(second.ReadToEof(Guard(), &rest));
  EXPECT_EQ(rest, "");
  const OutputStats s = out->stats();
  EXPECT_EQ(s.submitted, 10u);
  EXPECT_EQ(s.delivered, 10u);
  EXPECT_EQ(s.dropped, 0u);
}

TEST(TcpHitOutputTest, FullQueueDropsTheOldest) {
  const uint16_t port = ReservePort();
  ASSERT_NE(port, 0);
  auto out = NewTcpHitOutput(Options(port, /*queue_size=*/3));
  for (int i = 0; i < 10; ++i) out->Submit(MakeHit(i));
  // Nothing can be in flight while nobody listens, so the count is exact already.
  EXPECT_EQ(out->stats().submitted, 10u);
  EXPECT_EQ(out->stats().dropped, 7u);
  ASSERT_TRUE(WaitForConnectFailures(*out, 1, Guard()));

  TestListener listener(SOCK_STREAM, port);
  ASSERT_TRUE(listener.ok()) << "port " << port << " was taken in between";
  TestConnection conn(listener.Accept(Guard()));
  EXPECT_EQ(conn.ReadLines(3, Guard()), Lines(7, 10));

  out->Shutdown(Guard());
  std::string rest;
  EXPECT_TRUE(conn.ReadToEof(Guard(), &rest));
  EXPECT_EQ(rest, "");  // exactly the 3 newest, nothing else
  const OutputStats s = out->stats();
  EXPECT_EQ(s.delivered, 3u);
  EXPECT_EQ(s.dropped, 7u);
}

TEST(TcpHitOutputTest, SubmitDoesNotBlockWhileTheReceiverIsDown) {
  const uint16_t port = ReservePort();
  ASSERT_NE(port, 0);
  auto out = NewTcpHitOutput(Options(port, /*queue_size=*/100));
  for (int i = 0; i < 1000; ++i) out->Submit(MakeHit(i));  // would hang here if it blocked
  EXPECT_EQ(out->stats().submitted, 1000u);
  EXPECT_EQ(out->stats().dropped, 900u);

  // Shutdown with the deadline now: the 100 queued hits cannot be delivered.
  out->Shutdown(Clock::now());
  out->Shutdown(Clock::now());  // idempotent
  out->Submit(MakeHit(1000));   // after shutdown: dropped
  const OutputStats s = out->stats();
  EXPECT_EQ(s.submitted, 1001u);
  EXPECT_EQ(s.delivered, 0u);
  EXPECT_EQ(s.dropped, 1001u);
}

TEST(TcpHitOutputTest, DestructorWithoutShutdownStopsTheThread) {
  const uint16_t port = ReservePort();
  ASSERT_NE(port, 0);
  auto out = NewTcpHitOutput(Options(port));
  out->Submit(MakeHit(1));
  out.reset();  // must return (Shutdown(now) inside)
}

TEST(SplitHostPortTest, Table) {
  const struct {
    const char* address;
    const char* host;  // nullptr: an error is expected
    const char* port;
    const char* error;
  } cases[] = {
      {"127.0.0.1:9000", "127.0.0.1", "9000", ""},
      {"siem.example.org:6514", "siem.example.org", "6514", ""},
      {"[::1]:9000", "::1", "9000", ""},
      {"[fe80::1%eth0]:1", "fe80::1%eth0", "1", ""},
      {"", nullptr, nullptr, "invalid argument: address \"\": expected host:port"},
      {"host", nullptr, nullptr, "invalid argument: address \"host\": expected host:port"},
      {":9000", nullptr, nullptr, "invalid argument: address \":9000\": host is empty"},
      {"host:", nullptr, nullptr,
       "invalid argument: address \"host:\": port must be a number 1..65535"},
      {"host:0", nullptr, nullptr,
       "invalid argument: address \"host:0\": port must be a number 1..65535"},
      {"host:65536", nullptr, nullptr,
       "invalid argument: address \"host:65536\": port must be a number 1..65535"},
      {"host:syslog", nullptr, nullptr,
       "invalid argument: address \"host:syslog\": port must be a number 1..65535"},
      {"::1:9000", nullptr, nullptr,
       "invalid argument: address \"::1:9000\": write an IPv6 address in brackets, "
       "[addr]:port"},
      {"[::1]9000", nullptr, nullptr,
       "invalid argument: address \"[::1]9000\": expected ':port' after ']'"},
      {"[::1:9000", nullptr, nullptr, "invalid argument: address \"[::1:9000\": '[' without ']'"},
  };
  for (const auto& c : cases) {
    std::string host = "unset", port = "unset";
    const Status s = SplitHostPort(c.address, &host, &port);
    if (c.host != nullptr) {
      ASSERT_TRUE(s.ok()) << c.address << ": " << s.ToString();
      EXPECT_EQ(host, c.host) << c.address;
      EXPECT_EQ(port, c.port) << c.address;
    } else {
      EXPECT_EQ(s.ToString(), c.error) << c.address;
      EXPECT_EQ(host, "unset") << c.address;
    }
  }
}

}  // namespace
}  // namespace iocd
