#!/usr/bin/env bash
# The load harness: direct upstream vs nginx vs Portcullis, side by side.
#   bash bench/run.sh            # the full run (about 6 minutes)
#   BENCH_SECONDS=2 BENCH_REPS=1 bash bench/run.sh   # a quick look
# Installs wrk and nginx from the distribution's packages if missing, builds
# release, runs every subject on loopback with pinned cores, stops what it
# started, and prints medians and ratios. See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/prepare.sh
exec python3 bench/run.py "$@"
