// The RELP transport against a real RELP receiver: librelp's own server engine, run in
// this process on 127.0.0.1. (librelp's server answers "200 OK" to every message, so
// error responses are not covered here.)
#include "output/relp_transport.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
extern "C" {  // librelp.h has no C++ linkage guard
#include <librelp.h>
}
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace iocd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A TCP port on 127.0.0.1 that was free a moment ago (librelp cannot report the port it
// bound for "0").
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

void Poke(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::close(fd);
}

class RelpReceiver {
 public:
  RelpReceiver(int port, bool offer_syslog = true) : port_(port), offer_syslog_(offer_syslog) {}
  ~RelpReceiver() { Stop(); }

  // Listens before it returns: the listener is bound inside ListnerConstructFinalize.
  bool Start() {
    // librelp writes with plain send(): a peer that went away raises SIGPIPE (the daemon's
    // delivery threads block it).
    ::signal(SIGPIPE, SIG_IGN);
    if (relpEngineConstruct(&engine_) != RELP_RET_OK) return false;
    static unsigned char kSyslog[] = "syslog";
    relpEngineSetEnableCmd(engine_, kSyslog, offer_syslog_ ? eRelpCmdState_Required : eRelpCmdState_Forbidden);
    relpEngineSetSyslogRcv2(engine_, &RelpReceiver::OnMessage);
    relpEngineSetDbgprint(engine_, &RelpReceiver::NoDebug);
    relpEngineSetOnErr(engine_, [](void*, char*, char*, relpRetVal) {});
    relpEngineSetOnGenericErr(engine_, [](char*, char*, relpRetVal) {});
    relpEngineSetOnAuthErr(engine_, [](void*, char*, char*, relpRetVal) {});
    relpSrv_t* srv = nullptr;
    if (relpEngineListnerConstruct(engine_, &srv) != RELP_RET_OK) return false;
    std::string port = std::to_string(port_);
    static unsigned char kAddr[] = "127.0.0.1";
    relpSrvSetLstnPort(srv, reinterpret_cast<unsigned char*>(port.data()));
    relpSrvSetLstnAddr(srv, kAddr);
    relpSrvSetUsrPtr(srv, this);
    if (relpEngineListnerConstructFinalize(engine_, srv) != RELP_RET_OK) return false;
    thread_ = std::thread([this] { relpEngineRun(engine_); });
    return true;
  }

  // The engine checks its stop flag after each event; a connection is one.
  void Stop() {
    if (engine_ == nullptr) return;
    relpEngineSetStop(engine_);
    if (thread_.joinable()) {
      Poke(port_);
      thread_.join();
    }
    relpEngineDestruct(&engine_);
    engine_ = nullptr;
  }

  std::vector<std::string> messages() {
    std::lock_guard lock(mu_);
    return messages_;
  }

 private:
  static void NoDebug(char*, ...) {}
  static relpRetVal OnMessage(void* usr, unsigned char*, unsigned char*, unsigned char* msg, size_t len) {
    auto* self = static_cast<RelpReceiver*>(usr);
    std::lock_guard lock(self->mu_);
    std::string m(reinterpret_cast<char*>(msg), len);
    self->messages_.push_back(std::move(m));
    return RELP_RET_OK;
  }

  const int port_;
  const bool offer_syslog_;
  relpEngine_t* engine_ = nullptr;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> messages_;  // guarded by mu_
};

RelpClientOptions Fast() {
  RelpClientOptions o;
  o.timeout = std::chrono::seconds(5);
  return o;
}

TEST(RelpTransportTest, SendReturnsOnceEveryLineIsAcknowledged) {
  const int port = FreePort();
  RelpReceiver receiver(port);
  ASSERT_TRUE(receiver.Start());
  auto t = NewRelpTransport("127.0.0.1", std::to_string(port), Fast());
  EXPECT_EQ(t->target(), "relp://127.0.0.1:" + std::to_string(port));
  EXPECT_FALSE(t->connected());
  ASSERT_TRUE(t->Connect().ok());
  EXPECT_TRUE(t->connected());
  EXPECT_FALSE(t->datagram());
  EXPECT_FALSE(t->per_message());

  ASSERT_TRUE(t->Send("first hit\nsecond hit\n\nthird hit\n").ok());
  // Acknowledged means received: no waiting needed before looking.
  EXPECT_THAT(receiver.messages(), ElementsAre("first hit", "second hit", "third hit"));
  EXPECT_EQ(t->Unacknowledged(), 0u);
  EXPECT_FALSE(t->PeerClosed());

  ASSERT_TRUE(t->Send("fourth hit, no final newline").ok());
  EXPECT_EQ(receiver.messages().size(), 4u);
  EXPECT_EQ(receiver.messages().back(), "fourth hit, no final newline");
}

TEST(RelpTransportTest, ManyMessagesInOneBatch) {
  const int port = FreePort();
  RelpReceiver receiver(port);
  ASSERT_TRUE(receiver.Start());
  auto t = NewRelpTransport("127.0.0.1", std::to_string(port), Fast());
  ASSERT_TRUE(t->Connect().ok());
  std::string batch;
  for (int i = 0; i < 600; ++i) batch += "hit " + std::to_string(i) + "\n";
  ASSERT_TRUE(t->Send(batch).ok());
  std::vector<std::string> got = receiver.messages();
  ASSERT_EQ(got.size(), 600u);
  EXPECT_EQ(got.front(), "hit 0");
  EXPECT_EQ(got.back(), "hit 599");
}

TEST(RelpTransportTest, ReceiverWithoutSyslogCommandIsRefused) {
  const int port = FreePort();
  RelpReceiver receiver(port, /*offer_syslog=*/false);
  ASSERT_TRUE(receiver.Start());
  auto t = NewRelpTransport("127.0.0.1", std::to_string(port), Fast());
  Status s = t->Connect();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_THAT(s.message(), HasSubstr("relp://127.0.0.1:" + std::to_string(port) + ": connecting failed"));
  EXPECT_THAT(s.message(), HasSubstr("RELP_RET_RQD_FEAT_MISSING"));
  EXPECT_FALSE(t->connected());
  EXPECT_THAT(receiver.messages(), ::testing::IsEmpty());
}

TEST(RelpTransportTest, NoReceiverIsAnIoError) {
  const int port = FreePort();
  auto t = NewRelpTransport("127.0.0.1", std::to_string(port), Fast());
  Status s = t->Connect();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_THAT(s.message(), HasSubstr("relp://127.0.0.1:" + std::to_string(port) + ": connecting failed"));
  EXPECT_FALSE(t->connected());
  EXPECT_FALSE(t->Send("x\n").ok());  // not connected
}

TEST(RelpTransportTest, ReceiverGoneBetweenBatchesFailsTheNextSend) {
  const int port = FreePort();
  auto receiver = std::make_unique<RelpReceiver>(port);
  ASSERT_TRUE(receiver->Start());
  auto t = NewRelpTransport("127.0.0.1", std::to_string(port), Fast());
  ASSERT_TRUE(t->Connect().ok());
  ASSERT_TRUE(t->Send("before\n").ok());
  receiver.reset();
  Status s = t->Send("during\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  t->Close();

  // Back on the same port: Connect() and Send() work again.
  RelpReceiver again(port);
  ASSERT_TRUE(again.Start());
  ASSERT_TRUE(t->Connect().ok());
  ASSERT_TRUE(t->Send("during\nafter\n").ok());
  EXPECT_THAT(again.messages(), ElementsAre("during", "after"));
}

TEST(RelpTransportTest, InterruptedTransportFails) {
  const int port = FreePort();
  RelpReceiver receiver(port);
  ASSERT_TRUE(receiver.Start());
  auto t = NewRelpTransport("127.0.0.1", std::to_string(port), Fast());
  ASSERT_TRUE(t->Connect().ok());
  t->Interrupt();
  Status s = t->Send("x\n");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("interrupted"));
  EXPECT_THAT(receiver.messages(), ::testing::IsEmpty());
}

}  // namespace
}  // namespace iocd
