#!/usr/bin/env python3
"""Profiles Portcullis under the load harness's GET (or POST) case: see
bench/profile.sh. Starts the upstream and the gateway as bench/run.py does,
drives wrk at 32 connections, records `perf record -e cpu-clock -g` on the
gateway for the middle of the run, and prints the top symbols (self time)
and the share of each thread. Loopback only; stops what it started.
"""

import collections
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import (  # noqa: E402
    LOAD_CPU, stop, start_gateway, post_script,
)

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CASE = os.environ.get("BENCH_CASE", "GET")
TOP = int(os.environ.get("BENCH_TOP", "40"))
# BENCH_PERF_DATA=FILE keeps the recording (perf.data) for a closer look.


def main():
    work = tempfile.mkdtemp(prefix="portcullis-profile-")
    procs = []
    try:
        gateway, pc_port, token = start_gateway(work, procs)
        argv = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", "-c32", f"-d{SECONDS + 2}s",
                "-H", f"Authorization: Bearer {token}"]
        url = f"http://127.0.0.1:{pc_port}/bench/r0/42"
        if CASE == "POST":
            argv += ["-s", post_script(work)]
            url = f"http://127.0.0.1:{pc_port}/bench/r0"
        load = subprocess.Popen(argv + [url], stdout=subprocess.PIPE, text=True)
        time.sleep(1)
        data = os.path.join(work, "perf.data")
        subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "999", "--call-graph", os.environ.get("BENCH_CALL_GRAPH", "fp"), "-o", data,
                        "-p", str(gateway.pid), "--", "sleep", str(SECONDS)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out, _ = load.communicate()
        rps = [l for l in out.splitlines() if "Requests/sec" in l]
        print(f"{CASE} at 32 connections: {rps[0].split()[-1] if rps else '?'} req/s while recording")
        def report(sort, limit="0"):
            out = subprocess.run(
                ["perf", "report", "-i", data, "--no-children", "--sort", sort, "--stdio",
                 "-g", "none", "--percent-limit", limit],
                capture_output=True, text=True, check=True).stdout
            return [l.strip() for l in out.splitlines() if l.strip() and not l.startswith("#")]

        print("\nshare by thread:")
        for l in report("comm", "0.5"):
            print("  " + l)
        # Self time grouped by where it is spent: the kernel, libc (mostly
        # malloc/free/memmove) and, for our binary, the crate at the head of
        # the symbol's path.
        groups = collections.Counter()
        for l in report("dso,symbol"):
            parts = l.split(None, 3)
            if len(parts) < 4 or not parts[0].endswith("%"):
                continue
            share, dso, symbol = float(parts[0].rstrip("%")), parts[1], parts[3]
            if dso.startswith("[kernel"):
                key = "kernel"
            elif dso.startswith("libc"):
                key = "libc (malloc, free, memmove, ...)"
            else:
                name = symbol.lstrip("<&*(").replace("mut ", "").replace("dyn ", "")
                key = name.split("::", 1)[0] if "::" in name else name[:40]
            groups[key] += share
        print("\nself time by crate (or kernel, libc):")
        for key, share in groups.most_common(25):
            print(f"  {share:5.1f}%  {key}")
        keep = os.environ.get("BENCH_PERF_DATA")
        if keep:
            # For `perf report -i` with call graphs (`-G`), after the run.
            subprocess.run(["cp", data, keep], check=True)
        print(f"\ntop {TOP} symbols by self time:")
        for l in report("comm,dso,symbol", "0.3")[:TOP]:
            print("  " + l[:160])
    finally:
        for p in reversed(procs):
            stop(p)
        subprocess.run(["rm", "-rf", work], check=False)


if __name__ == "__main__":
    sys.exit(main())
