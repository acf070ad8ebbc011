"""Concurrency over real HTTP: micro-batching with 2 workers, metrics across workers,
the latency budget, fixed batch sizes, and one-call-at-a-time without micro-batching."""
from __future__ import annotations

import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

IRIS_COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


@pytest.fixture(scope="module")
def iris_rows(iris_model):
    """(rows, expected labels) for all of iris, as the model predicts them."""
    import pandas as pd
    from sklearn import datasets

    rows = datasets.load_iris().data.tolist()
    expected = iris_model.predict(pd.DataFrame(rows, columns=IRIS_COLUMNS)).tolist()
    return rows, expected


def make_mixed_requests(iris_rows, n=200, seed=1234):
    """n requests, a third of them bad (400) or raising in user code (500), with expectations."""
    rows, labels = iris_rows
    rng = random.Random(seed)
    requests = []
    for i in range(n):
        kind = i % 6
        if kind in (0, 1):  # good DataframeInput: 1-3 rows
            picks = [rng.randrange(len(rows)) for _ in range(rng.randint(1, 3))]
            requests.append(("/predict", json.dumps([rows[p] for p in picks]), 200, [labels[p] for p in picks]))
        elif kind in (2, 3):  # good JsonInput
            x = rng.randint(-1000, 1000)
            x = x if x != 13 else 14
            requests.append(("/double", json.dumps({"x": x}), 200, {"y": 2 * x}))
        elif kind == 4:  # bad input: the adapter refuses it (400)
            bad = rng.choice(['{"x": ', "[[5.1, 3.5", "[[1, 2]]", '"no"', "[]"])
            path = "/double" if bad == '{"x": ' else "/predict"
            requests.append((path, bad, 400, None))
        else:  # user code raises for this one input (500)
            requests.append(("/double", json.dumps({"x": 13}), 500, "unlucky number 13"))
    rng.shuffle(requests)
    return requests


def check(reply, expected_status, expected):
    assert reply.status == expected_status, reply
    if expected_status == 200:
        assert reply.json() == expected, reply
    else:
        error = reply.json()["error"]
        if expected:
            assert expected in error, error
    assert reply.headers.get("x-request-id")


def test_mixed_good_and_bad_requests_under_microbatching(mb_server, iris_rows, prom_sum):
    assert "2 workers, micro-batching" in mb_server.serving_line
    before = mb_server.get("/metrics").text
    requests = make_mixed_requests(iris_rows)

    def send(item):
        path, body, _status, _expected = item
        return mb_server.post(path, body)

    with ThreadPoolExecutor(32) as pool:
        replies = list(pool.map(send, requests))
    failures = []
    for (path, body, status, expected), reply in zip(requests, replies):
        try:
            check(reply, status, expected)
        except AssertionError as exc:
            failures.append(f"{path} {body}: {exc}")
    assert not failures, "\n".join(failures[:10])
    assert mb_server.get("/healthz").status == 200
    assert mb_server.proc.poll() is None
    assert "exited unexpectedly" not in mb_server.log

    # batching really happened: some API got batches of more than one request
    after = mb_server.get("/metrics").text
    batched = {}
    for endpoint in ("predict", "double"):
        count = (prom_sum(after, "bentoml_service_adaptive_batch_size_count", method_name=endpoint)
                 - prom_sum(before, "bentoml_service_adaptive_batch_size_count", method_name=endpoint))
        total = (prom_sum(after, "bentoml_service_adaptive_batch_size_sum", method_name=endpoint)
                 - prom_sum(before, "bentoml_service_adaptive_batch_size_sum", method_name=endpoint))
        batched[endpoint] = (count, total)
    assert all(count > 0 for count, _ in batched.values()), batched
    assert any(total > count for count, total in batched.values()), batched


def test_a_bad_request_in_a_batch_fails_alone(mb_server):
    """Requests for the same API arriving together: the raising one fails, its neighbours don't."""
    values = list(range(20, 52)) + [13] * 4
    random.Random(7).shuffle(values)
    barrier = threading.Barrier(len(values))

    def send(x):
        barrier.wait(10)
        return mb_server.post("/double", {"x": x})

    with ThreadPoolExecutor(len(values)) as pool:
        replies = list(pool.map(send, values))
    for x, reply in zip(values, replies):
        if x == 13:
            assert reply.status == 500 and "unlucky number 13" in reply.json()["error"], reply
        else:
            assert reply.status == 200 and reply.json() == {"y": 2 * x}, (x, reply)


def test_metrics_sum_across_workers(mb_server, prom_sum):
    """N requests spread over 2 worker processes: /metrics (served by either) counts N."""
    pids = set()
    sent = 0
    for _round in range(5):
        with ThreadPoolExecutor(16) as pool:
            replies = list(pool.map(lambda i: mb_server.post("/whoami", {"i": i}), range(40)))
        assert all(r.status == 200 for r in replies), replies
        sent += len(replies)
        pids |= {r.json()["pid"] for r in replies}
        if len(pids) >= 2:
            break
    assert len(pids) == 2, f"all requests went to one worker: {pids}"
    readings = set()
    for _ in range(6):  # each read may be answered by either worker; all must agree
        text = mb_server.get("/metrics").text
        readings.add(prom_sum(text, "bentoml_service_request_total", endpoint="/whoami"))
    assert readings == {sent}, readings
    text = mb_server.get("/metrics").text
    assert prom_sum(text, "bentoml_service_request_total", endpoint="/whoami", http_response_code="200") == sent
    assert prom_sum(text, "bentoml_service_request_duration_seconds_count", endpoint="/whoami") == sent


def test_fixed_batch_size_pads_every_batch(mb_server):
    values = list(range(12))
    with ThreadPoolExecutor(12) as pool:
        replies = list(pool.map(lambda x: mb_server.post("/fixed", {"x": x}), values))
    for x, reply in zip(values, replies):
        assert reply.status == 200, reply
        assert reply.json() == {"x": x, "batch": 4}, reply


def test_request_over_its_latency_budget_gets_503(small_server):
    """/budget has mb_max_latency=150 and mb_max_batch_size=1: a request queued behind a
    2 s call is answered 503 near its deadline, not left waiting for the call to end."""
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(small_server.post, "/budget", {"sleep": 2.0})
        time.sleep(0.5)  # the slow call is running
        started = time.monotonic()
        late = small_server.post("/budget", {"sleep": 0})
        waited = time.monotonic() - started
        assert late.status == 503, late
        message = late.json()["error"]
        assert "mb_max_latency=150" in message, message
        assert waited < 1.2, f"the 503 took {waited:.2f}s"
        assert slow.result(30).status == 200
    # the API is not locked out by the one slow call: a lone request is served again
    reply = small_server.post("/budget", {"sleep": 0})
    assert reply.status == 200 and reply.json() == {"slept": 0.0}, reply
    assert small_server.get("/healthz").status == 200


def test_lone_request_is_answered_under_microbatching(small_server):
    for x in range(3):
        reply = small_server.post("/double", {"x": x})
        assert reply.status == 200 and reply.json() == {"y": 2 * x}


def test_without_microbatching_user_code_never_runs_concurrently(dev_server):
    """The sklearn artifact is not thread-safe: 16 concurrent requests run one at a time."""
    assert "no batching" in dev_server.serving_line
    barrier = threading.Barrier(16)

    def send(i):
        barrier.wait(10)
        return dev_server.post("/overlap", {"i": i})

    with ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(send, range(16)))
    assert all(r.status == 200 for r in replies), replies
    assert max(r.json()["max_active"] for r in replies) == 1
    assert dev_server.post("/overlap", {}).json() == {"max_active": 1}


def test_without_microbatching_calls_are_not_batched(dev_server):
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda x: dev_server.post("/fixed", {"x": x}), range(8)))
    assert [r.json() for r in replies] == [{"x": x, "batch": 1} for x in range(8)]
