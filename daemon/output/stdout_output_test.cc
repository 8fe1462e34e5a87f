#include "output/stdout_output.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "output/hit_json.h"
#include "output/hit_output.h"
#include "output/tcp_output.h"

namespace iocd {
namespace {

std::shared_ptr<const iocd::hit::Hit> MakeHit(int i) {
  auto hit = std::make_shared<iocd::hit::Hit>();
  hit->set_id("hit-" + std::to_string(i));
  hit->set_detected_unix_us(1795317947123456 + i);
  hit->set_input("siem");
  hit->set_sender("127.0.0.1:51234");
  hit->set_raw_event("event " + std::to_string(i) + " from 10.1.2.3\n");
  hit->set_observable("10.1.2.3");
  hit->set_observable_type("ipv4");
  hit->set_field("message");
  auto* e = hit->add_enrichments();
  e->set_feed("demo");
  e->set_indicator("10.0.0.0/8");
  e->set_indicator_type("cidr4");
  return hit;
}

std::string ReadAll(int fd) {
  std::string data;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

TEST(FdHitOutputTest, WritesExactlyOneFormattedLinePerHitToAPipe) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto out = NewFdHitOutput("console", fds[1]);
  EXPECT_EQ(out->name(), "console");
  std::string want;
  for (int i = 0; i < 3; ++i) {
    auto hit = MakeHit(i);
    out->Submit(hit);
    want += FormatHitJson(*hit) + "\n";
  }
  out->Shutdown(std::chrono::steady_clock::now());
  ::close(fds[1]);  // the output never closes the descriptor it was given
  EXPECT_EQ(ReadAll(fds[0]), want);
  ::close(fds[0]);
  const OutputStats s = out->stats();
  EXPECT_EQ(s.submitted, 3u);
  EXPECT_EQ(s.delivered, 3u);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.connect_failures, 0u);
}

TEST(FdHitOutputTest, LinesFromManyThreadsStayWhole) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  auto out = NewFdHitOutput("file", fileno(file));
  constexpr int kThreads = 4, kPerThread = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) out->Submit(MakeHit(t * kPerThread + i));
    });
  }
  for (auto& th : threads) th.join();
  out->Shutdown(std::chrono::steady_clock::now());

  ASSERT_EQ(::lseek(fileno(file), 0, SEEK_SET), 0);
  const std::string data = ReadAll(fileno(file));
  std::fclose(file);
  std::multiset<std::string> got;
  size_t start = 0;
  for (size_t nl; (nl = data.find('\n', start)) != std::string::npos; start = nl + 1) {
    got.insert(data.substr(start, nl - start));
  }
  EXPECT_EQ(start, data.size()) << "trailing partial line";
  std::multiset<std::string> want;
  for (int i = 0; i < kThreads * kPerThread; ++i) want.insert(FormatHitJson(*MakeHit(i)));
  EXPECT_EQ(got, want);
  EXPECT_EQ(out->stats().delivered, static_cast<uint64_t>(kThreads * kPerThread));
}

TEST(FdHitOutputTest, FailedWriteAndSubmitAfterShutdownAreDropped) {
  ::signal(SIGPIPE, SIG_IGN);  // as iocd does: a closed reader must yield EPIPE
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  auto out = NewFdHitOutput("console", fds[1]);
  out->Submit(MakeHit(1));  // EPIPE
  out->Shutdown(std::chrono::steady_clock::now());
  out->Shutdown(std::chrono::steady_clock::now());  // idempotent
  out->Submit(MakeHit(2));
  ::close(fds[1]);
  const OutputStats s = out->stats();
  EXPECT_EQ(s.submitted, 2u);
  EXPECT_EQ(s.delivered, 0u);
  EXPECT_EQ(s.dropped, 2u);
}

TEST(MakeHitOutputTest, BuildsStdoutAndTcpOutputs) {
  iocd::config::Output config;
  config.set_name("console");
  config.set_protocol(iocd::config::OUTPUT_PROTOCOL_STDOUT);
  auto out = MakeHitOutput(config);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)->name(), "console");

  config.set_name("siem");
  config.set_protocol(iocd::config::OUTPUT_PROTOCOL_TCP);
  config.set_format(iocd::config::OUTPUT_FORMAT_JSON);
  config.set_address("127.0.0.1:1");  // nothing listens; the output just keeps retrying
  auto tcp = MakeHitOutput(config);
  ASSERT_TRUE(tcp.ok()) << tcp.status().ToString();
  EXPECT_EQ((*tcp)->name(), "siem");
  (*tcp)->Shutdown(std::chrono::steady_clock::now());
}

TEST(MakeHitOutputTest, RejectsBadConfigNamingTheOutput) {
  const struct {
    const char* name;
    iocd::config::OutputProtocol protocol;
    const char* address;
    int format;
    const char* want;
  } cases[] = {
      {"", iocd::config::OUTPUT_PROTOCOL_STDOUT, "", 0,
       "invalid argument: output: name is required"},
      {"o", iocd::config::OUTPUT_PROTOCOL_UNSPECIFIED, "", 0,
       "invalid argument: output \"o\": protocol is required (tcp or stdout)"},
      {"o", iocd::config::OUTPUT_PROTOCOL_STDOUT, "", 7,
       "invalid argument: output \"o\": unsupported format 7 (only json is supported)"},
      {"o", iocd::config::OUTPUT_PROTOCOL_TCP, "", 0,
       "invalid argument: output \"o\": address is required for protocol tcp"},
      {"o", iocd::config::OUTPUT_PROTOCOL_STDOUT, "127.0.0.1:9", 0,
       "invalid argument: output \"o\": address is not allowed for protocol stdout"},
      {"o", iocd::config::OUTPUT_PROTOCOL_TCP, "siem.example", 0,
       "invalid argument: output \"o\": address \"siem.example\": expected host:port"},
      {"o", iocd::config::OUTPUT_PROTOCOL_TCP, "siem:99999", 0,
       "invalid argument: output \"o\": address \"siem:99999\": port must be a number "
       "1..65535"},
  };
  for (const auto& c : cases) {
    iocd::config::Output config;
    config.set_name(c.name);
    config.set_protocol(c.protocol);
    config.set_address(c.address);
    config.set_format(static_cast<iocd::config::OutputFormat>(c.format));
    auto out = MakeHitOutput(config);
    ASSERT_FALSE(out.ok()) << c.want;
    EXPECT_EQ(out.status().ToString(), c.want);
  }
}

}  // namespace
}  // namespace iocd
