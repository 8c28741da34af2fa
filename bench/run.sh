#!/usr/bin/env bash
# The load harness: direct upstream vs nginx vs Portcullis, side by side.
#   bash bench/run.sh            # the full run (about 6 minutes)
#   BENCH_SECONDS=2 BENCH_REPS=1 bash bench/run.sh   # a quick look
# Installs wrk and nginx from the distribution's packages if missing, builds
# release, runs every subject on loopback with pinned cores, stops what it
# started, and prints medians and ratios. See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v taskset >/dev/null || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}" >/dev/null
fi

cargo build --release -q -p portcullis -p portcullis-bench --bins
exec python3 bench/run.py "$@"
