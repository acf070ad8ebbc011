"""What operators see, over real HTTP and real signals: ``/metrics`` under BentoML 1.x's
names, counting every answered request (500s of every kind and 404s included) and the
requests in progress summed over the workers.

The service here has no artifact (so no model lock: held requests run at once), an
API that raises for one input, one whose input adapter itself fails (an internal
500, answered by the app's last-resort fallback) and one that holds its request
until the test lets it go.
"""
from __future__ import annotations

import json
import pathlib
import re
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bentoml.testing.server import metric_sum, save_service_source

SOURCE = textwrap.dedent('''\
    """A service for the observability tests."""
    import os
    import time

    import bentoml
    from bentoml.adapters import JsonInput

    if os.environ.get("OBSERVABILITY_SLOW_ACCESS_LOG"):  # a slow log sink: the lines queue up
        import logging

        class SlowSink(logging.Handler):
            def emit(self, record):
                time.sleep(float(os.environ["OBSERVABILITY_SLOW_ACCESS_LOG"]))

        logging.getLogger("bentoml.access").addHandler(SlowSink())


    class BrokenInput(JsonInput):
        """An input adapter with a bug: it raises where it should answer a task."""

        def from_http_request(self, request):
            raise RuntimeError("adapter bug")


    class ObservabilityService(bentoml.BentoService):
        """Echo, raise, break and hold."""

        @bentoml.api(input=JsonInput())
        def echo(self, docs):
            """Answers each input; raises for {"raise": true}."""
            if any(doc.get("raise") for doc in docs):
                raise ValueError("asked to raise")
            return docs

        @bentoml.api(input=BrokenInput())
        def broken(self, docs):
            """Never reached: its input adapter raises."""
            return docs

        @bentoml.api(input=JsonInput())
        def hold(self, docs):
            """Waits until the file {"release": path} exists (at most 30 s); answers the pid."""
            deadline = time.monotonic() + 30
            while not os.path.exists(docs[0]["release"]) and time.monotonic() < deadline:
                time.sleep(0.02)
            return [{"pid": os.getpid()} for _ in docs]
    ''')


@pytest.fixture(scope="module")
def obs_bundle(tmp_path_factory) -> pathlib.Path:
    target = tmp_path_factory.mktemp("observability") / "ObservabilityService"
    return save_service_source(SOURCE, "observability_service", "ObservabilityService", target)


@pytest.fixture(scope="module")
def prod_server(start_server, obs_bundle):
    """``serve-gunicorn --workers 2``: the production server, its defaults otherwise."""
    server = start_server("serve-gunicorn", str(obs_bundle), "--port", "0", "--workers", "2")
    assert "2 workers" in server.serving_line
    return server


def samples(text: str, name: str):
    """(labels, value) of each sample of metric ``name`` in a Prometheus text."""
    found = []
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)", line)
        if match and match.group(1) == name:
            found.append((dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(3) or "")),
                          float(match.group(4))))
    return found


# -- /metrics ----------------------------------------------------------------------------------
def test_every_answered_request_is_counted(prod_server):
    """N requests of every outcome over 2 workers: N counted, each under its status."""
    plan = ([("POST", "/echo", b'{"x": 1}', 200)] * 20
            + [("POST", "/echo", b'{"raise": true}', 500)] * 10   # the API raises
            + [("POST", "/broken", b'{"x": 1}', 500)] * 10        # internal: the adapter raises
            + [("POST", "/echo", b"{bad", 400)] * 10
            + [("GET", "/nowhere", None, 404)] * 6 + [("POST", "/nowhere/either", b"{}", 404)] * 4
            + [("GET", "/echo", None, 405)] * 5
            + [("GET", "/docs.json", None, 200)] * 3 + [("GET", "/healthz", None, 200)] * 2)
    before = prod_server.get("/metrics").text

    def send(item):
        method, path, body, _status = item
        return prod_server.request(method, path, body, {"Content-Type": "application/json"})

    with ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(send, plan))
    assert [r.status for r in replies] == [status for *_, status in plan], replies
    after = prod_server.get("/metrics").text

    def delta(name: str, **labels) -> float:
        return metric_sum(after, name, **labels) - metric_sum(before, name, **labels)

    sent = len(plan)
    assert delta("bentoml_service_request_total") == sent
    assert delta("bentoml_service_request_duration_seconds_count") == sent
    expected = {"200": 25, "500": 20, "400": 10, "404": 10, "405": 5}
    assert {code: delta("bentoml_service_request_total", http_response_code=code) for code in expected} \
        == expected
    assert delta("bentoml_service_request_total", endpoint="/broken", http_response_code="500") == 10
    assert delta("bentoml_service_request_total", endpoint="/echo", http_response_code="500") == 10
    assert delta("bentoml_service_request_total", endpoint="/echo", http_response_code="405") == 5
    # an unknown path is one series, not one per path
    assert delta("bentoml_service_request_total", endpoint="(unmatched)", http_response_code="404") == 10
    assert delta("bentoml_service_request_total", endpoint="/docs.json") == 3
    assert "adapter bug" in prod_server.log  # the internal error is logged, with its traceback
    assert prod_server.proc.poll() is None


def test_metric_names_and_labels_are_bentoml_1x(prod_server):
    assert prod_server.post("/echo", {"x": 1}).status == 200
    text = prod_server.get("/metrics").text
    version = prod_server.match.group(2)
    assert "# TYPE bentoml_service_request_total counter" in text, text
    assert "# TYPE bentoml_service_request_duration_seconds histogram" in text
    assert "# TYPE bentoml_service_request_in_progress gauge" in text
    for name in ("bentoml_service_request_total", "bentoml_service_request_duration_seconds_count"):
        found = [labels for labels, _ in samples(text, name) if labels.get("endpoint") == "/echo"]
        assert found, (name, text)
        for labels in found:
            assert set(labels) == {"endpoint", "service_name", "service_version", "http_response_code"}, labels
            assert labels["service_name"] == "ObservabilityService" and labels["service_version"] == version
    gauge = [labels for labels, _ in samples(text, "bentoml_service_request_in_progress")]
    assert gauge and all(set(labels) == {"endpoint", "service_name", "service_version"} for labels in gauge)
    # the old names are gone
    assert "bentoml_requests_total" not in text and "bentoml_batch_size" not in text
    # scrapes are not traffic (as in BentoML 1.x)
    assert not [labels for labels, _ in samples(text, "bentoml_service_request_total")
                if labels["endpoint"] == "/metrics"]


def test_requests_in_progress_sum_over_workers(prod_server, tmp_path):
    """Requests held in both workers: every /metrics reading (by either worker) shows them all,
    in one sample (``livesum``), and the gauge falls back to 0 once they are answered."""
    held = 6
    for attempt in range(4):  # until the held requests landed in both workers
        release = tmp_path / f"release-{attempt}"
        with ThreadPoolExecutor(held) as pool:
            replies = [pool.submit(prod_server.post, "/hold", {"release": str(release)}) for _ in range(held)]
            try:
                readings = []
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    found = [(labels, value) for labels, value in
                             samples(prod_server.get("/metrics").text, "bentoml_service_request_in_progress")
                             if labels.get("endpoint") == "/hold"]
                    readings.append(found)
                    if len(found) == 1 and found[0][1] == held:
                        break
                    time.sleep(0.1)
                last = readings[-1]
                assert len(last) == 1 and last[0][1] == held, readings[-3:]
                assert set(last[0][0]) == {"endpoint", "service_name", "service_version"}
                for _ in range(6):  # either worker answers /metrics: each sums both
                    text = prod_server.get("/metrics").text
                    assert metric_sum(text, "bentoml_service_request_in_progress", endpoint="/hold") == held
            finally:
                release.touch()
            pids = {future.result(30).json()["pid"] for future in replies}
        if len(pids) == 2:
            break
    assert len(pids) == 2, f"all held requests went to one worker, {attempt + 1} times"
    deadline = time.monotonic() + 5
    while metric_sum(prod_server.get("/metrics").text, "bentoml_service_request_in_progress",
                     endpoint="/hold") != 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert metric_sum(prod_server.get("/metrics").text, "bentoml_service_request_in_progress",
                      endpoint="/hold") == 0


# -- probes ----------------------------------------------------------------------------------------
def test_livez_and_readyz_answer(prod_server):
    for path in ("/livez", "/readyz", "/healthz"):
        for _ in range(4):  # either worker
            reply = prod_server.get(path)
            assert reply.status == 200, (path, reply)
            assert reply.headers["x-request-id"]
    paths = prod_server.get("/docs.json").json()["paths"]
    for path in ("/livez", "/readyz"):
        assert paths[path]["get"]["tags"] == ["infra"], paths[path]
    assert "503" in paths["/readyz"]["get"]["responses"]


def test_readyz_follows_the_readiness_of_the_app():
    """503 with a JSON error while starting or draining, 200 when ready; /livez is 200 throughout."""
    from werkzeug.test import Client

    import bentoml
    from bentoml.adapters import JsonInput
    from bentoml.server.app import create_app
    from bentoml.server.config import ServerConfig
    from bentoml.server.readiness import Readiness

    class ProbeService(bentoml.BentoService):
        @bentoml.api(input=JsonInput())
        def predict(self, docs):
            return docs

    app = create_app(ProbeService(), ServerConfig())
    client = Client(app)
    assert client.get("/readyz").status_code == 200  # create_app builds it once the models are loaded
    app.readiness.start_draining()
    reply = client.get("/readyz")
    assert reply.status_code == 503 and json.loads(reply.data) == {"error": "not ready: draining"}
    assert reply.headers["X-Request-Id"]
    assert client.get("/livez").status_code == 200
    app.readiness.__init__()  # a fresh state: starting
    assert isinstance(app.readiness, Readiness) and app.readiness.state == "starting"
    assert json.loads(client.get("/readyz").data) == {"error": "not ready: starting"}


def test_readyz_is_503_while_draining(start_server, obs_bundle, tmp_path):
    """SIGTERM while a request is held: /readyz answers 503 before new connections are refused."""
    import signal

    server = start_server("serve-gunicorn", str(obs_bundle), "--port", "0", "--workers", "1")
    assert server.get("/readyz").status == 200
    release = tmp_path / "release"
    seen: list = []
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(server.post, "/hold", {"release": str(release)})
        try:
            deadline = time.monotonic() + 10
            while metric_sum(server.get("/metrics").text, "bentoml_service_request_in_progress",
                             endpoint="/hold") < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            server.proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                try:
                    reply = server.get("/readyz")
                except OSError as exc:
                    seen.append(type(exc).__name__)
                    break
                seen.append(reply.status)
                if reply.status == 503:
                    assert reply.json() == {"error": "not ready: draining"}
                    break
                time.sleep(0.05)
        finally:
            release.touch()
        assert held.result(30).status == 200
    assert server.proc.wait(30) == 0
    assert 503 in seen, seen


# -- the access log --------------------------------------------------------------------------------
def access_line(server, request_id: str, timeout: float = 10) -> str:
    """The access log line of the request ``request_id`` (waits for it)."""
    needle = f" id={request_id}"
    server.wait_log(needle, timeout)
    lines = [line for line in server.log.splitlines()
             if "bentoml.access" in line and re.search(re.escape(needle) + r"( |$)", line)]
    assert len(lines) == 1, (request_id, lines, server.log[-3000:])
    return lines[0]


ACCESS = re.compile(r"\] INFO bentoml\.access: 127\.0\.0\.1 (?P<method>\S+) (?P<path>\S+) (?P<status>\d{3}) "
                    r"(?P<ms>\d+\.\d)ms id=(?P<id>\S+)(?: error=(?P<error>\".*\"))?$")


@pytest.mark.parametrize("method,path,body,status,error", [
    ("POST", "/echo", b'{"x": 1}', 200, None),
    ("POST", "/echo", b"{bad", 400, "JsonInput"),
    ("POST", "/echo", b'{"raise": true}', 500, "asked to raise"),
    ("POST", "/broken", b'{"x": 1}', 500, "internal error: RuntimeError"),
    ("GET", "/nowhere", None, 404, None),
    ("GET", "/echo", None, 405, None),
    ("GET", "/docs.json", None, 200, None),
    ("GET", "/", None, 200, None),
    ("GET", "/docs/swagger-ui.css", None, 200, None),
    ("POST", "/feedback", b"{}", 400, "request_id"),
], ids=["200", "400", "500-api", "500-internal", "404", "405", "docs.json", "docs-page", "docs-file", "feedback-400"])
def test_access_log_line_per_request(prod_server, method, path, body, status, error):
    request_id = f"access-{method}-{status}-{path.strip('/').replace('/', '.') or 'index'}"
    reply = prod_server.request(method, path, body, {"Content-Type": "application/json", "X-Request-Id": request_id})
    assert reply.status == status, reply
    line = access_line(prod_server, request_id)
    match = ACCESS.search(line)
    assert match, line
    assert (match["method"], match["path"], int(match["status"]), match["id"]) == (method, path, status, request_id)
    if error:
        assert error in json.loads(match["error"]), line
    else:
        assert match["error"] is None, line


def test_probes_and_metrics_are_not_logged(prod_server):
    """On one keep-alive connection (one worker, whose log is written in order): the probes
    and /metrics leave no line, the request after them does."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", prod_server.port, timeout=10)
    try:
        for path in ("/livez", "/readyz", "/healthz", "/metrics"):
            conn.request("GET", path, headers={"X-Request-Id": f"probe{path.replace('/', '-')}"})
            response = conn.getresponse()
            response.read()
            assert response.status == 200, path
        conn.request("POST", "/echo", body=b'{"x": 1}', headers={"Content-Type": "application/json",
                                                                "X-Request-Id": "after-probes"})
        response = conn.getresponse()
        response.read()
        assert response.status == 200
    finally:
        conn.close()
    access_line(prod_server, "after-probes")
    assert "probe-" not in prod_server.log


@pytest.mark.parametrize("command,args,env,logged", [
    ("serve", [], {}, False),  # the development server: off unless asked
    ("serve", ["--access-log"], {}, True),
    ("serve", [], {"BENTOML_ACCESS_LOG": "true"}, True),
    ("serve", ["--production"], {}, True),
    ("serve-gunicorn", ["--no-access-log"], {}, False),
    ("serve-gunicorn", [], {"BENTOML_ACCESS_LOG": "false"}, False),
], ids=["dev-default", "dev-access-log", "dev-env", "dev-production", "no-access-log", "env-off"])
def test_access_log_default_and_switches(start_server, obs_bundle, command, args, env, logged):
    server = start_server(command, str(obs_bundle), "--port", "0", *args, env=env)
    assert server.post("/echo", {"x": 1}, headers={"X-Request-Id": "switch-marker"}).status == 200
    assert server.get("/nowhere", headers={"X-Request-Id": "switch-marker-404"}).status == 404
    if logged:
        access_line(server, "switch-marker")
        access_line(server, "switch-marker-404")
    else:
        time.sleep(0.5)  # a line would be written within milliseconds
        assert "bentoml.access" not in server.log, server.log
    assert server.terminate() == 0


@pytest.mark.parametrize("command,args", [("serve-gunicorn", ["--workers", "2"]), ("serve", ["--access-log"])])
def test_graceful_stop_writes_the_queued_lines(start_server, obs_bundle, tmp_path, command, args):
    """SIGTERM while a request is held, behind a slow log sink (0.2 s a line, so the lines of
    the requests just before are still queued): the held request is answered, and every
    line, its own the last, is in the log once the server has exited."""
    import signal

    server = start_server(command, str(obs_bundle), "--port", "0", *args,
                          env={"OBSERVABILITY_SLOW_ACCESS_LOG": "0.2"})
    release = tmp_path / "release"
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(server.post, "/hold", {"release": str(release)}, headers={"X-Request-Id": "held"})
        deadline = time.monotonic() + 10
        while metric_sum(server.get("/metrics").text, "bentoml_service_request_in_progress",
                         endpoint="/hold") < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        for i in range(8):
            assert server.post("/echo", {"x": i}, headers={"X-Request-Id": f"queued-{i}"}).status == 200
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        release.touch()
        assert held.result(30).status == 200
    assert server.terminate() == 0, server.log
    for request_id in [f"queued-{i}" for i in range(8)] + ["held"]:
        assert ACCESS.search(access_line(server, request_id, timeout=0))


def test_answers_of_the_http_server_are_counted_and_logged(prod_server):
    """A malformed request is answered by waitress, not the app: still counted and logged."""
    import socket

    before = prod_server.get("/metrics").text
    with socket.create_connection(("127.0.0.1", prod_server.port), timeout=10) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\nX-Request-Id: malformed-1\r\n\r\n")
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    assert raw.startswith(b"HTTP/1.1 400"), raw
    after = prod_server.get("/metrics").text
    assert (metric_sum(after, "bentoml_service_request_total", endpoint="/echo", http_response_code="400")
            - metric_sum(before, "bentoml_service_request_total", endpoint="/echo", http_response_code="400")) == 1
    assert ACCESS.search(access_line(prod_server, "malformed-1"))
