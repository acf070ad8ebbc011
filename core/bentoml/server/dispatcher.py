"""MicroBatchDispatcher: groups concurrent requests of one API into batches.

Request threads ``submit`` a parsed task and wait; one dispatcher thread per
API takes tasks off the queue, calls the API once per batch and completes each
waiting request with its own result.

How it decides (compare Clipper's AIMD, which probes a batch-size cap up and
down, and BentoML 0.x's CORK, which waits by an estimate of arrival times):

- It is work-conserving: while a batch runs, new requests queue up, and the
  next batch takes all of them (up to ``max_batch_size``) the moment the model
  is free.  Under load batches form by themselves; no timer has to fire.
- It lingers only when that pays: when the measured arrival rate predicts more
  requests within half the measured fixed cost of a call, it waits up to that
  long (never longer than the time the queue needs to fill).  A lone request
  is never held back for a batch that will not fill.
- The latency budget ``max_latency_ms`` is a promise per request: the cost of a
  batch is modelled as ``fixed + per_item * n`` (fitted from measured batches),
  the batch is cut to what still finishes within the oldest request's budget,
  and a request that can no longer be served within its budget is answered 503
  at once instead of waiting without bound.
"""
from __future__ import annotations

import collections
import logging
import threading
import time
from typing import Callable, Deque, List, Optional, Sequence

from bentoml.inference import InferenceError, InferenceResult, InferenceTask

logger = logging.getLogger(__name__)

HandleBatch = Callable[[Sequence[InferenceTask]], List[InferenceResult]]


class BatchCostModel:
    """Exponentially weighted least-squares fit of ``cost(n) = fixed + per_item * n`` (seconds)."""

    def __init__(self, decay: float = 0.95):
        self._decay = decay
        self._w = self._sn = self._snn = self._sc = self._snc = 0.0

    def observe(self, n: int, seconds: float) -> None:
        d = self._decay
        self._w = d * self._w + 1
        self._sn = d * self._sn + n
        self._snn = d * self._snn + n * n
        self._sc = d * self._sc + seconds
        self._snc = d * self._snc + n * seconds

    def _fit(self) -> tuple:
        if self._w == 0:
            return 0.0, 0.0
        mean_n, mean_c = self._sn / self._w, self._sc / self._w
        var_n = self._snn / self._w - mean_n * mean_n
        if var_n < 1e-9:  # one batch size seen so far: all of it counts as fixed cost
            return mean_c, 0.0
        per_item = max(0.0, (self._snc / self._w - mean_n * mean_c) / var_n)
        fixed = max(0.0, mean_c - per_item * mean_n)
        return fixed, per_item

    @property
    def fixed(self) -> float:
        return self._fit()[0]

    def estimate(self, n: int) -> float:
        fixed, per_item = self._fit()
        return fixed + per_item * n


class _Pending:
    __slots__ = ("task", "arrived", "deadline", "done", "result")

    def __init__(self, task: InferenceTask, arrived: float, deadline: float):
        self.task, self.arrived, self.deadline = task, arrived, deadline
        self.done = threading.Event()
        self.result: Optional[InferenceResult] = None

    def finish(self, result: InferenceResult) -> None:
        self.result = result
        self.done.set()


def _unavailable(message: str) -> InferenceResult:
    return InferenceResult.from_error(InferenceError(503, message))


class MicroBatchDispatcher:
    """Batches the tasks of one API; see the module docstring for the policy.

    :param handle_batch: answers a list of tasks: ``InferenceAPI.handle_batch``, holding
        the service's model lock where one is needed (the dispatcher takes none itself).
    :param max_batch_size: most tasks per call.
    :param max_latency_ms: each request's budget from arrival to answer.
    :param fixed_batch_size: pad every batch to exactly this many tasks (for
        models that need static shapes); the padding's results are dropped.
    :param on_batch: called with (batch size, seconds) after each batch.
    """

    def __init__(self, handle_batch: HandleBatch, max_batch_size: int, max_latency_ms: float,
                 name: str = "api", fixed_batch_size: Optional[int] = None,
                 run_timeout: float = 60.0,
                 on_batch: Optional[Callable[[int, float], None]] = None):
        if fixed_batch_size is not None and fixed_batch_size < max_batch_size:
            max_batch_size = fixed_batch_size
        self.name = name
        self.max_batch_size = max_batch_size
        self.max_latency = max_latency_ms / 1000.0
        self.fixed_batch_size = fixed_batch_size
        self.run_timeout = run_timeout
        self.cost = BatchCostModel()
        self._handle_batch = handle_batch
        self._on_batch = on_batch
        self._queue: Deque[_Pending] = collections.deque()
        self._cond = threading.Condition()
        self._thread: Optional[threading.Thread] = None
        self._stopping = False
        self._last_arrival: Optional[float] = None
        self._mean_gap: Optional[float] = None

    # -- request threads -------------------------------------------------------
    def submit(self, task: InferenceTask) -> InferenceResult:
        """Queue ``task`` and block until it is answered (or refused with 503)."""
        now = time.monotonic()
        pending = _Pending(task, now, now + self.max_latency)
        with self._cond:
            if self._stopping:
                return _unavailable("the server is shutting down")
            self._note_arrival(now)
            self._queue.append(pending)
            if self._thread is None:  # started lazily: never before a fork
                self._thread = threading.Thread(target=self._run, name=f"dispatcher-{self.name}",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()
        # A task still queued at its deadline (e.g. behind a long batch) is answered
        # 503 then, not when the batch in its way ends; a task in a running batch
        # waits for the batch, bounded by run_timeout.
        if pending.done.wait(self.max_latency):
            return pending.result  # type: ignore[return-value]
        with self._cond:
            try:
                self._queue.remove(pending)
            except ValueError:
                pass  # taken into a batch (or expired) meanwhile
            else:
                return self._over_budget(pending)
        if pending.done.wait(self.run_timeout):
            return pending.result  # type: ignore[return-value]
        return _unavailable(f"not answered within {self.max_latency * 1000 + self.run_timeout * 1000:.0f} ms")

    def _over_budget(self, pending: _Pending) -> InferenceResult:
        waited = (time.monotonic() - pending.arrived) * 1000
        return _unavailable(
            f"could not be served within the latency budget mb_max_latency="
            f"{self.max_latency * 1000:.0f} ms (waited {waited:.0f} ms; the server is overloaded)")

    def _note_arrival(self, now: float) -> None:
        if self._last_arrival is not None:
            gap = now - self._last_arrival
            self._mean_gap = gap if self._mean_gap is None else 0.9 * self._mean_gap + 0.1 * gap
        self._last_arrival = now

    # -- dispatcher thread -------------------------------------------------------
    def _linger_until(self, now: float) -> float:
        """How long to wait for more requests: only when arrivals are frequent enough."""
        half_fixed = self.cost.fixed / 2
        gap = self._mean_gap
        if gap is None or half_fixed <= 0 or gap > half_fixed or now - (self._last_arrival or 0) > half_fixed:
            return now
        room = self.max_batch_size - len(self._queue)
        return now + min(half_fixed, room * gap)

    def _take_batch(self) -> tuple:
        """(tasks to run, tasks that cannot meet their budget); called with the lock held."""
        now = time.monotonic()
        until = self._linger_until(now)
        if self._queue:
            until = min(until, self._queue[0].deadline - self.cost.estimate(len(self._queue) + 1))
        while len(self._queue) < self.max_batch_size and now < until and not self._stopping:
            self._cond.wait(until - now)
            now = time.monotonic()
        expired = []
        # Refuse the head when its deadline has passed, or when it is predicted to miss
        # it and others wait behind it.  A lone task is always run: refusing it spares
        # no one, and running it keeps the cost model current (one slow call, such as
        # a model's warm-up, must not make every later request 503).
        while self._queue and (self._queue[0].deadline <= now or (
                len(self._queue) > 1 and self._queue[0].deadline < now + self.cost.estimate(1))):
            expired.append(self._queue.popleft())
        n = min(len(self._queue), self.max_batch_size)
        # Cut the batch to what still finishes within the oldest request's budget.
        while n > 1 and now + self.cost.estimate(n) > self._queue[0].deadline:
            n -= 1
        return [self._queue.popleft() for _ in range(n)], expired

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if not self._queue and self._stopping:
                    return
                batch, expired = self._take_batch()
            for pending in expired:
                pending.finish(self._over_budget(pending))
            if batch:
                self._execute(batch)

    def _execute(self, batch: List[_Pending]) -> None:
        tasks = [p.task for p in batch]
        if self.fixed_batch_size and len(tasks) < self.fixed_batch_size:
            tasks = tasks + [tasks[-1]] * (self.fixed_batch_size - len(tasks))
        started = time.monotonic()
        try:
            results = self._handle_batch(tasks)
        except Exception as exc:  # handle_batch answers errors itself; this is a last resort
            logger.exception("dispatcher %s: batch failed", self.name)
            results = [InferenceResult.from_error(InferenceError(500, f"batch failed: {type(exc).__name__}"))] * len(tasks)
        elapsed = time.monotonic() - started
        self.cost.observe(len(tasks), elapsed)
        if self._on_batch is not None:
            self._on_batch(len(batch), elapsed)
        for pending, result in zip(batch, results):
            pending.finish(result)

    def close(self, timeout: float = 30.0) -> None:
        """Answer what is queued, then stop the dispatcher thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
