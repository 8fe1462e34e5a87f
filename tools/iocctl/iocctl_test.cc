#include "iocctl.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rocksdb/db.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/temp_dir.h"
#include "control/control_server.h"
#include "store/indicator_store.h"

namespace iocd {
namespace {

namespace asio = boost::asio;
using ::testing::HasSubstr;

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome Iocctl(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = RunIocctl(args, out, err);
  return {code, out.str(), err.str()};
}

// A daemon stand-in: a ControlServer on <state_dir>/control.sock with "reload" (async,
// answered from another thread as a real reload would be) and "status".
class FakeDaemon {
 public:
  FakeDaemon() {
    auto server = ControlServer::Create(io_, dir_.path() + "/control.sock");
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    server_->RegisterAsync("reload", "reload [FEED]  re-read feeds",
                           [this](std::vector<std::string> args, ControlReply reply) {
                             std::lock_guard lock(mu_);
                             requests_.push_back(args.empty() ? "" : args[0]);
                             workers_.emplace_back([args = std::move(args), reply = std::move(reply)] {
                               if (args.size() > 1) {
                                 reply(Status::InvalidArgument("reload takes at most one feed name"), "");
                               } else if (!args.empty() && args[0] != "a") {
                                 reply(Status::NotFound("no feed named '" + args[0] + "'"), "");
                               } else {
                                 reply(Status::Ok(), args.empty() ? "feed a: unchanged\nfeed b: 2 added\n"
                                                                  : "feed a: unchanged\n");
                               }
                             });
                           });
    server_->Register("status", "status  print counters", [](const std::vector<std::string>&, std::string* out) {
      *out = "feeds: 2\nindicators: 5\n";
      return Status::Ok();
    });
    server_->Start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~FakeDaemon() {
    // Reply callbacks hold connections, which must go before the io_context does.
    std::vector<std::thread> workers;
    {
      std::lock_guard lock(mu_);
      workers.swap(workers_);
    }
    for (std::thread& w : workers) w.join();
    server_->Stop();
    thread_.join();
  }
  const std::string& state_dir() const { return dir_.path(); }
  std::vector<std::string> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  TempDir dir_;
  asio::io_context io_;
  std::unique_ptr<ControlServer> server_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> requests_;
  std::vector<std::thread> workers_;  // "reload" answers
};

TEST(IocctlTest, ReloadAll) {
  FakeDaemon d;
  Outcome r = Iocctl({"--state-dir", d.state_dir(), "reload"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "feed a: unchanged\nfeed b: 2 added\n");
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(d.requests(), std::vector<std::string>{""});
}

TEST(IocctlTest, ReloadOneFeedThroughAnExplicitSocket) {
  FakeDaemon d;
  Outcome r = Iocctl({"--socket", d.state_dir() + "/control.sock", "reload", "a"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "feed a: unchanged\n");
  EXPECT_EQ(d.requests(), std::vector<std::string>{"a"});
}

TEST(IocctlTest, ReloadErrExitsOne) {
  FakeDaemon d;
  Outcome r = Iocctl({"--state-dir", d.state_dir(), "reload", "nope"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "iocctl: no feed named 'nope'\n");
}

TEST(IocctlTest, Status) {
  FakeDaemon d;
  Outcome r = Iocctl({"--state-dir", d.state_dir(), "--timeout", "30", "status"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "feeds: 2\nindicators: 5\n");
  EXPECT_EQ(r.err, "");
}

TEST(IocctlTest, CannotConnectExitsTwo) {
  TempDir dir;
  Outcome r = Iocctl({"--state-dir", dir.path(), "status"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "iocctl: cannot connect to " + dir.path() +
                       "/control.sock: no such file (is iocd running with this state_dir?)\n");
}

TEST(IocctlTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Iocctl({}).code, 2);                          // no command
  EXPECT_EQ(Iocctl({"frobnicate"}).code, 2);              // unknown command
  EXPECT_EQ(Iocctl({"reload", "a", "b"}).code, 2);        // one feed at most
  EXPECT_EQ(Iocctl({"--timeout", "0", "status"}).code, 2);
  Outcome help = Iocctl({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_THAT(help.out, HasSubstr("store-info"));
}

// --- store-info ---

FeedContribution Entry(std::string_view value) {
  auto indicator = ParseIndicator(value);
  EXPECT_TRUE(indicator.ok()) << value;
  iocd::store::FeedEntry entry;
  entry.set_value(std::string(value));
  return FeedContribution::Of(*indicator, entry);
}

iocd::store::FeedState State(std::string name, std::string source, std::string format, std::string fingerprint,
                             uint64_t rejected) {
  iocd::store::FeedState s;
  s.set_name(std::move(name));
  s.set_source(std::move(source));
  s.set_format(std::move(format));
  s.set_fingerprint(std::move(fingerprint));
  s.set_rejected_lines(rejected);
  return s;
}

// Written independently of the tool (which uses output/hit_json.h): strftime plus ms.
std::string IsoTime(int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  std::snprintf(frac, sizeof(frac), ".%03lld000Z", static_cast<long long>(unix_ms % 1000));
  return std::string(buf) + frac;
}

// A store in <tmp>/store with feed "abuse" (3 indicators, 1 rejected line) and "zeek"
// (2 indicators); returns their stored states (ReplaceFeed sets the update time).
class StoreFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = IndicatorStore::Open({dir_.path() + "/store"});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)
                    ->ReplaceFeed(State("abuse", "feeds/abuse.txt", "plain", std::string("\x01\x23\x45\x67\x89\xab\xcd\xef\xff", 9), 1),
                                  {Entry("1.2.3.4"), Entry("evil.example"), Entry("10.0.0.0/8")}, &abuse_)
                    .ok());
    ASSERT_TRUE((*store)
                    ->ReplaceFeed(State("zeek", "feeds/intel.dat", "zeek-intel", std::string(32, '\xaa'), 0),
                                  {Entry("evil.example"), Entry("5.6.7.8")}, &zeek_)
                    .ok());
  }

  std::string state_dir() const { return dir_.path(); }

  TempDir dir_;
  iocd::store::FeedState abuse_;
  iocd::store::FeedState zeek_;
};

TEST_F(StoreFixture, PrintsEveryFeedAndChecksCounts) {
  Outcome r = Iocctl({"--state-dir", state_dir(), "store-info"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, "store: " + state_dir() + "/store\n"
                   "feeds: 2\n"
                   "entries: 5\n"
                   "\n"
                   "feed: abuse\n"
                   "  id: " + std::to_string(abuse_.id()) + "\n"
                   "  format: plain\n"
                   "  source: feeds/abuse.txt\n"
                   "  indicator_count: 3\n"
                   "  rejected_lines: 1\n"
                   "  updated: " + IsoTime(abuse_.updated_unix_ms()) + "\n"
                   "  fingerprint: 0123456789ab\n"
                   "  check: consistent\n"
                   "\n"
                   "feed: zeek\n"
                   "  id: " + std::to_string(zeek_.id()) + "\n"
                   "  format: zeek-intel\n"
                   "  source: feeds/intel.dat\n"
                   "  indicator_count: 2\n"
                   "  rejected_lines: 0\n"
                   "  updated: " + IsoTime(zeek_.updated_unix_ms()) + "\n"
                   "  fingerprint: aaaaaaaaaaaa\n"
                   "  check: consistent\n");
  EXPECT_NE(abuse_.id(), zeek_.id());
}

TEST_F(StoreFixture, Json) {
  Outcome r = Iocctl({"store-info", "--json", "--state-dir", state_dir()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"store\":\"" + state_dir() + "/store\",\"entries\":5,\"feeds\":["
            "{\"name\":\"abuse\",\"id\":" + std::to_string(abuse_.id()) +
            ",\"format\":\"plain\",\"source\":\"feeds/abuse.txt\",\"indicator_count\":3,\"rejected_lines\":1,"
            "\"updated\":\"" + IsoTime(abuse_.updated_unix_ms()) + "\",\"updated_unix_ms\":" +
            std::to_string(abuse_.updated_unix_ms()) +
            ",\"fingerprint\":\"0123456789abcdefff\",\"stored_entries\":3,\"consistent\":true},"
            "{\"name\":\"zeek\",\"id\":" + std::to_string(zeek_.id()) +
            ",\"format\":\"zeek-intel\",\"source\":\"feeds/intel.dat\",\"indicator_count\":2,\"rejected_lines\":0,"
            "\"updated\":\"" + IsoTime(zeek_.updated_unix_ms()) + "\",\"updated_unix_ms\":" +
            std::to_string(zeek_.updated_unix_ms()) + ",\"fingerprint\":\"" + std::string(64, 'a') +
            "\",\"stored_entries\":2,\"consistent\":true}"
            "],\"orphaned_entries\":0,\"consistent\":true}\n");
}

TEST_F(StoreFixture, StoreInUseIsNamed) {
  auto holder = IndicatorStore::Open({state_dir() + "/store"});
  ASSERT_TRUE(holder.ok()) << holder.status().ToString();
  Outcome r = Iocctl({"--state-dir", state_dir(), "store-info"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "iocctl: the store in " + state_dir() +
                       "/store is in use by a running iocd; use `iocctl status`\n");
}

TEST_F(StoreFixture, CountMismatchIsInconsistent) {
  {
    auto store = IndicatorStore::Open({state_dir() + "/store"});
    ASSERT_TRUE(store.ok());
    iocd::store::FeedState wrong = zeek_;
    wrong.set_indicator_count(7);
    ASSERT_TRUE((*store)->PutFeedState(wrong).ok());
  }
  Outcome r = Iocctl({"--state-dir", state_dir(), "store-info"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("feed: zeek\n"));
  EXPECT_THAT(r.out, HasSubstr("  indicator_count: 7\n"));
  EXPECT_THAT(r.out, HasSubstr("  check: INCONSISTENT: 2 stored\n"));
  EXPECT_THAT(r.out, HasSubstr("  check: consistent\n"));  // abuse is fine
  EXPECT_EQ(r.err, "iocctl: the store is inconsistent\n");

  Outcome j = Iocctl({"--state-dir", state_dir(), "store-info", "--json"});
  EXPECT_EQ(j.code, 1);
  EXPECT_THAT(j.out, HasSubstr("\"indicator_count\":7,"));
  EXPECT_THAT(j.out, HasSubstr("\"stored_entries\":2,\"consistent\":false}"));
  EXPECT_THAT(j.out, HasSubstr("\"orphaned_entries\":0,\"consistent\":false}\n"));
}

TEST_F(StoreFixture, EntriesOfAnUnknownFeedIdAreReported) {
  {
    // Written behind the store's back, as a bug or a partial manual repair might leave it:
    // key = 4-byte big-endian feed id + Indicator::Encoded() (docs/store-format.md).
    rocksdb::DBOptions options;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, {}},
                                                        {"feeds", {}},
                                                        {"feed_entries", {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, state_dir() + "/store", cfs, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string key("\x00\x00\x00\x63", 4);  // feed id 99
    key += ParseIndicator("9.9.9.9")->Encoded();
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[2], key, "").ok());
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  }
  Outcome r = Iocctl({"--state-dir", state_dir(), "store-info"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("entries: 6\n"));
  EXPECT_THAT(r.out, ::testing::EndsWith("\nINCONSISTENT: 1 entries under feed ids no feed has: 99 (1)\n"));
}

TEST(IocctlStoreInfoTest, MissingStoreIsNotCreated) {
  TempDir dir;
  Outcome r = Iocctl({"--state-dir", dir.path() + "/typo", "store-info"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "iocctl: no store in " + dir.path() + "/typo/store (wrong --state-dir?)\n");
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/typo"));
}

}  // namespace
}  // namespace iocd
