#include "output/spooled_output.h"

#include <spdlog/spdlog.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <set>
#include <span>
#include <thread>

#include "common/duration.h"
#include "common/log_limiter.h"
#include "output/hit_filter.h"
#include "output/hit_format.h"
#include "output/tcp_output.h"
#include "output/relp_transport.h"
#include "output/transport.h"

namespace iocd {
namespace {

using Clock = std::chrono::steady_clock;

// One hit as written to the spool: its sequence number, the hit and its serialized size.
struct RecentHit {
  uint64_t seq;
  std::shared_ptr<const iocd::hit::Hit> hit;
  size_t bytes;
};

// The newest hits written to the spool, kept in memory with their sequence numbers, so a
// delivery thread that keeps up renders them from here instead of reading the spool back
// and parsing every hit again. The spool stays the record: a thread behind the window
// (hits from before a restart, a backlog during an outage) reads the spool as before, and
// acknowledgements, resends and bounds are the spool's alone. Holds at most kMaxHits
// hits (the oldest go first). Thread-safe.
class RecentHits {
 public:
  static constexpr size_t kMaxHits = 4096;

  // hits[i], serialized as serialized[i], was written to the spool as sequence number
  // first + i. A gap after the previous call (not expected: every spool write adds)
  // starts the window over.
  void Add(uint64_t first, std::span<const std::shared_ptr<const iocd::hit::Hit>> hits,
           std::span<const std::string> serialized) {
    std::lock_guard lock(mu_);
    if (!items_.empty() && items_.back().seq + 1 != first) items_.clear();
    for (size_t i = 0; i < hits.size(); ++i) items_.push_back({first + i, hits[i], serialized[i].size()});
    while (items_.size() > kMaxHits) items_.pop_front();
  }

  // Appends to *out the hits with seq >= from, in order, at most max_hits of them and
  // stopping after the one that reaches max_bytes: what HitSpool::Read would return.
  // False, appending nothing, when the window does not reach back to `from` (or starts
  // after it), so the caller must read the spool.
  bool Take(uint64_t from, size_t max_hits, size_t max_bytes, std::vector<RecentHit>* out) const {
    std::lock_guard lock(mu_);
    if (items_.empty() || from < items_.front().seq || from > items_.back().seq + 1) return false;
    size_t bytes = 0;
    for (size_t i = from - items_.front().seq; i < items_.size() && out->size() < max_hits && bytes < max_bytes; ++i) {
      out->push_back(items_[i]);
      bytes += items_[i].bytes;
    }
    return true;
  }

 private:
  mutable std::mutex mu_;
  std::deque<RecentHit> items_;  // consecutive sequence numbers
};

// One output: a spool consumer with its own delivery thread.
class Deliverer {
 public:
  Deliverer(const SpooledOutputsOptions& opts, iocd::config::Output config, std::unique_ptr<HitFormatter> formatter,
            std::unique_ptr<Transport> transport, HitSpool* spool, const RecentHits* recent)
      : opts_(opts),
        config_(std::move(config)),
        formatter_(std::move(formatter)),
        transport_(std::move(transport)),
        spool_(spool),
        recent_(recent),
        confirm_delay_(config_.protocol() == iocd::config::OUTPUT_PROTOCOL_TCP ||
                               config_.protocol() == iocd::config::OUTPUT_PROTOCOL_TLS
                           ? Clock::duration(opts.confirm_delay)
                           : Clock::duration::zero()),
        min_round_gap_(opts.min_round_gap),
        problem_log_(opts.log_interval),
        connected_log_(opts.log_interval) {}

  ~Deliverer() { Stop(Clock::now()); }

  void Start() { thread_ = std::thread([this] { Run(); }); }

  const std::string& name() const { return config_.name(); }

  // New hits: wakes the thread only when it waits for hits (not during a backoff), and
  // once per wait: later calls before it runs find it already woken. Signalled after
  // unlocking, so the woken thread does not block on mu_ at once (on one core it would
  // otherwise be switched to, block, and be switched away from again).
  void Notify() {
    bool wake;
    {
      std::lock_guard lock(mu_);
      notified_ = true;
      wake = waiting_for_hits_;
      waiting_for_hits_ = false;
    }
    if (wake) cv_.notify_one();
  }

  void BeginStop(Clock::time_point deadline) {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    deadline_ = deadline;
    notified_ = true;
    cv_.notify_one();
  }

  // Waits for the thread until the deadline, then interrupts it and joins.
  void Stop(Clock::time_point deadline) {
    BeginStop(deadline);
    if (!thread_.joinable()) return;
    {
      std::unique_lock lock(mu_);
      cv_done_.wait_until(lock, deadline, [&] { return done_; });
      aborted_ = true;
      cv_.notify_one();
    }
    transport_->Interrupt();
    thread_.join();
  }

  OutputStats stats(uint64_t appended) const {
    OutputStats s;
    s.submitted = appended - std::min(appended, start_seq_.load());
    s.delivered = delivered_.load(std::memory_order_relaxed);
    s.filtered = filtered_.load(std::memory_order_relaxed);
    s.dropped = spool_->overflow_dropped(name()) + corrupt_.load(std::memory_order_relaxed);
    s.connect_failures = connect_failures_.load(std::memory_order_relaxed);
    s.resent = resent_.load(std::memory_order_relaxed);
    Result<uint64_t> cursor = spool_->Cursor(name());
    const uint64_t next = spool_->stats().next_seq;
    s.pending = cursor.ok() ? next - std::min(next, *cursor) : 0;
    return s;
  }

  // The spool's next_seq when this output started: its "submitted" counts from there.
  void set_start_seq(uint64_t seq) { start_seq_ = seq; }

 private:
  struct Written {
    uint64_t seq;
    uint64_t end_offset;  // stream offset just past this hit's bytes on the connection
    Clock::time_point at;
    bool counts;  // a delivered hit (not filtered or undecodable)
  };

  void Run() {
    // A write to a connection the receiver reset raises SIGPIPE (OpenSSL writes with
    // write(2), without MSG_NOSIGNAL); in this thread it stays blocked and the write fails.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    Result<uint64_t> cursor = spool_->Cursor(name());
    read_pos_ = cursor.ok() ? *cursor : 0;
    Clock::duration backoff = opts_.backoff_base;
    std::vector<SpoolRecord> records;
    std::vector<iocd::hit::Hit> parsed;  // the hits read from the spool, reused
    std::vector<RecentHit> hits;
    std::string buf;
    for (;;) {
      bool stopping;
      Clock::time_point deadline;
      {
        std::lock_guard lock(mu_);
        if (aborted_) break;
        stopping = stopping_;
        deadline = deadline_;
      }
      FlushAck();
      if (stopping && Clock::now() >= deadline) break;
      if (!transport_->connected()) {
        Status s = transport_->Connect();
        if (!s.ok()) {
          connect_failures_.fetch_add(1, std::memory_order_relaxed);
          if (const uint64_t n = problem_log_.Record(Clock::now()); n > 0) {
            spdlog::warn("output {}: {}; retrying in {} ms ({} problem(s) since the last report; hits wait in the spool)",
                         name(), s.message(), std::chrono::duration_cast<std::chrono::milliseconds>(backoff).count(), n);
          }
          Wait(backoff, /*for_hits=*/false);
          backoff = std::min<Clock::duration>(backoff * 2, opts_.backoff_cap);
          continue;
        }
        stream_written_ = 0;
        if (connected_log_.Record(Clock::now()) > 0) spdlog::info("output {}: connected to {}", name(), transport_->target());
      }
      if (transport_->PeerClosed()) {
        Broken("closed by the receiver", backoff);
        continue;
      }
      Confirm(/*final=*/false);

      if (Status s = ReadHits(&records, &parsed, &hits); !s.ok()) {
        spdlog::error("output {}: {}", name(), s.message());
        Wait(backoff, /*for_hits=*/false);
        continue;
      }
      if (hits.empty()) {
        if (stopping) {
          // Everything is written; confirm what the receiver has taken and finish.
          Confirm(/*final=*/true);
          if (written_.empty()) break;
          Wait(std::chrono::milliseconds(10));
          continue;
        }
        Wait(written_.empty() ? kIdleWait : kUnconfirmedWait);
        continue;
      }
      buf.clear();
      const Clock::time_point now = Clock::now();
      std::vector<Written> batch;
      Status sent;
      for (const RecentHit& r : hits) {
        bool counts = false;
        if (r.hit == nullptr) {
          corrupt_.fetch_add(1, std::memory_order_relaxed);
          spdlog::error("output {}: spooled hit {} does not decode; skipped", name(), r.seq);
        } else if (const iocd::hit::Hit& hit = *r.hit; !OutputAccepts(hit, config_)) {
          filtered_.fetch_add(1, std::memory_order_relaxed);
        } else {
          counts = true;
          if (transport_->per_message()) {
            buf.clear();
            formatter_->Format(hit, &buf);
            if (!transport_->datagram()) buf.push_back('\n');
            sent = transport_->Send(buf);
            if (!sent.ok()) break;
          } else {
            const size_t start = buf.size();
            formatter_->Format(hit, &buf);
            if (config_.framing() == iocd::config::OUTPUT_FRAMING_OCTET_COUNTED) {
              buf.insert(start, std::to_string(buf.size() - start) + " ");
            } else {
              buf.push_back('\n');
            }
          }
        }
        // Per-message transports have no acknowledgement: offset 0 is confirmed at once.
        batch.push_back({r.seq, transport_->per_message() ? 0 : stream_written_ + buf.size(), now, counts});
      }
      if (sent.ok() && !transport_->per_message() && !buf.empty()) sent = transport_->Send(buf);
      if (!sent.ok()) {
        Broken(sent.message(), backoff);
        continue;
      }
      if (!transport_->per_message()) stream_written_ += buf.size();
      for (const Written& w : batch) written_.push_back(w);
      read_pos_ = hits.back().seq + 1;
      backoff = opts_.backoff_base;
      problem_log_.Reset();
      // A short read took everything there was: wait for more now instead of checking the
      // peer and the send queue a second time in this round (the next round starts with
      // both). With a min_round_gap, rounds start at most that often: hits that arrive
      // sooner wait for the rest of the gap (not woken, so their submitter does not signal
      // either) and go out together; a hit after a quiet spell goes out at once.
      if (hits.size() < opts_.max_batch_hits && ReadBytes(hits) < opts_.max_batch_bytes && !Stopping()) {
        const Clock::duration since = Clock::now() - now;
        if (since < min_round_gap_) Wait(min_round_gap_ - since, /*for_hits=*/false);
        Wait(written_.empty() ? kIdleWait : kUnconfirmedWait);
      }
    }
    FlushAck(/*force=*/true);
    transport_->Close();
    std::lock_guard lock(mu_);
    done_ = true;
    cv_done_.notify_all();
  }

  bool Stopping() const {
    std::lock_guard lock(mu_);
    return stopping_ || aborted_;
  }

  // Takes, in order, the written hits that count as delivered off written_; FlushAck()
  // acknowledges them in the spool.
  void Confirm(bool final) {
    if (written_.empty()) return;
    uint64_t unacked = transport_->Unacknowledged();
    if (unacked == UINT64_MAX) return;
    const uint64_t confirmed = stream_written_ - std::min(unacked, stream_written_);
    const Clock::time_point now = Clock::now();
    uint64_t ack_to = 0;
    while (!written_.empty()) {
      const Written& w = written_.front();
      if (w.end_offset > confirmed) break;
      if (!final && w.at + confirm_delay_ > now) break;
      ack_to = w.seq + 1;
      if (w.counts) delivered_.fetch_add(1, std::memory_order_relaxed);
      written_.pop_front();
    }
    ack_to_ = std::max(ack_to_, ack_to);
  }

  // One spool Ack (a RocksDB write) for everything confirmed since the last one: called
  // every delivery round and before sleeping, but writing at most once per kAckInterval
  // unless forced (before rereading the cursor, and when the thread ends). Acknowledging
  // later only means a crash may resend a few more confirmed hits (at least once); it
  // saves a spool write per round when hits arrive in many small rounds.
  void FlushAck(bool force = false) {
    if (ack_to_ <= acked_) return;
    const Clock::time_point now = Clock::now();
    if (!force && now < last_ack_at_ + kAckInterval) return;
    last_ack_at_ = now;  // a failed Ack is retried an interval later, not in a loop
    if (Status s = spool_->Ack(name(), ack_to_); !s.ok()) {
      spdlog::error("output {}: {}", name(), s.message());
      return;
    }
    acked_ = ack_to_;
  }

  // The connection failed: everything not confirmed is sent again on the next one.
  void Broken(const std::string& why, Clock::duration& backoff) {
    FlushAck(/*force=*/true);
    transport_->Close();
    uint64_t again = 0;
    for (const Written& w : written_) again += w.counts ? 1 : 0;
    resent_.fetch_add(again, std::memory_order_relaxed);
    written_.clear();
    stream_written_ = 0;
    Result<uint64_t> cursor = spool_->Cursor(name());
    if (cursor.ok()) read_pos_ = *cursor;
    if (const uint64_t n = problem_log_.Record(Clock::now()); n > 0) {
      spdlog::warn("output {}: connection to {} lost: {}; {} unconfirmed hit(s) will be sent again ({} problem(s) since "
                   "the last report)",
                   name(), transport_->target(), why, again, n);
    }
    Wait(backoff, /*for_hits=*/false);
    backoff = std::min<Clock::duration>(backoff * 2, opts_.backoff_cap);
  }

  // Sleeps up to `d` (and not past a stop deadline). A stop wakes it early; so does
  // Notify (new hits) when `for_hits`. Backoff waits pass false: new hits must not cut a
  // backoff short, or every Submit would cost a reconnect attempt to a dead receiver.
  void Wait(Clock::duration d, bool for_hits = true) {
    FlushAck();
    std::unique_lock lock(mu_);
    Clock::time_point until = Clock::now() + d;
    if (stopping_) until = std::min(until, deadline_);
    if (ack_to_ > acked_) until = std::min(until, last_ack_at_ + kAckInterval);  // the held-back Ack
    const bool was_stopping = stopping_;
    waiting_for_hits_ = for_hits;
    cv_.wait_until(lock, until,
                   [&] { return aborted_ || stopping_ != was_stopping || (for_hits && notified_); });
    waiting_for_hits_ = false;
    if (for_hits) notified_ = false;  // a notification during another wait is kept for the next
  }

  const SpooledOutputsOptions& opts_;
  const iocd::config::Output config_;
  const std::unique_ptr<HitFormatter> formatter_;
  const std::unique_ptr<Transport> transport_;
  HitSpool* const spool_;
  const RecentHits* const recent_;
  const Clock::duration confirm_delay_;
  const Clock::duration min_round_gap_;

  // Delivery thread only.
  uint64_t read_pos_ = 0;
  uint64_t stream_written_ = 0;
  std::deque<Written> written_;
  uint64_t ack_to_ = 0;  // confirmed up to here (exclusive) ...
  uint64_t acked_ = 0;   // ... and acknowledged in the spool up to here
  Clock::time_point last_ack_at_{};
  // Spool Acks are written at most this often (FlushAck).
  static constexpr Clock::duration kAckInterval = std::chrono::milliseconds(50);
  // Waits for new hits: with nothing written and unconfirmed, and with some (whose
  // confirm_delay is then checked again).
  static constexpr Clock::duration kIdleWait = std::chrono::seconds(1);
  static constexpr Clock::duration kUnconfirmedWait = std::chrono::milliseconds(20);

  static size_t ReadBytes(const std::vector<RecentHit>& hits) {
    size_t bytes = 0;
    for (const RecentHit& r : hits) bytes += r.bytes;
    return bytes;
  }

  // The next hits from read_pos_ into *hits (in order; a null hit: its record does not
  // decode): from the in-memory window of recent hits when it reaches back to read_pos_
  // and the spool still holds everything from there (nothing lost to its bounds), else
  // read from the spool and parsed into *parsed (which *hits then points into, without
  // owning).
  Status ReadHits(std::vector<SpoolRecord>* records, std::vector<iocd::hit::Hit>* parsed,
                  std::vector<RecentHit>* hits) {
    hits->clear();
    if (read_pos_ >= spool_->stats().first_seq &&
        recent_->Take(read_pos_, opts_.max_batch_hits, opts_.max_batch_bytes, hits)) {
      return Status::Ok();
    }
    records->clear();
    if (Status s = spool_->Read(read_pos_, opts_.max_batch_hits, opts_.max_batch_bytes, records); !s.ok()) return s;
    if (parsed->size() < records->size()) parsed->resize(records->size());
    for (size_t i = 0; i < records->size(); ++i) {
      const SpoolRecord& r = (*records)[i];
      iocd::hit::Hit* hit = &(*parsed)[i];
      const bool ok = hit->ParseFromString(r.value);
      // Not owned: *parsed outlives the round that uses *hits.
      hits->push_back({r.seq, ok ? std::shared_ptr<const iocd::hit::Hit>(std::shared_ptr<void>(), hit) : nullptr,
                       r.value.size()});
    }
    return Status::Ok();
  }
  LogLimiter problem_log_;
  LogLimiter connected_log_;

  mutable std::mutex mu_;
  std::condition_variable cv_, cv_done_;
  bool notified_ = false;  // guarded by mu_
  bool waiting_for_hits_ = false;  // guarded by mu_: in Wait(for_hits = true)
  bool stopping_ = false;  // guarded by mu_
  bool aborted_ = false;   // guarded by mu_
  bool done_ = false;      // guarded by mu_
  Clock::time_point deadline_;

  std::atomic<uint64_t> start_seq_{0};
  std::atomic<uint64_t> delivered_{0}, filtered_{0}, corrupt_{0}, connect_failures_{0}, resent_{0};
  std::thread thread_;
};

class SpooledOutputsImpl final : public SpooledOutputs {
 public:
  SpooledOutputsImpl(SpooledOutputsOptions opts, std::unique_ptr<HitSpool> spool)
      : opts_(std::move(opts)), spool_(std::move(spool)), overflow_log_(opts_.log_interval), append_log_(opts_.log_interval) {}

  ~SpooledOutputsImpl() override { Shutdown(Clock::now()); }

  Status Init() {
    for (const auto& config : opts_.outputs) {
      const std::string where = "output \"" + config.name() + "\": ";
      auto formatter = MakeHitFormatter(config);
      if (!formatter.ok()) return Status::InvalidArgument(where + formatter.status().message());
      std::unique_ptr<Transport> transport;
      switch (config.protocol()) {
        case iocd::config::OUTPUT_PROTOCOL_TCP:
        case iocd::config::OUTPUT_PROTOCOL_TLS:
        case iocd::config::OUTPUT_PROTOCOL_UDP: {
          std::string host, port;
          if (Status s = SplitHostPort(config.address(), &host, &port); !s.ok()) {
            return Status::InvalidArgument(where + s.message());
          }
          if (config.protocol() == iocd::config::OUTPUT_PROTOCOL_TLS) {
            TlsClientOptions tls;
            tls.ca = config.tls().ca();
            tls.cert = config.tls().cert();
            tls.key = config.tls().key();
            tls.server_name = config.tls().server_name();
            tls.insecure_skip_verify = config.tls().insecure_skip_verify();
            transport = NewTlsTransport(host, port, std::move(tls));
          } else if (config.protocol() == iocd::config::OUTPUT_PROTOCOL_TCP) {
            transport = NewTcpTransport(host, port);
          } else {
            transport = NewUdpTransport(host, port);
          }
          break;
        }
        case iocd::config::OUTPUT_PROTOCOL_FILE:
          if (config.path().empty()) return Status::InvalidArgument(where + "path is required for protocol file");
          transport = NewFileTransport(config.path(), config.max_file_bytes(), config.max_files());
          break;
        case iocd::config::OUTPUT_PROTOCOL_RELP:
          if (Status s = NewRelpTransport(config.address(), &transport); !s.ok()) {
            return Status::InvalidArgument(where + s.message());
          }
          break;
        case iocd::config::OUTPUT_PROTOCOL_STDOUT:
          transport = NewFdTransport(STDOUT_FILENO, "stdout");
          break;
        default:
          return Status::InvalidArgument(where + "protocol is required (tcp, udp, file or stdout)");
      }
      if (config.framing() == iocd::config::OUTPUT_FRAMING_OCTET_COUNTED &&
          config.protocol() != iocd::config::OUTPUT_PROTOCOL_TCP && config.protocol() != iocd::config::OUTPUT_PROTOCOL_TLS) {
        return Status::InvalidArgument(where + "framing octet-counted is only for protocol tcp or tls");
      }
      deliverers_.push_back(std::make_unique<Deliverer>(opts_, config, std::move(formatter).value(),
                                                        std::move(transport), spool_.get(), &recent_));
    }
    const SpoolStats s = spool_->stats();
    if (s.records > 0) spdlog::info("spool {}: {} undelivered hit(s) from before the start", opts_.spool_path, s.records);
    for (auto& d : deliverers_) {
      d->set_start_seq(s.first_seq);
      d->Start();
    }
    return Status::Ok();
  }

  const std::string& name() const override { return name_; }

  void Submit(std::shared_ptr<const iocd::hit::Hit> hit) override {
    SubmitBatch(std::span<const std::shared_ptr<const iocd::hit::Hit>>(&hit, 1));
  }

  // One group-commit entry for the whole batch: its hits go into the spool with one write
  // (shared with concurrent submitters), and the outputs are woken once.
  void SubmitBatch(std::span<const std::shared_ptr<const iocd::hit::Hit>> hits) override {
    if (Append(hits)) NotifyAll();
  }

  // The wake-up of the first deferred batch stays pending; the next deferred batch (or
  // WakeDeferred) wakes for both. Set only after the hits are in the spool, so whoever
  // clears it wakes the delivery threads for hits they can already read.
  void SubmitBatchDeferringWakeup(std::span<const std::shared_ptr<const iocd::hit::Hit>> hits) override {
    if (!Append(hits)) return;
    if (!wake_pending_.exchange(true, std::memory_order_acq_rel)) return;
    wake_pending_.store(false, std::memory_order_release);
    NotifyAll();
  }

  void WakeDeferred() override {
    if (!wake_pending_.load(std::memory_order_relaxed)) return;
    if (wake_pending_.exchange(false, std::memory_order_acq_rel)) NotifyAll();
  }

  void NotifyAll() {
    for (auto& d : deliverers_) d->Notify();
  }

  // Serializes `hits` and appends them to the spool (group commit); false when there was
  // nothing to wake the outputs for (no hits, or no longer accepting).
  bool Append(std::span<const std::shared_ptr<const iocd::hit::Hit>> hits) {
    if (hits.empty()) return false;
    submitted_.fetch_add(hits.size(), std::memory_order_relaxed);
    if (!accepting_.load(std::memory_order_acquire)) {
      rejected_.fetch_add(hits.size(), std::memory_order_relaxed);
      return false;
    }
    // Serialized into per-thread strings that keep their capacity from call to call.
    thread_local std::vector<std::string> serialized;
    if (serialized.size() < hits.size()) serialized.resize(hits.size());
    for (size_t i = 0; i < hits.size(); ++i) hits[i]->SerializeToString(&serialized[i]);
    Committer self;
    self.values = std::span<const std::string>(serialized.data(), hits.size());
    self.hits = hits;
    Commit(self);
    return true;
  }

  void Shutdown(Clock::time_point deadline) override {
    std::lock_guard lock(shutdown_mu_);
    if (shut_down_) return;
    shut_down_ = true;
    accepting_.store(false, std::memory_order_release);
    for (auto& d : deliverers_) d->BeginStop(deadline);
    for (auto& d : deliverers_) d->Stop(deadline);
    const uint64_t appended = spool_->stats().next_seq;
    for (auto& d : deliverers_) {
      OutputStats s = d->stats(appended);
      spdlog::info("output {}: {} delivered, {} filtered, {} dropped by spool overflow, {} resent, {} pending in the spool",
                   d->name(), s.delivered, s.filtered, s.dropped, s.resent, s.pending);
    }
  }

  OutputStats stats() const override {
    OutputStats total;
    total.submitted = submitted_.load(std::memory_order_relaxed);
    total.dropped = rejected_.load(std::memory_order_relaxed) + spool_->stats().overflow_records;
    const uint64_t appended = spool_->stats().next_seq;
    for (const auto& d : deliverers_) {
      OutputStats s = d->stats(appended);
      total.delivered += s.delivered;
      total.filtered += s.filtered;
      total.connect_failures += s.connect_failures;
      total.resent += s.resent;
      total.pending += s.pending;
    }
    return total;
  }

  std::vector<std::pair<std::string, OutputStats>> output_stats() const override {
    std::vector<std::pair<std::string, OutputStats>> out;
    const uint64_t appended = spool_->stats().next_seq;
    for (const auto& d : deliverers_) out.emplace_back(d->name(), d->stats(appended));
    return out;
  }

  SpoolStats spool_stats() const override { return spool_->stats(); }

 private:
  // One Submit() or SubmitBatch() waiting in the group-commit queue.
  static constexpr int kWaiting = 0, kDone = 1, kLeader = 2;
  struct Committer {
    std::span<const std::string> values;  // the serialized hits, written together
    std::span<const std::shared_ptr<const iocd::hit::Hit>> hits;  // the same hits
    // kWaiting, then kDone (a leader wrote it, or failed to) or kLeader (its turn to
    // write). Changed only by a leader holding commit_mu_.
    std::atomic<int> state{kWaiting};
    std::condition_variable cv;  // signalled on every change of state
  };
  // One spool write carries at most this many hits / about this many bytes.
  static constexpr size_t kMaxGroupHits = 1024;
  static constexpr size_t kMaxGroupBytes = 4 << 20;
  // A leader writes at most this many groups before handing over.
  static constexpr int kMaxLeaderRounds = 8;
  // Yields a waiting committer makes before it sleeps on its condition variable.
  static constexpr int kSpins = 50;

  // Group commit: queue the committer; the one at the head of the queue (the leader)
  // writes every queued committer's hits in one spool write while the others wait for it,
  // and keeps writing what queued up meanwhile (a few rounds at most) so no hand-over to
  // another thread sits between two writes. Returns only once `self`'s hits are in the
  // spool (or have failed to get there).
  void Commit(Committer& self) {
    std::unique_lock lock(commit_mu_);
    commit_queue_.push_back(&self);
    if (commit_queue_.front() != &self) {
      // A write takes microseconds: yield a few times before sleeping, so that most
      // committers never need a futex wake-up. Then take the lock again in any case: the
      // leader signals under it, so once we hold it nobody touches `self` any more.
      lock.unlock();
      for (int i = 0; i < kSpins && self.state.load(std::memory_order_acquire) == kWaiting; ++i) {
        std::this_thread::yield();
      }
      lock.lock();
      self.cv.wait(lock, [&] { return self.state.load(std::memory_order_relaxed) != kWaiting; });
      if (self.state.load(std::memory_order_relaxed) == kDone) return;
    }
    Status failed;
    uint64_t failed_hits = 0;
    std::vector<std::string_view> values;
    for (int round = 0; round < kMaxLeaderRounds && !commit_queue_.empty(); ++round) {
      values.clear();
      size_t bytes = 0, group = 0;
      for (Committer* c : commit_queue_) {
        if (!values.empty() && (values.size() + c->values.size() > kMaxGroupHits || bytes >= kMaxGroupBytes)) break;
        for (const std::string& v : c->values) {
          values.push_back(v);
          bytes += v.size();
        }
        ++group;
      }
      lock.unlock();
      Result<uint64_t> seq = spool_->AppendBatch(values);
      lock.lock();
      if (!seq.ok()) {
        failed = seq.status();
        failed_hits += values.size();
      } else {
        uint64_t next = *seq;
        for (size_t i = 0; i < group; ++i) {
          const Committer* c = commit_queue_[i];
          recent_.Add(next, c->hits, c->values);
          next += c->hits.size();
        }
      }
      // Wake exactly the group's committers: one wake-up per committer, no herd. Notified
      // under the lock: a committer's cv lives on its stack until it returns.
      for (size_t i = 0; i < group; ++i) {
        Committer* c = commit_queue_.front();
        commit_queue_.pop_front();
        c->state.store(kDone, std::memory_order_release);
        if (c != &self) c->cv.notify_one();
      }
    }
    if (!commit_queue_.empty()) {  // the next leader
      commit_queue_.front()->state.store(kLeader, std::memory_order_release);
      commit_queue_.front()->cv.notify_one();
    }
    lock.unlock();
    if (failed_hits > 0) {
      rejected_.fetch_add(failed_hits, std::memory_order_relaxed);
      std::lock_guard log_lock(log_mu_);
      if (const uint64_t n = append_log_.Record(Clock::now()); n > 0) {
        spdlog::error("{}; {} failed spool write(s) since the last report; {} hit(s) rejected so far",
                      failed.message(), n, rejected_.load(std::memory_order_relaxed));
      }
    }
    const uint64_t overflow = spool_->stats().overflow_records;
    if (overflow != overflow_seen_.load(std::memory_order_relaxed)) {
      std::lock_guard log_lock(log_mu_);
      const uint64_t before = overflow_seen_.exchange(overflow);
      if (overflow > before && overflow_log_.Record(Clock::now()) > 0) {
        spdlog::warn("spool {}: full; {} oldest undelivered hit(s) dropped so far (per output: see stats)",
                     opts_.spool_path, overflow);
      }
    }
  }

  const SpooledOutputsOptions opts_;
  const std::string name_ = "spool";
  std::unique_ptr<HitSpool> spool_;
  RecentHits recent_;  // before deliverers_: they read it until they are destroyed
  std::vector<std::unique_ptr<Deliverer>> deliverers_;
  std::atomic<bool> accepting_{true};
  std::atomic<bool> wake_pending_{false};  // a SubmitBatchDeferringWakeup() has not woken the outputs
  std::atomic<uint64_t> submitted_{0}, rejected_{0}, overflow_seen_{0};
  std::mutex log_mu_;
  LogLimiter overflow_log_;  // guarded by log_mu_
  LogLimiter append_log_;    // guarded by log_mu_
  std::mutex shutdown_mu_;
  bool shut_down_ = false;  // guarded by shutdown_mu_
  std::mutex commit_mu_;
  std::deque<Committer*> commit_queue_;  // guarded by commit_mu_; the front is the leader
};

}  // namespace

Result<std::unique_ptr<SpooledOutputs>> SpooledOutputs::Open(SpooledOutputsOptions options) {
  if (options.outputs.empty()) return Status::InvalidArgument("spooled outputs: no output");
  SpoolOptions so;
  so.path = options.spool_path;
  so.max_bytes = options.max_bytes;
  so.max_records = options.max_records;
  so.sync = options.sync;
  for (const auto& o : options.outputs) so.consumers.push_back(o.name());
  auto spool = HitSpool::Open(so);
  if (!spool.ok()) return spool.status();
  auto impl = std::make_unique<SpooledOutputsImpl>(std::move(options), std::move(spool).value());
  if (Status s = impl->Init(); !s.ok()) return s;
  return std::unique_ptr<SpooledOutputs>(std::move(impl));
}

SpooledOutputsOptions SpoolOptionsFor(const std::vector<iocd::config::Output>& outputs, const std::string& state_dir) {
  SpooledOutputsOptions o;
  o.spool_path = (std::filesystem::path(state_dir) / "spool").string();
  uint64_t max_bytes = 0, max_records = 0;
  for (const auto& out : outputs) {
    if (out.spool().disabled()) continue;
    o.outputs.push_back(out);
    max_bytes = std::max<uint64_t>(max_bytes, out.spool().max_bytes() != 0 ? out.spool().max_bytes() : uint64_t{1} << 30);
    max_records = std::max<uint64_t>(max_records, out.spool().max_hits() != 0 ? out.spool().max_hits() : 1000000);
    o.sync = o.sync || out.spool().sync();
    if (auto gap = ParseDuration(out.spool().min_round_gap()); gap.ok()) {
      o.min_round_gap = std::max(o.min_round_gap, *gap);  // unset ("") does not parse: off
    }
  }
  if (!o.outputs.empty()) {
    o.max_bytes = max_bytes;
    o.max_records = max_records;
  }
  return o;
}

}  // namespace iocd
