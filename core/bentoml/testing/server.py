"""Real API servers for tests: a subprocess on 127.0.0.1 and a small HTTP client.

``Server(["serve-gunicorn", bundle, "--port", "0", "--workers", "2"])`` runs
``python -m bentoml ...`` and waits for its ``Serving NAME:VERSION on
http://HOST:PORT`` line; ``server.post("/predict", [[1, 2]])`` answers a
:class:`Reply`.  The ``start_server`` fixture (``bentoml.testing.pytest_plugin``)
stops every server it started at the end of the session.
:func:`save_service_source` saves a service written as source text, the way
a user's module is saved, so a test can serve it; :func:`metric_sum` reads a
counter from the server's ``/metrics`` text; :func:`child_pids` finds a
server's workers (or the processes it started).
"""
from __future__ import annotations

import http.client
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence

from bentoml.testing.services import service_module

_SERVING = re.compile(r"Serving (\S+):(\S+) on http://([^\s:]+|\[[^\]]+\]):(\d+) \((.*?)\)")


def save_service_source(source: str, module: str, class_name: str, target: os.PathLike,
                        artifacts: Optional[Mapping[str, Any]] = None,
                        input_examples: Optional[Mapping[str, Any]] = None) -> pathlib.Path:
    """Write ``source`` as ``<module>.py``, pack ``artifacts`` into ``class_name`` and save
    the bundle to ``target`` (an empty or missing directory); returns ``target``.

    ``input_examples`` gives artifacts (by name) their ``pack(..., input_example=...)``.

    The module is imported from a scratch directory next to ``target`` and
    removed from ``sys.modules`` afterwards, so a test can save several versions.
    """
    target = pathlib.Path(target)
    with service_module(source, module, target.parent / f"{target.name}-src") as loaded:
        service = getattr(loaded, class_name)()
        for name, model in (artifacts or {}).items():
            service.pack(name, model, input_example=(input_examples or {}).get(name))
        service.save_to_dir(str(target))
    return target


class Server:
    """A ``python -m bentoml`` server subprocess; its combined stdout/stderr is collected in ``log``."""

    def __init__(self, args: Sequence[str], env: Optional[Mapping[str, str]] = None,
                 cwd: Optional[str] = None, command: Optional[Sequence[str]] = None,
                 startup_timeout: float = 90):
        full_env = dict(os.environ)
        full_env["PYTHONUNBUFFERED"] = "1"
        for var in [v for v in full_env if v.startswith("BENTOML_") and v != "BENTOML_HOME"]:
            del full_env[var]
        full_env.update(env or {})
        self.command = list(command) if command else [sys.executable, "-m", "bentoml", *args]
        self.proc = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=full_env, cwd=cwd)
        self._lines: List[str] = []
        self._serving = threading.Event()
        self.match: Optional[re.Match] = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + startup_timeout
        while not self._serving.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self._reader.join(2)
                self.stop()
                raise AssertionError(f"server did not start: {self.command}\n{self.log}")
        self.port = int(self.match.group(4))
        self.host = "127.0.0.1"

    def _read(self) -> None:
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            self._lines.append(line)
            if self.match is None:
                match = _SERVING.search(line)
                if match:
                    self.match = match
                    self._serving.set()

    @property
    def log(self) -> str:
        return "".join(self._lines)

    @property
    def serving_line(self) -> str:
        return self.match.group(0) if self.match else ""

    def wait_log(self, needle: str, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log:
                return True
            time.sleep(0.05)
        return needle in self.log

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM and wait; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code

    def stop(self) -> None:
        """Stop the server as Ctrl+C does (SIGINT: a drain without SIGTERM's grace period)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc.stdout is not None:
            self._reader.join(5)
            self.proc.stdout.close()

    # -- HTTP ------------------------------------------------------------------------------
    def request(self, method: str, path: str, body: Optional[bytes] = None,
                headers: Optional[Dict[str, str]] = None, timeout: float = 60) -> "Reply":
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        finally:
            conn.close()

    def post(self, path: str, body, content_type: str = "application/json",
             headers: Optional[Dict[str, str]] = None, timeout: float = 60) -> "Reply":
        if not isinstance(body, (bytes, bytearray)):
            body = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        all_headers = {"Content-Type": content_type} if content_type else {}
        all_headers.update(headers or {})
        return self.request("POST", path, bytes(body), all_headers, timeout)

    def get(self, path: str, headers: Optional[Dict[str, str]] = None) -> "Reply":
        return self.request("GET", path, None, headers)


class Reply:
    """A response: ``status``, lower-cased ``headers``, ``body``; ``json()`` and ``text``."""

    def __init__(self, status: int, headers: Dict[str, str], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.body[:300]!r})"


def metric_sum(text: str, name: str, **labels: str) -> float:
    """The sum of a Prometheus metric's samples whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(match.group(4))
    return total


def child_pids(pid: int) -> List[int]:
    """The pids of the live processes whose parent is ``pid`` (read from ``/proc``), sorted."""
    found = []
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)
