"""Unit tests of ``bentoml.server.dispatcher`` (no HTTP): batching, budgets, padding, errors."""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import List

import pytest

from bentoml.adapters import InferenceError, InferenceResult, InferenceTask
from bentoml.server.dispatcher import BatchCostModel, MicroBatchDispatcher


class Recorder:
    """A handle_batch that answers each task with its data doubled and records batches."""

    def __init__(self, delay: float = 0.0, fail_on=None):
        self.delay = delay
        self.fail_on = fail_on
        self.batches: List[List[object]] = []
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()
        self.started = threading.Event()

    def __call__(self, tasks):
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.batches.append([t.data for t in tasks])
        self.started.set()
        try:
            delay = self.delay(len(self.batches)) if callable(self.delay) else self.delay
            time.sleep(delay)
            results = []
            for task in tasks:
                if task.error is not None:
                    results.append(InferenceResult.from_error(task.error))
                elif task.data == self.fail_on:
                    results.append(InferenceResult.from_error(InferenceError(500, f"failed on {task.data}")))
                else:
                    results.append(InferenceResult(200, json.dumps(task.data * 2).encode()))
            return results
        finally:
            with self.lock:
                self.active -= 1


@pytest.fixture
def make_dispatcher():
    made = []

    def make(handler, **kwargs):
        kwargs.setdefault("max_batch_size", 8)
        kwargs.setdefault("max_latency_ms", 5000)
        dispatcher = MicroBatchDispatcher(handler, name="test", **kwargs)
        made.append(dispatcher)
        return dispatcher

    yield make
    for dispatcher in made:
        dispatcher.close(timeout=10)


def submit_all(dispatcher, values, threads=None):
    with ThreadPoolExecutor(threads or len(values)) as pool:
        return list(pool.map(lambda v: dispatcher.submit(InferenceTask(data=v)), values))


def body(result):
    return json.loads(result.body)


def test_every_task_gets_its_own_answer(make_dispatcher):
    dispatcher = make_dispatcher(Recorder(delay=0.01))
    results = submit_all(dispatcher, list(range(100)), threads=32)
    assert [r.status for r in results] == [200] * 100
    assert [body(r) for r in results] == [2 * v for v in range(100)]


def test_batch_never_exceeds_max_batch_size(make_dispatcher):
    handler = Recorder(delay=0.02)
    dispatcher = make_dispatcher(handler, max_batch_size=5)
    results = submit_all(dispatcher, list(range(60)), threads=60)
    assert all(r.status == 200 for r in results)
    sizes = [len(b) for b in handler.batches]
    assert max(sizes) <= 5
    assert sum(sizes) == 60
    assert handler.max_active == 1  # one batch at a time per API


def test_concurrent_submits_are_batched_while_the_handler_is_busy(make_dispatcher):
    handler = Recorder(delay=0.3)
    dispatcher = make_dispatcher(handler, max_batch_size=32)
    first = threading.Thread(target=dispatcher.submit, args=(InferenceTask(data=-1),))
    first.start()
    assert handler.started.wait(5)
    # while the first batch runs, 10 more arrive: they must make one batch, not ten
    results = submit_all(dispatcher, list(range(10)))
    first.join(10)
    assert [body(r) for r in results] == [2 * v for v in range(10)]
    assert handler.batches[0] == [-1]
    assert sorted(handler.batches[1]) == list(range(10)), handler.batches
    assert len(handler.batches) == 2


def test_lone_request_is_not_held_back(make_dispatcher):
    handler = Recorder(delay=0.0)
    dispatcher = make_dispatcher(handler, max_latency_ms=10_000)
    # teach it a large fixed cost so that lingering would look attractive
    for _ in range(5):
        dispatcher.cost.observe(1, 0.5)
        dispatcher.cost.observe(4, 0.5)
    assert dispatcher.cost.fixed > 0.4
    time.sleep(0.05)
    for value in range(3):
        started = time.monotonic()
        result = dispatcher.submit(InferenceTask(data=value))
        elapsed = time.monotonic() - started
        assert body(result) == 2 * value
        assert elapsed < 0.2, f"a lone request waited {elapsed:.3f}s for a batch that never fills"
        time.sleep(0.6)  # requests far apart: no burst to wait for


def test_errors_stay_per_task(make_dispatcher):
    handler = Recorder(delay=0.01, fail_on=7)
    dispatcher = make_dispatcher(handler, max_batch_size=16)
    tasks = [InferenceTask(data=v) for v in range(20)]
    tasks[3] = InferenceTask.failed("bad input 3")
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(dispatcher.submit, tasks))
    for value, result in enumerate(results):
        if value == 3:
            assert (result.status, body(result)) == (400, {"error": "bad input 3"})
        elif value == 7:
            assert (result.status, body(result)) == (500, {"error": "failed on 7"})
        else:
            assert (result.status, body(result)) == (200, 2 * value)


def test_a_raising_handler_fails_its_batch_only(make_dispatcher):
    calls = []

    def handler(tasks):
        calls.append(len(tasks))
        if len(calls) == 1:
            raise RuntimeError("boom")
        return [InferenceResult(200, b"1") for _ in tasks]

    dispatcher = make_dispatcher(handler)
    failed = dispatcher.submit(InferenceTask(data=1))
    assert failed.status == 500 and "RuntimeError" in body(failed)["error"]
    assert "Traceback" not in failed.body.decode()
    assert dispatcher.submit(InferenceTask(data=2)).status == 200


def test_task_that_cannot_meet_its_budget_gets_503(make_dispatcher):
    handler = Recorder(delay=lambda n: 1.5 if n == 1 else 0.0)
    dispatcher = make_dispatcher(handler, max_batch_size=1, max_latency_ms=200)
    slow = ThreadPoolExecutor(1).submit(dispatcher.submit, InferenceTask(data=1))
    assert handler.started.wait(5)
    started = time.monotonic()
    late = dispatcher.submit(InferenceTask(data=2))  # queued behind a 1.5 s batch, budget 200 ms
    waited = time.monotonic() - started
    assert late.status == 503
    message = body(late)["error"]
    assert "mb_max_latency" in message and "200" in message, message
    # answered at its deadline, not when the batch in its way happens to finish
    assert waited < 1.0, f"answered after {waited:.2f}s"
    assert slow.result(10).status == 200
    assert handler.batches == [[1]]  # the expired task never reached the model


def test_budget_503_under_overload(make_dispatcher):
    handler = Recorder(delay=0.1)
    dispatcher = make_dispatcher(handler, max_batch_size=1, max_latency_ms=250)
    results = submit_all(dispatcher, list(range(20)))
    statuses = [r.status for r in results]
    assert statuses.count(200) >= 1
    assert statuses.count(503) >= 10, statuses  # 20 x 100 ms cannot fit in 250 ms
    assert all(s in (200, 503) for s in statuses)
    for value, result in enumerate(results):
        if result.status == 200:
            assert body(result) == 2 * value


def test_a_slow_first_call_does_not_lock_the_api_out(make_dispatcher):
    """One slow call (a model's warm-up) over the budget must not make every later request 503."""
    handler = Recorder(delay=lambda n: 0.4 if n == 1 else 0.0)
    dispatcher = make_dispatcher(handler, max_batch_size=4, max_latency_ms=100)
    assert dispatcher.submit(InferenceTask(data=1)).status == 200  # slow, but nothing to refuse in favour of
    later = [dispatcher.submit(InferenceTask(data=v)) for v in range(2, 6)]
    assert [r.status for r in later] == [200] * 4, [body(r) for r in later]


def test_fixed_batch_size_pads_and_drops_the_padding(make_dispatcher):
    handler = Recorder(delay=0.05)
    dispatcher = make_dispatcher(handler, max_batch_size=16, fixed_batch_size=4)
    assert dispatcher.max_batch_size == 4
    single = dispatcher.submit(InferenceTask(data=5))
    assert body(single) == 10
    results = submit_all(dispatcher, list(range(10)))
    assert [body(r) for r in results] == [2 * v for v in range(10)]
    assert all(len(batch) == 4 for batch in handler.batches), handler.batches
    assert handler.batches[0] == [5, 5, 5, 5]


def test_batch_sizes_reported_without_padding(make_dispatcher):
    seen = []
    dispatcher = make_dispatcher(Recorder(delay=0.01), fixed_batch_size=4,
                                 on_batch=lambda size, seconds: seen.append((size, seconds)))
    dispatcher.submit(InferenceTask(data=1))
    assert seen[0][0] == 1 and seen[0][1] >= 0.0


def test_close_answers_what_is_queued_and_refuses_new(make_dispatcher):
    handler = Recorder(delay=0.2)
    dispatcher = make_dispatcher(handler, max_batch_size=2)
    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(dispatcher.submit, InferenceTask(data=v)) for v in range(6)]
        assert handler.started.wait(5)
        time.sleep(0.05)
        dispatcher.close(timeout=10)
        results = [f.result(10) for f in futures]
    assert all(r.status == 200 for r in results), [r.status for r in results]
    refused = dispatcher.submit(InferenceTask(data=9))
    assert refused.status == 503 and "shutting down" in body(refused)["error"]


# -- the cost model ------------------------------------------------------------------------------
def test_cost_model_fits_fixed_and_per_item():
    model = BatchCostModel()
    assert model.estimate(10) == 0.0
    for n in (1, 2, 4, 8, 16, 32, 3, 7):
        model.observe(n, 0.010 + 0.002 * n)
    assert model.fixed == pytest.approx(0.010, abs=1e-6)
    assert model.estimate(10) == pytest.approx(0.030, abs=1e-6)
    assert model.estimate(100) == pytest.approx(0.210, abs=1e-5)


def test_cost_model_with_one_batch_size_is_all_fixed():
    model = BatchCostModel()
    for _ in range(5):
        model.observe(4, 0.02)
    assert model.fixed == pytest.approx(0.02)
    assert model.estimate(1) == pytest.approx(0.02)
    assert model.estimate(50) == pytest.approx(0.02)


def test_cost_model_follows_a_change():
    model = BatchCostModel(decay=0.5)
    for n in (1, 2, 4, 8):
        model.observe(n, 1.0 + 1.0 * n)
    for _ in range(5):
        for n in (1, 2, 4, 8):
            model.observe(n, 0.001 * n)
    assert model.estimate(8) < 0.5


def test_cost_model_never_negative():
    model = BatchCostModel()
    for n, c in ((1, 0.05), (10, 0.01), (20, 0.001)):
        model.observe(n, c)
    assert model.fixed >= 0
    assert all(model.estimate(n) >= 0 for n in (1, 10, 100))
