#!/usr/bin/env python3
"""Drives the load comparison: see bench/run.sh and BENCHMARKS.md.

Subjects, alternated A B C D E A B C D E ... with the same load generator
(wrk, one thread) and the same upstream (target/release/bench-upstream, a
fixed ~1 KB JSON answer):
  direct              wrk -> upstream
  nginx               wrk -> nginx (plain keep-alive reverse proxy) -> upstream
  hyper-floor         wrk -> bench-forward (bare hyper 1 forwarder, pooled
                      keep-alive, Portcullis's runtime and allocator) -> upstream
  portcullis-forward  wrk -> bench-portcullis-forward (Portcullis's listener,
                      framing guard, upstream pool and header handling, the
                      stages reduced to forwarding; bench-only) -> upstream
  portcullis          wrk -> portcullis (full pipeline) -> upstream
  portcullis-watched  the same, with the watch on (every detector at its
                      defaults, `WATCH` below): its cost is this row against
                      portcullis
hyper-floor is what any Rust data plane pays; portcullis-forward against it
is the cost of Portcullis's data plane, portcullis against
portcullis-forward the cost of its stages (policy, validation, audit).
Cases: GET with a bearer token, and POST with a ~1 KB JSON body; at 1 and at
32 connections. The load generator runs on one core, subjects and upstream
on the other (stated in the output). Every subject must answer 2xx with no
socket errors, in the check before timing and in every timed run, or the
run stops. Loopback only; everything started here is stopped here.
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
# BENCH_SUBJECTS=portcullis,portcullis-watched runs only those (a quick look
# at one cost); every subject by default.
ONLY = [s for s in os.environ.get("BENCH_SUBJECTS", "").split(",") if s]
# The watch as a deployment would run it: every detector, its defaults.
WATCH = "\nwatch:\n  mode: enforce\n"


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


def refuse_errors(label, text):
    """Stops the run when wrk saw a non-2xx answer, a socket error or no
    answer at all: a subject that fails is not measured."""
    rps, _, non2xx, errors = parse_wrk(text)
    counts = [int(n) for n in re.findall(r"\d+", errors)]
    if non2xx or any(counts) or rps <= 0:
        raise SystemExit(f"{label}: {non2xx} non-2xx answers, {rps:.0f} req/s; {errors or 'no socket errors'}")


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


def bench_setup(work, pc_port, up_port, scale=None):
    """bench-setup into WORK (with --operations/--policies/--identities from
    SCALE): the configuration's path."""
    argv = [os.path.join(RELEASE, "bench-setup"), work, f"127.0.0.1:{pc_port}", f"127.0.0.1:{up_port}"]
    for key, value in (scale or {}).items():
        argv += [f"--{key}", str(value)]
    subprocess.run(argv, check=True)
    return os.path.join(work, "portcullis.yaml")


def setup_portcullis(work, pc_port, up_port, scale=None):
    """bench-setup into WORK (with --operations/--policies/--identities from
    SCALE) and a token for its identity: (config path, token)."""
    config = bench_setup(work, pc_port, up_port, scale)
    token = subprocess.run(
        [os.path.join(RELEASE, "portcullis"), "token", "issue", "--identity", "bench-agent",
         "--scope", "bench:read", "--scope", "bench:write", "--ttl", "15m", "-c", config],
        capture_output=True, text=True, check=True).stdout.strip()
    return config, token


def start_gateway(work, procs, stderr=subprocess.DEVNULL):
    """The bench upstream and the full gateway in front of it (configured in
    WORK), both pinned and appended to PROCS for the caller to stop; returns
    (the gateway's process, its port, a token) once its port is open."""
    up_port, pc_port = free_port(), free_port()
    procs.append(pinned(SUBJECT_CPU, [os.path.join(RELEASE, "bench-upstream"), f"127.0.0.1:{up_port}"]))
    wait_port(up_port)
    config, token = setup_portcullis(work, pc_port, up_port)
    gateway = pinned(SUBJECT_CPU, [os.path.join(RELEASE, "portcullis"), "serve", "-c", config],
                     env=dict(os.environ, PORTCULLIS_LOG="warn"), stdout=subprocess.DEVNULL, stderr=stderr)
    procs.append(gateway)
    wait_port(pc_port)
    return gateway, pc_port, token


def post_script(work, body_file="body.json"):
    """A wrk script in WORK that POSTs WORK/BODY_FILE as JSON; its path."""
    with open(os.path.join(work, body_file)) as f:
        body = f.read()
    script = os.path.join(work, "post.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[' + body + ']]\n')
    return script


def write_nginx_conf(work, upstream_ports, port):
    """An nginx configuration in WORK: a plain keep-alive reverse proxy on
    PORT, round-robin over UPSTREAM_PORTS; its path."""
    servers = "".join(f"server 127.0.0.1:{p}; " for p in upstream_ports)
    path = os.path.join(work, "nginx.conf")
    with open(path, "w") as f:
        f.write(f"""worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {work}/nginx-body;
  proxy_temp_path {work}/nginx-proxy;
  upstream u {{ {servers}keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{ proxy_pass http://u; proxy_http_version 1.1; proxy_set_header Connection ""; }}
  }}
}}
""")
    return path


def timed_runs(subjects, cases, auth):
    """Checks that every subject answers each case with 2xx, then times
    them alternated (REPS runs per cell, each after a warm-up), printing
    each run: {(case, conns, name): [(req/s, latencies, machine busy)]}."""
    for name, base in subjects.items():
        for case, (path, script) in cases.items():
            refuse_errors(f"{name} {case} (check before timing)", wrk(base + path, 1, 1, auth(name), script))
    results = {}
    for case, (path, script) in cases.items():
        for conns in CONNECTIONS:
            for rep in range(REPS):
                for name, base in subjects.items():
                    if WARMUP:
                        wrk(base + path, conns, WARMUP, auth(name), script)
                    before = cpu_times()
                    out = wrk(base + path, conns, SECONDS, auth(name), script)
                    busy = busy_share(before, cpu_times())
                    refuse_errors(f"{name} {case} c={conns}", out)
                    rps, lat, _, _ = parse_wrk(out)
                    results.setdefault((case, conns, name), []).append((rps, lat, busy))
                    print(f"  {case:4} c={conns:<2} run {rep + 1} {name:18} {rps:10.0f} req/s  "
                          f"p50 {lat['50'] * 1e6:7.0f} µs  p99 {lat['99'] * 1e6:7.0f} µs  machine busy {busy:.0%}",
                          flush=True)
    return results


def row(case, conns, name, med):
    """One line of the table: NAME's medians, and its ratios to nginx,
    direct and the hyper floor (blank against itself)."""
    rps, lat = med[name]

    def vs(other, p99):
        if name == other or name == "direct" or other not in med:
            return ""
        o_rps, o_lat = med[other]
        return f"{rps / o_rps:5.2f}×, {lat['99'] / o_lat['99']:5.2f}×" if p99 else f"{rps / o_rps:5.2f}×"

    return (f"{case:5} {conns:>5} {name:18} {rps:9.0f} {lat['50'] * 1e6:8.0f} {lat['90'] * 1e6:8.0f} "
            f"{lat['99'] * 1e6:8.0f}   {vs('nginx', True):19}   {vs('direct', False):15}   {vs('hyper-floor', True)}").rstrip()


def main():
    work = tempfile.mkdtemp(prefix="portcullis-bench-")
    procs = []
    try:
        up_port, ng_port, pc_port = free_port(), free_port(), free_port()
        hf_port, pf_port = free_port(), free_port()
        procs.append(pinned(SUBJECT_CPU, [os.path.join(RELEASE, "bench-upstream"), f"127.0.0.1:{up_port}"]))
        wait_port(up_port)

        config, token = setup_portcullis(work, pc_port, up_port)
        env = dict(os.environ, PORTCULLIS_LOG="warn")
        procs.append(pinned(SUBJECT_CPU, [os.path.join(RELEASE, "portcullis"), "serve", "-c", config],
                            env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "portcullis.log"), "w")))
        wait_port(pc_port)

        # The forwarding-only gateway gets the same configuration in a folder
        # of its own: its own store and ledger, never the full gateway's.
        forward_work = os.path.join(work, "forward")
        forward_config = bench_setup(forward_work, pf_port, up_port)
        procs.append(pinned(SUBJECT_CPU, [os.path.join(RELEASE, "bench-portcullis-forward"), forward_config],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "portcullis-forward.log"), "w")))
        wait_port(pf_port)

        # The watched gateway: the same configuration and the watch, in a
        # folder (store, ledger) of its own.
        wd_port = free_port()
        watched_work = os.path.join(work, "watched")
        watched_config, watched_token = setup_portcullis(watched_work, wd_port, up_port)
        with open(watched_config, "a") as f:
            f.write(WATCH)
        procs.append(pinned(SUBJECT_CPU, [os.path.join(RELEASE, "portcullis"), "serve", "-c", watched_config],
                            env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "watched.log"), "w")))
        wait_port(wd_port)

        procs.append(pinned(SUBJECT_CPU, [os.path.join(RELEASE, "bench-forward"), f"127.0.0.1:{hf_port}",
                                          f"127.0.0.1:{up_port}"]))
        wait_port(hf_port)

        nginx_conf = write_nginx_conf(work, [up_port], ng_port)
        procs.append(pinned(SUBJECT_CPU, [NGINX, "-c", nginx_conf, "-p", work, "-g", "daemon off;"]))
        wait_port(ng_port)

        post = post_script(work)

        def auth(name):
            return [f"Authorization: Bearer {tokens[name]}"]
        subjects = {
            "direct": f"http://127.0.0.1:{up_port}",
            "nginx": f"http://127.0.0.1:{ng_port}",
            "hyper-floor": f"http://127.0.0.1:{hf_port}",
            "portcullis-forward": f"http://127.0.0.1:{pf_port}/bench",
            "portcullis": f"http://127.0.0.1:{pc_port}/bench",
            "portcullis-watched": f"http://127.0.0.1:{wd_port}/bench",
        }
        if ONLY:
            subjects = {k: v for k, v in subjects.items() if k in ONLY}
        tokens = {name: token for name in subjects}
        tokens["portcullis-watched"] = watched_token
        cases = {"GET": ("/r0/42", None), "POST": ("/r0", post)}

        print(f"machine: {CPUS} CPUs; wrk on CPU {LOAD_CPU}, subject and upstream on CPU {SUBJECT_CPU}; "
              f"{REPS} alternated runs of {SECONDS}s (+{WARMUP}s warm-up) per cell; medians")
        results = timed_runs(subjects, cases, auth)
        print()
        print(f"{'case':5} {'conns':>5} {'subject':18} {'req/s':>9} {'p50 µs':>8} {'p90 µs':>8} {'p99 µs':>8}"
              f"   vs nginx (thr, p99)   vs direct (thr)   vs floor (thr, p99)")
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
                    print(row(case, conns, name, med))
                if "portcullis" in med and "portcullis-forward" in med:
                    full, fwd = med["portcullis"], med["portcullis-forward"]
                    print(f"{'':12}stages (portcullis vs portcullis-forward): {full[0] / fwd[0]:4.2f}× throughput, "
                          f"p50 {(full[1]['50'] - fwd[1]['50']) * 1e6:+.0f} µs")
                if "portcullis" in med and "portcullis-watched" in med:
                    full, watched = med["portcullis"], med["portcullis-watched"]
                    print(f"{'':12}watch (portcullis-watched vs portcullis): {watched[0] / full[0]:4.2f}× throughput, "
                          f"{watched[1]['99'] / full[1]['99']:4.2f}× p99, p50 {(watched[1]['50'] - full[1]['50']) * 1e6:+.0f} µs")
        print("\ntarget: portcullis throughput >= 1.0x nginx and p99 <= 1.0x nginx, each case and connection count"
              "\nfloor: hyper-floor is a bare hyper 1 forwarder; portcullis-forward is Portcullis with its stages"
              " reduced to forwarding (bench-only)")
    finally:
        for p in reversed(procs):
            stop(p)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
