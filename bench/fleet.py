#!/usr/bin/env python3
"""The fleet load row: see bench/fleet.sh and BENCHMARKS.md ("Fleet").

Subjects, alternated with the same load generator (wrk, one thread) and
upstream as bench/run.py, the configuration bench-setup writes (its rate
limits never refuse, so the stage runs without deciding anything):
  sqlite-1      one gateway, store on SQLite (the embedded default)
  pg-1          one gateway, store on PostgreSQL
  pg-1-redis    the same, rate limits in Redis (rate_limits.backend)
  pg-3-rr       three gateways on one PostgreSQL database and one Redis,
                behind nginx as a plain round-robin on loopback
Each gateway keeps its own audit ledger (SQLite, batch durability). The
load generator runs on CPU 0; every gateway, nginx and the upstream on
CPU 1 (three nodes share that one core: the row shows what a fleet costs
per request, not how it scales across machines). PostgreSQL and Redis are
the machine's own, unpinned. The databases made here are dropped after.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import (CONNECTIONS, LOAD_CPU, NGINX, RELEASE, REPS, SECONDS, SUBJECT_CPU, WARMUP,  # noqa: E402
                 bench_setup, free_port, pinned, post_script, stop, timed_runs, wait_port, write_nginx_conf)

PG = os.environ.get("PORTCULLIS_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("PORTCULLIS_REDIS", "redis://127.0.0.1:6379")
PORTCULLIS = os.path.join(RELEASE, "portcullis")


def psql(sql):
    subprocess.run(["psql", f"{PG}/test", "-qc", sql], check=True, capture_output=True)


def node_config(work, name, up_port, storage, redis):
    """bench-setup into WORK/NAME, its store at STORAGE, REDIS for its
    buckets when set: (config path, gateway port)."""
    port = free_port()
    config = bench_setup(os.path.join(work, name), port, up_port)
    with open(config) as f:
        text = f.read().replace("storage: sqlite://portcullis.db", f"storage: {storage}")
    if redis:
        text += f"  backend: {REDIS}\n"
    with open(config, "w") as f:
        f.write(text)
    return config, port


def serve(work, procs, name, config, port, node):
    log = open(os.path.join(work, f"{name}.log"), "w")
    procs.append(pinned(SUBJECT_CPU, [PORTCULLIS, "serve", "-c", config, "--node", node],
                        env=dict(os.environ, PORTCULLIS_LOG="warn"), stdout=subprocess.DEVNULL, stderr=log))
    wait_port(port)


def token(config):
    return subprocess.run(
        [PORTCULLIS, "token", "issue", "--identity", "bench-agent", "--scope", "bench:read",
         "--scope", "bench:write", "--ttl", "15m", "-c", config],
        capture_output=True, text=True, check=True).stdout.strip()


def main():
    work = tempfile.mkdtemp(prefix="portcullis-fleet-bench-")
    procs, databases = [], []
    try:
        up_port = free_port()
        procs.append(pinned(SUBJECT_CPU, [os.path.join(RELEASE, "bench-upstream"), f"127.0.0.1:{up_port}"]))
        wait_port(up_port)
        subjects, tokens = {}, {}

        config, port = node_config(work, "sqlite-1", up_port, "sqlite://portcullis.db", False)
        serve(work, procs, "sqlite-1", config, port, "sqlite-1")
        subjects["sqlite-1"], tokens["sqlite-1"] = f"http://127.0.0.1:{port}/bench", token(config)

        for name, redis in (("pg-1", False), ("pg-1-redis", True)):
            db = f"portcullis_bench_{name.replace('-', '_')}_{os.getpid()}"
            psql(f"CREATE DATABASE {db}")
            databases.append(db)
            config, port = node_config(work, name, up_port, f"{PG}/{db}", redis)
            serve(work, procs, name, config, port, name)
            subjects[name], tokens[name] = f"http://127.0.0.1:{port}/bench", token(config)

        db = f"portcullis_bench_pg_3_{os.getpid()}"
        psql(f"CREATE DATABASE {db}")
        databases.append(db)
        ports = []
        for i in range(3):
            config, port = node_config(work, f"pg-3-node{i}", up_port, f"{PG}/{db}", True)
            serve(work, procs, f"pg-3-node{i}", config, port, f"node{i}")
            ports.append(port)
        lb_port = free_port()
        nginx_conf = write_nginx_conf(work, ports, lb_port)
        procs.append(pinned(SUBJECT_CPU, [NGINX, "-c", nginx_conf, "-p", work, "-g", "daemon off;"]))
        wait_port(lb_port)
        subjects["pg-3-rr"], tokens["pg-3-rr"] = f"http://127.0.0.1:{lb_port}/bench", token(config)

        post = post_script(os.path.join(work, "sqlite-1"))
        cases = {"GET": ("/r0/42", None), "POST": ("/r0", post)}

        def auth(name):
            return [f"Authorization: Bearer {tokens[name]}"]

        print(f"fleet: wrk on CPU {LOAD_CPU}; gateways, nginx and upstream on CPU {SUBJECT_CPU}; PostgreSQL and "
              f"Redis unpinned; {REPS} alternated runs of {SECONDS}s (+{WARMUP}s warm-up) per cell; medians")
        results = timed_runs(subjects, cases, auth)
        print()
        print(f"{'case':5} {'conns':>5} {'subject':11} {'req/s':>9} {'p50 µs':>8} {'p99 µs':>8}   vs sqlite-1 (thr, p99)")
        for case in cases:
            for conns in CONNECTIONS:
                med = {}
                for name in subjects:
                    runs = results[(case, conns, name)]
                    med[name] = (statistics.median(r[0] for r in runs),
                                 {p: statistics.median(r[1][p] for r in runs) for p in ("50", "99")})
                base_rps, base_lat = med["sqlite-1"]
                for name, (rps, lat) in med.items():
                    ratio = "" if name == "sqlite-1" else f"{rps / base_rps:5.2f}×, {lat['99'] / base_lat['99']:5.2f}×"
                    print(f"{case:5} {conns:>5} {name:11} {rps:9.0f} {lat['50'] * 1e6:8.0f} {lat['99'] * 1e6:8.0f}   {ratio}")
    finally:
        for p in reversed(procs):
            stop(p)
        for db in databases:
            try:
                psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
            except subprocess.CalledProcessError:
                print(f"database {db} was not dropped", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
