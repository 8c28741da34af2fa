#!/usr/bin/env bash
# Scaling: Portcullis's per-request cost and memory as operations, policies,
# identities and body size grow, one at a time (about 5 minutes).
#   bash bench/scale.sh
#   BENCH_SECONDS=5 BENCH_REPS=5 bash bench/scale.sh   # steadier figures
# Same setup as bench/run.sh (wrk on one core, gateway and upstream on the
# other, loopback only); prints a Markdown table. See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/prepare.sh
exec python3 bench/scale.py "$@"
