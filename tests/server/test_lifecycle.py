"""Starting and stopping: graceful SIGTERM, BENTOML_* environment variables, and the
bundle's docker-entrypoint.sh / Dockerfile (run directly, no Docker)."""
from __future__ import annotations

import os
import pathlib
import re
import socket
import stat
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

SETOSA = [5.1, 3.5, 1.4, 0.2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connection_refused(port: int, within: float = 5.0) -> bool:
    """True once a new TCP connection to the port is refused (tried until ``within``)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
        except ConnectionRefusedError:
            return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


DRAIN_GRACE = 1.0


def stop_with_request_in_flight(server, sleep: float = 3.5):
    """SIGTERM while /slow runs: for the drain grace period new requests are still answered
    (as their connection's last), then new connections are refused, the in-flight request is
    answered 200, the server exits 0."""
    assert server.post("/predict", [SETOSA]).json() == [0]
    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(server.post, "/slow", {"sleep": sleep})
        time.sleep(0.6)  # the request is inside the API now
        assert not in_flight.done()
        signalled = time.monotonic()
        server.proc.send_signal(__import__("signal").SIGTERM)
        # (/healthz: the API itself is busy, one batch at a time; with workers the master
        # forwards the signal, so the first answers may come before a worker has it)
        during_grace = server.get("/healthz")
        while during_grace.headers.get("connection") != "close" and time.monotonic() - signalled < 0.5:
            during_grace = server.get("/healthz")
        assert during_grace.status == 200 and during_grace.headers.get("connection") == "close"
        assert time.monotonic() - signalled < DRAIN_GRACE
        # then stop accepting: a new connection is refused while the request still runs
        assert connection_refused(server.port, within=DRAIN_GRACE + 0.8), "new connections still accepted"
        assert not in_flight.done(), "the in-flight request ended before new connections were refused"
        assert server.proc.poll() is None
        reply = in_flight.result(30)
    assert reply.status == 200, reply
    assert reply.json() == {"slept": sleep}
    code = server.proc.wait(30)
    assert code == 0, server.log
    assert "Traceback" not in server.log, server.log
    assert connection_refused(server.port, within=1)


def test_graceful_stop_dev_server(start_server, bundle):
    server = start_server("serve", str(bundle), "--port", "0", "--drain-grace", str(DRAIN_GRACE))
    stop_with_request_in_flight(server)


def test_graceful_stop_with_workers(start_server, bundle):
    server = start_server("serve-gunicorn", str(bundle), "--port", "0", "--workers", "2",
                          "--drain-grace", str(DRAIN_GRACE))
    assert "2 workers" in server.serving_line
    stop_with_request_in_flight(server)


def test_graceful_stop_idle_is_prompt(start_server, bundle):
    server = start_server("serve-gunicorn", str(bundle), "--port", "0", "--workers", "2",
                          "--enable-microbatch")
    assert server.post("/double", {"x": 1}).status == 200
    started = time.monotonic()
    assert server.terminate(30) == 0, server.log
    assert time.monotonic() - started < 10


# -- environment variables ---------------------------------------------------------------------
def test_environment_variables_configure_the_production_server(start_server, bundle, prom_sum):
    server = start_server("serve-gunicorn", str(bundle),
                          env={"BENTOML_ENABLE_MICROBATCH": "True", "BENTOML_WORKERS": "2",
                               "BENTOML_PORT": "0", "BENTOML_MB_MAX_BATCH_SIZE": "3"})
    assert "(2 workers, micro-batching)" in server.serving_line, server.serving_line
    assert server.match.group(3) == "127.0.0.1"
    assert server.post("/predict", [SETOSA]).json() == [0]
    with ThreadPoolExecutor(24) as pool:
        replies = list(pool.map(lambda x: server.post("/double", {"x": x}), range(100, 148)))
    assert [r.json() for r in replies] == [{"y": 2 * x} for x in range(100, 148)]
    text = server.get("/metrics").text
    # micro-batching is on (batches are recorded) and the env's batch size cap holds
    assert prom_sum(text, "bentoml_service_adaptive_batch_size_count", method_name="double") > 0
    assert prom_sum(text, "bentoml_service_adaptive_batch_size_bucket", method_name="double", le="2.0") <= \
        prom_sum(text, "bentoml_service_adaptive_batch_size_count", method_name="double")
    above_4 = (prom_sum(text, "bentoml_service_adaptive_batch_size_count", method_name="double")
               - prom_sum(text, "bentoml_service_adaptive_batch_size_bucket", method_name="double", le="4.0"))
    assert above_4 == 0
    assert server.terminate() == 0


def test_cli_options_override_environment(start_server, bundle):
    server = start_server("serve-gunicorn", str(bundle), "--port", "0", "--workers", "1",
                          "--disable-microbatch",
                          env={"BENTOML_ENABLE_MICROBATCH": "true", "BENTOML_WORKERS": "3",
                               "BENTOML_PORT": "1"})
    assert "(1 worker, no batching)" in server.serving_line, server.serving_line
    assert server.terminate() == 0


def test_invalid_environment_variable_is_named(bundle):
    import subprocess

    env = dict(os.environ, BENTOML_WORKERS="two", BENTOML_PORT="0")
    out = subprocess.run([sys.executable, "-m", "bentoml", "serve-gunicorn", str(bundle)],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode != 0
    assert "BENTOML_WORKERS" in out.stderr and "Traceback" not in out.stderr, out.stderr


# -- the bundle's container entrypoint ------------------------------------------------------------
def test_dockerfile_runs_the_entrypoint(bundle):
    dockerfile = (bundle / "Dockerfile").read_text()
    entrypoint = re.search(r"^ENTRYPOINT\s+(\[.*\])\s*$", dockerfile, re.M)
    assert entrypoint, dockerfile
    import json

    command = json.loads(entrypoint.group(1))  # exec form: the server is PID 1, gets SIGTERM
    workdir = re.search(r"^WORKDIR\s+(\S+)", dockerfile, re.M).group(1)
    copy = re.search(r"^COPY\s+\.\s+(\S+)", dockerfile, re.M).group(1)
    assert command[0] == f"{copy.rstrip('/')}/docker-entrypoint.sh"
    assert workdir.rstrip("/") == copy.rstrip("/")
    assert re.search(r"^EXPOSE\s+5000\b", dockerfile, re.M)


def test_entrypoint_defaults_to_all_interfaces(bundle):
    script = (bundle / "docker-entrypoint.sh").read_text()
    assert script.startswith("#!/bin/sh")
    assert "${BENTOML_HOST:-0.0.0.0}" in script
    assert "${BENTOML_PORT:-5000}" in script
    assert re.search(r"^exec bentoml serve-gunicorn ", script, re.M), script
    assert os.stat(bundle / "docker-entrypoint.sh").st_mode & stat.S_IXUSR


def test_entrypoint_serves_the_bundle(start_server, bundle, tmp_path):
    port = free_port()
    venv_bin = str(pathlib.Path(sys.executable).parent)
    server = start_server(
        command=[str(bundle / "docker-entrypoint.sh")], cwd=str(tmp_path),
        env={"BENTOML_PORT": str(port), "BENTOML_HOST": "127.0.0.1",
             "BENTOML_ENABLE_MICROBATCH": "True",
             "PATH": venv_bin + os.pathsep + os.environ.get("PATH", "")})
    assert server.port == port
    assert server.match.group(3) == "127.0.0.1"
    assert "micro-batching" in server.serving_line
    reply = server.post("/predict", [SETOSA, [6.3, 3.3, 6.0, 2.5]])
    assert reply.status == 200 and reply.json() == [0, 2]
    # `exec`: the script's pid is the server itself, which SIGTERM stops gracefully
    cmdline = pathlib.Path(f"/proc/{server.proc.pid}/cmdline").read_bytes().split(b"\0")
    assert b"serve-gunicorn" in cmdline, cmdline
    assert server.terminate() == 0, server.log


def test_entrypoint_runs_a_given_command(bundle):
    import subprocess

    out = subprocess.run([str(bundle / "docker-entrypoint.sh"), "echo", "hello"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.strip() == "hello"
