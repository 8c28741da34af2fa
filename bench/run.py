#!/usr/bin/env python3
"""Drives the load comparison: see bench/run.sh and BENCHMARKS.md.

Subjects, alternated A B C A B C ... with the same load generator (wrk, one
thread) and the same upstream (target/release/bench-upstream, a fixed ~1 KB
JSON answer):
  direct      wrk -> upstream
  nginx       wrk -> nginx (plain keep-alive reverse proxy) -> upstream
  portcullis  wrk -> portcullis (full pipeline) -> upstream
Cases: GET with a bearer token, and POST with a ~1 KB JSON body; at 1 and at
32 connections. The load generator runs on one core, subject and upstream on
the other (stated in the output). Loopback only; everything started here is
stopped here.
"""

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "1"))
REPS = int(os.environ.get("BENCH_REPS", "3"))
CONNECTIONS = [int(c) for c in os.environ.get("BENCH_CONNECTIONS", "1,32").split(",")]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, "target", "release")
CPUS = os.cpu_count() or 1
LOAD_CPU = "0"
SUBJECT_CPU = "1" if CPUS > 1 else "0"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listening on {port} after {seconds}s")


def pinned(cpu, argv, **kw):
    return subprocess.Popen(["taskset", "-c", cpu] + argv, **kw)


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def parse_wrk(text):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    lat = {}
    for pct in ("50", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        lat[pct] = float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors:.*", text)
    return rps, lat, int(non2xx.group(1)) if non2xx else 0, errors.group(0) if errors else ""


def wrk(url, connections, seconds, headers, script=None):
    argv = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for h in headers:
        argv += ["-H", h]
    if script:
        argv += ["-s", script]
    argv.append(url)
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def busy_share(before, after):
    """Share of CPU time not idle across the machine during a run."""
    b, a = [int(x) for x in before], [int(x) for x in after]
    total = sum(a) - sum(b)
    idle = (a[3] + a[4]) - (b[3] + b[4])
    return 1 - idle / total if total else 0.0


def cpu_times():
    with open("/proc/stat") as f:
        return f.readline().split()[1:]


def setup_portcullis(work, pc_port, up_port, scale=None):
    """bench-setup into WORK (with --operations/--policies/--identities from
    SCALE) and a token for its identity: (config path, token)."""
    argv = [os.path.join(RELEASE, "bench-setup"), work, f"127.0.0.1:{pc_port}", f"127.0.0.1:{up_port}"]
    for key, value in (scale or {}).items():
        argv += [f"--{key}", str(value)]
    subprocess.run(argv, check=True)
    config = os.path.join(work, "portcullis.yaml")
    token = subprocess.run(
        [os.path.join(RELEASE, "portcullis"), "token", "issue", "--identity", "bench-agent",
         "--scope", "bench:read", "--scope", "bench:write", "--ttl", "15m", "-c", config],
        capture_output=True, text=True, check=True).stdout.strip()
    return config, token


def post_script(work, body_file="body.json"):
    """A wrk script in WORK that POSTs WORK/BODY_FILE as JSON; its path."""
    with open(os.path.join(work, body_file)) as f:
        body = f.read()
    script = os.path.join(work, "post.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[' + body + ']]\n')
    return script


def main():
    work = tempfile.mkdtemp(prefix="portcullis-bench-")
    procs = []
    try:
        up_port, ng_port, pc_port = free_port(), free_port(), free_port()
        procs.append(pinned(SUBJECT_CPU, [os.path.join(RELEASE, "bench-upstream"), f"127.0.0.1:{up_port}"]))
        wait_port(up_port)

        config, token = setup_portcullis(work, pc_port, up_port)
        env = dict(os.environ, PORTCULLIS_LOG="warn")
        procs.append(pinned(SUBJECT_CPU, [os.path.join(RELEASE, "portcullis"), "serve", "-c", config],
                            env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "portcullis.log"), "w")))
        wait_port(pc_port)

        nginx_conf = os.path.join(work, "nginx.conf")
        with open(nginx_conf, "w") as f:
            f.write(f"""worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {work}/nginx-body;
  proxy_temp_path {work}/nginx-proxy;
  upstream u {{ server 127.0.0.1:{up_port}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{ng_port};
    location / {{ proxy_pass http://u; proxy_http_version 1.1; proxy_set_header Connection ""; }}
  }}
}}
""")
        procs.append(pinned(SUBJECT_CPU, [NGINX, "-c", nginx_conf, "-p", work, "-g", "daemon off;"]))
        wait_port(ng_port)

        post = post_script(work)

        auth = [f"Authorization: Bearer {token}"]
        subjects = {
            "direct": f"http://127.0.0.1:{up_port}",
            "nginx": f"http://127.0.0.1:{ng_port}",
            "portcullis": f"http://127.0.0.1:{pc_port}/bench",
        }
        cases = {"GET": ("/r0/42", None), "POST": ("/r0", post)}

        # Every subject must answer each case with 200 before anything is timed.
        for name, base in subjects.items():
            for case, (path, script) in cases.items():
                out = wrk(base + path, 1, 1, auth, script)
                _, _, non2xx, _ = parse_wrk(out)
                if non2xx:
                    raise SystemExit(f"{name} {case}: non-2xx answers; see {work}")

        print(f"machine: {CPUS} CPUs; wrk on CPU {LOAD_CPU}, subject and upstream on CPU {SUBJECT_CPU}; "
              f"{REPS} alternated runs of {SECONDS}s (+{WARMUP}s warm-up) per cell; medians")
        results = {}
        for case, (path, script) in cases.items():
            for conns in CONNECTIONS:
                for rep in range(REPS):
                    for name, base in subjects.items():
                        if WARMUP:
                            wrk(base + path, conns, WARMUP, auth, script)
                        before = cpu_times()
                        out = wrk(base + path, conns, SECONDS, auth, script)
                        busy = busy_share(before, cpu_times())
                        rps, lat, non2xx, errors = parse_wrk(out)
                        if non2xx:
                            raise SystemExit(f"{name} {case} c={conns}: {non2xx} non-2xx answers")
                        results.setdefault((case, conns, name), []).append((rps, lat, busy))
                        print(f"  {case:4} c={conns:<2} run {rep + 1} {name:10} {rps:10.0f} req/s  "
                              f"p50 {lat['50'] * 1e6:7.0f} µs  p99 {lat['99'] * 1e6:7.0f} µs  machine busy {busy:.0%}",
                              flush=True)
        print()
        print(f"{'case':5} {'conns':>5} {'subject':11} {'req/s':>9} {'p50 µs':>8} {'p90 µs':>8} {'p99 µs':>8}   vs nginx (thr, p99)   vs direct (thr)")
        for case in cases:
            for conns in CONNECTIONS:
                med = {}
                for name in subjects:
                    runs = results[(case, conns, name)]
                    med[name] = (
                        statistics.median(r[0] for r in runs),
                        {p: statistics.median(r[1][p] for r in runs) for p in ("50", "90", "99")},
                    )
                for name in subjects:
                    rps, lat = med[name]
                    extra = ""
                    if name == "portcullis":
                        n_rps, n_lat = med["nginx"]
                        d_rps, _ = med["direct"]
                        extra = f"   {rps / n_rps:5.2f}×, {lat['99'] / n_lat['99']:5.2f}×        {rps / d_rps:5.2f}×"
                    elif name == "nginx":
                        d_rps, _ = med["direct"]
                        extra = f"                        {rps / d_rps:5.2f}×"
                    print(f"{case:5} {conns:>5} {name:11} {rps:9.0f} {lat['50'] * 1e6:8.0f} {lat['90'] * 1e6:8.0f} {lat['99'] * 1e6:8.0f}{extra}")
        print("\ntarget: portcullis throughput >= 1.0x nginx and p99 <= 1.0x nginx, each case and connection count")
    finally:
        for p in reversed(procs):
            stop(p)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
