#!/usr/bin/env python3
"""Soak: see bench/soak.sh.

One gateway, started once, loaded for SOAK_SECONDS (default 600) in
segments of SOAK_SEGMENT seconds (default 30), GET and POST alternated, at
32 connections. After each segment: the gateway's resident memory, the
segment's throughput and p99. Memory growth is measured from the end of the
first minute (allocator pools, connection buffers and the caches fill
before that) to the end of the run. Any non-2xx answer or socket error
fails the run. Loopback only; everything started here is stopped here.
"""

import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import (  # noqa: E402
    SUBJECT_CPU, LOAD_CPU, stop, parse_wrk, wrk, start_gateway, post_script,
)
from scale import memory_kib, wait_ready  # noqa: E402

SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
SEGMENT = int(os.environ.get("SOAK_SEGMENT", "30"))
CONNS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
SETTLE = 60


def main():
    work = tempfile.mkdtemp(prefix="portcullis-soak-")
    procs = []
    try:
        gateway, pc_port, token = start_gateway(work, procs, open(os.path.join(work, "portcullis.log"), "w"))
        wait_ready(pc_port, token)
        auth = [f"Authorization: Bearer {token}"]
        script = post_script(work)
        print(f"wrk on CPU {LOAD_CPU}; gateway and upstream on CPU {SUBJECT_CPU}; {CONNS} connections; "
              f"{SECONDS}s in {SEGMENT}s segments, GET and POST alternated", flush=True)
        print(f"{'at':>6} {'case':4} {'req/s':>8} {'p99 µs':>8} {'RSS MiB':>8}", flush=True)
        elapsed, rows, failures = 0, [], []
        while elapsed < SECONDS:
            case = "GET" if len(rows) % 2 == 0 else "POST"
            url = f"http://127.0.0.1:{pc_port}/bench" + ("/r0/42" if case == "GET" else "/r0")
            text = wrk(url, CONNS, SEGMENT, auth, script if case == "POST" else None)
            rps, lat, non2xx, errors = parse_wrk(text)
            socket_errors = sum(int(n) for n in re.findall(r"\d+", errors))
            if non2xx or socket_errors or rps <= 0:
                failures.append(f"at {elapsed + SEGMENT}s {case}: {non2xx} non-2xx, {errors or 'no socket errors'}")
            elapsed += SEGMENT
            rss, _ = memory_kib(gateway.pid)
            rows.append((elapsed, case, rps, lat["99"] * 1e6, rss / 1024))
            print(f"{elapsed:>5}s {case:4} {rps:8.0f} {lat['99'] * 1e6:8.0f} {rss / 1024:8.1f}", flush=True)
        settled = next((r for r in rows if r[0] >= SETTLE), rows[0])
        last = rows[-1]
        growth = (last[4] - settled[4]) / settled[4]
        peak = max(r[4] for r in rows)
        print(f"\nRSS {settled[4]:.1f} MiB at {settled[0]}s, {last[4]:.1f} MiB at {last[0]}s "
              f"(growth {growth * 100:+.1f}%; peak {peak:.1f} MiB); "
              f"answers that were not 2xx or failed: {'none' if not failures else len(failures)}")
        for f in failures:
            print("  " + f)
        if failures:
            raise SystemExit(1)
    finally:
        for p in reversed(procs):
            stop(p)


if __name__ == "__main__":
    main()
