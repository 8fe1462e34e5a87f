#!/usr/bin/env bash
# match_table.sh: the match-index table of issue 4 from one command, for docs/PERFORMANCE.md.
#
# Runs match_bench once per (size, type), so each index is built in a fresh process (its
# resident-set delta is its own, and no other type's index is in memory), and prints one
# markdown row per (type, size):
#   bytes/ind.  the index's own accounting (ApproximateMemoryUsage / N)
#   RSS/ind.    resident set after the build minus before it, / N (match_bench.cc)
#   build s     wall seconds of IndexBuilder::Add of N indicators + Build, one thread
#   build CPU s the same on the thread's CPU clock (what it costs when the machine is shared)
#   hit, hit batch, miss, miss batch   M lookups/s (CPU time), single Lookup and LookupBatch
# cidr4 is N random ranges looked up with random IPv4 addresses (about 4 covering ranges
# per lookup at 1M); its figures are in the hit columns.
#
# Usage: daemon/match/match_table.sh [MATCH_BENCH]   (default: build-rel/bin/match_bench)
# Environment (defaults in brackets):
#   SIZES ["1000000 10000000"]   index sizes
#   TYPES ["ipv4 ipv6 md5 sha1 sha256 sha512 domain url cidr4"]
#   MIN_TIME [0.2]               --benchmark_min_time per lookup benchmark
#   WARMUP [0.1]                 --benchmark_min_warmup_time: the first LookupBatch over a
#                                cold 10M url index once took 0.2 s, which alone met
#                                MIN_TIME and printed 0.0M/s
# A bench binary without a counter (an older build) prints "-" in its column.
set -euo pipefail

bench=${1:-build-rel/bin/match_bench}
sizes=${SIZES:-"1000000 10000000"}
types=${TYPES:-"ipv4 ipv6 md5 sha1 sha256 sha512 domain url cidr4"}
min_time=${MIN_TIME:-0.2}
warmup=${WARMUP:-0.1}

if [[ ! -x "$bench" ]]; then
  echo "match_table.sh: $bench is not an executable (build the match_bench target first)" >&2
  exit 1
fi

echo "| type | N | bytes/ind. | RSS/ind. | build s | build CPU s | hit | hit batch | miss | miss batch |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in $sizes; do
  for t in $types; do
    IOCD_BENCH_N=$n "$bench" --benchmark_filter="^(build|match)_${t}(_|/|\$)" \
        --benchmark_min_time="$min_time" --benchmark_min_warmup_time="$warmup" --benchmark_format=json 2>/dev/null |
      gawk -v type="$t" -v n="$n" '
        # One benchmark object per "name"; its fields follow on their own lines.
        /"name":/ { split($0, q, "\""); name = q[4]; sub(/\/iterations:1$/, "", name) }
        /"(items_per_second|bytes_per_indicator|rss_bytes_per_indicator|build_seconds|build_cpu_seconds)":/ {
          split($0, q, "\""); v = $2; sub(/,$/, "", v); f[name, q[2]] = v + 0; seen[name, q[2]] = 1
        }
        function get(bm, field, scale, digits) {
          return seen[bm, field] ? sprintf("%." digits "f", f[bm, field] / scale) : "-"
        }
        END {
          b = "build_" type; m = "match_" type
          hit = type == "cidr4" ? m : m "_hit"
          hitb = type == "cidr4" ? m "_batch" : m "_hit_batch"
          printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", type, n,
                 get(b, "bytes_per_indicator", 1, 1), get(b, "rss_bytes_per_indicator", 1, 1),
                 get(b, "build_seconds", 1, 2), get(b, "build_cpu_seconds", 1, 2), get(hit, "items_per_second", 1e6, 1),
                 get(hitb, "items_per_second", 1e6, 1), get(m "_miss", "items_per_second", 1e6, 1),
                 get(m "_miss_batch", "items_per_second", 1e6, 1)
        }'
  done
done
