"""Black-box tests of every route and status code, over real HTTP on 127.0.0.1.

``dev_server`` is ``bentoml serve`` (no micro-batching, no CORS);
``small_server`` is ``bentoml serve-gunicorn --enable-microbatch --max-request-size 4096``;
``mb_server`` is ``bentoml serve-gunicorn --enable-microbatch --workers 2 --enable-cors``.
"""
from __future__ import annotations

import gzip
import http.client
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

SETOSA = [5.1, 3.5, 1.4, 0.2]
VERSICOLOR = [7.0, 3.2, 4.7, 1.4]
VIRGINICA = [6.3, 3.3, 6.0, 2.5]
IRIS_CSV = ("sepal_length,sepal_width,petal_length,petal_width\n"
            "5.1,3.5,1.4,0.2\n7.0,3.2,4.7,1.4\n6.3,3.3,6.0,2.5\n")
DOC_MARKER = "Iris species for the API server tests (docstring marker 7f3a9c)."
API_NAMES = ["predict", "double", "wrong_count", "slow", "budget", "fixed", "whoami", "overlap"]


def error_of(reply) -> str:
    assert reply.headers["content-type"].startswith("application/json"), reply.headers
    body = reply.json()
    assert set(body) == {"error"}, body
    return body["error"]


# -- 200 ---------------------------------------------------------------------------------
def test_predict_json_values(dev_server):
    reply = dev_server.post("/predict", [SETOSA, VERSICOLOR, VIRGINICA])
    assert reply.status == 200, reply
    assert reply.json() == [0, 1, 2]
    assert reply.headers["content-type"].startswith("application/json")


def test_predict_json_records(dev_server):
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    reply = dev_server.post("/predict", [dict(zip(names, VIRGINICA)), dict(zip(names, SETOSA))])
    assert reply.status == 200, reply
    assert reply.json() == [2, 0]


def test_predict_csv(dev_server):
    reply = dev_server.post("/predict", IRIS_CSV, content_type="text/csv")
    assert reply.status == 200, reply
    assert reply.json() == [0, 1, 2]


def test_predict_gzip_body(dev_server):
    reply = dev_server.post("/predict", gzip.compress(json.dumps([VERSICOLOR, SETOSA]).encode()),
                            headers={"Content-Encoding": "gzip"})
    assert reply.status == 200, reply
    assert reply.json() == [1, 0]


def test_predict_gzip_csv(dev_server):
    reply = dev_server.post("/predict", gzip.compress(IRIS_CSV.encode()), content_type="text/csv",
                            headers={"Content-Encoding": "gzip"})
    assert reply.status == 200, reply
    assert reply.json() == [0, 1, 2]


def test_json_api(dev_server):
    reply = dev_server.post("/double", {"x": 21})
    assert reply.status == 200, reply
    assert reply.json() == {"y": 42}


def test_healthz(dev_server):
    reply = dev_server.get("/healthz")
    assert reply.status == 200
    assert "x-request-id" in reply.headers


# -- 413 -----------------------------------------------------------------------------------
def test_gzip_bomb_is_413(dev_server):
    # 64 MiB of zeros is ~64 KiB gzipped: small on the wire, over the 20 MiB default once inflated.
    bomb = gzip.compress(b"0" * (64 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 200 * 1024
    reply = dev_server.post("/predict", bomb, headers={"Content-Encoding": "gzip"})
    assert reply.status == 413, reply
    assert "decompressed" in error_of(reply) and "limit" in error_of(reply)
    assert dev_server.get("/healthz").status == 200


def test_gzip_bomb_over_small_limit(small_server):
    bomb = gzip.compress(b" " * (1024 * 1024))
    assert len(bomb) < 4096
    reply = small_server.post("/double", bomb, headers={"Content-Encoding": "gzip"})
    assert reply.status == 413, reply
    assert "4096" in error_of(reply)


def test_body_over_max_request_size(small_server):
    reply = small_server.post("/double", json.dumps({"x": 1, "pad": "p" * 5000}))
    assert reply.status == 413, reply
    assert "4096" in reply.text
    # under the limit is fine
    assert small_server.post("/double", {"x": 1, "pad": "p" * 1000}).status == 200


def test_oversized_content_length_is_refused_before_the_body_is_sent(small_server):
    """The server answers 413 from the headers alone: it never waits for (or reads) a huge body."""
    conn = http.client.HTTPConnection("127.0.0.1", small_server.port, timeout=10)
    try:
        conn.putrequest("POST", "/double")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(10 ** 9))
        conn.endheaders()
        conn.send(b'{"x": ')  # a few bytes of the promised gigabyte, then nothing
        started = time.monotonic()
        response = conn.getresponse()
        body = response.read()
        assert response.status == 413, body
        assert time.monotonic() - started < 5
    finally:
        conn.close()
    assert small_server.get("/healthz").status == 200


def test_default_limit_over_20_mib(dev_server):
    conn = http.client.HTTPConnection("127.0.0.1", dev_server.port, timeout=10)
    try:
        conn.putrequest("POST", "/predict")
        conn.putheader("Content-Length", str(20 * 1024 * 1024 + 1))
        conn.endheaders()
        response = conn.getresponse()
        response.read()
        assert response.status == 413
    finally:
        conn.close()


# -- 400 / 415 -------------------------------------------------------------------------------
@pytest.mark.parametrize("body,content_type,needle", [
    (b"[[5.1, 3.5", "application/json", "not valid JSON"),
    (b"{not json", "application/json", "not valid JSON"),
    (b"\xff\xfe\x00\x81garbage", "application/json", "utf-8"),
    (b"", "application/json", "empty"),
    (b"[]", "application/json", "empty"),
    (b"5", "application/json", "expected a JSON list or object"),
    (b'[{"sepal_length": 1}, [1, 2, 3, 4]]', "application/json", "either only objects"),
    (b"[[1, 2]]", "application/json", "4 columns are expected"),
    (b'[{"sepal_length": 1, "sepal_width": 2}]', "application/json", "missing columns"),
    (b"a,b\n1,2,3,4\n", "text/csv", "CSV"),
    (b"sepal_length,sepal_width,petal_length,petal_width\n", "text/csv", "no rows"),
], ids=["truncated", "not-json", "undecodable", "empty-body", "empty-list", "scalar",
        "mixed-rows", "wrong-width", "missing-columns", "bad-csv", "csv-no-rows"])
def test_bad_input_is_400_naming_the_problem(dev_server, body, content_type, needle):
    reply = dev_server.post("/predict", body, content_type=content_type)
    assert reply.status == 400, reply
    message = error_of(reply)
    assert needle in message, message
    assert "DataframeInput" in message
    assert "Traceback" not in reply.text and len(message) < 400


def test_bad_json_for_json_input(dev_server):
    reply = dev_server.post("/double", b'{"x": ')
    assert reply.status == 400, reply
    assert "JsonInput" in error_of(reply) and "not valid JSON" in error_of(reply)


def test_unsupported_content_type_is_415(dev_server):
    reply = dev_server.post("/predict", b"\x89PNG\r\n", content_type="image/png")
    assert reply.status == 415, reply
    assert "image/png" in error_of(reply)


def test_unsupported_content_encoding_is_415(dev_server):
    reply = dev_server.post("/predict", b"whatever", headers={"Content-Encoding": "br"})
    assert reply.status == 415, reply
    assert "Content-Encoding" in error_of(reply)


def test_corrupt_gzip_is_400(dev_server):
    reply = dev_server.post("/predict", b"\x1f\x8b\x08\x00garbage", headers={"Content-Encoding": "gzip"})
    assert reply.status == 400, reply
    assert "gzip" in error_of(reply)
    truncated = gzip.compress(json.dumps([SETOSA]).encode())[:-12]
    reply = dev_server.post("/predict", truncated, headers={"Content-Encoding": "gzip"})
    assert reply.status == 400, reply
    assert "gzip" in error_of(reply)


# -- 500 ---------------------------------------------------------------------------------------
def test_user_exception_is_500_without_traceback(dev_server):
    reply = dev_server.post("/double", {"x": 13})
    assert reply.status == 500, reply
    message = error_of(reply)
    assert "unlucky number 13" in message and "ValueError" in message
    assert "Traceback" not in reply.text and 'File "' not in reply.text
    # ... the traceback goes to the server's log
    assert dev_server.wait_log("unlucky number 13"), dev_server.log
    assert dev_server.wait_log("Traceback (most recent call last)"), dev_server.log
    assert dev_server.get("/healthz").status == 200


def test_wrong_number_of_results_is_500_naming_counts(dev_server):
    reply = dev_server.post("/wrong_count", {"a": 1})
    assert reply.status == 500, reply
    message = error_of(reply)
    assert "returned 2 results for 1 inputs" in message, message
    assert "Traceback" not in reply.text


def test_input_the_model_refuses_is_400(dev_server):
    # columns all there and numbers, one missing: the adapter accepts it, scikit-learn's input check refuses it
    reply = dev_server.post("/predict", [[None, 3.5, 1.4, 0.2]])
    assert reply.status == 400, reply
    assert "ServerTestService predict: the input contains NaN" in error_of(reply)
    assert dev_server.post("/predict", [SETOSA]).json() == [0]


# -- 404 / 405 -------------------------------------------------------------------------------
def test_unknown_route_is_404(dev_server):
    for method in ("GET", "POST"):
        reply = dev_server.request(method, "/no_such_api", b"{}" if method == "POST" else None)
        assert reply.status == 404, reply
        assert "/no_such_api" in error_of(reply) and "POST /predict" in error_of(reply)
        assert "x-request-id" in reply.headers


def test_wrong_method_is_405(dev_server):
    reply = dev_server.get("/predict")
    assert reply.status == 405, reply
    assert "GET" in error_of(reply)


# -- X-Request-Id -------------------------------------------------------------------------------
@pytest.mark.parametrize("method,path,body", [
    ("GET", "/healthz", None), ("GET", "/metrics", None), ("GET", "/docs.json", None), ("GET", "/", None),
    ("GET", "/docs/swagger-ui.css", None), ("GET", "/nowhere", None), ("GET", "/predict", None),
    ("POST", "/predict", b"[[5.1, 3.5, 1.4, 0.2]]"), ("POST", "/predict", b"{bad"),
    ("POST", "/predict", b""), ("POST", "/double", b'{"x": 13}'), ("POST", "/feedback", b"{}"),
    ("POST", "/feedback", b'{"request_id": "r1"}'),
])
def test_every_response_has_a_request_id(dev_server, method, path, body):
    reply = dev_server.request(method, path, body, {"Content-Type": "application/json"})
    generated = reply.headers.get("x-request-id", "")
    assert re.fullmatch(r"[0-9a-f]{32}", generated), (reply, reply.headers)
    echoed = dev_server.request(method, path, body, {"Content-Type": "application/json",
                                                     "X-Request-Id": "client-id.42"})
    assert echoed.headers.get("x-request-id") == "client-id.42", echoed.headers
    assert echoed.status == reply.status


def test_request_ids_are_unique(dev_server):
    ids = {dev_server.get("/healthz").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


def test_unsafe_request_id_is_replaced(dev_server):
    reply = dev_server.get("/healthz", headers={"X-Request-Id": "evil\tid <script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", reply.headers["x-request-id"])


def test_413_from_headers_has_request_id(small_server):
    """Even the 413 answered from the headers alone carries X-Request-Id and a JSON error."""
    conn = http.client.HTTPConnection("127.0.0.1", small_server.port, timeout=10)
    try:
        conn.putrequest("POST", "/double")
        conn.putheader("Content-Length", str(10 ** 9))
        conn.putheader("X-Request-Id", "big-one")
        conn.endheaders()
        response = conn.getresponse()
        body = response.read()
        assert response.status == 413
        assert response.getheader("X-Request-Id") in ("big-one",) or re.fullmatch(
            r"[0-9a-f]{32}", response.getheader("X-Request-Id") or ""), response.getheaders()
        assert "error" in json.loads(body)
    finally:
        conn.close()


# -- CORS ----------------------------------------------------------------------------------------
def test_no_cors_headers_by_default(dev_server):
    reply = dev_server.post("/predict", [SETOSA], headers={"Origin": "http://example.com"})
    assert reply.status == 200
    assert not any(h.startswith("access-control-") for h in reply.headers), reply.headers


def test_cors_headers_with_enable_cors(mb_server):
    reply = mb_server.post("/predict", [SETOSA], headers={"Origin": "http://example.com"})
    assert reply.status == 200
    assert reply.headers.get("access-control-allow-origin") == "*"
    preflight = mb_server.request("OPTIONS", "/predict", headers={
        "Origin": "http://example.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type"})
    assert preflight.status in (200, 204), preflight
    assert preflight.headers.get("access-control-allow-origin") == "*"
    assert "POST" in preflight.headers.get("access-control-allow-methods", "")
    assert "content-type" in preflight.headers.get("access-control-allow-headers", "").lower()
    # errors carry them too, or a browser cannot read the message
    bad = mb_server.post("/predict", b"{bad", headers={"Origin": "http://example.com"})
    assert bad.status == 400 and bad.headers.get("access-control-allow-origin") == "*"


# -- docs ------------------------------------------------------------------------------------------
def test_docs_json_is_openapi_with_an_example_per_api(dev_server):
    reply = dev_server.get("/docs.json")
    assert reply.status == 200 and reply.headers["content-type"].startswith("application/json")
    spec = reply.json()
    assert re.fullmatch(r"3\.\d+\.\d+", spec["openapi"])
    assert spec["info"]["title"] == "ServerTestService" and spec["info"]["version"]
    assert DOC_MARKER in spec["info"].get("description", "")
    for name in API_NAMES:
        operation = spec["paths"][f"/{name}"]["post"]
        content = operation["requestBody"]["content"]
        assert content, name
        for media_type, entry in content.items():
            assert "schema" in entry, (name, media_type)
            assert "example" in entry, (name, media_type)
        assert "200" in operation["responses"] and "400" in operation["responses"]
    assert "/healthz" in spec["paths"] and "/metrics" in spec["paths"]
    # every $ref points at something that exists
    text = json.dumps(spec)
    for ref in re.findall(r'"\$ref": "#/([^"]+)"', text):
        node = spec
        for part in ref.split("/"):
            node = node[part]


def test_docs_examples_are_accepted(dev_server):
    spec = dev_server.get("/docs.json").json()
    content = spec["paths"]["/predict"]["post"]["requestBody"]["content"]
    for media_type, entry in content.items():
        example = entry["example"]
        body = example if isinstance(example, str) else json.dumps(example)
        reply = dev_server.post("/predict", body, content_type=media_type)
        assert reply.status == 200, (media_type, reply)


def test_docs_page_offline(dev_server):
    reply = dev_server.get("/")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/html")
    page = reply.text
    assert DOC_MARKER in page
    for name in API_NAMES:
        assert f"/{name}" in page
    # only local assets: nothing fetched from a CDN
    for attr, url in re.findall(r'\b(src|href)\s*=\s*["\']([^"\']+)', page):
        assert not re.match(r"(https?:)?//", url), (attr, url)
    assert not re.search(r"https?://[^\"'\s]*\.(js|css)", page)
    scripts = re.findall(r'<script[^>]*\bsrc\s*=\s*["\']([^"\']+)', page)
    assert scripts, page
    for src in scripts + re.findall(r'<link[^>]*\bhref\s*=\s*["\']([^"\']+)', page):
        asset = dev_server.get("/" + src.lstrip("./"))
        assert asset.status == 200, src
        assert len(asset.body) > 1000, src


def test_swagger_ui_bundle_is_served(dev_server):
    reply = dev_server.get("/docs/swagger-ui-bundle.js")
    assert reply.status == 200
    assert "javascript" in reply.headers["content-type"]
    assert b"SwaggerUIBundle" in reply.body
    assert dev_server.get("/docs/no-such-file.js").status == 404
    assert dev_server.get("/docs/../conftest.py").status == 404


# -- feedback ------------------------------------------------------------------------------------
def test_feedback_is_logged(dev_server):
    prediction = dev_server.post("/predict", [VERSICOLOR])
    request_id = prediction.headers["x-request-id"]
    reply = dev_server.post("/feedback", {"request_id": request_id, "label": "versicolor", "correct": True})
    assert reply.status == 200, reply
    assert dev_server.wait_log(request_id), dev_server.log[-2000:]
    line = next(line for line in dev_server.log.splitlines() if request_id in line and "versicolor" in line)
    assert "feedback" in line


@pytest.mark.parametrize("body", [b'{"label": "x"}', b'{"request_id": 5}', b'{"request_id": ""}',
                                  b"[1]", b"{bad", b""])
def test_feedback_without_request_id_is_400(dev_server, body):
    reply = dev_server.post("/feedback", body)
    assert reply.status == 400, reply
    assert "request_id" in error_of(reply)


# -- metrics (one process) ----------------------------------------------------------------------
def test_metrics_counts_requests_by_status(small_server, prom_sum):
    before = small_server.get("/metrics").text
    for body in ({"x": 1}, {"x": 2}, {"x": 13}, b"{oops"):
        small_server.post("/double", body)
    after = small_server.get("/metrics")
    assert after.status == 200 and after.headers["content-type"].startswith("text/plain")
    text = after.text

    def delta(**labels):
        return prom_sum(text, "bentoml_service_request_total", **labels) - prom_sum(
            before, "bentoml_service_request_total", **labels)

    assert delta(endpoint="/double") == 4
    assert delta(endpoint="/double", http_response_code="200") == 2
    assert delta(endpoint="/double", http_response_code="500") == 1
    assert delta(endpoint="/double", http_response_code="400") == 1
    assert prom_sum(text, "bentoml_service_request_duration_seconds_count", endpoint="/double") >= 4


# -- the server survives all of the above ----------------------------------------------------------
def test_server_still_serves_after_abuse(dev_server):
    garbage = [b"\x00" * 100, b"{" * 10000, b"[" * 5000 + b"]" * 5000, b'"' + b"\\" * 999]
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda b: dev_server.post("/predict", b), garbage * 3))
    assert all(r.status in (400, 415, 500) for r in replies), replies
    assert dev_server.post("/predict", [SETOSA]).json() == [0]
    assert dev_server.proc.poll() is None


def test_malformed_http_is_answered_in_json(dev_server):
    """waitress's own error answers (here a bad request line) look like the app's."""
    import socket

    with socket.create_connection(("127.0.0.1", dev_server.port), timeout=10) as sock:
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), raw
    assert re.search(rb"(?im)^x-request-id: [0-9a-f]{32}\r?$", head), head
    assert "error" in json.loads(body)
    assert dev_server.get("/healthz").status == 200
