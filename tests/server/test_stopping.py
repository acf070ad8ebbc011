"""Stopping under load, over real signals and sockets: the drain answers every request already
received, keep-alive connections close cleanly, workers die with their master, and a busy
port is refused."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from bentoml.testing.server import child_pids


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_workers_exit_promptly_when_their_master_is_killed(start_server, bundle):
    server = start_server("serve-gunicorn", str(bundle), "--port", "0", "--workers", "2")
    deadline = time.monotonic() + 10
    while len(child_pids(server.proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # the master announces before it forks
    workers = child_pids(server.proc.pid)
    assert len(workers) == 2
    assert server.post("/double", {"x": 1}).json() == {"y": 2}
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait(10)
    deadline = time.monotonic() + 5
    while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_gone(pid) for pid in workers), "workers still serve without their master"
    assert _refused(server.port)


def _start(bundle, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bentoml", *args, str(bundle)], capture_output=True,
                          text=True, timeout=60)


def test_a_second_server_on_a_busy_port_fails(start_server, bundle):
    first = start_server("serve-gunicorn", str(bundle), "--port", "0", "--workers", "2")
    for command in (["serve-gunicorn", "--workers", "2"], ["serve-gunicorn"], ["serve"]):
        second = _start(bundle, *command, "--port", str(first.port))
        assert second.returncode == 1, (command, second.stderr)
        assert f"cannot listen on 127.0.0.1:{first.port}: Address already in use" in second.stderr
    dev = start_server("serve", str(bundle), "--port", "0")
    beside_dev = _start(bundle, "serve-gunicorn", "--workers", "2", "--port", str(dev.port))
    assert beside_dev.returncode == 1 and "Address already in use" in beside_dev.stderr
    # every request still reaches the first server's own workers
    pids = {first.post("/whoami", {}).json()["pid"] for _ in range(20)}
    assert pids <= set(child_pids(first.proc.pid))


def _keep_sending(port: int, stop: threading.Event, outcomes: list, lock: threading.Lock) -> None:
    """Requests back to back on keep-alive connections (a new one after each Connection: close),
    until the port refuses connections; every outcome is recorded."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    i = 0
    while not stop.is_set():
        i += 1
        try:
            conn.request("POST", "/double", body=json.dumps({"x": 2 * i}), headers={"Content-Type": "application/json"})
            reply = conn.getresponse()
            body = reply.read()
            outcome = ("ok" if reply.status == 200 and json.loads(body) == {"y": 4 * i} else f"status {reply.status}",
                       reply.getheader("Connection") == "close")
        except ConnectionRefusedError:
            return
        except Exception as exc:  # a reset, a dropped request: what the drain must not do
            outcome = (f"{type(exc).__name__}: {exc}", False)
            conn.close()
        with lock:
            outcomes.append(outcome)


@pytest.mark.parametrize("command", [["serve"], ["serve-gunicorn", "--workers", "2", "--enable-microbatch"]],
                         ids=["dev", "workers"])
def test_sigterm_answers_every_request_sent_on_keepalive_connections(start_server, bundle, command):
    server = start_server(*command, str(bundle), "--port", "0", "--drain-grace", "0.8")
    stop, outcomes, lock = threading.Event(), [], threading.Lock()
    clients = [threading.Thread(target=_keep_sending, args=(server.port, stop, outcomes, lock)) for _ in range(32)]
    for client in clients:
        client.start()
    time.sleep(1.0)
    signalled = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    code = server.proc.wait(30)
    stop.set()
    for client in clients:
        client.join(15)
    assert code == 0, server.log
    errors = [o for o, _ in outcomes if o != "ok"]
    assert not errors, f"{len(errors)} of {len(outcomes)} requests failed: {sorted(set(errors))[:5]}"
    assert sum(last for _, last in outcomes) >= 32, "keep-alive connections were not told Connection: close"
    assert len(outcomes) > 100 and time.monotonic() - signalled < 10
