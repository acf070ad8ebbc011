"""Uploads killed midway, by killing the client or the server with SIGKILL (the server also while
it commits): nothing is listed, the session's files go (when it expires, or when the server
starts again), and saving again works.

The client saves through a TCP proxy that stops forwarding after the first bytes of
the model file, so the kill lands mid-upload every time (the server has stored the
files before it, and is reading the model's request).
"""
from __future__ import annotations

import socket
import struct
import subprocess
import threading
import time

import pytest

from .conftest import client_env, save, save_command

pytestmark = pytest.mark.slow

PADDING = 2_000_000  # the pickled model is this large: the stall is inside its upload


class StallingProxy:
    """Forwards 127.0.0.1:port to ``target``; stops forwarding towards the server once
    ``stall_after`` bytes went that way (while ``stalling``)."""

    def __init__(self, target: str, stall_after: int):
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self.stall_after = stall_after
        self.sent = 0
        self.stalled = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self._sockets = []
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:  # the server is gone
                _reset(client)
                continue
            self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src, dst, to_server):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if to_server:
                    room = self.stall_after - self.sent
                    if room <= len(data):
                        dst.sendall(data[:max(room, 0)])
                        self.sent += max(room, 0)
                        self.stalled.set()
                        self._closed.wait()  # hold the rest: the request never completes
                        return
                    self.sent += len(data)
                dst.sendall(data)
        except OSError:
            pass
        # The other side went away: so does this one, as abruptly as a killed process's
        # socket (a reset), which also ends a client blocked sending its body.
        for s in (src, dst):
            _reset(s)

    def close(self):
        self._closed.set()
        self.listener.close()
        for s in self._sockets:
            _reset(s)


def _reset(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv on it
    except OSError:
        pass
    sock.close()


def _session_files(home):
    return [p for d in (home / "tmp").glob("upload-*") for p in (d / "bundle").rglob("*") if p.is_file()]


def _start_stalled_save(service_src, client_home, proxy, version):
    proc = subprocess.Popen(save_command(service_src, version=version, padding=PADDING),
                            env=client_env(client_home, proxy.url), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proxy.stalled.wait(60), "the upload never reached the stall"
    return proc


def _wait_for(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def test_a_killed_client_lists_nothing_and_the_retry_succeeds(start_yatai, tmp_path, service_src):
    server = start_yatai(tmp_path / "server", "--upload-timeout", "1", "--no-ui")
    proxy = StallingProxy(server.hostport, stall_after=200_000)
    client = tmp_path / "client"
    try:
        proc = _start_stalled_save(service_src, client, proxy, "killed-1")
        assert _wait_for(lambda: _session_files(server.home)), "files before the model arrived"
        proc.kill()
        proc.wait(30)
    finally:
        proxy.close()
    assert server.get_json("/api/v1/bundles?name=TeamText")["bundles"] == []
    assert _wait_for(lambda: not list((server.home / "tmp").glob("upload-*"))), \
        "the abandoned session expired and its files were removed"
    done = save(service_src, client, server.url, version="killed-1")
    assert [b["version"] for b in server.get_json("/api/v1/bundles?name=TeamText")["bundles"]] == ["killed-1"]
    assert done.saved


def test_a_killed_server_lists_nothing_and_the_retry_succeeds(start_yatai, tmp_path, service_src):
    home = tmp_path / "server"
    server = start_yatai(home, "--no-ui")
    proxy = StallingProxy(server.hostport, stall_after=200_000)
    client = tmp_path / "client"
    try:
        proc = _start_stalled_save(service_src, client, proxy, "crash-1")
        assert _wait_for(lambda: _session_files(home))
        server.kill()
        _, stderr = proc.communicate(timeout=60)
    finally:
        proxy.close()
    assert proc.returncode != 0
    last = stderr.strip().splitlines()[-1]
    assert "cannot reach the YataiService" in last and "connection broke off" in last, stderr
    assert list((home / "tmp").glob("upload-*")), "the killed server's session is still on disk"
    restarted = start_yatai(home, "--no-ui")
    assert not list((home / "tmp").glob("upload-*")), "the new server removed it when it started"
    assert restarted.get_json("/api/v1/bundles")["bundles"] == []
    save(service_src, client, restarted.url, version="crash-1")
    assert [b["version"] for b in restarted.get_json("/api/v1/bundles")["bundles"]] == ["crash-1"]


def test_a_server_killed_while_it_commits_lists_nothing_and_the_retry_succeeds(start_yatai, tmp_path, service_src):
    """Killed while it registers the verified bundle (its row pending, its files being stored)."""
    import sqlite3

    home = tmp_path / "server"
    server = start_yatai(home, "--no-ui")
    client = tmp_path / "client"
    proc = subprocess.Popen(save_command(service_src, version="commit-1", padding=120_000_000),
                            env=client_env(client, server.url), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)

    def pending() -> bool:
        try:
            with sqlite3.connect(f"file:{home / 'storage.db'}?mode=ro", uri=True, timeout=0.1) as db:
                return bool(db.execute("SELECT 1 FROM bentoml_bundles WHERE status='pending'").fetchall())
        except sqlite3.Error:
            return False

    assert _wait_for(pending, timeout=60), "the commit never started"
    server.kill()
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "cannot reach the YataiService" in stderr.strip().splitlines()[-1], stderr
    restarted = start_yatai(home, "--no-ui")
    assert restarted.get_json("/api/v1/bundles")["bundles"] == []
    assert not pending(), "the new server removed the killed commit's row"
    assert not (home / "repository" / "TeamText" / "commit-1").exists()
    save(service_src, client, restarted.url, version="commit-1")
    assert [b["version"] for b in restarted.get_json("/api/v1/bundles")["bundles"]] == ["commit-1"]
