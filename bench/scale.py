#!/usr/bin/env python3
"""How Portcullis's per-request cost and memory grow: see bench/scale.sh.

One dimension at a time from the baseline of the load harness (1,000
operations, 100 policies, 1 identity in the store, ~1 KB bodies):
operations 10 / 1,000 / 10,000; policies 1 / 100 / 1,000; identities in the
store 10 / 10,000 / 1,000,000; POST body 1 KB / 100 KB. For each: the time
to start listening, resident memory at rest, throughput and p99 at 32
connections (wrk on one core, gateway and upstream on the other), and peak
resident memory under that load. Rows are alternated (A B C ... A B C)
so the machine's drift spreads over all of them. The cost ratio is the baseline's
throughput over this row's (1.00 = costs the same per request). Loopback
only; everything started here is stopped here.
"""

import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import (  # noqa: E402
    RELEASE, SUBJECT_CPU, LOAD_CPU, free_port, wait_port, pinned, stop, parse_wrk, wrk,
    setup_portcullis, post_script,
)

SECONDS = int(os.environ.get("BENCH_SECONDS", "3"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "1"))
REPS = int(os.environ.get("BENCH_REPS", "3"))
CONNS = int(os.environ.get("BENCH_CONNECTIONS", "32"))

BASE = {"operations": 1000, "policies": 100, "identities": 1}
ROWS = [
    ("operations", 10, "GET"), ("operations", 1000, "GET"), ("operations", 10000, "GET"),
    ("policies", 1, "GET"), ("policies", 100, "GET"), ("policies", 1000, "GET"),
    ("identities", 10, "GET"), ("identities", 10000, "GET"), ("identities", 1000000, "GET"),
    ("body", "1 KB", "POST"), ("body", "100 KB", "POST"),
]


def memory_kib(pid):
    """(resident now, peak resident) in KiB."""
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


def wait_ready(port, token, seconds=600):
    """Until the gateway answers a real request: it binds its port before
    it has loaded the inventory, so an open port is not a ready gateway."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/bench/r0/42", headers={"Authorization": f"Bearer {token}"})
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"the gateway on {port} did not answer 200 within {seconds}s")


class Row:
    """One configuration: generated once, measured once per repetition."""

    def __init__(self, dimension, value, case, up_port):
        self.dimension, self.value, self.case = dimension, value, case
        self.work = tempfile.mkdtemp(prefix="portcullis-scale-")
        self.port = free_port()
        scale = dict(BASE)
        body_file = "body.json"
        if dimension == "body":
            body_file = "body.json" if value == "1 KB" else "body-100k.json"
        else:
            scale[dimension] = value
        self.config, self.token = setup_portcullis(self.work, self.port, up_port, scale)
        self.url = f"http://127.0.0.1:{self.port}/bench" + ("/r0/42" if case == "GET" else "/r0")
        self.script = post_script(self.work, body_file) if case == "POST" else None
        self.runs = []

    def label(self):
        return f"{self.dimension} {self.value} {self.case}"

    def measure(self):
        """Starts the gateway, times it to its first answer, loads it, stops it."""
        env = dict(os.environ, PORTCULLIS_LOG="warn")
        started = time.monotonic()
        proc = pinned(SUBJECT_CPU, [os.path.join(RELEASE, "portcullis"), "serve", "-c", self.config],
                      env=env, stdout=subprocess.DEVNULL,
                      stderr=open(os.path.join(self.work, "portcullis.log"), "a"))
        try:
            wait_ready(self.port, self.token)
            start_s = time.monotonic() - started
            time.sleep(0.5)
            at_rest, _ = memory_kib(proc.pid)
            auth = [f"Authorization: Bearer {self.token}"]
            if WARMUP:
                wrk(self.url, CONNS, WARMUP, auth, self.script)
            rps, lat, non2xx, _ = parse_wrk(wrk(self.url, CONNS, SECONDS, auth, self.script))
            if non2xx or rps < 1:
                raise SystemExit(f"{self.label()}: {non2xx} non-2xx answers, {rps} req/s; "
                                 f"see {self.work}/portcullis.log")
            _, peak = memory_kib(proc.pid)
        finally:
            stop(proc)
        self.runs.append({"start_s": start_s, "rest_mib": at_rest / 1024, "peak_mib": peak / 1024,
                          "rps": rps, "p99_us": lat["99"] * 1e6})
        return self.runs[-1]

    def median(self, key):
        return statistics.median(r[key] for r in self.runs)


def main():
    up_port = free_port()
    upstream = pinned(SUBJECT_CPU, [os.path.join(RELEASE, "bench-upstream"), f"127.0.0.1:{up_port}"])
    rows = []
    try:
        wait_port(up_port)
        rows = [Row(d, v, c, up_port) for d, v, c in ROWS]
        print(f"wrk on CPU {LOAD_CPU}; gateway and upstream on CPU {SUBJECT_CPU}; {CONNS} connections; "
              f"rows alternated, {REPS} runs of {SECONDS}s (+{WARMUP}s warm-up) each; medians", flush=True)
        for rep in range(REPS):
            for row in rows:
                r = row.measure()
                print(f"  run {rep + 1} {row.dimension:10} {str(row.value):>9} {row.case:4} {r['rps']:8.0f} req/s  "
                      f"p99 {r['p99_us']:7.0f} µs  start {r['start_s']:5.2f} s  rest {r['rest_mib']:6.1f} MiB  "
                      f"peak {r['peak_mib']:6.1f} MiB", flush=True)
    finally:
        stop(upstream)
        for row in rows:
            subprocess.run(["rm", "-rf", row.work], check=False)
    results = [(row.dimension, row.value, row.case,
                {k: row.median(k) for k in ("start_s", "rest_mib", "peak_mib", "rps", "p99_us")})
               for row in rows]
    baseline = {case: row["rps"] for d, v, case, row in results
                if (d, v) in (("operations", 1000), ("body", "1 KB"))}
    print()
    print("| dimension | value | case | req/s | cost vs baseline | p99 µs | start s | RSS at rest MiB | peak RSS under load MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for dimension, value, case, row in results:
        ratio = baseline[case] / row["rps"] if row["rps"] else float("inf")
        shown = f"{value:,}" if isinstance(value, int) else value
        print(f"| {dimension} | {shown} | {case} | {row['rps']:,.0f} | {ratio:.2f}× | {row['p99_us']:,.0f} | "
              f"{row['start_s']:.2f} | {row['rest_mib']:.1f} | {row['peak_mib']:.1f} |")


if __name__ == "__main__":
    sys.exit(main())
