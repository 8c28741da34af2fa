#!/usr/bin/env bash
# Where Portcullis spends its time under load: `perf record` (sampled CPU
# time; hardware counters are not needed) on the gateway while wrk drives
# the GET case at 32 connections; prints the top symbols and each thread's
# share. BENCH_CASE=POST for the body case, BENCH_SECONDS to record longer.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v perf >/dev/null || {
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q linux-perf >/dev/null
}
source bench/prepare.sh
exec python3 bench/profile.py "$@"
