#!/usr/bin/env bash
# e2e_bench.sh: the end-to-end figure of issue 5: events/s one iocd sustains on one core over
# TCP loopback with 1M indicators loaded and every event fully processed, and the latency
# from sending an event to receiving its hit (docs/PERFORMANCE.md, "End-to-end").
#
# What it does, in one run:
#   1. iocgen writes N_INDICATORS synthetic indicators (the default realistic mix).
#   2. A config: one syslog-tcp input, that feed, one json/tcp output to iocload's hit
#      receiver (through the default durable spool), threads: 1, no allowlists.
#   3. Starts the Release iocd pinned to CPU IOCD_CPU (taskset) and waits until its control
#      socket answers `status` (it only opens once the feeds are loaded and the index built).
#   4. iocload, pinned to LOAD_CPU, sends a synthetic mix (iocgen lines behind an RFC 3164
#      header, HIT_RATE of them matching) for DURATION seconds as fast as iocd takes them,
#      then RATE_RUNS times at RATE events/s for the latency figure (each its own iocload
#      process, so its own connections). Each run waits until iocd's `status` counters show
#      every event processed and every counted hit has arrived. The rate runs write every
#      latency sample to WORK/rated<i>.lat ("<send offset s> <latency ms>"); the pooled row
#      gives p50/p99/p99.9/max over all of their samples (one run of 15 s at 1% hits has
#      only ~15,000 samples: its p99 is the 150th slowest, its p99.9 the 15th).
#   5. Prints one summary table. iocd's CPU time per run (utime+stime from /proc) gives
#      events per iocd CPU second, the per-core figure that survives a shared machine.
#
# Usage: tools/iocload/e2e_bench.sh [BUILD_DIR]     (default: build-loadrel, a Release build:
#   cmake -S . -B build-loadrel -G Ninja -DCMAKE_BUILD_TYPE=Release -DIOCD_BUILD_TESTS=OFF
#   cmake --build build-loadrel -j2 --target iocd iocgen iocload iocctl)
# Environment (defaults in brackets):
#   N_INDICATORS [1000000]  DURATION [15]  RATE [100000]  HIT_RATE [0.01]
#   RATE_RUNS [3]  RATE_DURATION [DURATION]   rate runs and seconds per rate run
#   CONNECTIONS [4]  POOL_LINES [200000]  FRAMING [lf]
#   IOCD_CPU [1]  LOAD_CPU [0]  PORT [19514]  HIT_PORT [19515]
#   CONFIRM_TIMEOUT [10]      each iocload stays connected after its run until iocd has no
#                             pending hit (at most this many s; 0 = leave at once, as before
#                             2026-11-30 (7th session): iocd then resent the previous run's
#                             unconfirmed last ~2 s of hits at the start of the next run, and
#                             the new hits queued behind that burst for ~100 ms)
#   WORK [/tmp/iocload-e2e]   scratch directory (removed state each run)
#   PERF [0]                  1: perf record iocd during the full-speed run, top symbols
#                             into WORK/perf.txt
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build-loadrel}
bin=$build/bin
N_INDICATORS=${N_INDICATORS:-1000000}
DURATION=${DURATION:-15}
RATE=${RATE:-100000}
RATE_RUNS=${RATE_RUNS:-3}
RATE_DURATION=${RATE_DURATION:-$DURATION}
HIT_RATE=${HIT_RATE:-0.01}
CONNECTIONS=${CONNECTIONS:-4}
POOL_LINES=${POOL_LINES:-200000}
FRAMING=${FRAMING:-lf}
IOCD_CPU=${IOCD_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
PORT=${PORT:-19514}
HIT_PORT=${HIT_PORT:-19515}
CONFIRM_TIMEOUT=${CONFIRM_TIMEOUT:-10}
WORK=${WORK:-/tmp/iocload-e2e}
PERF=${PERF:-0}

for tool in "$bin/iocd" "$bin/iocgen" "$bin/iocload" "$bin/iocctl" taskset; do
  command -v "$tool" > /dev/null || { echo "e2e_bench.sh: $tool not found (build it first, see the header)" >&2; exit 2; }
done
mkdir -p "$WORK"
rm -rf "$WORK/state"
cd "$WORK"

if [ ! -s "indicators_$N_INDICATORS.txt" ]; then
  "$bin/iocgen" indicators --count "$N_INDICATORS" --seed 1 -o "indicators_$N_INDICATORS.txt"
fi

cat > iocd.yaml << EOF
state_dir: $WORK/state
threads: 1
control_socket: $WORK/control.sock
logging:
  level: info
inputs:
  - name: bench
    protocol: syslog-tcp
    listen: 127.0.0.1:$PORT
feeds:
  - name: bench
    path: $WORK/indicators_$N_INDICATORS.txt
    format: plain
    update_interval: 1h
outputs:
  - name: bench
    protocol: tcp
    address: 127.0.0.1:$HIT_PORT
    format: json
EOF
"$bin/iocd" --check-config iocd.yaml > /dev/null

iocd_pid=
cleanup() {
  if [ -n "$iocd_pid" ] && kill -0 "$iocd_pid" 2> /dev/null; then
    kill -TERM "$iocd_pid"
    wait "$iocd_pid" || true
  fi
}
trap cleanup EXIT

load_start=$(date +%s.%N)
taskset -c "$IOCD_CPU" "$bin/iocd" --config iocd.yaml > iocd.log 2>&1 &
iocd_pid=$!
# Ready = the control socket answers (iocd opens it after loading feeds and building the
# index). Poll it; give up if iocd exits or after 10 minutes.
for _ in $(seq 1 6000); do
  if "$bin/iocctl" --socket "$WORK/control.sock" --timeout 5 status > status.txt 2> /dev/null; then break; fi
  kill -0 "$iocd_pid" 2> /dev/null || { echo "e2e_bench.sh: iocd exited; see $WORK/iocd.log" >&2; tail -n 20 iocd.log >&2; exit 1; }
  sleep 0.1
done
grep -q '^index: ' status.txt || { echo "e2e_bench.sh: iocd not ready after 10 minutes" >&2; exit 1; }
ready_s=$(awk -v s="$load_start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
index_size=$(sed -nE 's/^index: ([0-9]+) indicators/\1/p' status.txt)
echo "iocd ready in ${ready_s}s: $index_size indicators in the index" >&2

# iocd's user+system CPU seconds so far.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$iocd_pid/stat"
}

run_load() {  # NAME RATE DURATION
  local name=$1 rate=$2 duration=$3 cpu0 cpu1 perf_pid=
  cpu0=$(cpu_seconds)
  if [ "$PERF" = 1 ] && [ "$rate" = 0 ]; then
    perf record -F 499 -g -p "$iocd_pid" -o perf.data > /dev/null 2>&1 &
    perf_pid=$!
  fi
  local rc=0
  taskset -c "$LOAD_CPU" "$bin/iocload" --port "$PORT" --connections "$CONNECTIONS" --framing "$FRAMING" \
    --indicators "indicators_$N_INDICATORS.txt" --pool-lines "$POOL_LINES" --hit-rate "$HIT_RATE" \
    --rate "$rate" --duration "$duration" --hit-listen "127.0.0.1:$HIT_PORT" \
    --control-socket "$WORK/control.sock" --latency-log "$name.lat" \
    --confirm-timeout "$CONFIRM_TIMEOUT" > "$name.txt" 2> "$name.err" || rc=$?
  cpu1=$(cpu_seconds)
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    perf report -i perf.data --stdio --no-children --percent-limit 1.5 2> /dev/null | grep -E '^ +[0-9]' > perf.txt || true
  fi
  echo "iocd_cpu_seconds: $(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.2f", b - a }')" >> "$name.txt"
  [ "$rc" = 0 ] || echo "e2e_bench.sh: iocload $name exited $rc (see $WORK/$name.err)" >&2
}

run_load full 0 "$DURATION"
rated_names=
for i in $(seq 1 "$RATE_RUNS"); do
  run_load "rated$i" "$RATE" "$RATE_DURATION"
  rated_names="$rated_names rated$i"
done

get() { sed -nE "s/^$2: (.*)/\1/p" "$1.txt"; }
# Nearest-rank p50/p99/p99.9/max (ms) over the latency samples of the given .lat files.
pooled_percentiles() {
  cat "$@" | awk '{ print $2 }' | sort -g | awk '
    { v[NR] = $1 }
    function rank(per_mille,  r) { r = int((per_mille * NR + 999) / 1000); if (r < 1) r = 1; return v[r] }
    END { if (NR == 0) { print "- - - - 0"; exit } printf "%.3f %.3f %.3f %.3f %d\n", rank(500), rank(990), rank(999), v[NR], NR }'
}
echo
echo "e2e_tcp: $index_size indicators, $CONNECTIONS connections, $FRAMING framing, hit rate $HIT_RATE, ${DURATION}s per run, iocd threads: 1 on CPU $IOCD_CPU, iocload on CPU $LOAD_CPU"
printf '%-16s %10s %12s %10s %12s %13s %8s %8s %9s %9s %8s %10s\n' \
  workload sent events/s processed ev/iocd-cpu-s hit_ev/exp p50_ms p99_ms p99.9_ms max_ms drained iocd_cpu_s
for name in full $rated_names; do
  sent=$(get "$name" sent_events)
  cpu=$(get "$name" iocd_cpu_seconds)
  per_cpu=$(awk -v n="$(get "$name" iocd_events)" -v c="$cpu" 'BEGIN { if (c > 0) printf "%.0f", n / c; else print "-" }')
  label=$([ "$name" = full ] && echo "e2e_full_speed" || echo "e2e_rate_${RATE}_${name#rated}")
  printf '%-16s %10s %12s %10s %12s %13s %8s %8s %9s %9s %8s %10s\n' "$label" "$sent" "$(get "$name" sent_per_second)" \
    "$(get "$name" iocd_events)" "$per_cpu" "$(get "$name" hit_events)/$(get "$name" expected_hit_events)" \
    "$(get "$name" latency_p50_ms)" "$(get "$name" latency_p99_ms)" "$(get "$name" latency_p999_ms)" \
    "$(get "$name" latency_max_ms)" "$(get "$name" drained)" "$cpu"
done
if [ "$RATE_RUNS" -gt 0 ]; then
  read -r p50 p99 p999 pmax n <<< "$(pooled_percentiles $(for r in $rated_names; do echo "$r.lat"; done))"
  printf '%-16s %10s %12s %10s %12s %13s %8s %8s %9s %9s\n' "e2e_rate_pooled" "" "" "" "" "$n samples" \
    "$p50" "$p99" "$p999" "$pmax"
  echo "slowest samples per rate run (latency@send offset into the run), and iocd's undelivered hits"
  echo "when it started (a previous receiver's unconfirmed hits, resent first):"
  for r in $rated_names; do echo "  $r: $(get "$r" latency_slowest); pending at start $(get "$r" iocd_pending_at_start)"; done
fi
echo "(events/s = sent / send time; processed = iocd's events counter delta, must equal sent;"
echo " latency = iocload send -> hit received over loopback, an upper bound on receipt -> hit emitted)"
[ "$PERF" = 1 ] && [ -s perf.txt ] && { echo; echo "perf, iocd during the full-speed run (top symbols):"; head -n 25 perf.txt; }
exit 0
