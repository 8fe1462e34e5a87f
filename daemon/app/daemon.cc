#include "app/daemon.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <span>
#include <thread>
#include <vector>

#include "app/event_processor.h"
#include "app/feed_source.h"
#include "app/feed_sync.h"
#include "app/metrics.h"
#include "app/service_events.h"
#include "app/snapshot.h"
#include "common/duration.h"
#include "config/config.h"
#include "control/control_server.h"
#include "control/metrics_http_server.h"
#include "ingest/input.h"
#include "output/hit_output.h"
#include "output/spooled_output.h"
#include "store/indicator_store.h"
#include "suppress/hit_suppressor.h"

namespace iocd {
namespace {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kDefaultFileInterval = std::chrono::seconds(10);
constexpr auto kDefaultUrlInterval = std::chrono::hours(1);

// What a cheap stat says about a local source; a change means the file must be read.
struct FileSignature {
  int64_t size = -1;
  int64_t mtime_ns = 0;
  uint64_t inode = 0;
  bool operator==(const FileSignature&) const = default;
};

FileSignature Stat(const iocd::config::Feed& feed) {
  FileSignature sig;
  std::string path = feed.path();
  if (std::filesystem::is_directory(path)) path += "/manifest.json";
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return sig;
  sig.size = st.st_size;
  sig.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  sig.inode = st.st_ino;
  return sig;
}

SteadyClock::duration IntervalOf(const iocd::config::Feed& feed) {
  if (!feed.update_interval().empty()) {
    auto d = ParseDuration(feed.update_interval());
    if (d.ok() && d->count() > 0) return *d;
  }
  return feed.url().empty() ? SteadyClock::duration(kDefaultFileInterval)
                            : SteadyClock::duration(kDefaultUrlInterval);
}

bool Enabled(const iocd::config::Feed& feed) { return !feed.has_enabled() || feed.enabled(); }

// A config duration already validated by the config loader; `fallback` if it is not.
std::chrono::milliseconds DurationOr(const std::string& text, std::chrono::milliseconds fallback) {
  auto d = ParseDuration(text);
  return d.ok() ? *d : fallback;
}

// A pending reload: everything (SIGHUP, `iocctl reload`) or named feeds, with the
// control clients waiting for its outcome.
struct ReloadRequest {
  bool all = false;
  std::set<std::string> feeds;
  std::vector<ControlReply> replies;
};

class DaemonImpl final : public Daemon {
 public:
  explicit DaemonImpl(Options options) : options_(std::move(options)), signals_(io_) {}

  ~DaemonImpl() override {
    StopReloadThread();
    for (auto& out : outputs_) out->Shutdown(SteadyClock::now());
  }

  Status Init() {
    const auto& config = options_.config;
    std::string store_path = (std::filesystem::path(config.state_dir()) / "store").string();
    auto store = IndicatorStore::Open({store_path});
    if (!store.ok()) return store.status();
    store_ = std::move(store).value();

    std::vector<HitOutput*> outputs;
    for (const auto& out_config : config.outputs()) {
      if (!out_config.spool().disabled()) continue;  // delivered through the spool, below
      auto out = MakeHitOutput(out_config);
      if (!out.ok()) return out.status();
      outputs.push_back(out->get());
      outputs_.push_back(std::move(out).value());
    }
    // Every other output shares one durable spool under state_dir (docs/hits.md).
    SpooledOutputsOptions spooled_options = SpoolOptionsFor({config.outputs().begin(), config.outputs().end()}, config.state_dir());
    if (!spooled_options.outputs.empty()) {
      auto spooled = SpooledOutputs::Open(std::move(spooled_options));
      if (!spooled.ok()) return spooled.status();
      outputs.push_back(spooled->get());
      outputs_.push_back(std::move(spooled).value());
    }
    service_events_ = std::make_unique<ServiceEvents>(
        ServiceEventsOptions{!config.service_events().has_enabled() || config.service_events().enabled(),
                             config.service_events().backlog_high()},
        outputs, hit_ids_);
    service_check_interval_ = std::max(std::chrono::milliseconds(100),
                                       DurationOr(config.service_events().check_interval(), std::chrono::seconds(10)));
    const auto window = DurationOr(config.suppression().window(), std::chrono::milliseconds(0));
    suppressor_ = std::make_unique<HitSuppressor>(HitSuppressorOptions{
        std::chrono::duration_cast<std::chrono::microseconds>(window).count(), config.suppression().max_keys(), 16});
    suppression_outputs_ = outputs;
    processor_ = std::make_unique<EventProcessor>(
        store_.get(), &snapshots_, std::move(outputs),
        EventProcessorOptions{suppressor_.get(), hit_ids_, config.suppression().max_hits_per_event(),
                              config.skip_allowlisted_observables()});
    // Per-source extraction rules (docs/rules.md): a pattern that does not compile fails
    // start-up; on SIGHUP they are rebuilt from the re-read config (a broken one is kept out).
    auto rules = SourceRules::Build(config.sources());
    if (!rules.ok()) return rules.status();
    processor_->SetSourceRules(std::move(rules).value());

    // Everything is loaded before the inputs open, so the first event already sees the feeds.
    ReloadRequest initial;
    initial.all = true;
    Reload(initial, /*reread_config=*/false);

    // Each input binds now (a port in use or a bad certificate fails start-up); serving
    // starts in Run().
    for (const auto& in : config.inputs()) {
      if (Status s = processor_->ConfigureReplyBack(in); !s.ok()) return s;
      // Stream inputs hand over the events of one read as a batch (one index lookup pass),
      // and say when they go back to waiting: the outputs' delivery wake-up is deferred to
      // then or to the next batch (one wake-up per two batches with hits at full speed).
      auto input = MakeInput(
          io_, in, [this](const ReceivedEvent& e) { processor_->Process(e); },
          [this](std::span<const ReceivedEvent> events) { processor_->ProcessBatchDeferringWakeup(events); },
          [this] { processor_->InputIdle(); });
      if (!input.ok()) return input.status();
      listeners_.push_back(std::move(input).value());
    }

    std::string control_path = config.control_socket();
    if (control_path.empty()) control_path = (std::filesystem::path(config.state_dir()) / "control.sock").string();
    if (control_path != "off") {
      auto control = ControlServer::Create(io_, control_path);
      if (!control.ok()) return control.status();
      control_ = std::move(control).value();
      RegisterControlCommands();
    }
    if (!config.metrics_listen().empty()) {
      auto hp = ParseHostPort(config.metrics_listen(), /*allow_hostname=*/false);
      if (!hp.ok()) return Status::InvalidArgument("metrics_listen: " + hp.status().message());
      auto metrics = MetricsHttpServer::Create(io_, hp->host, hp->port, [this] { return MetricsText(); });
      if (!metrics.ok()) return metrics.status();
      metrics_ = std::move(metrics).value();
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
      spdlog::info("input {} listening on {} ({})", l->name(), l->address(), l->protocol());
    }
    if (control_) {
      control_->Start();
      spdlog::info("control socket at {} (iocctl)", control_path());
    }
    if (metrics_) {
      metrics_->Start();
      spdlog::info("metrics at http://{}/metrics", metrics_->address());
    }
    spdlog::info("iocd ready: {} indicators from {} feeds", snapshots_.Current()->index->size(),
                 options_.config.feeds_size());
    service_events_->Started(IOCD_VERSION, static_cast<uint64_t>(options_.config.feeds_size()),
                             snapshots_.Current()->index->size());
    if (suppressor_->enabled()) ScheduleSuppressionExpiry();
    reload_thread_ = std::thread([this] { ReloadLoop(); });

    const unsigned threads = std::max(1u, options_.config.threads());
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads; ++i) pool.emplace_back([this] { io_.run(); });
    io_.run();
    for (auto& t : pool) t.join();

    // Inputs are drained and closed; stop reloading, close the suppression windows, say
    // so, and flush outputs.
    StopReloadThread();
    ExpireSuppression(std::numeric_limits<int64_t>::max());
    service_events_->Stopped(stop_reason_);
    auto deadline = SteadyClock::now() + options_.shutdown_grace;
    for (auto& out : outputs_) out->Shutdown(deadline);
    LogStats();
    spdlog::info("iocd stopped");
    return 0;
  }

  void RequestReload() override {
    ReloadRequest r;
    r.all = true;
    Enqueue(std::move(r));
  }

  void RequestStop() override {
    asio::post(io_, [this] { Stop(); });
  }

 private:
  std::string control_path() const {
    std::string p = options_.config.control_socket();
    return p.empty() ? (std::filesystem::path(options_.config.state_dir()) / "control.sock").string() : p;
  }

  void RegisterControlCommands() {
    control_->RegisterAsync("reload", "reload [FEED]: re-read the config's feed list and every feed, or one feed",
                            [this](std::vector<std::string> args, ControlReply reply) {
                              ReloadRequest r;
                              if (args.empty()) {
                                r.all = true;
                              } else {
                                for (auto& a : args) r.feeds.insert(std::move(a));
                              }
                              r.replies.push_back(std::move(reply));
                              Enqueue(std::move(r));
                            });
    control_->Register("status", "status: feeds, allowlists, index and event counters",
                       [this](const std::vector<std::string>&, std::string* out) {
                         *out = StatusText();
                         return Status::Ok();
                       });
    control_->Register("metrics", "metrics: every counter, in the Prometheus text format",
                       [this](const std::vector<std::string>&, std::string* out) {
                         *out = MetricsText();
                         return Status::Ok();
                       });
  }

  void WaitForSignal() {
    signals_.async_wait([this](boost::system::error_code ec, int signo) {
      if (ec) return;
      if (signo == SIGHUP) {
        spdlog::info("SIGHUP: reloading feeds");
        RequestReload();
        WaitForSignal();
        return;
      }
      stop_reason_ = signo == SIGTERM ? "SIGTERM" : "SIGINT";
      spdlog::info("{}: stopping", stop_reason_);
      Stop();
    });
  }

  // Runs on the io_context.
  void Stop() {
    if (stopping_) return;
    stopping_ = true;
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    suppression_timer_.cancel();
    for (auto& l : listeners_) l->Stop();
    if (control_) control_->Stop();
    if (metrics_) metrics_->Stop();
  }

  void Enqueue(ReloadRequest request) {
    std::lock_guard lock(reload_mu_);
    pending_.all |= request.all;
    pending_.feeds.insert(request.feeds.begin(), request.feeds.end());
    for (auto& r : request.replies) pending_.replies.push_back(std::move(r));
    has_pending_ = true;
    reload_cv_.notify_all();
  }

  // The reload thread: runs requested reloads, due feed checks and expiry rebuilds.
  void ReloadLoop() {
    for (;;) {
      ReloadRequest request;
      {
        std::unique_lock lock(reload_mu_);
        SteadyClock::time_point wake = NextWake();
        reload_cv_.wait_until(lock, wake, [&] { return has_pending_ || reload_stop_; });
        if (reload_stop_) break;
        if (has_pending_) {
          request = std::move(pending_);
          pending_ = ReloadRequest();
          has_pending_ = false;
        }
      }
      Reload(request, /*reread_config=*/request.all);
      if (SteadyClock::now() >= next_service_check_) {
        CheckService();
        std::lock_guard lock(reload_mu_);
        next_service_check_ = SteadyClock::now() + service_check_interval_;
      }
    }
    // Clients still waiting get an answer.
    std::lock_guard lock(reload_mu_);
    for (auto& reply : pending_.replies) reply(Status::Unavailable("iocd is stopping"), "");
  }

  // Earliest feed check or expiry. Called with reload_mu_ held (reads schedule_ only).
  SteadyClock::time_point NextWake() {
    SteadyClock::time_point wake = SteadyClock::now() + std::chrono::hours(24);
    for (const auto& [name, s] : schedule_) wake = std::min(wake, s.next_check);
    wake = std::min(wake, next_service_check_);
    if (next_expiry_unix_ms_ > 0) {
      int64_t in_ms = next_expiry_unix_ms_ - FeedSync::SystemNowMs();
      wake = std::min(wake, SteadyClock::now() + std::chrono::milliseconds(std::max<int64_t>(in_ms, 0)));
    }
    return wake;
  }

  const iocd::config::Feed* FindFeed(const std::string& name) const {
    for (const auto& f : options_.config.feeds()) {
      if (f.name() == name) return &f;
    }
    return nullptr;
  }

  // Runs on the reload thread (or in Init, before it exists).
  void Reload(const ReloadRequest& request, bool reread_config) {
    auto started = SteadyClock::now();
    iocd::config::Config& config = options_.config;
    if (reread_config && !options_.config_path.empty()) {
      auto fresh = LoadConfigFile(options_.config_path);
      if (fresh.ok()) {
        *config.mutable_feeds() = fresh->feeds();
        *config.mutable_allowlists() = fresh->allowlists();
        auto rules = SourceRules::Build(fresh->sources());
        if (rules.ok()) {
          *config.mutable_sources() = fresh->sources();
          processor_->SetSourceRules(std::move(rules).value());
        } else {
          spdlog::error("reload: sources in {}: {}; keeping the current rules", options_.config_path,
                        rules.status().message());
        }
      } else {
        spdlog::error("reload: {} does not parse, keeping the current feed list:\n{}", options_.config_path,
                      fresh.status().message());
      }
    }

    std::string unknown;
    for (const auto& name : request.feeds) {
      const auto* f = FindFeed(name);
      if (f == nullptr || !Enabled(*f)) unknown += (unknown.empty() ? "" : ", ") + name;
    }

    // Allowlists first: a build ahead (below) reads them while feeds are synced.
    const bool allowlists_changed = request.all && LoadAllowlists(config);
    FeedSync sync(store_.get());
    bool changed = false;
    std::string summary, removed_summary;
    std::set<std::string> keep;
    // The next index is built from the imported feeds in memory, and for a large import
    // while the store is being written (SnapshotPrebuilder).
    const int64_t build_now_ms = FeedSync::SystemNowMs();
    SnapshotPrebuilder prebuilder([&](std::span<const ImportedFeed* const> imported) {
      return BuildSnapshot(*store_, config.feeds(), allowlist_, *drop_allowlist_, counters_, build_now_ms, imported);
    });
    bool removed_any = false;
    std::vector<std::pair<const iocd::config::Feed*, FeedSyncReport>> synced;  // reported after the swap
    const auto now = SteadyClock::now();
    for (const auto& feed : config.feeds()) {
      if (!Enabled(feed)) continue;
      keep.insert(feed.name());
      auto& sched = schedule_[feed.name()];
      bool forced = request.all || request.feeds.count(feed.name()) > 0;
      bool due = now >= sched.next_check;
      if (!forced && !due) continue;
      sched.next_check = now + IntervalOf(feed);
      if (!forced && feed.url().empty()) {
        FileSignature sig = Stat(feed);
        if (sig == sched.signature) continue;  // nothing to read
      }
      if (feed.url().empty()) sched.signature = Stat(feed);
      // The exact counts of a large import's changes are taken after the swap.
      FeedSyncReport report = sync.SyncOne(
          feed, [&](std::shared_ptr<const ImportedFeed> pending) { prebuilder.Pending(std::move(pending)); },
          /*defer_stats=*/true);
      prebuilder.Committed(report.imported);
      changed |= report.outcome == FeedSyncReport::Outcome::kImported;
      synced.emplace_back(&feed, std::move(report));
    }
    if (request.all) {
      for (auto it = schedule_.begin(); it != schedule_.end();) {
        it = keep.count(it->first) > 0 ? std::next(it) : schedule_.erase(it);
      }
      for (const auto& report : sync.RemoveOthers(keep)) {
        FeedSync::Log(nullptr, report);
        service_events_->FeedSynced(report, "(no longer configured)");
        changed = true;
        removed_any = true;
        removed_summary += "feed " + report.feed + ": " + OutcomeName(report.outcome) + "\n";
      }
    }

    const int64_t now_ms = FeedSync::SystemNowMs();
    bool expiry_due = next_expiry_unix_ms_ > 0 && next_expiry_unix_ms_ <= now_ms;
    if (changed || allowlists_changed || expiry_due || !snapshot_built_) {
      auto built = prebuilder.Finish(removed_any || allowlists_changed);
      if (!built.ok()) {
        spdlog::error("index build failed, keeping the current index: {}", built.status().ToString());
      } else {
        snapshots_.Publish(built->snapshot);
        snapshot_built_ = true;
        {
          std::lock_guard lock(reload_mu_);
          next_expiry_unix_ms_ = built->snapshot->next_expiry_unix_ms;
        }
        if (built->dropped_by_allowlist > 0) {
          spdlog::info("{} indicators left out of the index: allowlisted with drop_indicators",
                       built->dropped_by_allowlist);
        }
        for (const auto& [feed, indicators] : built->expired) {
          auto purged = store_->PurgeEntries(feed, indicators);
          if (purged.ok()) {
            spdlog::info("feed {}: {} expired indicators purged", feed, *purged);
          } else {
            spdlog::warn("feed {}: purging expired indicators failed: {}", feed, purged.status().ToString());
          }
        }
      }
    }

    for (auto& [feed, report] : synced) {
      report.CompleteStats();
      report.imported.reset();  // the entries are no longer needed
      FeedSync::Log(feed, report);
      service_events_->FeedSynced(report, FeedSourceName(*feed));
      summary += "feed " + feed->name() + ": " + OutcomeName(report.outcome) + ", " +
                 std::to_string(report.indicators) + " indicators" +
                 (report.error.empty() ? "" : " (" + report.error + ")") + "\n";
    }
    synced.clear();
    summary += removed_summary;
    if (request.all || !request.feeds.empty() || changed || expiry_due) {
      auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started);
      spdlog::info("feeds loaded: {} indicators in the index ({} ms)", snapshots_.Current()->index->size(),
                   elapsed.count());
    }
    for (const auto& reply : request.replies) {
      if (!unknown.empty()) {
        reply(Status::NotFound("no enabled feed named " + unknown), summary);
      } else {
        reply(Status::Ok(), summary + "index: " + std::to_string(snapshots_.Current()->index->size()) +
                                " indicators\n");
      }
    }
  }

  // Re-reads every allowlist; a list that fails keeps its previous content. Returns
  // whether anything changed.
  bool LoadAllowlists(const iocd::config::Config& config) {
    AllowlistBuilder suppress;
    AllowlistBuilder drop;
    std::map<std::string, AllowlistContent> contents;
    for (const auto& list : config.allowlists()) {
      if (!Enabled(list)) continue;
      auto source = ReadFeedSource(list, "", "");
      Result<AllowlistContent> content = source.ok() ? ParseAllowlistDocuments(list, source->documents)
                                                     : Result<AllowlistContent>(source.status());
      if (!content.ok()) {
        spdlog::error("allowlist {}: {}; keeping its previous version", list.name(), content.status().message());
        auto prev = allowlist_contents_.find(list.name());
        if (prev == allowlist_contents_.end()) continue;
        content = prev->second;
      } else {
        uint64_t unsupported = 0;
        for (const auto& [reason, n] : content->entries.unsupported) unsupported += n;
        spdlog::info("allowlist {}: {} entries, {} substrings, {} not expressible, {} malformed", list.name(),
                     content->entries.indicators.size(), content->substrings.size(), unsupported,
                     content->entries.errors.size());
      }
      for (AllowlistBuilder* b : {&suppress, &drop}) {
        if (b == &drop && !list.drop_indicators()) continue;
        uint32_t id = b->AddList(list.name());
        for (const auto& p : content->entries.indicators) b->Add(id, p.indicator, p.subdomains).IgnoreError();
        for (const auto& s : content->substrings) b->AddSubstring(id, s);
      }
      contents.emplace(list.name(), std::move(*content));
    }
    allowlist_contents_ = std::move(contents);
    allowlist_ = std::move(suppress).Build();
    drop_allowlist_ = std::move(drop).Build();
    return true;
  }

  std::string StatusText() {
    auto snap = snapshots_.Current();
    std::string out;
    auto feeds = store_->ListFeeds();
    auto suppressed = counters_.FeedCounts();
    if (feeds.ok()) {
      for (const auto& f : *feeds) {
        out += "feed " + f.name() + ": " + std::to_string(f.indicator_count()) + " indicators, " +
               std::to_string(f.rejected_lines()) + " malformed, " + std::to_string(f.unsupported_records()) +
               " unsupported, " + std::to_string(suppressed[f.name()]) + " hits suppressed, source " + f.source() +
               "\n";
      }
    }
    for (const auto& [name, n] : counters_.AllowlistCounts()) {
      out += "allowlist " + name + ": " + std::to_string(n) + " hits suppressed\n";
    }
    out += "index: " + std::to_string(snap->index->size()) + " indicators\n";
    ProcessorStats p = processor_->stats();
    out += "events: " + std::to_string(p.events) + ", observables: " + std::to_string(p.observables) +
           ", hits: " + std::to_string(p.hits) + ", suppressed: " + std::to_string(p.suppressed) + "\n";
    SuppressorStats w = suppressor_->stats();
    out += "rules: " + std::to_string(p.ignored) + " events ignored, " + std::to_string(p.rule_rejected) +
           " values rejected; window: " + std::to_string(p.window_suppressed) + " hits held back, " +
           std::to_string(w.summaries) + " summaries, " + std::to_string(w.open_windows) + " open; " +
           std::to_string(p.capped) + " hits over max_hits_per_event; " + std::to_string(p.skipped) +
           " allowlisted observables skipped\n";
    for (auto& l : listeners_) {
      IngestStats s = l->stats();
      out += "input " + l->name() + ": " + std::to_string(s.messages) + " messages, " +
             std::to_string(s.connections_open) + " connections open, " + std::to_string(s.frame_errors) +
             " frame errors, " + std::to_string(s.replyback_connections) + " replyback connections, " +
             std::to_string(s.replies_sent) + " replies\n";
    }
    return out;
  }

  // Samples feed ages and output counters for the derived service events. Runs on the
  // reload thread.
  void CheckService() {
    std::map<std::string, int64_t> updated_ms;
    if (auto stored = store_->ListFeeds(); stored.ok()) {
      for (const auto& f : *stored) updated_ms[f.name()] = f.updated_unix_ms();
    }
    std::vector<FeedAge> feeds;
    for (const auto& feed : options_.config.feeds()) {
      if (!Enabled(feed)) continue;
      auto outdated_after = DurationOr(feed.outdated_after(), std::chrono::milliseconds(0));
      feeds.push_back({feed.name(), updated_ms[feed.name()] * 1000,
                       std::chrono::duration_cast<std::chrono::microseconds>(outdated_after).count()});
    }
    std::vector<OutputSample> outputs;
    for (const auto& [name, s] : OutputStatsByName()) outputs.push_back({name, s.pending, s.dropped});
    service_events_->Check(SystemNowUs(), feeds, outputs);
  }

  // Every configured output's counters; pending is filled in for in-memory outputs too.
  std::vector<std::pair<std::string, OutputStats>> OutputStatsByName() const {
    std::vector<std::pair<std::string, OutputStats>> all;
    for (const auto& out : outputs_) {
      if (auto* spooled = dynamic_cast<SpooledOutputs*>(out.get())) {
        for (auto& named : spooled->output_stats()) all.push_back(std::move(named));
      } else {
        OutputStats s = out->stats();
        const uint64_t done = s.delivered + s.dropped;
        s.pending = s.submitted > done ? s.submitted - done : 0;
        all.emplace_back(out->name(), s);
      }
    }
    return all;
  }

  // The `metrics` command and GET /metrics (docs/metrics.md): every counter, in the
  // Prometheus text format.
  std::string MetricsText() {
    MetricsWriter m;
    const ProcessorStats p = processor_->stats();
    m.Counter("iocd_events_total", "Events processed.", {}, p.events);
    m.Counter("iocd_observables_total", "Observables extracted from events and looked up.", {}, p.observables);
    m.Counter("iocd_hits_total", "Hits sent to the outputs.", {}, p.hits);
    m.Counter("iocd_hits_allowlisted_total", "Hits an allowlist suppressed.", {}, p.suppressed);
    m.Counter("iocd_hits_window_suppressed_total", "Repeated hits held back by the suppression window.", {},
              p.window_suppressed);
    m.Counter("iocd_hits_capped_total", "Hits over max_hits_per_event, not sent.", {}, p.capped);
    m.Counter("iocd_hits_missing_context_total", "Hits whose indicator context was not found in the store.", {},
              p.missing_context);
    m.Counter("iocd_events_malformed_total", "Events whose announced body format (CEF, LEEF, JSON) was broken.", {},
              p.malformed);
    m.Counter("iocd_events_ignored_total", "Events a source's ignore rule dropped before lookup.", {}, p.ignored);
    m.Counter("iocd_rule_values_rejected_total", "Source-rule values not valid for their rule's type.", {},
              p.rule_rejected);
    m.Counter("iocd_observables_allowlist_skipped_total", "Allowlisted observables not looked up.", {}, p.skipped);

    for (auto& l : listeners_) {
      const IngestStats s = l->stats();
      const std::string name = l->name();
      const MetricsWriter::Labels in = {{"input", name}};
      m.Counter("iocd_input_messages_total", "Messages received and handed to processing.", in, s.messages);
      m.Counter("iocd_input_bytes_total", "Bytes received, framing included.", in, s.bytes);
      m.Counter("iocd_input_non_utf8_total", "Messages processed although not valid UTF-8.", in, s.non_utf8);
      for (const auto& [reason, n] : {std::pair<std::string_view, uint64_t>{"oversized", s.oversized},
                                      {"bad_octet_count", s.bad_octet_count},
                                      {"incomplete_at_close", s.incomplete_at_close}}) {
        m.Counter("iocd_input_frames_discarded_total", "Frames discarded, by reason.", {{"input", name}, {"reason", reason}},
                  n);
      }
      m.Counter("iocd_input_datagrams_dropped_total", "UDP datagrams the kernel dropped because iocd fell behind.", in,
                s.datagrams_dropped);
      m.Counter("iocd_input_connections_accepted_total", "Connections accepted.", in, s.connections_accepted);
      m.Counter("iocd_input_connections_rejected_total", "Connections refused over max_connections.", in,
                s.connections_rejected);
      m.Gauge("iocd_input_connections_open", "Connections open now.", in, s.connections_open);
      m.Counter("iocd_input_idle_closed_total", "Connections closed after idle_timeout.", in, s.idle_closed);
      m.Counter("iocd_input_tls_handshake_failures_total", "Failed TLS handshakes.", in, s.tls_handshake_failures);
      m.Counter("iocd_input_replyback_connections_total", "Connections that opened with ReplyBack flags.", in,
                s.replyback_connections);
      m.Counter("iocd_input_replies_total", "Hit lines written back on ReplyBack connections.", in, s.replies_sent);
      m.Counter("iocd_input_reply_stalls_total", "Reads postponed because a ReplyBack client did not read.", in,
                s.reply_stalls);
    }

    for (const auto& [name, s] : OutputStatsByName()) {
      const MetricsWriter::Labels out = {{"output", name}};
      m.Counter("iocd_output_hits_submitted_total", "Hits and service events handed to the output.", out, s.submitted);
      m.Counter("iocd_output_hits_delivered_total", "Hits and service events delivered.", out, s.delivered);
      m.Counter("iocd_output_hits_dropped_total", "Hits dropped (spool overflow, full queue, shutdown deadline).", out,
                s.dropped);
      m.Counter("iocd_output_hits_filtered_total", "Hits the output's filter rejected.", out, s.filtered);
      m.Counter("iocd_output_hits_resent_total", "Hits written again after a broken connection.", out, s.resent);
      m.Gauge("iocd_output_hits_pending", "Hits not yet delivered.", out, s.pending);
      m.Counter("iocd_output_connect_failures_total", "Failed connection attempts.", out, s.connect_failures);
    }

    const auto snap = snapshots_.Current();
    m.Gauge("iocd_index_indicators", "Distinct indicators in the match index.", {}, snap->index->size());
    auto suppressed = counters_.FeedCounts();
    if (auto feeds = store_->ListFeeds(); feeds.ok()) {
      for (const auto& f : *feeds) {
        const MetricsWriter::Labels feed = {{"feed", f.name()}};
        m.Gauge("iocd_feed_indicators", "Indicators the feed holds in the store.", feed, f.indicator_count());
        m.Gauge("iocd_feed_malformed_records", "Records the feed's last import skipped as malformed.", feed,
                f.rejected_lines());
        m.Gauge("iocd_feed_unsupported_records", "Records of types iocd does not match, in the last import.", feed,
                f.unsupported_records());
        m.Gauge("iocd_feed_updated_timestamp_seconds", "When the feed's content last changed (Unix time).", feed,
                static_cast<uint64_t>(std::max<int64_t>(0, f.updated_unix_ms() / 1000)));
        m.Counter("iocd_feed_hits_allowlisted_total", "Hits on the feed's indicators an allowlist suppressed.", feed,
                  suppressed[f.name()]);
      }
    }
    for (const auto& [name, n] : counters_.AllowlistCounts()) {
      m.Counter("iocd_allowlist_hits_suppressed_total", "Hits the allowlist suppressed.", {{"allowlist", name}}, n);
    }
    const SuppressorStats w = suppressor_->stats();
    m.Counter("iocd_suppression_summaries_total", "Suppression windows closed with a summary hit.", {}, w.summaries);
    m.Counter("iocd_suppression_evicted_total", "Suppression windows closed early because their shard was full.", {},
              w.evicted);
    m.Gauge("iocd_suppression_open_windows", "Suppression windows open now.", {}, w.open_windows);
    for (const auto& [kind, n] : service_events_->counts()) {
      m.Counter("iocd_service_events_total", "Service events sent, by kind.", {{"kind", kind}}, n);
    }
    return m.Text();
  }

  // Suppression: every second, close the windows that ended and send their summaries.
  void ScheduleSuppressionExpiry() {
    suppression_timer_.expires_after(std::chrono::seconds(1));
    suppression_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || stopping_) return;
      ExpireSuppression(SystemNowUs());
      ScheduleSuppressionExpiry();
    });
  }

  // Sends one summary hit per closed window that counted repeats: a copy of the window's
  // first hit with count, summary and window_start set (docs/hits.md#suppression).
  void ExpireSuppression(int64_t now_us) {
    if (!suppressor_ || !suppressor_->enabled()) return;
    suppressor_->Expire(now_us, [this](ClosedWindow&& w) {
      if (w.first == nullptr) return;  // the hit was never attached (the caller skipped it)
      auto summary = std::make_shared<iocd::hit::Hit>(*w.first);
      const int64_t now = SystemNowUs();
      summary->set_id(hit_ids_->Next(now));
      summary->set_detected_unix_us(now);
      summary->set_count(w.count);
      summary->set_summary(true);
      summary->set_window_start_unix_us(w.window_start_us);
      std::shared_ptr<const iocd::hit::Hit> shared = std::move(summary);
      for (HitOutput* out : suppression_outputs_) out->Submit(shared);
    });
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
    spdlog::info("processed {} events, {} observables, {} hits, {} suppressed by allowlists", p.events,
                 p.observables, p.hits, p.suppressed);
    spdlog::info("source rules: {} events ignored, {} values rejected; {} hits held back by the suppression "
                 "window; {} hits over max_hits_per_event",
                 p.ignored, p.rule_rejected, p.window_suppressed, p.capped);
    for (const auto& [name, n] : counters_.AllowlistCounts()) {
      if (n > 0) spdlog::info("allowlist {}: {} hits suppressed", name, n);
    }
    for (const auto& [name, n] : counters_.FeedCounts()) {
      if (n > 0) spdlog::info("feed {}: {} hits suppressed by allowlists", name, n);
    }
    for (auto& l : listeners_) {
      IngestStats s = l->stats();
      spdlog::info(
          "input {}: {} connections ({} rejected, {} closed idle, {} failed TLS handshakes), {} messages ({} not "
          "UTF-8), {} bytes, {} frame errors ({} oversized, {} bad octet counts, {} cut short), {} datagrams "
          "dropped; replyback: {} connections, {} replies, {} finished, {} pings, {} stalls",
          l->name(), s.connections_accepted, s.connections_rejected, s.idle_closed, s.tls_handshake_failures,
          s.messages, s.non_utf8, s.bytes, s.frame_errors, s.oversized, s.bad_octet_count, s.incomplete_at_close,
          s.datagrams_dropped, s.replyback_connections, s.replies_sent, s.finished_sent, s.pings, s.reply_stalls);
    }
    for (auto& out : outputs_) {
      OutputStats s = out->stats();
      spdlog::info("output {}: {} hits submitted, {} delivered, {} dropped", out->name(), s.submitted, s.delivered,
                   s.dropped);
    }
  }

  struct FeedSchedule {
    SteadyClock::time_point next_check{};
    FileSignature signature;
  };

  Options options_;
  asio::io_context io_;
  asio::signal_set signals_;
  bool stopping_ = false;

  std::unique_ptr<IndicatorStore> store_;
  SnapshotHolder snapshots_;
  SuppressionCounters counters_;
  bool snapshot_built_ = false;
  std::vector<std::unique_ptr<HitOutput>> outputs_;
  std::unique_ptr<EventProcessor> processor_;
  // Shared by everything that makes hits, so ids never collide.
  std::shared_ptr<HitIdGenerator> hit_ids_ = std::make_shared<HitIdGenerator>();
  std::unique_ptr<ServiceEvents> service_events_;
  std::unique_ptr<MetricsHttpServer> metrics_;  // null unless metrics_listen is set
  std::chrono::milliseconds service_check_interval_{10000};
  std::string stop_reason_ = "stop requested";
  // Config.suppression; the event processor admits hits, the daemon expires windows.
  std::unique_ptr<HitSuppressor> suppressor_;
  std::vector<HitOutput*> suppression_outputs_;
  asio::steady_timer suppression_timer_{io_};
  std::vector<std::unique_ptr<Input>> listeners_;
  std::unique_ptr<ControlServer> control_;

  // Reload thread state (also touched by Init before the thread starts).
  std::map<std::string, FeedSchedule> schedule_;
  std::map<std::string, AllowlistContent> allowlist_contents_;
  std::shared_ptr<const Allowlist> allowlist_ = AllowlistBuilder().Build();
  std::shared_ptr<const Allowlist> drop_allowlist_ = AllowlistBuilder().Build();

  std::thread reload_thread_;
  std::mutex reload_mu_;  // guards pending_, has_pending_, reload_stop_, next_expiry_unix_ms_
  std::condition_variable reload_cv_;
  ReloadRequest pending_;
  bool has_pending_ = false;
  bool reload_stop_ = false;
  int64_t next_expiry_unix_ms_ = 0;
  SteadyClock::time_point next_service_check_{};  // reload thread; read under reload_mu_
};

}  // namespace

Result<std::unique_ptr<Daemon>> Daemon::Create(Options options) {
  auto daemon = std::make_unique<DaemonImpl>(std::move(options));
  Status s = daemon->Init();
  if (!s.ok()) return s;
  return std::unique_ptr<Daemon>(std::move(daemon));
}

}  // namespace iocd
