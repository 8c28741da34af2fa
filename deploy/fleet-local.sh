#!/usr/bin/env bash
# Three gateways on this machine's loopback, one PostgreSQL database, one
# Redis, in front of the example orders API: the fleet of deploy/compose.yaml
# without containers, for trying fleet mode.
#
#   deploy/fleet-local.sh            # start; Ctrl-C stops everything
#
# Gateways on 127.0.0.1:8181-8183, admin on 127.0.0.1:9181-9183. Needs
# PostgreSQL (PORTCULLIS_PG, default postgres://postgres@127.0.0.1:5432) and
# Redis (PORTCULLIS_REDIS, default redis://127.0.0.1:6379). The database
# `portcullis_fleet_local` is made if missing and kept between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
pg="${PORTCULLIS_PG:-postgres://postgres@127.0.0.1:5432}"
redis="${PORTCULLIS_REDIS:-redis://127.0.0.1:6379}"
db=portcullis_fleet_local

cargo build --release -q -p portcullis -p portcullis-example-orders
bin="${CARGO_TARGET_DIR:-target}/release"

if ! psql "$pg/postgres" -tAc "select 1 from pg_database where datname = '$db'" | grep -q 1; then
  psql "$pg/postgres" -qc "create database $db"
fi

work=$(mktemp -d -t portcullis-fleet-XXXXXX)
pids=()
stop() {
  trap - INT TERM EXIT
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap stop INT TERM EXIT

"$bin/orders-api" --listen 127.0.0.1:9000 >"$work/orders.log" 2>&1 &
pids+=($!)

for i in 1 2 3; do
  node="$work/gw$i"
  mkdir -p "$node"
  cp -r examples/orders "$node/example"
  # The same file on every node; only what is per node differs.
  sed -e "s|postgres://postgres@postgres:5432/portcullis|$pg/$db|" \
      -e "s|redis://redis:6379|$redis|" \
      -e "s|http://orders:9000|http://127.0.0.1:9000|" \
      deploy/config/portcullis.yaml >"$node/portcullis.yaml"
  "$bin/portcullis" serve -c "$node/portcullis.yaml" --node "gw$i" \
    --listen "127.0.0.1:818$i" --admin "127.0.0.1:918$i" >"$node/serve.log" 2>&1 &
  pids+=($!)
done

for i in 1 2 3; do
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:918$i/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fsS "http://127.0.0.1:918$i/readyz" >/dev/null || { echo "gw$i did not become ready; its log:" >&2; cat "$work/gw$i/serve.log" >&2; exit 1; }
done

"$bin/portcullis" fleet status -c "$work/gw1/portcullis.yaml" || true
cat <<MSG

Three gateways: http://127.0.0.1:8181, :8182, :8183 (admin :9181-:9183).
  curl -s http://127.0.0.1:9181/admin/v1/fleet     # needs the admin credential
  $bin/portcullis fleet status -c $work/gw1/portcullis.yaml
Logs in $work. Ctrl-C stops the fleet.
MSG
wait
