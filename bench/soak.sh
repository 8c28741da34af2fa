#!/usr/bin/env bash
# Soak: Portcullis (full pipeline) under 32 connections for 10 minutes,
# GET and POST segments alternated; prints resident memory and throughput
# per segment, and fails on any non-2xx answer or socket error.
#   bash bench/soak.sh
#   SOAK_SECONDS=120 bash bench/soak.sh     # a shorter look
# Same setup as bench/run.sh (wrk on one core, gateway and upstream on the
# other, loopback only). See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/prepare.sh
exec python3 bench/soak.py "$@"
