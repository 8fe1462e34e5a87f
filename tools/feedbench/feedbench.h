// feedbench: measures feed loading: parse throughput per format, import into a real
// RocksDB store (parse + diff + write), and the time to swap in a new index after a feed
// update, while a reader thread keeps matching against whatever index is current.
//
// Workloads are synthetic but shaped like real feeds: a mix of IPv4 addresses, CIDR
// ranges, domains, URLs and hashes, in each supported format.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "proto/config.pb.h"

namespace iocd::bench {

// The text of a feed with `count` indicators in `format`; `seed` varies the values (two
// seeds give disjoint sets).
std::string GenerateFeed(iocd::config::FeedFormat format, uint64_t count, uint64_t seed);

struct FeedBenchOptions {
  std::string work_dir;              // temp stores and feed files go here
  std::vector<uint64_t> load_sizes = {1000000};      // per format
  std::vector<uint64_t> reload_sizes = {1000000};    // plain feed, full replacement
  std::vector<iocd::config::FeedFormat> formats;     // default: all threat-feed formats
  // Lookups per second of the reader thread during a reload; 0: as fast as it can (it
  // then takes a whole core from the reload).
  uint64_t reader_rate = 0;
  // Fraction of the reload feed's indicators replaced by new ones (1: all, the worst case).
  double reload_change = 1.0;
};

// Runs the workloads and prints one line per measurement. Returns 0 on success.
int RunFeedBench(const FeedBenchOptions& options, std::ostream& out);

}  // namespace iocd::bench
