#!/usr/bin/env python3
"""API-server benchmark: our server vs MLServer 1.7, BentoML 0.8.6 and two Flask baselines.

One run, on this machine, loopback only. For each model and round, each selected server is
started on a free 127.0.0.1 port, waited on until ready (health route + one correct
prediction), warmed up, then driven by wrk (one iris row per POST) at each connection count
for --duration seconds, and stopped (SIGTERM to its process group, SIGKILL after a grace
period, always). Servers alternate within a round (A B C, then C B A in the next), so slow
drift of the machine hits every server alike and none always goes first; the tables report,
per server/model/connections, the round with the highest throughput (all rounds are listed
at the end).

Needs wrk and the peer envs: run bench/setup_peers.sh first. Stdlib only; any python3 runs it
(time it without PYTHONDONTWRITEBYTECODE, which this script also removes from servers' env).

    python3 bench/server_bench.py                                  # everything, ~25 min
    python3 bench/server_bench.py --servers flask,constant,mlserver,bentoml086 --duration 5
    python3 bench/server_bench.py --servers ours-mb2,mlserver --models rf --markdown bench/RESULTS.md

Same-run A/B of two kernels (a change against the commit before it): install the other one into
its own venv and pass it as --base-venv; every ours-X server then has a base-X twin run from that
venv with bundles that kernel saved, alternating with it round by round, and the report gets a
section with each pair's median and spread over the rounds:

    python3 bench/server_bench.py --base-venv /tmp/base-venv --servers ours-mb2,base-mb2 --rounds 5
"""
import argparse
import atexit
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OURS_VENV = os.environ.get("BENCH_OURS_VENV", os.path.join(ROOT, ".venv"))  # ours + baselines
BASE_VENV = os.environ.get("BENCH_BASE_VENV")  # the other kernel of an A/B (base-* servers)
VENVS = os.path.join(HERE, ".venvs")
BUNDLES = os.path.join(HERE, ".bundles")

ROW = [5.1, 3.5, 1.4, 0.2]            # iris row 0; every model here predicts class 0
BENTO_BODY = json.dumps([ROW])        # ours, BentoML 0.8.6, Flask baselines
ALL_SERVERS = ["ours-nb", "ours-mb1", "ours-mb2", "flask", "constant", "mlserver", "bentoml086"]
# Not in the default set: `bentoml serve` (development server), and 2 workers without
# CPU affinity (the A/B of `--cpu-affinity`).
OPTIONAL_SERVERS = ["ours-dev", "ours-mb2-noaff", "ours-mb2-nolog"]
OURS_VARIANTS = ["nb", "mb1", "mb2", "dev", "mb2-noaff", "mb2-nolog"]
#: With --base-venv: the same variants run from the other kernel.
BASE_SERVERS = ["base-" + v for v in OURS_VARIANTS]
MODELS = ["rf", "svc"]
CLK_TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1


def log(*a):
    print("[bench %s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- /proc helpers

def _stat_fields(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    return s[s.rindex(")") + 2:].split()   # fields from 3 (state) on


def process_tree(root):
    """root and all its live descendants (by ppid), zombies excluded."""
    children, state = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            f = _stat_fields(int(d))
        except (OSError, ValueError):
            continue
        state[int(d)] = f[0]
        children.setdefault(int(f[1]), []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        if p in state and state[p] != "Z":
            out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pids):
    """{pid: utime+stime seconds} for the pids still readable."""
    out = {}
    for p in pids:
        try:
            f = _stat_fields(p)
            out[p] = (int(f[11]) + int(f[12])) / CLK_TCK
        except (OSError, ValueError, IndexError):
            pass
    return out


def machine_busy_seconds():
    """Busy CPU seconds of the whole machine (all cores) since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) / CLK_TCK


def pss_mib(pids):
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total / 1024.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, timeout=3.0):
    req = urllib.request.Request(url, data=body.encode() if body else None, method=method,
                                 headers={"Content-Type": "application/json"} if body else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


# ---------------------------------------------------------------- servers

class StartFailed(Exception):
    pass


LIVE = set()   # servers started and not yet stopped, stopped at exit whatever happens


class Server:
    """One server process (tree) for one model."""

    def __init__(self, name, model, run_dir, ours_bundles):
        self.name, self.model, self.run_dir = name, model, run_dir
        self.port = free_port()
        self.proc = None
        self.tmp = None
        self.log_path = os.path.join(run_dir, "logs", "%s-%s-%s.log" % (
            name, model, time.strftime("%H%M%S")))
        base = "http://127.0.0.1:%d" % self.port
        self.env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        self.cwd = run_dir
        self.expect = lambda data: data == [0]
        self.body = BENTO_BODY
        self.url = base + "/predict"
        self.ready_url = base + "/healthz"
        py = os.path.join(OURS_VENV, "bin", "python")
        kernel, _, variant = name.partition("-")
        if kernel in ("ours", "base"):
            bundles = ours_bundles.get(kernel, "no bundles for %s" % kernel)
            if isinstance(bundles, str):
                raise StartFailed(bundles)
            bundle = bundles[model]
            bentoml = os.path.join(OURS_VENV if kernel == "ours" else BASE_VENV, "bin", "bentoml")
            self.env["BENTOML_HOME"] = os.path.join(run_dir, kernel + "-home")
            if variant == "dev":
                self.cmd = [bentoml, "serve", bundle, "--port", str(self.port)]
            else:
                workers = {"nb": "1", "mb1": "1", "mb2": "2", "mb2-noaff": "2", "mb2-nolog": "2"}[variant]
                self.cmd = [bentoml, "serve-gunicorn", bundle, "--workers", workers,
                            "--port", str(self.port)]
                if variant == "mb2-noaff":
                    self.cmd.append("--no-cpu-affinity")
                if variant == "mb2-nolog":
                    self.cmd.append("--no-access-log")
                if variant != "nb":
                    self.cmd.insert(3, "--enable-microbatch")
        elif name == "flask":
            self.cmd = [py, os.path.join(HERE, "baselines", "flask_app.py"),
                        "--model", model, "--port", str(self.port)]
        elif name == "constant":
            self.cmd = [py, os.path.join(HERE, "baselines", "constant_app.py"),
                        "--port", str(self.port)]
        elif name == "mlserver":
            exe = os.path.join(VENVS, "mlserver", "bin", "mlserver")
            src = os.path.join(BUNDLES, "mlserver", "iris-" + model)
            if not (os.path.exists(exe) and os.path.isdir(src)):
                raise StartFailed("not installed: run bench/setup_peers.sh")
            # A repository holding only this model, so only it loads (and counts in PSS).
            self.tmp = tempfile.mkdtemp(prefix="mlserver-", dir=run_dir)
            shutil.copytree(src, os.path.join(self.tmp, "iris-" + model))
            with open(os.path.join(self.tmp, "settings.json"), "w") as f:
                json.dump({"debug": False, "host": "127.0.0.1", "http_port": self.port,
                           "grpc_port": free_port(), "metrics_port": free_port(),
                           "metrics_endpoint": None, "parallel_workers": 1}, f)
            self.cmd = [exe, "start", self.tmp]
            self.cwd = self.tmp
            self.url = base + "/v2/models/iris-%s/infer" % model
            self.ready_url = base + "/v2/models/iris-%s/ready" % model
            self.body = json.dumps({"inputs": [{"name": "predict", "shape": [1, 4],
                                                "datatype": "FP64", "data": ROW}]})
            self.expect = lambda data: data["outputs"][0]["data"] == [0]
        elif name == "bentoml086":
            py086 = os.path.join(VENVS, "bentoml086", "bin", "python")
            bundle = os.path.join(BUNDLES, "bentoml086", model)
            if not (os.path.exists(py086) and os.path.isdir(bundle)):
                raise StartFailed("not installed: run bench/setup_peers.sh")
            self.env["BENTOML_HOME"] = os.path.join(BUNDLES, "bentoml086-home")
            self.cmd = [py086, os.path.join(HERE, "peers", "bentoml086_serve.py"),
                        "serve-gunicorn", bundle, "--enable-microbatch", "--workers", "1",
                        "--port", str(self.port)]
        else:
            raise StartFailed("unknown server %r" % name)

    def start(self, ready_timeout):
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        t0 = time.monotonic()
        try:
            with open(self.log_path, "wb") as logf:
                self.proc = subprocess.Popen(self.cmd, cwd=self.cwd, env=self.env,
                                             stdin=subprocess.DEVNULL, stdout=logf,
                                             stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as e:
            raise StartFailed("cannot exec %s: %s" % (self.cmd[0], e))
        LIVE.add(self)
        last = "no answer"
        while time.monotonic() - t0 < ready_timeout:
            rc = self.proc.poll()
            if rc is not None:
                raise StartFailed("exited with %s before ready: %s" % (rc, self.log_tail()))
            try:
                st, _ = http("GET", self.ready_url, timeout=2)
                if st == 200:
                    st, data = http("POST", self.url, self.body, timeout=10)
                    if st == 200 and self.expect(json.loads(data)):
                        return time.monotonic() - t0
                    last = "predict -> %s %r" % (st, data[:200])
                else:
                    last = "%s -> %s" % (self.ready_url, st)
            except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
                last = repr(e)
            time.sleep(0.25)
        raise StartFailed("not ready after %ds (%s): %s" % (ready_timeout, last, self.log_tail()))

    def log_tail(self, n=3):
        try:
            with open(self.log_path, errors="replace") as f:
                lines = [l.strip() for l in f if l.strip()]
            return " | ".join(lines[-n:])[-400:] or "(empty log)"
        except OSError:
            return "(no log)"

    def pids(self):
        return process_tree(self.proc.pid) if self.proc else []

    def stop(self, grace=10.0):
        if not self.proc:
            return
        try:
            pids = set(self.pids()) | {self.proc.pid}
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:
                self.proc.poll()
                pids = {p for p in pids | set(self.pids()) if _alive(p)}
                if not pids:
                    break
                time.sleep(0.1)
            if pids:
                log("%s/%s: still running after SIGTERM + %.0fs, SIGKILL %s"
                    % (self.name, self.model, grace, sorted(pids)))
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                for p in pids:  # descendants that left the process group
                    try:
                        os.kill(p, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        finally:
            LIVE.discard(self)
            if self.tmp:
                shutil.rmtree(self.tmp, ignore_errors=True)


def _alive(pid):
    try:
        return _stat_fields(pid)[0] != "Z"
    except (OSError, ValueError, IndexError):
        return False


def _stop_all():
    for s in list(LIVE):
        s.stop(grace=3)


# ---------------------------------------------------------------- load generator

LUA = r"""
wrk.method = "POST"
wrk.body = [==[%s]==]
wrk.headers["Content-Type"] = "application/json"
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, ' ..
    '"max_us": %%d, "connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def run_wrk(url, body, conns, duration, run_dir, timeout_s=5):
    """Drive url for `duration` s with `conns` connections (1 wrk thread); returns a dict."""
    script = os.path.join(run_dir, "post-%d.lua" % (hash(body) & 0xffffff))
    if not os.path.exists(script):
        with open(script, "w") as f:
            f.write(LUA % body)
    cmd = ["wrk", "-t1", "-c%d" % conns, "-d%ds" % duration, "--timeout", "%ds" % timeout_s,
           "--latency", "-s", script, url]
    with tempfile.TemporaryFile(mode="w+") as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + duration + 30
        while True:   # bounded: wrk stops itself after `duration`; kill it if it does not
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.05)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    res = {"lg_cpu_s": ru.ru_utime + ru.ru_stime, "rc": p.returncode}
    for line in text.splitlines():
        if line.startswith("BENCHJSON "):
            res.update(json.loads(line[len("BENCHJSON "):]))
        elif "Non-2xx or 3xx responses:" in line:
            res["non2xx"] = int(line.split(":")[1])
    if "requests" not in res:
        res["error"] = "wrk rc=%s: %s" % (p.returncode, text.strip()[-300:])
        return res
    res.setdefault("non2xx", 0)
    secs = res["duration_us"] / 1e6
    res["rps"] = res["requests"] / secs if secs else 0.0
    res["sock_errors"] = res["connect"] + res["read"] + res["write"] + res["timeout"]
    res["wall_s"] = secs
    return res


# ---------------------------------------------------------------- orchestration

def save_ours_bundles(run_dir, kernel="ours", venv=None):
    """Save bundles with the kernel of ``venv`` (ours by default); returns {model: path} or an
    error string."""
    out = os.path.join(run_dir, kernel + "-bundles")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["BENTOML_HOME"] = os.path.join(run_dir, kernel + "-home")
    py = os.path.join(venv or OURS_VENV, "bin", "python")
    try:
        r = subprocess.run([py, os.path.join(HERE, "peers", "save_bento_bundles.py"), out],
                           env=env, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "saving our bundles failed: %s" % e
    if r.returncode:
        lines = [l.strip() for l in (r.stdout + r.stderr).splitlines() if l.strip()]
        return "saving our bundles failed (rc %d): %s" % (r.returncode, " | ".join(lines[-2:])[-300:])
    return {m: os.path.join(out, m) for m in MODELS}


def wait_quiet(threshold_pct, max_wait):
    """Wait (at most max_wait s) until the machine's busy CPU over 1 s is <= threshold_pct of
    one core; the machine is shared (test suites of other sessions). Returns (busy %, waited s)."""
    t0 = time.monotonic()
    while True:
        b0 = machine_busy_seconds()
        time.sleep(1.0)
        busy = 100 * (machine_busy_seconds() - b0)
        waited = time.monotonic() - t0
        if busy <= threshold_pct or waited >= max_wait:
            return busy, waited


def bench_one(name, model, rnd, args, run_dir, ours_bundles):
    """Start, measure, stop one server. Returns a result dict (never raises StartFailed)."""
    res = {"server": name, "model": model, "round": rnd, "levels": {}}
    srv = None
    if args.max_quiet_wait > 0:
        busy, waited = wait_quiet(args.quiet_threshold, args.max_quiet_wait)
        if busy > args.quiet_threshold:
            res["note"] = "machine busy before start: %.0f%% of a core after waiting %.0fs" % (
                busy, waited)
            log("%s/%s r%d: %s" % (name, model, rnd, res["note"]))
        elif waited > 2:
            log("waited %.0fs for the machine to be quiet" % waited)
    try:
        srv = Server(name, model, run_dir, ours_bundles)
        res["ready_s"] = srv.start(args.ready_timeout)
        res["pss_ready_mib"] = pss_mib(srv.pids())
        res["nprocs"] = len(srv.pids())
        log("%s/%s r%d: ready in %.1fs, %d processes, PSS %.0f MiB" % (
            name, model, rnd, res["ready_s"], res["nprocs"], res["pss_ready_mib"]))
        if args.warmup:
            w = run_wrk(srv.url, srv.body, 16, args.warmup, run_dir)
            if "error" in w:
                log("warmup:", w["error"])
        for c in args.connections:
            pids = srv.pids()
            cpu0, busy0 = cpu_seconds(pids), machine_busy_seconds()
            r = run_wrk(srv.url, srv.body, c, args.duration, run_dir)
            busy1 = machine_busy_seconds()
            pids1 = srv.pids()
            cpu1 = cpu_seconds(set(pids) | set(pids1))
            srv_cpu = sum(cpu1[p] - cpu0.get(p, 0.0) for p in cpu1)
            wall = r.get("wall_s") or args.duration
            r["srv_cpu_pct"] = 100 * srv_cpu / wall
            r["lg_cpu_pct"] = 100 * r["lg_cpu_s"] / wall
            r["other_cpu_pct"] = max(0.0, 100 * (busy1 - busy0 - srv_cpu - r["lg_cpu_s"]) / wall)
            res["levels"][c] = r
            if "error" in r:
                log("%s/%s r%d c=%d: %s" % (name, model, rnd, c, r["error"]))
            else:
                log("%s/%s r%d c=%-2d %8.1f req/s  p50 %7.2f ms  p99 %7.2f ms  non2xx %d  "
                    "err %d  srv %3.0f%% lg %3.0f%% other %3.0f%%" % (
                        name, model, rnd, c, r["rps"], r["p50_us"] / 1e3, r["p99_us"] / 1e3,
                        r["non2xx"], r["sock_errors"], r["srv_cpu_pct"], r["lg_cpu_pct"],
                        r["other_cpu_pct"]))
        res["pss_loaded_mib"] = pss_mib(srv.pids())
        st, data = http("POST", srv.url, srv.body, timeout=10)
        try:
            ok = st == 200 and srv.expect(json.loads(data))
        except (ValueError, KeyError, IndexError, TypeError):
            ok = False
        if not ok:
            res["note"] = ("%s; " % res["note"] if "note" in res else "") + (
                "wrong answer after load: %s %r" % (st, data[:100]))
    except StartFailed as e:
        res["failed"] = "failed to start: %s" % e
        log("%s/%s r%d: %s" % (name, model, rnd, res["failed"]))
    except Exception as e:  # keep going with the other servers
        res["failed"] = "error: %r" % e
        log("%s/%s r%d: %s" % (name, model, rnd, res["failed"]))
    finally:
        if srv is not None:
            srv.stop()
    return res


def best(results, name, model, c):
    """The level result with the highest throughput over rounds, or None."""
    cands = rounds(results, name, model, c)
    return max(cands, key=lambda x: x["rps"]) if cands else None


def rounds(results, name, model, c):
    """The level results of every round that measured this server/model/connections."""
    return [r["levels"][c] for r in results
            if r["server"] == name and r["model"] == model and c in r.get("levels", {})
            and "rps" in r["levels"][c]]


def median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def spread(values):
    return max(values) - min(values)


def failure(results, name, model):
    for r in results:
        if r["server"] == name and r["model"] == model and "failed" in r:
            return r["failed"]
    return None


def fmt_ms(us):
    return "%.2f" % (us / 1e3)


def markdown(results, args, meta):
    L = []
    w = L.append
    w("# API-server benchmark")
    w("")
    w("- when: %s; machine: %s, %d CPUs, load average at start %s" % (
        meta["when"], meta["machine"], NCPU, meta["loadavg"]))
    w("- load: wrk (1 thread), one iris row per POST, %s connections, %ds each after a %ds "
      "warm-up at 16; %d round(s), servers alternating within a round; best round shown" % (
          "/".join(map(str, args.connections)), args.duration, args.warmup, args.rounds))
    w("- versions: %s" % meta["versions"])
    w("- cpu columns are %% of one core over the measured interval (machine total %d%%): "
      "srv = the server's process tree, lg = wrk, other = everything else on the machine "
      "(interference)" % (100 * NCPU))
    w("")
    w("## Throughput and latency")
    w("")
    w("| server | model | conns | req/s | p50 ms | p99 ms | non-2xx | sock err | srv cpu% | "
      "lg cpu% | other cpu% |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for model in args.models:
        for name in args.servers:
            f = failure(results, name, model)
            any_row = False
            for c in args.connections:
                b = best(results, name, model, c)
                if b:
                    any_row = True
                    w("| %s | %s | %d | %.1f | %s | %s | %d | %d | %.0f | %.0f | %.0f |" % (
                        name, model, c, b["rps"], fmt_ms(b["p50_us"]), fmt_ms(b["p99_us"]),
                        b["non2xx"], b["sock_errors"], b["srv_cpu_pct"], b["lg_cpu_pct"],
                        b["other_cpu_pct"]))
            if not any_row:
                w("| %s | %s | - | %s | | | | | | | |" % (
                    name, model, (f or "no result").replace("|", "/")))
    w("")
    refs = [s for s in ("mlserver", "bentoml086", "flask", "constant", "ours-mb2-noaff") if s in args.servers]
    subjects = [s for s in args.servers if s != "constant"]
    if refs and any(best(results, n, m, c) for n in subjects for m in args.models
                    for c in args.connections):
        w("## Throughput ratios (same run)")
        w("")
        w("Each cell: subject req/s divided by the reference's req/s at the same model and "
          "connections (x/constant = fraction of the HTTP ceiling).")
        w("")
        w("| subject | model | conns | " + " | ".join("x/" + r for r in refs) + " |")
        w("|---|---|---:|" + "---:|" * len(refs))
        for model in args.models:
            for name in subjects:
                for c in args.connections:
                    b = best(results, name, model, c)
                    if not b:
                        continue
                    cells = []
                    for ref in refs:
                        rb = best(results, ref, model, c)
                        cells.append("%.2f" % (b["rps"] / rb["rps"]) if rb and rb["rps"]
                                     and ref != name else "-")
                    w("| %s | %s | %d | %s |" % (name, model, c, " | ".join(cells)))
        w("")
    pairs = [(s, "base-" + s[5:]) for s in args.servers if s.startswith("ours-")
             and "base-" + s[5:] in args.servers]
    if pairs:
        w("## Same-run A/B: this kernel (ours-*) against --base-venv's (base-*)")
        w("")
        w("Median over the rounds, spread = max - min over the rounds; ratio = median / median. "
          "A median below the other's by more than the spread is a real difference.")
        w("")
        w("| pair | model | conns | rounds | ours req/s median (spread) | base req/s median (spread) "
          "| ratio | ours p99 ms median | base p99 ms median |")
        w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for ours, base in pairs:
            for model in args.models:
                for c in args.connections:
                    a, b = rounds(results, ours, model, c), rounds(results, base, model, c)
                    if not a or not b:
                        continue
                    ma, mb = median([x["rps"] for x in a]), median([x["rps"] for x in b])
                    w("| %s vs %s | %s | %d | %d/%d | %.1f (%.1f) | %.1f (%.1f) | %.3f | %s | %s |" % (
                        ours, base, model, c, len(a), len(b), ma, spread([x["rps"] for x in a]),
                        mb, spread([x["rps"] for x in b]), ma / mb if mb else 0.0,
                        fmt_ms(median([x["p99_us"] for x in a])), fmt_ms(median([x["p99_us"] for x in b]))))
        w("")
    w("## Memory and startup")
    w("")
    w("Total PSS (sum of /proc/PID/smaps_rollup Pss over the server's process tree), "
      "after ready and after the load; startup = launch to first correct prediction. "
      "Min over rounds.")
    w("")
    w("| server | model | processes | PSS ready MiB | PSS after load MiB | startup s |")
    w("|---|---|---:|---:|---:|---:|")
    for model in args.models:
        for name in args.servers:
            rs = [r for r in results if r["server"] == name and r["model"] == model
                  and "ready_s" in r]
            if not rs:
                continue
            w("| %s | %s | %d | %.0f | %s | %.1f |" % (
                name, model, max(r["nprocs"] for r in rs),
                min(r["pss_ready_mib"] for r in rs),
                "%.0f" % min(r["pss_loaded_mib"] for r in rs if "pss_loaded_mib" in r)
                if any("pss_loaded_mib" in r for r in rs) else "-",
                min(r["ready_s"] for r in rs)))
    w("")
    mem = {n: [r for r in results if r["server"] == n and r["model"] == "rf"
               and "pss_loaded_mib" in r] for n in ("ours-mb1", "ours-mb2")}
    if mem["ours-mb1"] and mem["ours-mb2"]:
        a = min(r["pss_loaded_mib"] for r in mem["ours-mb1"])
        b = min(r["pss_loaded_mib"] for r in mem["ours-mb2"])
        w("Ours, RandomForest, micro-batching: --workers 2 / --workers 1 total PSS = "
          "%.0f / %.0f MiB = %.2fx." % (b, a, b / a))
        w("")
    notes = [r for r in results if "failed" in r or "note" in r]
    if notes:
        w("## Failures and notes")
        w("")
        for r in notes:
            w("- %s / %s / round %d: %s" % (r["server"], r["model"], r["round"],
                                            r.get("failed") or r.get("note")))
        w("")
    w("## All rounds")
    w("")
    w("| round | server | model | conns | req/s | p50 ms | p99 ms | non-2xx | sock err |")
    w("|---:|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        for c, x in sorted(r.get("levels", {}).items()):
            if "rps" in x:
                w("| %d | %s | %s | %d | %.1f | %s | %s | %d | %d |" % (
                    r["round"], r["server"], r["model"], c, x["rps"], fmt_ms(x["p50_us"]),
                    fmt_ms(x["p99_us"]), x["non2xx"], x["sock_errors"]))
    w("")
    return "\n".join(L)


def versions():
    out = []
    try:
        r = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
        out.append("wrk " + (r.stdout + r.stderr).split()[1])
    except (OSError, IndexError):
        out.append("wrk missing")
    for env, pkgs in (("mlserver", ("mlserver", "scikit-learn", "numpy")),
                      ("bentoml086", ("bentoml", "scikit-learn", "numpy", "pandas"))):
        try:
            with open(os.path.join(VENVS, env, "freeze.txt")) as f:
                frz = dict(l.strip().split("==", 1) for l in f if "==" in l)
            out.append("%s env: %s" % (env, ", ".join(
                "%s %s" % (p, frz.get(p, "?")) for p in pkgs)))
        except OSError:
            out.append("%s env: not installed" % env)
    try:
        r = subprocess.run([os.path.join(OURS_VENV, "bin", "python"), "-c",
                            "import sys, sklearn, numpy, flask, waitress;"
                            "from importlib.metadata import version as v;"
                            "print('python %d.%d' % sys.version_info[:2], 'bentoml', v('bentoml'),"
                            "'scikit-learn', sklearn.__version__, 'numpy', numpy.__version__,"
                            "'waitress', v('waitress'))"], capture_output=True, text=True)
        out.append("ours env: " + r.stdout.strip())
    except OSError:
        pass
    return "; ".join(out)


def main(argv=None):
    global BASE_VENV
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--servers", default=",".join(ALL_SERVERS),
                    help="comma list from %s (default: all but %s)"
                         % (",".join(ALL_SERVERS + OPTIONAL_SERVERS), " and ".join(OPTIONAL_SERVERS)))
    ap.add_argument("--models", default=",".join(MODELS), help="comma list from rf,svc")
    ap.add_argument("--connections", default="1,16,64", help="comma list (default 1,16,64)")
    ap.add_argument("--duration", type=int, default=10, help="seconds per level (default 10)")
    ap.add_argument("--warmup", type=int, default=3, help="warm-up seconds at 16 connections")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--ready-timeout", type=int, default=180)
    ap.add_argument("--quiet-threshold", type=float, default=30.0,
                    help="before each server start, wait until machine busy CPU <= this %% of "
                         "one core (default 30)")
    ap.add_argument("--max-quiet-wait", type=float, default=30.0,
                    help="seconds to wait for that at most; 0 disables (default 30)")
    ap.add_argument("--markdown", help="also write the markdown report to this file")
    ap.add_argument("--json", help="also write raw results as JSON to this file")
    ap.add_argument("--base-venv", default=BASE_VENV,
                    help="venv of the other kernel of an A/B: runs the base-* servers "
                         "(%s); env BENCH_BASE_VENV" % ",".join(BASE_SERVERS))
    args = ap.parse_args(argv)
    BASE_VENV = args.base_venv
    args.servers = [s for s in args.servers.split(",") if s]
    args.models = [m for m in args.models.split(",") if m]
    args.connections = [int(c) for c in args.connections.split(",") if c]
    bad = [s for s in args.servers if s not in ALL_SERVERS + OPTIONAL_SERVERS + BASE_SERVERS]
    if any(s.startswith("base-") for s in args.servers) and not BASE_VENV:
        ap.error("base-* servers need --base-venv (the other kernel's venv)")
    bad += [m for m in args.models if m not in MODELS]
    if bad:
        ap.error("unknown server/model: %s" % ", ".join(bad))
    if not shutil.which("wrk"):
        ap.error("wrk not found: run bench/setup_peers.sh (installs Debian's wrk)")

    atexit.register(_stop_all)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))

    run_dir = os.path.join(HERE, ".runs", time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(run_dir, exist_ok=True)
    meta = {"when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "machine": "%s %s" % (platform.node(), platform.machine()),
            "loadavg": open("/proc/loadavg").read().split()[0],
            "versions": versions()}
    n = len(args.servers) * len(args.models) * args.rounds
    log("%d server runs, about %d min; logs in %s" % (
        n, n * (len(args.connections) * args.duration + args.warmup + 15) // 60 + 1, run_dir))

    ours_bundles = {}
    for kernel, venv in (("ours", OURS_VENV), ("base", BASE_VENV)):
        if any(s.startswith(kernel + "-") for s in args.servers):
            ours_bundles[kernel] = save_ours_bundles(run_dir, kernel, venv)
            if isinstance(ours_bundles[kernel], str):
                log(ours_bundles[kernel])

    results = []
    try:
        for model in args.models:
            for rnd in range(1, args.rounds + 1):
                # A B C, then C B A: no server always runs first (or right after another).
                for name in (args.servers if rnd % 2 else args.servers[::-1]):
                    results.append(bench_one(name, model, rnd, args, run_dir, ours_bundles))
    except KeyboardInterrupt:
        log("interrupted; reporting what ran")
    finally:
        _stop_all()

    md = markdown(results, args, meta)
    print(md)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(md + "\n")
    with open(args.json or os.path.join(run_dir, "results.json"), "w") as f:
        json.dump({"meta": meta, "args": vars(args), "results": results}, f, indent=1,
                  default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
