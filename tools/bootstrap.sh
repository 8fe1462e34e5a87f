#!/usr/bin/env bash
# Installs everything iocd needs to build and test, from Debian 12 packages only.
# Idempotent: packages already present are skipped. Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build
  libboost-dev libboost-system-dev
  librocksdb-dev
  libprotobuf-dev protobuf-compiler
  libspdlog-dev libfmt-dev
  libyaml-cpp-dev
  libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev  # JSON parsing in tests
  libssl-dev zlib1g-dev
  librelp-dev         # relp output: acknowledged delivery to rsyslog imrelp
  libsimdjson-dev     # JSON feed formats (STIX, MISP, Kaspersky, warninglists)
  bsdutils            # logger(1), used by the integration tests and the quick start
  libidn2-dev         # IDN domains to punycode, on both sides of a match
  libpsl-dev publicsuffix  # public suffix list: reject "com"/"co.uk" indicators, validate domains
  libvectorscan-dev   # per-source extraction rules compiled into one multi-regex database
  libpcre2-dev        # the rules' capture groups and $n replacements (Vectorscan has no captures)
  openssl             # s_client, used by the TLS integration tests
  curl                # the scraper in the metrics integration test (GET /metrics)
  rsyslog rsyslog-relp rsyslog-openssl  # the real SIEM-side receiver in the delivery integration tests (imtcp, imrelp, TLS)
  ripgrep gawk        # baselines in tools/ benchmarks (docs/PERFORMANCE.md)
  clang-14 libclang-rt-14-dev  # libFuzzer and sanitizers for tools/fuzz-smoke.sh
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "bootstrap: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "bootstrap: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
