#include "spool/hit_spool.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <thread>
#include <utility>

namespace iocd {
namespace {

constexpr char kRecordPrefix = 'h';
constexpr char kCursorPrefix = 'c';

void PutBigEndian64(uint64_t v, std::string* out) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint64_t GetBigEndian64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}

std::string RecordKey(uint64_t seq) {
  std::string k(1, kRecordPrefix);
  PutBigEndian64(seq, &k);
  return k;
}

std::string CursorKey(std::string_view consumer) { return std::string(1, kCursorPrefix) + std::string(consumer); }

std::string SeqValue(uint64_t seq) {
  std::string v;
  PutBigEndian64(seq, &v);
  return v;
}

class RocksHitSpool final : public HitSpool {
 public:
  RocksHitSpool(SpoolOptions options, std::unique_ptr<rocksdb::DB> db)
      : opts_(std::move(options)), db_(std::move(db)) {
    write_options_.sync = opts_.sync;
    deleter_ = std::thread([this] { DeleteFreedRecords(); });
  }

  // Finishes deleting what Acks freed (a few ms per thousand records), then closes.
  ~RocksHitSpool() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    deleter_cv_.notify_one();
    deleter_.join();
  }

  RocksHitSpool(const RocksHitSpool&) = delete;
  RocksHitSpool& operator=(const RocksHitSpool&) = delete;

  // Loads records and cursors; called once before the spool is shared.
  Status Load() {
    std::set<std::string> wanted(opts_.consumers.begin(), opts_.consumers.end());
    rocksdb::WriteBatch batch;
    bool first = true;
    std::optional<uint64_t> keep_from;  // set at the first record, when every cursor is loaded
    {
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        const rocksdb::Slice key = it->key();
        if (key.size() == 9 && key[0] == kRecordPrefix) {
          const uint64_t seq = GetBigEndian64(std::string_view(key.data() + 1, 8));
          // Cursor keys ('c') sort before record keys ('h'): every cursor is loaded here.
          // A record below every kept cursor is one an Ack had freed but not yet deleted
          // when the process stopped (Ack deletes after moving the cursor): delete it now.
          if (!keep_from) keep_from = cursors_.empty() ? 0 : LowestCursor();
          if (seq < *keep_from) {
            batch.Delete(key);
            continue;
          }
          if (first) {
            first_seq_ = seq;
            first = false;
          } else if (seq != first_seq_ + sizes_.size()) {
            // A hole can only be left by an interrupted overflow; fill it as empty records
            // so sequence numbers stay dense (Read skips missing keys).
            while (first_seq_ + sizes_.size() < seq) sizes_.push_back(0);
          }
          sizes_.push_back(static_cast<uint32_t>(it->value().size()));
          bytes_ += it->value().size();
        } else if (key.size() > 1 && key[0] == kCursorPrefix) {
          std::string name(key.data() + 1, key.size() - 1);
          if (it->value().size() != 8) {
            return Status::Corruption("spool " + opts_.path + ": cursor of \"" + name + "\" does not decode");
          }
          if (wanted.count(name) == 0) {
            batch.Delete(key);
          } else {
            cursors_[name] = GetBigEndian64(it->value().ToStringView());
          }
        } else {
          return Status::Corruption("spool " + opts_.path + ": unexpected key of " + std::to_string(key.size()) +
                                    " bytes; the directory holds something else (move it away)");
        }
      }
      if (!it->status().ok()) return Status::IoError("spool " + opts_.path + ": " + it->status().ToString());
    }
    if (first) {
      // Empty: continue after the highest cursor so sequence numbers never go back.
      uint64_t next = 0;
      for (const auto& [name, seq] : cursors_) next = std::max(next, seq);
      first_seq_ = next;
    }
    next_seq_ = first_seq_ + sizes_.size();
    for (const std::string& name : opts_.consumers) {
      if (cursors_.count(name) == 0) {
        cursors_[name] = next_seq_;
        batch.Put(CursorKey(name), SeqValue(next_seq_));
      }
      dropped_[name] = 0;
    }
    if (batch.Count() > 0) {
      rocksdb::Status s = db_->Write(write_options_, &batch);
      if (!s.ok()) return Status::IoError("spool " + opts_.path + ": " + s.ToString());
    }
    std::lock_guard lock(mu_);
    return TrimLocked();
  }

  Result<uint64_t> Append(std::string_view value) override {
    return AppendBatch(std::span<const std::string_view>(&value, 1));
  }

  Result<uint64_t> AppendBatch(std::span<const std::string_view> values) override {
    std::lock_guard lock(mu_);
    if (values.empty()) return next_seq_;
    return AppendLocked(values);
  }
  Status Read(uint64_t from, size_t max_records, size_t max_bytes, std::vector<SpoolRecord>* out) const override {
    uint64_t end;
    {
      std::lock_guard lock(mu_);
      from = std::max(from, first_seq_);
      end = next_seq_;
    }
    if (from >= end || max_records == 0) return Status::Ok();
    rocksdb::ReadOptions ro;
    const std::string upper = RecordKey(end);
    rocksdb::Slice upper_slice(upper);
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    size_t n = 0, bytes = 0;
    for (it->Seek(RecordKey(from)); it->Valid() && n < max_records && bytes < max_bytes; it->Next()) {
      SpoolRecord r;
      r.seq = GetBigEndian64(std::string_view(it->key().data() + 1, 8));
      r.value = it->value().ToString();
      bytes += r.value.size();
      out->push_back(std::move(r));
      ++n;
    }
    if (!it->status().ok()) return Status::IoError("spool " + opts_.path + ": read failed: " + it->status().ToString());
    return Status::Ok();
  }

  Result<uint64_t> Cursor(std::string_view consumer) const override {
    std::lock_guard lock(mu_);
    auto it = cursors_.find(std::string(consumer));
    if (it == cursors_.end()) return Status::InvalidArgument("spool: unknown consumer \"" + std::string(consumer) + "\"");
    return std::max(it->second, first_seq_);
  }

  Status Ack(std::string_view consumer, uint64_t next) override {
    {
      std::lock_guard lock(mu_);
      auto it = cursors_.find(std::string(consumer));
      if (it == cursors_.end()) return Status::InvalidArgument("spool: unknown consumer \"" + std::string(consumer) + "\"");
      next = std::min(next, next_seq_);
      if (next <= it->second) return Status::Ok();
      rocksdb::WriteBatch batch;
      batch.Put(CursorKey(consumer), SeqValue(next));
      rocksdb::Status s = db_->Write(write_options_, &batch);
      if (!s.ok()) return Status::IoError("spool " + opts_.path + ": ack failed: " + s.ToString());
      it->second = next;
      FreeBelowLocked(MinCursorLocked());
    }
    deleter_cv_.notify_one();
    return Status::Ok();
  }

  uint64_t overflow_dropped(std::string_view consumer) const override {
    std::lock_guard lock(mu_);
    auto it = dropped_.find(std::string(consumer));
    return it == dropped_.end() ? 0 : it->second;
  }

  SpoolStats stats() const override {
    std::lock_guard lock(mu_);
    SpoolStats s;
    s.records = sizes_.size();
    s.bytes = bytes_;
    s.first_seq = first_seq_;
    s.next_seq = next_seq_;
    s.overflow_records = overflow_records_;
    return s;
  }

 private:
  // The deleter thread: deletes the records Acks freed (delete_from_..delete_to_), a few
  // hundred per write, without holding mu_ during a write. On stop it finishes first. A
  // failed write leaves its records below every cursor, where the next Load deletes them.
  void DeleteFreedRecords() {
    std::unique_lock lock(mu_);
    while (true) {
      deleter_cv_.wait(lock, [this] { return stopping_ || delete_from_ < delete_to_; });
      if (delete_from_ >= delete_to_) return;  // stopping, nothing left
      const uint64_t from = delete_from_;
      const uint64_t to = std::min(delete_to_, from + kDeletesPerWrite);
      lock.unlock();
      rocksdb::WriteBatch batch;
      for (uint64_t seq = from; seq < to; ++seq) batch.Delete(RecordKey(seq));
      (void)db_->Write(write_options_, &batch);
      lock.lock();
      delete_from_ = std::max(delete_from_, to);
    }
  }

  // The lowest cursor (the largest uint64_t when there is none).
  uint64_t LowestCursor() const {
    uint64_t m = std::numeric_limits<uint64_t>::max();
    for (const auto& [name, seq] : cursors_) m = std::min(m, seq);
    return m;
  }

  uint64_t MinCursorLocked() const { return std::max(std::min(next_seq_, LowestCursor()), first_seq_); }

  // The records below min_cursor are no consumer's any more: never read again (Read starts
  // at a cursor). They leave the bounds at once and are deleted by the deleter thread
  // (notify deleter_cv_ after unlocking), so that neither an Ack's caller (an output's
  // delivery thread) nor Append waits for a backlog's deletes. A pending range is extended;
  // records between it and first_seq_ were deleted by an overflow, and deleting them again
  // is harmless.
  void FreeBelowLocked(uint64_t min_cursor) {
    if (min_cursor <= first_seq_) return;
    if (delete_from_ >= delete_to_) delete_from_ = first_seq_;
    delete_to_ = min_cursor;
    const auto freed_end = sizes_.begin() + static_cast<std::ptrdiff_t>(min_cursor - first_seq_);
    for (auto size = sizes_.begin(); size != freed_end; ++size) bytes_ -= *size;
    sizes_.erase(sizes_.begin(), freed_end);
    first_seq_ = min_cursor;
  }

  // Appends `values` (possibly none) and applies the bounds, in one write.
  Result<uint64_t> AppendLocked(std::span<const std::string_view> values) {
    const uint64_t first_new = next_seq_;
    // The bounds over the stored records followed by the new ones: the oldest `drop` of
    // that sequence go, new ones included when the batch alone is too large.
    const size_t stored = sizes_.size();
    const size_t total = stored + values.size();
    uint64_t bytes = bytes_;
    for (std::string_view v : values) bytes += v.size();
    size_t drop = 0;
    while (drop < total && ((opts_.max_records != 0 && total - drop > opts_.max_records) ||
                            (opts_.max_bytes != 0 && bytes > opts_.max_bytes))) {
      bytes -= drop < stored ? sizes_[drop] : values[drop - stored].size();
      ++drop;
    }
    const uint64_t new_first = first_seq_ + drop;
    // One atomic write: the new records, the deleted oldest ones and the moved cursors.
    rocksdb::WriteBatch batch;
    for (size_t i = 0; i < std::min(drop, stored); ++i) batch.Delete(RecordKey(first_seq_ + i));
    for (size_t i = drop > stored ? drop - stored : 0; i < values.size(); ++i) {
      batch.Put(RecordKey(first_new + i), rocksdb::Slice(values[i].data(), values[i].size()));
    }
    std::vector<std::pair<std::string_view, uint64_t>> moved;  // consumer, records it lost
    for (const auto& [name, seq] : cursors_) {
      if (seq < new_first) {
        moved.emplace_back(name, new_first - std::max(seq, first_seq_));
        batch.Put(CursorKey(name), SeqValue(new_first));
      }
    }
    if (batch.Count() == 0) return first_new;
    rocksdb::Status s = db_->Write(write_options_, &batch);
    if (!s.ok()) return Status::IoError("spool " + opts_.path + ": append failed: " + s.ToString());
    for (std::string_view v : values) sizes_.push_back(static_cast<uint32_t>(v.size()));
    sizes_.erase(sizes_.begin(), sizes_.begin() + static_cast<std::ptrdiff_t>(drop));
    next_seq_ = first_new + values.size();
    first_seq_ = new_first;
    bytes_ = bytes;
    overflow_records_ += drop;
    for (const auto& [name, n] : moved) {
      cursors_.find(name)->second = new_first;
      dropped_.find(name)->second += n;
    }
    return first_new;
  }

  // At open: apply the bounds (they may have shrunk) and free what every consumer passed.
  Status TrimLocked() {
    if (Result<uint64_t> r = AppendLocked({}); !r.ok()) return r.status();
    FreeBelowLocked(MinCursorLocked());
    deleter_cv_.notify_one();
    return Status::Ok();
  }

  // Deletes per write of the deleter thread: about half a millisecond of holding the
  // database's write queue, so an Append waits at most that long behind one.
  static constexpr uint64_t kDeletesPerWrite = 256;

  const SpoolOptions opts_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::WriteOptions write_options_;

  mutable std::mutex mu_;
  uint64_t first_seq_ = 0;            // guarded by mu_
  uint64_t next_seq_ = 0;             // guarded by mu_
  std::deque<uint32_t> sizes_;        // guarded by mu_: value size of first_seq_ + i
  uint64_t bytes_ = 0;                // guarded by mu_
  uint64_t overflow_records_ = 0;     // guarded by mu_
  std::map<std::string, uint64_t, std::less<>> cursors_;  // guarded by mu_
  std::map<std::string, uint64_t, std::less<>> dropped_;  // guarded by mu_
  uint64_t delete_from_ = 0;          // guarded by mu_: freed records not yet deleted
  uint64_t delete_to_ = 0;            // guarded by mu_
  bool stopping_ = false;             // guarded by mu_
  std::condition_variable deleter_cv_;
  std::thread deleter_;               // last: started when every other member exists
};

}  // namespace

Result<std::unique_ptr<HitSpool>> HitSpool::Open(const SpoolOptions& options) {
  if (options.path.empty()) return Status::InvalidArgument("spool: path is required");
  if (options.consumers.empty()) return Status::InvalidArgument("spool: at least one consumer is required");
  std::set<std::string> names;
  for (const auto& c : options.consumers) {
    if (c.empty() || !names.insert(c).second) {
      return Status::InvalidArgument("spool: consumer names must be unique and non-empty (\"" + c + "\")");
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) return Status::IoError("spool " + options.path + ": cannot create the directory: " + ec.message());
  rocksdb::Options ro;
  ro.create_if_missing = true;
  ro.max_open_files = 64;
  ro.keep_log_file_num = 2;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(ro, options.path, &raw);
  if (!s.ok()) {
    return Status::IoError("spool " + options.path + ": cannot open: " + s.ToString() +
                           " (is another iocd using this state_dir?)");
  }
  auto spool = std::make_unique<RocksHitSpool>(options, std::unique_ptr<rocksdb::DB>(raw));
  if (Status l = spool->Load(); !l.ok()) return l;
  return std::unique_ptr<HitSpool>(std::move(spool));
}

}  // namespace iocd
