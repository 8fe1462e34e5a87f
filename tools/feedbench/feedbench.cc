#include "feedbench.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "app/feed_source.h"
#include "app/feed_sync.h"
#include "app/snapshot.h"
#include "store/indicator_store.h"

namespace iocd::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

struct Value {
  std::string text;
  const char* zeek_type;
  const char* stix_path;
  const char* misp_type;
  const char* kaspersky_key;
};

// Indicator i of set `seed` (unique for i < 10M): 40% IPv4, 10% /28 ranges, 20% domains, 10% URLs, 10% MD5,
// 10% SHA256. Distinct seeds give disjoint sets (the seed is part of every value).
Value MakeValue(uint64_t i, uint64_t seed) {
  uint64_t r = SplitMix(seed * 0x100000000ULL + i);
  auto hex = [](uint64_t a, uint64_t b, int chars) {
    std::string s = fmt::format("{:016x}{:016x}{:016x}{:016x}", a, b, SplitMix(a), SplitMix(b));
    return s.substr(0, static_cast<size_t>(chars));
  };
  // Addresses: seed picks the first octet (11.., 12..), i the rest, so sets never overlap.
  uint32_t addr = (static_cast<uint32_t>(10 + seed) << 24) | static_cast<uint32_t>(i & 0xffffff);
  auto dotted = [](uint32_t a) {
    return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
  };
  switch (i % 10) {
    case 0: case 1: case 2: case 3:
      return {dotted(addr), "Intel::ADDR", "ipv4-addr:value", "ip-dst", "ip"};
    case 4:
      return {dotted((static_cast<uint32_t>(100 + seed) << 24) | (static_cast<uint32_t>(i / 10) << 4)) + "/28",
              "Intel::SUBNET", "ipv4-addr:value", "ip-dst", "ip"};
    case 5: case 6:
      return {fmt::format("h{:x}-{:x}-s{}.example{}.net", i, r & 0xffff, seed, i % 97), "Intel::DOMAIN",
              "domain-name:value", "domain", "domain"};
    case 7:
      return {fmt::format("http://u{:x}-s{}.example.org/gate{}.php", r & 0xffff, seed, i), "Intel::URL",
              "url:value", "url", "url"};
    case 8:
      return {hex(r, seed ^ i, 32), "Intel::FILE_HASH", "file:hashes.'MD5'", "md5", "md5"};
    default:
      return {hex(r, seed ^ i, 64), "Intel::FILE_HASH", "file:hashes.'SHA-256'", "sha256", "sha256"};
  }
}

iocd::config::Feed FeedConfig(iocd::config::FeedFormat format, const std::string& path) {
  iocd::config::Feed feed;
  feed.set_name("bench");
  feed.set_path(path);
  feed.set_format(format);
  feed.set_max_shrink(1.0);
  if (format == iocd::config::FEED_FORMAT_CSV) {
    feed.mutable_csv()->set_delimiter(";");
    feed.mutable_csv()->set_value_column("1");
    (*feed.mutable_csv()->mutable_context_columns())["threat"] = "2";
  }
  return feed;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string Rate(double per_second) {
  if (per_second >= 1e6) return fmt::format("{:.2f}M/s", per_second / 1e6);
  return fmt::format("{:.0f}k/s", per_second / 1e3);
}

}  // namespace

std::string GenerateFeed(iocd::config::FeedFormat format, uint64_t count, uint64_t seed) {
  std::string out;
  out.reserve(count * 80);
  switch (format) {
    case iocd::config::FEED_FORMAT_PLAIN:
      for (uint64_t i = 0; i < count; ++i) out += MakeValue(i, seed).text + "\n";
      break;
    case iocd::config::FEED_FORMAT_CSV:
      for (uint64_t i = 0; i < count; ++i) out += fmt::format("{};threat-{}\n", MakeValue(i, seed).text, i % 50);
      break;
    case iocd::config::FEED_FORMAT_ZEEK_INTEL: {
      out += "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\n";
      for (uint64_t i = 0; i < count; ++i) {
        Value v = MakeValue(i, seed);
        std::string text = v.text;
        if (i % 10 == 7) text = text.substr(7);  // Zeek URLs have no scheme
        out += fmt::format("{}\t{}\tbench\tthreat-{}\n", text, v.zeek_type, i % 50);
      }
      break;
    }
    case iocd::config::FEED_FORMAT_KASPERSKY_JSON: {
      out += "[";
      for (uint64_t i = 0; i < count; ++i) {
        Value v = MakeValue(i, seed);
        // Kaspersky IP feeds list addresses, not ranges: the range's network address stands in.
        if (i % 10 == 4) v.text = v.text.substr(0, v.text.find('/'));
        out += fmt::format(
            "{}{{\"id\":{},\"{}\":\"{}\",\"category\":\"threat-{}\",\"first_seen\":\"01.01.2026 00:00\","
            "\"last_seen\":\"01.11.2026 12:00\",\"popularity\":{},\"threat_score\":{}}}",
            i == 0 ? "" : ",", i, v.kaspersky_key, v.text, i % 50, i % 5 + 1, i % 100);
      }
      out += "]";
      break;
    }
    case iocd::config::FEED_FORMAT_STIX2: {
      out += "{\"type\":\"bundle\",\"id\":\"bundle--bench\",\"objects\":[";
      for (uint64_t i = 0; i < count; ++i) {
        Value v = MakeValue(i, seed);
        out += fmt::format(
            "{}{{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--{:08x}-0000-4000-8000-{:012x}\","
            "\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\","
            "\"name\":\"threat-{}\",\"pattern\":\"[{} = '{}']\",\"pattern_type\":\"stix\","
            "\"valid_from\":\"2026-01-01T00:00:00Z\"}}",
            i == 0 ? "" : ",", seed, i, i % 50, v.stix_path, v.text);
      }
      out += "]}";
      break;
    }
    case iocd::config::FEED_FORMAT_MISP: {
      out += "{\"Event\":{\"info\":\"bench\",\"uuid\":\"00000000-0000-4000-8000-000000000000\",\"threat_level_id\":\"2\","
             "\"date\":\"2026-01-01\",\"Attribute\":[";
      for (uint64_t i = 0; i < count; ++i) {
        Value v = MakeValue(i, seed);
        out += fmt::format(
            "{}{{\"type\":\"{}\",\"category\":\"Network activity\",\"to_ids\":true,\"value\":\"{}\","
            "\"uuid\":\"{:08x}-0000-4000-8000-{:012x}\",\"timestamp\":\"1767225600\"}}",
            i == 0 ? "" : ",", v.misp_type, v.text, seed, i);
      }
      out += "]}}";
      break;
    }
    default:
      break;
  }
  return out;
}

int RunFeedBench(const FeedBenchOptions& options, std::ostream& out) {
  std::vector<iocd::config::FeedFormat> formats = options.formats;
  if (formats.empty()) {
    formats = {iocd::config::FEED_FORMAT_PLAIN,         iocd::config::FEED_FORMAT_CSV,
               iocd::config::FEED_FORMAT_ZEEK_INTEL,    iocd::config::FEED_FORMAT_KASPERSKY_JSON,
               iocd::config::FEED_FORMAT_STIX2,         iocd::config::FEED_FORMAT_MISP};
  }
  fs::create_directories(options.work_dir);

  out << "workload                          indicators   parse        import (parse+write)   bytes\n";
  for (uint64_t n : options.load_sizes) {
    for (auto format : formats) {
      std::string path = options.work_dir + "/feed.in";
      std::string text = GenerateFeed(format, n, 1);
      std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
      iocd::config::Feed feed = FeedConfig(format, path);

      auto t0 = Clock::now();
      auto parsed = ParseFeedDocuments(feed, {text});
      auto parse_time = Clock::now() - t0;
      if (!parsed.ok() || parsed->indicators.size() != n) {
        out << "error: " << FormatName(format) << " parsed "
            << (parsed.ok() ? std::to_string(parsed->indicators.size()) : parsed.status().ToString()) << " of " << n
            << "\n";
        return 1;
      }
      parsed = FeedParseResult();

      std::string store_dir = options.work_dir + "/store";
      fs::remove_all(store_dir);
      auto store = IndicatorStore::Open({store_dir});
      if (!store.ok()) {
        out << "error: " << store.status().ToString() << "\n";
        return 1;
      }
      FeedSync sync(store->get());
      auto t1 = Clock::now();
      FeedSyncReport report = sync.SyncOne(feed);
      auto import_time = Clock::now() - t1;
      if (report.outcome != FeedSyncReport::Outcome::kImported || report.indicators != n) {
        out << "error: import of " << FormatName(format) << ": " << OutcomeName(report.outcome) << " "
            << report.indicators << " " << report.error << "\n";
        return 1;
      }
      out << fmt::format("load_{}_{:<20} {:>10}   {:>10}   {:>10} ({:.2f} s)   {:.0f} MB\n", FormatName(format),
                         n >= 1000000 ? fmt::format("{}m", n / 1000000) : fmt::format("{}k", n / 1000), n,
                         Rate(n / Seconds(parse_time)), Rate(n / Seconds(import_time)), Seconds(import_time),
                         text.size() / 1e6);
      store->reset();
      fs::remove_all(store_dir);
    }
  }

  out << "\nreload (plain feed replaced by a disjoint one of the same size; a reader thread matches throughout)\n";
  for (uint64_t n : options.reload_sizes) {
    if (n == 0) continue;  // "--reload 0": no reload workload
    std::string path = options.work_dir + "/reload.txt";
    std::string store_dir = options.work_dir + "/reload-store";
    fs::remove_all(store_dir);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << GenerateFeed(iocd::config::FEED_FORMAT_PLAIN, n, 1);
    auto store = IndicatorStore::Open({store_dir});
    if (!store.ok()) return 1;
    google::protobuf::RepeatedPtrField<iocd::config::Feed> feeds;
    *feeds.Add() = FeedConfig(iocd::config::FEED_FORMAT_PLAIN, path);
    SuppressionCounters counters;
    SnapshotHolder holder;
    auto empty = AllowlistBuilder().Build();
    FeedSync sync(store->get());
    auto initial = Clock::now();
    FeedSyncReport first = sync.SyncOne(feeds[0]);
    const ImportedFeed* first_imported[] = {first.imported.get()};
    auto built = BuildSnapshot(**store, feeds, empty, *empty, counters, FeedSync::SystemNowMs(), first_imported);
    first = FeedSyncReport();
    if (!built.ok()) return 1;
    holder.Publish(built->snapshot);
    double initial_s = Seconds(Clock::now() - initial);

    {
      // The update: the first `changed` lines come from another seed (new indicators, the
      // old ones removed), the rest are as before.
      const auto changed = static_cast<uint64_t>(static_cast<double>(n) * options.reload_change);
      const std::string fresh = GenerateFeed(iocd::config::FEED_FORMAT_PLAIN, changed, 2);
      const std::string old = GenerateFeed(iocd::config::FEED_FORMAT_PLAIN, n, 1);
      size_t skip = 0;
      for (uint64_t i = 0; i < changed && skip < old.size(); ++i) skip = old.find('\n', skip) + 1;
      std::ofstream(path, std::ios::binary | std::ios::trunc) << fresh << std::string_view(old).substr(skip);
    }
    std::atomic<bool> done{false};
    std::atomic<uint64_t> lookups{0};
    std::atomic<int64_t> longest_gap_us{0};
    std::thread reader([&] {
      std::vector<IndexMatch> matches;
      auto lookup = [&](uint64_t i) {
        auto snap = holder.Current();
        Value v = MakeValue(i % n, i % 2 + 1);
        auto ind = ParseIndicator(v.text);
        matches.clear();
        if (ind.ok()) snap->index->Lookup(*ind, &matches);
        lookups.fetch_add(1, std::memory_order_relaxed);
      };
      auto note_gap = [&](Clock::time_point since, Clock::time_point now) {
        int64_t gap = std::chrono::duration_cast<std::chrono::microseconds>(now - since).count();
        if (gap > longest_gap_us.load()) longest_gap_us.store(gap);
      };
      if (options.reader_rate == 0) {  // flat out: the longest gap between two lookups
        auto last = Clock::now();
        for (uint64_t i = 0; !done.load(std::memory_order_relaxed); ++i) {
          lookup(i);
          auto now = Clock::now();
          note_gap(last, now);
          last = now;
        }
        return;
      }
      // Paced: a burst of rate/1000 lookups every millisecond; the pause is how late a
      // burst finished against its schedule.
      const uint64_t burst = std::max<uint64_t>(1, options.reader_rate / 1000);
      auto tick = Clock::now();
      for (uint64_t i = 0; !done.load(std::memory_order_relaxed);) {
        for (uint64_t b = 0; b < burst; ++b) lookup(i++);
        note_gap(tick, Clock::now());
        tick += std::chrono::milliseconds(1);
        std::this_thread::sleep_until(tick);
      }
    });
    auto t0 = Clock::now();
    // As the daemon does it: the index is built ahead, while the store is written.
    const int64_t now_ms = FeedSync::SystemNowMs();
    SnapshotPrebuilder prebuilder([&](std::span<const ImportedFeed* const> imported) {
      return BuildSnapshot(**store, feeds, empty, *empty, counters, now_ms, imported);
    });
    FeedSyncReport report = sync.SyncOne(
        feeds[0], [&](std::shared_ptr<const ImportedFeed> pending) { prebuilder.Pending(std::move(pending)); },
        /*defer_stats=*/true);
    prebuilder.Committed(report.imported);
    auto t_sync = Clock::now();
    auto rebuilt = prebuilder.Finish(false);
    if (!rebuilt.ok()) return 1;
    holder.Publish(rebuilt->snapshot);
    auto t_swap = Clock::now();
    done.store(true);
    reader.join();
    report.CompleteStats();  // as the daemon does: the exact changes, counted after the swap
    const double count_s = Seconds(Clock::now() - t_swap);
    out << fmt::format(
        "reload_plain_{:<4} {:>3.0f}% changed: initial load {:.2f} s; update: import {:.2f} s (+{} -{}; read {} ms, "
        "parse {} ms, store {} ms), index build and swap {:.2f} s more ({}), total {:.2f} s; reader: {} lookups during it, "
        "longest pause {:.2f} ms; changes counted after the swap in {:.2f} s\n",
        n >= 1000000 ? fmt::format("{}m", n / 1000000) : fmt::format("{}k", n / 1000), options.reload_change * 100,
        initial_s, Seconds(t_sync - t0), report.changes.added, report.changes.removed, report.read_time.count(),
        report.parse_time.count(), report.store_time.count(), Seconds(t_swap - t_sync),
        prebuilder.used_prebuilt() ? "built while the store was written" : "built after",
        Seconds(t_swap - t0),
        lookups.load(), longest_gap_us.load() / 1000.0, count_s);
    store->reset();
    fs::remove_all(store_dir);
  }
  return 0;
}

}  // namespace iocd::bench
