#!/usr/bin/env bash
# The fleet load row: one gateway on SQLite, one on PostgreSQL (without and
# with rate limits in Redis), three on one PostgreSQL and one Redis behind a
# loopback round-robin (nginx). Needs the machine's PostgreSQL
# (PORTCULLIS_PG, default postgres://postgres@127.0.0.1:5432) and Redis
# (PORTCULLIS_REDIS, default redis://127.0.0.1:6379). See BENCHMARKS.md.
#   bash bench/fleet.sh                               # about 8 minutes
#   BENCH_SECONDS=2 BENCH_REPS=1 bash bench/fleet.sh  # a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/prepare.sh
exec python3 bench/fleet.py "$@"
