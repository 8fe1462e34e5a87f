#!/usr/bin/env bash
# Builds the parser/extractor libFuzzer targets (daemon/parse/fuzz/*_fuzz.cc) with clang-14,
# -fsanitize=fuzzer,address,undefined, in build-fuzz/, and runs each for N seconds.
#
#   tools/fuzz-smoke.sh [SECONDS_PER_TARGET]      default 10
#   FUZZ_TARGETS="cef json" tools/fuzz-smoke.sh 30  only some targets
#
# Exit status is non-zero if a target fails to build or a run finds a crash, a leak or
# undefined behaviour; the crashing input is left in build-fuzz/<target>/ (turn it into a
# regression test in the parser's *_test.cc). Corpora persist in build-fuzz/<target>/corpus,
# seeded from tests/data/logs.
set -euo pipefail

seconds="${1:-10}"
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${root}/build-fuzz"
cxx="${CXX_FUZZ:-clang++-14}"
mkdir -p "${out}/obj"

flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
       -fno-sanitize-recover=undefined -I"${root}/daemon" -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor
       -Wno-missing-field-initializers)
# Library sources the targets need: the parsers, the extractor and what it depends on.
sources=(
  daemon/parse/syslog_framing.cc daemon/parse/event.cc daemon/parse/syslog_header.cc
  daemon/parse/body_parsers.cc daemon/parse/event_parser.cc
  daemon/extract/chunk_classifier.cc daemon/extract/extractor.cc daemon/extract/field_extractor.cc
  daemon/extract/psl_prefilter.cc daemon/indicator/indicator.cc daemon/common/status.cc
)
libs=(-lsimdjson $(pkg-config --libs libpsl libidn2 libcrypto))

objects=()
for src in "${sources[@]}"; do
  obj="${out}/obj/$(echo "${src}" | tr '/' '_').o"
  if [[ ! -f "${obj}" || "${root}/${src}" -nt "${obj}" ]]; then
    "${cxx}" "${flags[@]}" -c "${root}/${src}" -o "${obj}"
  fi
  objects+=("${obj}")
done

targets="${FUZZ_TARGETS:-framing syslog_header cef leef json extract}"
status=0
for t in ${targets}; do
  dir="${out}/${t}"
  mkdir -p "${dir}/corpus"
  "${cxx}" "${flags[@]/fuzzer-no-link/fuzzer}" "${root}/daemon/parse/fuzz/${t}_fuzz.cc" \
    "${objects[@]}" "${libs[@]}" -o "${dir}/${t}_fuzz"
  # Seed with the in-repo fixtures, one line per file.
  if [[ -z "$(ls -A "${dir}/corpus")" ]]; then
    n=0
    for f in "${root}"/tests/data/logs/*; do
      while IFS= read -r line; do
        n=$((n + 1))
        printf '%s' "${line}" > "${dir}/corpus/seed-${n}"
      done < "${f}"
    done
  fi
  echo "== ${t}: ${seconds}s"
  if ! (cd "${dir}" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        "./${t}_fuzz" -max_total_time="${seconds}" -max_len=4096 -print_final_stats=0 \
        corpus 2>&1 | tail -n 5); then
    status=1
  fi
  if ls "${dir}"/crash-* "${dir}"/leak-* "${dir}"/timeout-* >/dev/null 2>&1; then
    echo "!! ${t}: crashing inputs in ${dir}"
    status=1
  fi
done
exit "${status}"
