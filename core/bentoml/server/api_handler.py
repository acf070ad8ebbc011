"""The lean path of an API call: WSGI environ -> request -> task -> (dispatcher) -> response.

API calls are the hot path, so they skip Flask's request machinery: reading the
body, parsing it with the adapter, batching and answering take a few dozen
microseconds here, and every syscall saved is a GIL hand-off saved while a
model computes in the same process.  Each step is its own module: ``request``
reads the request, the API's input adapter makes it a task, ``dispatcher``
batches tasks, ``response`` builds the answer.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Tuple

from bentoml.exceptions import BadInput
from bentoml.inference import InferenceResult
from bentoml.server.config import DEFAULT_MB_MAX_BATCH_SIZE, DEFAULT_MB_MAX_LATENCY_MS, ServerConfig
from bentoml.server.dispatcher import HandleBatch, MicroBatchDispatcher
from bentoml.server.metrics import ServerMetrics
from bentoml.server.request import read_request
from bentoml.server.response import build_response

if TYPE_CHECKING:
    from bentoml.service.inference_api import InferenceAPI


class APIHandler:
    """Answers ``POST /<api>``: one request becomes one task, its result one response.

    :param handle_batch: answers a list of tasks: the API's ``handle_batch``,
        already holding whatever lock the service needs (see ``app.create_app``).
    """

    def __init__(self, api: "InferenceAPI", config: ServerConfig, metrics: ServerMetrics,
                 handle_batch: HandleBatch):
        self.api = api
        self.config = config
        self.metrics = metrics
        self._handle_batch = handle_batch
        self.dispatcher: Optional[MicroBatchDispatcher] = None
        if config.enable_microbatch:
            spec = api.spec
            self.dispatcher = MicroBatchDispatcher(
                handle_batch,
                max_batch_size=config.mb_max_batch_size or spec.mb_max_batch_size or DEFAULT_MB_MAX_BATCH_SIZE,
                max_latency_ms=config.mb_max_latency or spec.mb_max_latency or DEFAULT_MB_MAX_LATENCY_MS,
                name=api.name, fixed_batch_size=spec.mb_fixed_batch_size,
                run_timeout=config.timeout,
                on_batch=lambda size, _secs: metrics.observe_batch(api.name, size))

    def respond(self, environ: dict, request_id: str) -> Tuple[str, List[Tuple[str, str]], bytes]:
        """(status line, headers, body) for one API call.

        Counting and timing the request is the app's (``ServiceApp.__call__``), which
        sees every answer, this one's and those of its last-resort fallback alike."""
        return build_response(self._answer(environ, request_id), request_id, self.config.cors)

    def _answer(self, environ: dict, request_id: str) -> InferenceResult:
        try:
            request = read_request(environ, self.config.max_request_size)
        except BadInput as exc:
            return InferenceResult.failure(exc.status, str(exc))
        task = self.api.input_adapter.from_http_request(request)
        task.context["request_id"] = request_id
        if task.error is not None:
            return InferenceResult.from_error(task.error)
        if self.dispatcher is not None:
            return self.dispatcher.submit(task)
        return self._handle_batch([task])[0]

    def close(self, timeout: float) -> None:
        """Answer what the dispatcher still holds, then stop it."""
        if self.dispatcher is not None:
            self.dispatcher.close(timeout=timeout)
