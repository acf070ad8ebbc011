"""Fixtures of the API server tests: one test service, saved once, served over real HTTP.

The service (``SERVICE_SOURCE``) has a real scikit-learn iris model and APIs that
misbehave on purpose.  Servers are real subprocesses (``python -m bentoml serve
...``) on 127.0.0.1 with ``--port 0``; the port is read from the server's
``Serving NAME:VERSION on http://HOST:PORT`` line on stderr.  Servers that many
tests share are module or session scoped; every server is terminated when its
fixture ends.
"""
from __future__ import annotations

import gzip
import http.client
import importlib
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from typing import Dict, List, Mapping, Optional, Sequence

import pytest

MODULE = "server_test_service"
DOC_MARKER = "Iris species for the API server tests (docstring marker 7f3a9c)."

SERVICE_SOURCE = textwrap.dedent('''\
    """A service for the API server tests."""
    import os
    import threading
    import time

    import bentoml
    from bentoml.adapters import DataframeInput, JsonInput
    from bentoml.artifact import SklearnModelArtifact

    IRIS_COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    _guard = threading.Lock()
    _active = 0
    _max_active = 0


    @bentoml.env(pip_dependencies=["scikit-learn", "pandas"])
    @bentoml.artifacts([SklearnModelArtifact("model")])
    class ServerTestService(bentoml.BentoService):
        """DOC_MARKER"""

        @bentoml.api(input=DataframeInput(columns=IRIS_COLUMNS))
        def predict(self, df):
            """Iris species from sepal and petal measurements."""
            return self.artifacts.model.predict(df)

        @bentoml.api(input=JsonInput())
        def double(self, docs):
            """{"x": n} -> {"y": 2n}; raises for x == 13."""
            out = []
            for doc in docs:
                if doc.get("x") == 13:
                    raise ValueError("unlucky number 13")
                out.append({"y": doc["x"] * 2})
            return out

        @bentoml.api(input=JsonInput())
        def wrong_count(self, docs):
            """Returns one result too many."""
            return list(docs) + ["surplus"]

        @bentoml.api(input=JsonInput(), mb_max_batch_size=1)
        def slow(self, docs):
            """Sleeps {"sleep": seconds}."""
            seconds = max(float(doc.get("sleep", 0.5)) for doc in docs)
            time.sleep(seconds)
            return [{"slept": seconds} for _ in docs]

        @bentoml.api(input=JsonInput(), mb_max_batch_size=1, mb_max_latency=150)
        def budget(self, docs):
            """A slow API with a latency budget of 150 ms."""
            seconds = max(float(doc.get("sleep", 0.0)) for doc in docs)
            time.sleep(seconds)
            return [{"slept": seconds} for _ in docs]

        @bentoml.api(input=JsonInput(), mb_fixed_batch_size=4)
        def fixed(self, docs):
            """Answers each input with the size of the batch it was part of."""
            time.sleep(0.02)
            return [{"x": doc.get("x"), "batch": len(docs)} for doc in docs]

        @bentoml.api(input=JsonInput())
        def whoami(self, docs):
            """Answers with the worker process id."""
            return [{"pid": os.getpid()} for _ in docs]

        @bentoml.api(input=JsonInput())
        def overlap(self, docs):
            """Counts calls running at once; answers the most seen so far."""
            global _active, _max_active
            with _guard:
                _active += 1
                _max_active = max(_max_active, _active)
            try:
                time.sleep(0.05)
            finally:
                with _guard:
                    _active -= 1
            return [{"max_active": _max_active} for _ in docs]
    ''').replace("DOC_MARKER", DOC_MARKER)

SETOSA = [5.1, 3.5, 1.4, 0.2]
VERSICOLOR = [7.0, 3.2, 4.7, 1.4]
VIRGINICA = [6.3, 3.3, 6.0, 2.5]
IRIS_COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]

_SERVING = re.compile(r"Serving (\S+):(\S+) on http://([^\s:]+|\[[^\]]+\]):(\d+) \((.*?)\)")


# -- the bundle -------------------------------------------------------------------------
@pytest.fixture(scope="session")
def service_src(tmp_path_factory) -> pathlib.Path:
    src = tmp_path_factory.mktemp("server_service_src")
    (src / f"{MODULE}.py").write_text(SERVICE_SOURCE)
    return src


@pytest.fixture(scope="session")
def iris_model():
    import pandas as pd
    from sklearn import datasets, svm

    iris = datasets.load_iris()
    return svm.SVC(gamma="scale").fit(pd.DataFrame(iris.data, columns=IRIS_COLUMNS), iris.target)


@pytest.fixture(scope="session")
def bundle(service_src, iris_model, tmp_path_factory) -> pathlib.Path:
    """The test service, packed and saved with ``save_to_dir`` once per session."""
    sys.modules.pop(MODULE, None)
    sys.path.insert(0, str(service_src))
    importlib.invalidate_caches()
    try:
        module = importlib.import_module(MODULE)
        path = tmp_path_factory.mktemp("server_bundles") / "ServerTestService"
        module.ServerTestService().pack("model", iris_model).save_to_dir(str(path))
    finally:
        sys.path.remove(str(service_src))
        sys.modules.pop(MODULE, None)
    return path


# -- servers -------------------------------------------------------------------------------
class Server:
    """A server subprocess; its combined stdout/stderr is collected in ``log``."""

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
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
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
    def __init__(self, status: int, headers: Dict[str, str], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.body[:300]!r})"


@pytest.fixture(scope="session")
def start_server():
    """``start_server(args..., env=None)``: a started Server; all are stopped at session end."""
    started: List[Server] = []

    def start(*args: str, env: Optional[Mapping[str, str]] = None, **kwargs) -> Server:
        server = Server(args, env=env, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def dev_server(start_server, bundle) -> Server:
    """``bentoml serve BUNDLE``: development server, no micro-batching, no CORS."""
    return start_server("serve", str(bundle), "--port", "0")


@pytest.fixture(scope="session")
def mb_server(start_server, bundle) -> Server:
    """Production server: micro-batching, 2 workers, CORS on."""
    return start_server("serve-gunicorn", str(bundle), "--port", "0", "--enable-microbatch",
                        "--workers", "2", "--enable-cors")


@pytest.fixture(scope="session")
def small_server(start_server, bundle) -> Server:
    """Production server, one worker, micro-batching, a 4 KiB request size limit."""
    return start_server("serve-gunicorn", str(bundle), "--port", "0", "--enable-microbatch",
                        "--max-request-size", "4096")


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


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data)


@pytest.fixture(scope="session")
def prom_sum():
    """``prom_sum(text, name, **labels)``: see :func:`metric_sum`."""
    return metric_sum
