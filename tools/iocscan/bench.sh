#!/usr/bin/env bash
# bench.sh: iocscan against grep, ripgrep and gawk on the same synthetic log and lists
# (issue 4; the results go in docs/PERFORMANCE.md, "Matching").
#
# What it does, in one run:
#   1. iocgen makes a mixed indicator set (ipv4, ipv6, cidr, domain, url, hashes) and from
#      it two literal-only lists (ipv4, domain and hash lines only, values a fixed-string
#      tool can search for): the first 10k and the first N_LITERALS (default 1M).
#   2. iocgen writes a SIZE_MB synthetic proxy/firewall/DNS log with HIT_RATE of its lines
#      carrying one indicator of the large literal list (it prints the exact hit-line count).
#   3. For each list: iocscan (1 thread, and --threads 2), LC_ALL=C grep -F -c -f,
#      rg -F -c -f and a gawk exact-token hash lookup count the lines that match, timed
#      with /usr/bin/time (wall seconds and peak RSS). iocscan also runs with the whole
#      mixed set (CIDRs and URLs too), which the other tools cannot express.
# grep and rg match substrings: "1.2.3.4" inside "11.2.3.45" or "evil.com" inside
# "notevil.com" count, so their counts above iocscan's are false positives (a count below
# it would be a miss). gawk matches whole tokens only, like iocscan, but does no
# normalisation (case, trailing dots, URL forms, CIDR).
#
# Usage: tools/iocscan/bench.sh [BUILD_DIR]        (default: build-scan next to this repo's root)
# Environment (defaults in brackets):
#   SIZE_MB [1024]       log size in MB (10^6 bytes); SIZE_MB=200 for a quick run
#   N_LITERALS [1000000] size of the large literal list
#   HIT_RATE [0.01]      fraction of log lines carrying an indicator
#   WORK [/tmp/iocscan-bench]  scratch directory (several GB at the default size)
#   TOOL_TIMEOUT [1800]  seconds before a baseline tool is given up on (reported as timeout)
#   SKIP_RG_LARGE [0]    1: skip ripgrep with the large list (it needs ~9 GB with 1M patterns)
# Output: one row per run: tool, list, matching lines, wall seconds, MB/s (log bytes / wall
# seconds), MB per CPU second (log bytes / user+system seconds: what one core does when
# other work shares the machine), peak RSS MB. Wall and CPU figures include loading the
# list; iocscan's own summary line below its rows gives the scan alone.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build-scan}
bin=$build/bin
SIZE_MB=${SIZE_MB:-1024}
N_LITERALS=${N_LITERALS:-1000000}
HIT_RATE=${HIT_RATE:-0.01}
WORK=${WORK:-/tmp/iocscan-bench}
TOOL_TIMEOUT=${TOOL_TIMEOUT:-1800}
SKIP_RG_LARGE=${SKIP_RG_LARGE:-0}

for tool in "$bin/iocgen" "$bin/iocscan" /usr/bin/time grep rg gawk; do
  command -v "$tool" > /dev/null || { echo "bench.sh: $tool not found (build iocgen and iocscan first)" >&2; exit 2; }
done
mkdir -p "$WORK"
cd "$WORK"

# 1. Indicators. Literal types are ~75% of the default mix; make enough for N_LITERALS.
total=$(( N_LITERALS * 14 / 10 ))
"$bin/iocgen" indicators --count "$total" --seed 1 -o mixed.txt
grep -E '^(([0-9]{1,3}\.){3}[0-9]{1,3}|[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[a-z0-9.-]+\.[a-z]{2,})$' mixed.txt \
  | head -n "$N_LITERALS" > literal_large.txt || true
head -n 10000 literal_large.txt > literal_10k.txt
n_large=$(wc -l < literal_large.txt)

# 2. The log, hits planted from the large literal list.
"$bin/iocgen" logs --indicators literal_large.txt --size-mb "$SIZE_MB" --hit-rate "$HIT_RATE" --seed 1 \
  -o log.txt 2> iocgen.err
cat iocgen.err >&2
bytes=$(stat -c %s log.txt)
cat log.txt > /dev/null  # into the page cache, so every tool reads from memory

printf '\n%-28s %-14s %12s %9s %9s %9s %10s\n' tool list matching_lines seconds MB/s MB/cpu-s peak_MB
row() {  # tool list count wall_seconds cpu_seconds rss_kb
  local mbps cpu_mbps
  mbps=$(awk -v b="$bytes" -v s="$4" 'BEGIN { if (s > 0) printf "%.1f", b / 1e6 / s; else print "-" }')
  cpu_mbps=$(awk -v b="$bytes" -v s="$5" 'BEGIN { if (s > 0) printf "%.1f", b / 1e6 / s; else print "-" }')
  printf '%-28s %-14s %12s %9s %9s %9s %10s\n' "$1" "$2" "$3" "$4" "$mbps" "$cpu_mbps" "$(( $6 / 1024 ))"
}
# Reads "wall user sys rss_kb" from time.out into secs, cpu, rss.
read_time() {
  local user sys
  read -r secs user sys rss < <(tail -n 1 time.out)
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
}
# timed NAME LIST CMD...: runs CMD under /usr/bin/time and a timeout, prints a row with its
# stdout (a count) as the matching lines.
timed() {
  local name=$1 list=$2; shift 2
  local rc=0
  timeout "$TOOL_TIMEOUT" /usr/bin/time -f '%e %U %S %M' -o time.out "$@" > count.out 2> tool.err || rc=$?
  if [ "$rc" = 124 ]; then printf '%-28s %-14s timeout after %ss\n' "$name" "$list" "$TOOL_TIMEOUT"; return; fi
  read_time
  row "$name" "$list" "$(tail -n 1 count.out)" "$secs" "$cpu" "$rss"
}
gawk_prog='NR == FNR { want[$0]; next }
{ n = split($0, t, /[][ \t"'"'"'(),;=|<>\/:#@]+/); for (i = 1; i <= n; i++) if (t[i] in want) { c++; break } }
END { print c + 0 }'

scan() {  # NAME LIST-FILE [iocscan options]
  local name=$1 list=$2; shift 2
  /usr/bin/time -f '%e %U %S %M' -o time.out "$bin/iocscan" --feed "$list" --count "$@" log.txt 2> scan.err
  read_time
  local summary hit_lines
  summary=$(grep 'iocscan: lines=' scan.err)
  hit_lines=$(sed -E 's/.* hit_lines=([0-9]+).*/\1/' <<< "$summary")
  row "$name" "$(basename "$list" .txt)" "$hit_lines" "$secs" "$cpu" "$rss"
  echo "    scan only: $(sed -E 's/.*(seconds=.*)/\1/' <<< "$summary")"
  if grep -q profile scan.err; then echo "    $(grep 'profile' scan.err | sed 's/iocscan: //')"; fi
}

for list in literal_10k.txt literal_large.txt; do
  label=$(basename "$list" .txt)
  scan "iocscan" "$list"
  scan "iocscan --threads 2" "$list" --threads 2
  timed "grep -F -c -f" "$label" env LC_ALL=C grep -F -c -f "$list" log.txt
  if [ "$list" = literal_large.txt ] && [ "$SKIP_RG_LARGE" = 1 ]; then
    printf '%-28s %-14s skipped (SKIP_RG_LARGE=1)\n' "rg -F -c -f" "$label"
  else
    timed "rg -F -c -f" "$label" rg -F -c -f "$list" log.txt
  fi
  timed "gawk token lookup" "$label" gawk "$gawk_prog" "$list" log.txt
done
# The same scan without the line prefilter (every line extracted, as before it existed).
scan "iocscan --no-prefilter" literal_large.txt --no-prefilter
scan "iocscan (mixed set)" mixed.txt
# Where the time goes (thread CPU time per phase; the clock reads add ~10%).
scan "iocscan --profile" literal_large.txt --profile

echo
echo "log: $bytes bytes; large literal list: $n_large values; $(grep -o 'hit_lines=[0-9]*' iocgen.err) planted"
echo "(rows include loading the list; MB/s = log bytes / wall seconds; MB/cpu-s = log bytes / CPU seconds)"
