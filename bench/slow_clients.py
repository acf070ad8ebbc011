#!/usr/bin/env python3
"""Good requests while many slow clients hold connections open (not a test; prints a table).

Each slow client opens a connection and sends one header byte every --interval seconds,
never finishing its request (a "slowloris"). With them open, --requests good requests
(one iris row to POST /predict, each on a new connection, one at a time) are timed; a
request not answered within --timeout counts as unanswered. Servers: ours (this tree's
venv) and, with --base-venv, the same from another kernel's venv, in one run.

    python3 bench/slow_clients.py --slow 1000                           # dev server and --workers 2
    python3 bench/slow_clients.py --slow 1000 --base-venv /tmp/base-venv --servers dev
"""
import argparse
import http.client
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BODY = json.dumps([[5.1, 3.5, 1.4, 0.2]])
SLOW_HEADER = b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Slow: "


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def save_bundle(venv, out):
    env = dict(os.environ, BENTOML_HOME=os.path.join(out, "home"))
    subprocess.run([os.path.join(venv, "bin", "python"), os.path.join(HERE, "peers", "save_bento_bundles.py"), out],
                   env=env, check=True, capture_output=True)
    return os.path.join(out, "svc")


def start_server(venv, bundle, workers, log_path):
    port = free_port()
    args = ["serve", bundle] if workers == 0 else ["serve-gunicorn", bundle, "--workers", str(workers)]
    log = open(log_path, "wb")
    proc = subprocess.Popen([os.path.join(venv, "bin", "bentoml"), *args, "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            status, _ = post(port, timeout=2)
            if status == 200:
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start; see %s" % log_path)


def post(port, timeout):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/predict", body=BODY, headers={"Content-Type": "application/json"})
        reply = conn.getresponse()
        return reply.status, reply.read()
    finally:
        conn.close()


class SlowClients:
    """``count`` connections sending one header byte every ``interval`` s, from one thread."""

    def __init__(self, port, count, interval):
        self.socks, self.refused, self.closed = [], 0, 0
        for _ in range(count):
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=2)
                sock.sendall(SLOW_HEADER)
                sock.setblocking(False)
                self.socks.append(sock)
            except OSError:
                self.refused += 1
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._trickle, args=(interval,), daemon=True)
        self.thread.start()

    def _trickle(self, interval):
        while not self.stop.wait(interval):
            for sock in list(self.socks):
                try:
                    sock.send(b"a")
                except OSError:
                    self.socks.remove(sock)
                    self.closed += 1
                    sock.close()

    def closed_by_server(self):
        """How many of the connections the server has closed (EOF or reset), looked at now."""
        closed = self.closed
        for sock in self.socks:
            try:
                closed += sock.recv(1) == b""
            except BlockingIOError:
                pass
            except OSError:
                closed += 1
        return closed

    def close(self):
        self.stop.set()
        self.thread.join(5)
        for sock in self.socks:
            sock.close()


def measure(port, requests, timeout):
    latencies, unanswered = [], 0
    for _ in range(requests):
        started = time.monotonic()
        try:
            status, _ = post(port, timeout)
            if status != 200:
                unanswered += 1
                continue
            latencies.append(time.monotonic() - started)
        except OSError:
            unanswered += 1
    return latencies, unanswered


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--slow", type=int, default=1000, help="slow connections (default 1000)")
    ap.add_argument("--interval", type=float, default=5.0, help="seconds between a slow client's bytes")
    ap.add_argument("--requests", type=int, default=200, help="good requests to time (default 200)")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds a good request may take")
    ap.add_argument("--servers", default="dev,workers2", help="dev (bentoml serve) and/or workers2")
    ap.add_argument("--ours-venv", default=os.environ.get("BENCH_OURS_VENV", os.path.join(ROOT, ".venv")))
    ap.add_argument("--base-venv", default=os.environ.get("BENCH_BASE_VENV"))
    ap.add_argument("--base-only", action="store_true", help="measure only --base-venv's kernel")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # our own slow clients need descriptors too
    run_dir = tempfile.mkdtemp(prefix="slow-clients-")
    kernels = [("ours", args.ours_venv)] + ([("base", args.base_venv)] if args.base_venv else [])
    if args.base_only:
        kernels = kernels[1:]
    rows = []
    for kernel, venv in kernels:
        bundle = save_bundle(venv, os.path.join(run_dir, kernel))
        for name in args.servers.split(","):
            workers = {"dev": 0, "workers2": 2}[name]
            proc, port = start_server(venv, bundle, workers, os.path.join(run_dir, f"{kernel}-{name}.log"))
            try:
                idle, _ = measure(port, 50, args.timeout)
                slow = SlowClients(port, args.slow, args.interval)
                time.sleep(1.0)
                latencies, unanswered = measure(port, args.requests, args.timeout)
                rows.append((kernel, name, percentile(idle, 0.99), len(latencies), unanswered,
                             percentile(latencies, 0.5), percentile(latencies, 0.99),
                             max(latencies) if latencies else float("nan"), slow.refused, slow.closed_by_server()))
                slow.close()
            finally:
                os.killpg(proc.pid, 15)
                proc.wait(30)
    print(f"{args.slow} slow connections (one byte every {args.interval:g} s), {args.requests} good requests "
          f"one at a time, each allowed {args.timeout:g} s; logs in {run_dir}\n")
    print("| kernel | server | p99 ms, no slow clients | answered | unanswered | p50 ms | p99 ms | max ms "
          "| slow refused | slow closed by server |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kernel, name, idle99, ok, bad, p50, p99, mx, refused, closed in rows:
        print(f"| {kernel} | {name} | {idle99 * 1e3:.1f} | {ok} | {bad} | {p50 * 1e3:.1f} | {p99 * 1e3:.1f} "
              f"| {mx * 1e3:.1f} | {refused} | {closed} |")


if __name__ == "__main__":
    sys.exit(main())
