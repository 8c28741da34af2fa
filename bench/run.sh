#!/usr/bin/env bash
# The load harness: direct upstream, nginx, a bare hyper 1 forwarder (the
# floor any Rust data plane pays), Portcullis with its stages reduced to
# forwarding (bench-only) and Portcullis, side by side.
#   bash bench/run.sh            # the full run (about 10 minutes)
#   BENCH_SECONDS=2 BENCH_REPS=1 bash bench/run.sh   # a quick look
# Installs wrk and nginx from the distribution's packages if missing, builds
# release, runs every subject on loopback with pinned cores, stops what it
# started, and prints medians and ratios (to nginx, to direct and to the
# floor); stops if any subject answers an error. See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/prepare.sh
exec python3 bench/run.py "$@"
