#include "app/daemon.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "app/event_processor.h"
#include "app/feed_sync.h"
#include "config/config.h"
#include "ingest/syslog_tcp_listener.h"
#include "output/hit_output.h"
#include "store/indicator_store.h"

namespace iocd {
namespace {

namespace asio = boost::asio;

class DaemonImpl final : public Daemon {
 public:
  explicit DaemonImpl(Options options) : options_(std::move(options)), signals_(io_) {}

  ~DaemonImpl() override {
    StopReloadThread();
    for (auto& out : outputs_) out->Shutdown(std::chrono::steady_clock::now());
  }

  Status Init() {
    const auto& config = options_.config;
    std::string store_path = (std::filesystem::path(config.state_dir()) / "store").string();
    auto store = IndicatorStore::Open({store_path});
    if (!store.ok()) return store.status();
    store_ = std::move(store).value();

    std::vector<HitOutput*> outputs;
    for (const auto& out_config : config.outputs()) {
      auto out = MakeHitOutput(out_config);
      if (!out.ok()) return out.status();
      outputs.push_back(out->get());
      outputs_.push_back(std::move(out).value());
    }
    processor_ = std::make_unique<EventProcessor>(store_.get(), &index_, std::move(outputs));

    Reload(config);

    for (const auto& in : config.inputs()) {
      auto hp = ParseHostPort(in.listen(), /*allow_hostname=*/false);
      if (!hp.ok()) return Status::InvalidArgument("input " + in.name() + ": " + hp.status().message());
      boost::system::error_code ec;
      auto addr = asio::ip::make_address(hp->host, ec);
      if (ec) return Status::InvalidArgument("input " + in.name() + ": bad address " + hp->host);
      SyslogTcpListener::Options lo;
      lo.name = in.name();
      lo.endpoint = asio::ip::tcp::endpoint(addr, hp->port);
      lo.max_message_bytes = in.max_message_bytes();
      lo.max_connections = in.max_connections();
      auto listener = SyslogTcpListener::Create(io_, lo, [this](const ReceivedEvent& e) { processor_->Process(e); });
      if (!listener.ok()) return listener.status();
      listeners_.push_back(std::move(listener).value());
    }
    return Status::Ok();
  }

  int Run() override {
    signals_.add(SIGHUP);
    signals_.add(SIGTERM);
    signals_.add(SIGINT);
    WaitForSignal();
    for (auto& l : listeners_) {
      l->Start();
      auto ep = l->local_endpoint();
      spdlog::info("input {} listening on {}:{} (syslog-tcp)", l->name(), ep.address().to_string(), ep.port());
    }
    spdlog::info("iocd ready: {} indicators from {} feeds", index_.Current()->size(),
                 options_.config.feeds_size());
    reload_thread_ = std::thread([this] { ReloadLoop(); });

    const unsigned threads = std::max(1u, options_.config.threads());
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads; ++i) pool.emplace_back([this] { io_.run(); });
    io_.run();
    for (auto& t : pool) t.join();

    // Inputs are drained and closed; stop reloading and flush outputs.
    StopReloadThread();
    auto deadline = std::chrono::steady_clock::now() + options_.shutdown_grace;
    for (auto& out : outputs_) out->Shutdown(deadline);
    LogStats();
    spdlog::info("iocd stopped");
    return 0;
  }

  void RequestReload() override {
    std::lock_guard lock(reload_mu_);
    reload_requested_ = true;
    reload_cv_.notify_all();
  }

  void RequestStop() override {
    asio::post(io_, [this] { Stop(); });
  }

 private:
  void WaitForSignal() {
    signals_.async_wait([this](boost::system::error_code ec, int signo) {
      if (ec) return;
      if (signo == SIGHUP) {
        spdlog::info("SIGHUP: reloading feeds");
        RequestReload();
        WaitForSignal();
        return;
      }
      spdlog::info("{}: stopping", signo == SIGTERM ? "SIGTERM" : "SIGINT");
      Stop();
    });
  }

  // Runs on the io_context.
  void Stop() {
    if (stopping_) return;
    stopping_ = true;
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    for (auto& l : listeners_) l->Stop();
  }

  void ReloadLoop() {
    for (;;) {
      {
        std::unique_lock lock(reload_mu_);
        reload_cv_.wait(lock, [&] { return reload_requested_ || reload_stop_; });
        if (reload_stop_) return;
        reload_requested_ = false;
      }
      // Only the reload thread touches options_.config's feeds once Run() has started.
      iocd::config::Config& config = options_.config;
      if (!options_.config_path.empty()) {
        auto fresh = LoadConfigFile(options_.config_path);
        if (fresh.ok()) {
          *config.mutable_feeds() = fresh->feeds();
        } else {
          spdlog::error("reload: {} does not parse, keeping the current feed list:\n{}", options_.config_path,
                        fresh.status().message());
        }
      }
      Reload(config);
    }
  }

  void Reload(const iocd::config::Config& config) {
    auto started = std::chrono::steady_clock::now();
    FeedSync sync(store_.get());
    auto reports = sync.Sync(config.feeds());
    bool changed = false;
    for (const auto& report : reports) {
      const iocd::config::Feed* feed = nullptr;
      for (const auto& f : config.feeds()) {
        if (f.name() == report.feed) feed = &f;
      }
      FeedSync::Log(feed, report);
      changed |= report.outcome == FeedSyncReport::Outcome::kImported ||
                 report.outcome == FeedSyncReport::Outcome::kRemoved;
    }
    if (changed || !index_built_) {
      auto index = BuildIndexFromStore(*store_);
      if (!index.ok()) {
        spdlog::error("index build failed, keeping the current index: {}", index.status().ToString());
        return;
      }
      index_.Publish(*index);
      index_built_ = true;
    }
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    spdlog::info("feeds loaded: {} indicators in the index ({} ms)", index_.Current()->size(), elapsed.count());
  }

  void StopReloadThread() {
    {
      std::lock_guard lock(reload_mu_);
      reload_stop_ = true;
      reload_cv_.notify_all();
    }
    if (reload_thread_.joinable()) reload_thread_.join();
  }

  void LogStats() {
    ProcessorStats p = processor_->stats();
    spdlog::info("processed {} events, {} observables, {} hits", p.events, p.observables, p.hits);
    for (auto& l : listeners_) {
      IngestStats s = l->stats();
      spdlog::info("input {}: {} connections ({} rejected), {} messages, {} bytes, {} frame errors", l->name(),
                   s.connections_accepted, s.connections_rejected, s.messages, s.bytes, s.frame_errors);
    }
    for (auto& out : outputs_) {
      OutputStats s = out->stats();
      spdlog::info("output {}: {} hits submitted, {} delivered, {} dropped", out->name(), s.submitted, s.delivered,
                   s.dropped);
    }
  }

  Options options_;
  asio::io_context io_;
  asio::signal_set signals_;
  bool stopping_ = false;

  std::unique_ptr<IndicatorStore> store_;
  IndexHolder index_;
  bool index_built_ = false;
  std::vector<std::unique_ptr<HitOutput>> outputs_;
  std::unique_ptr<EventProcessor> processor_;
  std::vector<std::unique_ptr<SyslogTcpListener>> listeners_;

  std::thread reload_thread_;
  std::mutex reload_mu_;
  std::condition_variable reload_cv_;
  bool reload_requested_ = false;
  bool reload_stop_ = false;
};

}  // namespace

Result<std::unique_ptr<Daemon>> Daemon::Create(Options options) {
  auto daemon = std::make_unique<DaemonImpl>(std::move(options));
  Status s = daemon->Init();
  if (!s.ok()) return s;
  return std::unique_ptr<Daemon>(std::move(daemon));
}

}  // namespace iocd
