#include "iocload.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "common/temp_dir.h"
#include "parse/syslog_framing.h"

namespace iocd::iocload {
namespace {

TEST(FramingTest, ParsesNamesAndFramesBytes) {
  EXPECT_EQ(*ParseFraming("lf"), Framing::kLf);
  EXPECT_EQ(*ParseFraming("octet-counted"), Framing::kOctetCounted);
  EXPECT_FALSE(ParseFraming("LF").ok());
  std::string out;
  AppendFramed(Framing::kLf, "a b", &out);
  AppendFramed(Framing::kOctetCounted, "<13>x\ny", &out);
  EXPECT_EQ(out, "a b\n7 <13>x\ny");
}

TEST(StampTest, RoundTripsAndTakesTheLastWellFormedStamp) {
  std::string event = "<134>Nov 30 12:00:00 h app: GET http://a.example/";
  AppendStamp({3, 12345, 987654321012}, &event);
  EXPECT_EQ(event, "<134>Nov 30 12:00:00 h app: GET http://a.example/ iocload=c3n12345t987654321012");
  std::string hit = R"({"event":{"original":")" + event + R"("},"threat":{}})";
  EXPECT_EQ(FindStamp(hit), (Stamp{3, 12345, 987654321012}));
  // A broken stamp after a good one is skipped; no stamp at all is nullopt.
  EXPECT_EQ(FindStamp(hit + " iocload=c1nXt2"), (Stamp{3, 12345, 987654321012}));
  EXPECT_EQ(FindStamp("iocload=c1n2t3 without the leading space"), std::nullopt);
  EXPECT_EQ(FindStamp(" iocload=c1n2"), std::nullopt);
}

TEST(PacerTest, SpreadsEventsEvenlyFromTheStart) {
  Pacer p(1000, 5'000'000'000);  // 1000/s: one per ms
  EXPECT_FALSE(p.unpaced());
  EXPECT_EQ(p.DueBy(4'000'000'000), 1u);
  EXPECT_EQ(p.DueBy(5'000'000'000), 1u);
  EXPECT_EQ(p.DueBy(5'000'999'999), 1u);
  EXPECT_EQ(p.DueBy(5'001'000'000), 2u);
  EXPECT_EQ(p.DueBy(6'000'000'000), 1001u);
  EXPECT_EQ(p.NextDueNs(0), 5'000'000'000);
  EXPECT_EQ(p.NextDueNs(1), 5'001'000'000);
  EXPECT_EQ(p.NextDueNs(1000), 6'000'000'000);
  EXPECT_TRUE(Pacer(0, 0).unpaced());
}

TEST(SummarizeTest, NearestRankPercentiles) {
  EXPECT_EQ(Summarize({}).count, 0u);
  std::vector<int64_t> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  LatencySummary s = Summarize(v);
  EXPECT_EQ(s.count, 100u);
  EXPECT_EQ(s.p50_ns, 50);
  EXPECT_EQ(s.p99_ns, 99);
  EXPECT_EQ(s.max_ns, 100);
  EXPECT_EQ(s.p999_ns, 100);  // rank ceil(99.9) = 100
  LatencySummary one = Summarize({7});
  EXPECT_EQ(one.p50_ns, 7);
  EXPECT_EQ(one.p99_ns, 7);
  EXPECT_EQ(one.p999_ns, 7);
  std::vector<int64_t> big;
  for (int i = 1; i <= 2000; ++i) big.push_back(i);
  EXPECT_EQ(Summarize(big).p99_ns, 1980);
  EXPECT_EQ(Summarize(big).p999_ns, 1998);
}

TEST(SumMetricTest, SumsEverySampleOfOneMetric) {
  const std::string text =
      "# HELP iocd_output_hits_pending Hits not yet delivered.\n"
      "# TYPE iocd_output_hits_pending gauge\n"
      "iocd_output_hits_pending{output=\"a\"} 12\n"
      "iocd_output_hits_pending_total 99\n"
      "iocd_output_hits_pending{output=\"b\"} 3\n"
      "iocd_events_total 1000\n";
  auto sum = SumMetric(text, "iocd_output_hits_pending");
  ASSERT_TRUE(sum.ok()) << sum.status().message();
  EXPECT_EQ(*sum, 15u);
  auto plain = SumMetric(text, "iocd_events_total");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, 1000u);
  EXPECT_EQ(SumMetric(text, "iocd_missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(SumMetric("iocd_x{o=\"a\"} many\n", "iocd_x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SumMetric("", "iocd_x").status().code(), StatusCode::kNotFound);
}

TEST(SlowestTest, SlowestFirstThenEarliestSend) {
  const std::vector<LatencySample> samples = {{10, 5}, {20, 9}, {30, 1}, {40, 9}, {50, 7}};
  EXPECT_EQ(Slowest(samples, 3), (std::vector<LatencySample>{{20, 9}, {40, 9}, {50, 7}}));
  EXPECT_EQ(Slowest(samples, 9).size(), 5u);
  EXPECT_TRUE(Slowest({}, 5).empty());
  EXPECT_EQ(FormatLatencyLog({{1'500'000'000, 2'250'000}, {0, 100'000'000}}), "1.500000 2.250\n0.000000 100.000\n");
}

TEST(StatusTextTest, ReadsCountersAndIndexSize) {
  const std::string text =
      "feed bench: 1000000 indicators, 0 malformed, 0 unsupported, 0 hits suppressed, source x\n"
      "index: 998765 indicators\n"
      "events: 123, observables: 456, hits: 7, suppressed: 1\n";
  auto c = ParseStatusCounters(text);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->events, 123u);
  EXPECT_EQ(c->observables, 456u);
  EXPECT_EQ(c->hits, 7u);
  EXPECT_EQ(c->suppressed, 1u);
  EXPECT_EQ(*ParseStatusIndexSize(text), 998765u);
  EXPECT_FALSE(ParseStatusCounters("index: 3 indicators\n").ok());
  EXPECT_FALSE(ParseStatusCounters("events: 1, observables: x\n").ok());
  EXPECT_FALSE(ParseStatusIndexSize("events: 1\n").ok());
}

TEST(LineSplitterTest, JoinsLinesAcrossReads) {
  LineSplitter s;
  std::vector<std::string> lines;
  auto add = [&](std::string_view l) { lines.emplace_back(l); };
  s.Feed("ab", add);
  s.Feed("c\nd\n\nef", add);
  EXPECT_EQ(s.pending_bytes(), 2u);
  s.Feed("\n", add);
  EXPECT_THAT(lines, ::testing::ElementsAre("abc", "d", "", "ef"));
}

TEST(EventFileTest, ReadsLinesSkipsEmptyAndCountsErrors) {
  TempDir dir;
  const std::string path = dir.path() + "/events.log";
  std::ofstream(path) << "one\r\n\ntwo\nthree";
  auto pool = LoadEventFile(path, 0);
  ASSERT_TRUE(pool.ok()) << pool.status().message();
  EXPECT_THAT(pool->lines, ::testing::ElementsAre("one", "two", "three"));
  EXPECT_FALSE(pool->hits_known);
  EXPECT_EQ(pool->hit_lines, 3u);
  EXPECT_EQ(pool->bytes, 11u);
  EXPECT_EQ(LoadEventFile(path, 2)->lines.size(), 2u);
  EXPECT_FALSE(LoadEventFile(dir.path() + "/missing", 0).ok());
  std::ofstream(dir.path() + "/empty") << "\n\n";
  EXPECT_FALSE(LoadEventFile(dir.path() + "/empty", 0).ok());
}

// A small indicator set: the synthetic pool plants exactly round(lines * rate) of them.
std::string WriteIndicators(const TempDir& dir) {
  const std::string path = dir.path() + "/indicators.txt";
  std::ofstream out(path);
  out << "198.51.100.7\nevil-example.com\n203.0.113.0/28\n"
         "d41d8cd98f00b204e9800998ecf8427f\n";
  return path;
}

TEST(SyntheticPoolTest, PlantsTheExactHitCountWithTheHeader) {
  TempDir dir;
  SyntheticOptions opts;
  opts.indicators_path = WriteIndicators(dir);
  opts.lines = 200;
  opts.hit_rate = 0.05;
  auto pool = MakeSyntheticPool(opts);
  ASSERT_TRUE(pool.ok()) << pool.status().message();
  EXPECT_TRUE(pool->hits_known);
  EXPECT_EQ(pool->lines.size(), 200u);
  EXPECT_EQ(pool->hit_lines, 10u);
  EXPECT_EQ(std::count(pool->may_hit.begin(), pool->may_hit.end(), true), 10);
  for (const auto& l : pool->lines) {
    EXPECT_TRUE(l.starts_with(opts.header)) << l;
    EXPECT_EQ(l.find('\n'), std::string::npos);
  }
  opts.hit_rate = 1.5;
  EXPECT_FALSE(MakeSyntheticPool(opts).ok());
  opts.hit_rate = 0.1;
  opts.indicators_path = dir.path() + "/missing";
  EXPECT_FALSE(MakeSyntheticPool(opts).ok());
}

// A stand-in for iocd on real loopback sockets: accepts the load connections, decodes the
// frames with iocd's own SyslogFrameDecoder and, for every stamped event, writes a JSON
// line carrying it to the hit receiver, like iocd's json/tcp output.
class FakeIocd {
 public:
  FakeIocd() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(listener_, 16), 0);
    socklen_t len = sizeof a;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~FakeIocd() {
    Join();
    ::close(listener_);
    if (hit_fd_ >= 0) ::close(hit_fd_);
  }
  uint16_t port() const { return port_; }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

  // Called from RunLoad's on_hit_listening: connects the "output" to the hit receiver.
  void ConnectHits(uint16_t hit_port) {
    hit_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(hit_port);
    EXPECT_EQ(::connect(hit_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  }

  // Serves `connections` load connections until each has closed.
  void Serve(int connections) {
    thread_ = std::thread([this, connections] {
      std::vector<int> fds;
      for (int i = 0; i < connections; ++i) fds.push_back(::accept(listener_, nullptr, nullptr));
      std::vector<std::unique_ptr<SyslogFrameDecoder>> decoders;
      for (int i = 0; i < connections; ++i) decoders.push_back(std::make_unique<SyslogFrameDecoder>());
      int open = connections;
      char buf[8192];
      while (open > 0) {
        std::vector<pollfd> p;
        for (int fd : fds) p.push_back({fd, POLLIN, 0});
        ::poll(p.data(), p.size(), -1);
        for (size_t i = 0; i < p.size(); ++i) {
          if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP))) continue;
          ssize_t n = ::recv(fds[i], buf, sizeof buf, 0);
          if (n <= 0) {
            ::close(fds[i]);
            fds[i] = -1;
            --open;
            continue;
          }
          decoders[i]->Append({buf, static_cast<size_t>(n)});
          for (auto f = decoders[i]->Next(); f.kind != SyslogFrameDecoder::Kind::kNeedMore; f = decoders[i]->Next()) {
            if (f.kind == SyslogFrameDecoder::Kind::kError) {
              ++frame_errors;
              continue;
            }
            ++events;
            if (FindStamp(f.message)) {
              std::string hit = R"({"event":{"original":")" + std::string(f.message) + "\"}}\n";
              EXPECT_EQ(::send(hit_fd_, hit.data(), hit.size(), MSG_NOSIGNAL), static_cast<ssize_t>(hit.size()));
            }
          }
        }
      }
    });
  }

  uint64_t events = 0;
  uint64_t frame_errors = 0;

 private:
  int listener_ = -1;
  int hit_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

class RunLoadTest : public ::testing::TestWithParam<Framing> {};

TEST_P(RunLoadTest, SendsExactCountsAndMatchesEveryHitToItsEvent) {
  TempDir dir;
  SyntheticOptions synth;
  synth.indicators_path = WriteIndicators(dir);
  synth.lines = 100;
  synth.hit_rate = 0.1;  // 10 hit lines per 100
  auto pool = MakeSyntheticPool(synth);
  ASSERT_TRUE(pool.ok()) << pool.status().message();

  FakeIocd fake;
  fake.Serve(2);
  LoadOptions opts;
  opts.port = fake.port();
  opts.connections = 2;
  opts.threads = 2;
  opts.framing = GetParam();
  opts.duration_s = 0;
  opts.events = 1000;  // each thread cycles its half of the pool 5 times
  opts.keep_samples = true;
  opts.on_hit_listening = [&](uint16_t port) { fake.ConnectHits(port); };
  std::ostringstream log;
  auto report = RunLoad(opts, *pool, log);
  ASSERT_TRUE(report.ok()) << report.status().message();

  EXPECT_EQ(report->sent_events, 1000u);
  ASSERT_EQ(report->samples.size(), 100u);
  for (const LatencySample& s : report->samples) {
    EXPECT_GE(s.send_offset_ns, 0);
    EXPECT_GE(s.latency_ns, 0);
  }
  EXPECT_EQ(report->stamped_events, 100u);
  EXPECT_EQ(report->expected_hit_events, 100u);
  EXPECT_EQ(report->hit_events, 100u);
  EXPECT_EQ(report->hit_lines, 100u);
  EXPECT_EQ(report->unstamped_hits, 0u);
  EXPECT_EQ(report->latency.count, 100u);
  EXPECT_EQ(report->slowest.size(), 5u);
  EXPECT_GE(report->slowest[0].latency_ns, report->slowest[4].latency_ns);
  EXPECT_GE(report->latency.p50_ns, 0);
  EXPECT_TRUE(report->drained);
  EXPECT_FALSE(report->have_counters);
  fake.Join();  // RunLoad closed its connections; the server has read everything
  EXPECT_EQ(fake.events, 1000u);
  EXPECT_EQ(fake.frame_errors, 0u);
}

INSTANTIATE_TEST_SUITE_P(BothFramings, RunLoadTest, ::testing::Values(Framing::kLf, Framing::kOctetCounted));

}  // namespace
}  // namespace iocd::iocload
