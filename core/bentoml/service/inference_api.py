"""An API of a service: its adapters, its function, and how one batch is handled."""
from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence

import attrs

from bentoml.adapters.input_adapter import InputAdapter
from bentoml.adapters.json_output import JsonOutput
from bentoml.adapters.output_adapter import OutputAdapter
from bentoml.adapters.split import ResultLengthMismatch
from bentoml.inference import InferenceError, InferenceResult, InferenceTask
from bentoml.exceptions import BadInput, InvalidArgument
from bentoml.model_errors import artifact_classes, model_input_error
from bentoml.server.routes import RESERVED_API_NAMES

if TYPE_CHECKING:
    from bentoml.service.bento_service import BentoService

logger = logging.getLogger(__name__)

_API_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# URL path segments of unreserved characters (RFC 3986): no query, fragment, '%' or Flask '<converter>'
_ROUTE = re.compile(r"^[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*$")


@attrs.frozen
class APISpec:
    """What ``@bentoml.api`` records on a method (the class-level declaration).

    ``batch`` is what the declaration said: ``None`` (not given) and ``True``
    call the function with a batch; ``False`` calls it once per item.
    """

    name: str
    input_adapter: InputAdapter
    output_adapter: OutputAdapter
    mb_max_batch_size: Optional[int]
    mb_max_latency: Optional[float]
    doc: str
    mb_fixed_batch_size: Optional[int] = None
    batch: Optional[bool] = None
    #: the URL path (without the leading ``/``) from ``@api(route=...)``; None: the API's name
    route: Optional[str] = None

    @property
    def path(self) -> str:
        """The path the API server answers this API at: ``/<route>``, by default ``/<name>``."""
        return "/" + (self.route or self.name)


def make_api_spec(func: Callable, input: Any, output: Any, api_name: Optional[str],
                  mb_max_batch_size: Optional[int], mb_max_latency: Optional[float],
                  mb_fixed_batch_size: Optional[int] = None, batch: Optional[bool] = None,
                  api_doc: Optional[str] = None, route: Optional[str] = None) -> APISpec:
    name = api_name or func.__name__
    if not _API_NAME.fullmatch(name):
        raise InvalidArgument(f"API name {name!r} must be a Python identifier")
    if name.lower() in RESERVED_API_NAMES:
        raise InvalidArgument(
            f"API name {name!r} is reserved by the API server "
            f"({', '.join(sorted(RESERVED_API_NAMES))}); rename the method or pass api_name=")
    if isinstance(input, type):
        raise InvalidArgument(f"@api(input=...) takes an adapter instance: input={input.__name__}()")
    if not isinstance(input, InputAdapter):
        raise InvalidArgument(f"@api(input=...) must be an InputAdapter instance, got {input!r}")
    output = JsonOutput() if output is None else output
    if not isinstance(output, OutputAdapter):
        raise InvalidArgument(f"@api(output=...) must be an OutputAdapter instance, got {output!r}")
    for key, value in (("mb_max_batch_size", mb_max_batch_size), ("mb_max_latency", mb_max_latency),
                       ("mb_fixed_batch_size", mb_fixed_batch_size)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
            raise InvalidArgument(f"@api({key}=...) must be a positive number, got {value!r}")
    if batch is not None and not isinstance(batch, bool):
        raise InvalidArgument(f"@api(batch=...) must be True or False, got {batch!r}")
    if input.batch_default is False:
        if batch is True:
            raise InvalidArgument(f"{input.input_type} passes one input per call: @api(batch=True) does not "
                                  "apply to it; use JsonInput for a batch")
        batch = False
    if batch is False and not input.single_mode_supported:
        raise InvalidArgument(
            f"@api(batch=False) does not work with {input.input_type}, as in BentoML 0.10-0.13: a request "
            "may carry several inputs, so the API function always receives a batch of them; drop "
            "batch=False and return one result per input")
    if batch is False and mb_fixed_batch_size is not None:
        raise InvalidArgument("@api(batch=False) takes one input per call: mb_fixed_batch_size, which pads "
                              "a batch for models with static shapes, does not apply; drop one of them")
    if api_doc is not None and not isinstance(api_doc, str):
        raise InvalidArgument(f"@api(api_doc=...) must be a string, got {api_doc!r}")
    doc = (api_doc if api_doc is not None else func.__doc__ or "").strip() or "BentoService API"
    return APISpec(name, input, output, mb_max_batch_size, mb_max_latency, doc, mb_fixed_batch_size, batch,
                   _checked_route(route))


def _checked_route(route: Optional[str]) -> Optional[str]:
    """``@api(route=...)`` (BentoML 0.13) without its leading ``/``; InvalidArgument naming what is wrong."""
    if route is None:
        return None
    if not isinstance(route, str):
        raise InvalidArgument(f"@api(route=...) must be a string, got {route!r}")
    path = route[1:] if route.startswith("/") else route
    if not _ROUTE.fullmatch(path) or any(segment in (".", "..") for segment in path.split("/")):
        raise InvalidArgument(
            f"@api(route={route!r}) is not a URL path: use segments of letters, digits and '._~-' "
            "separated by '/', e.g. route='v1/predict'")
    if path.split("/")[0].lower() in RESERVED_API_NAMES:
        raise InvalidArgument(
            f"@api(route={route!r}) starts with {path.split('/')[0]!r}, which the API server answers "
            f"itself ({', '.join(sorted(RESERVED_API_NAMES))})")
    return path


class InferenceAPI:
    """An API bound to a service instance: parses, batches, calls and answers."""

    def __init__(self, service: "BentoService", spec: APISpec, func: Callable):
        self.service = service
        self.spec = spec
        self._func = func
        self._schema_adapter: Optional[tuple] = None  # (schema, the adapter bound to it)

    name = property(lambda self: self.spec.name)
    path = property(lambda self: self.spec.path)

    @property
    def input_adapter(self) -> InputAdapter:
        """The declared adapter, bound to the service's input schema when it has one.

        When exactly one artifact was packed with an ``input_example`` (or
        loaded with its schema), the declared adapter's ``with_schema`` gives
        the adapter that parses, checks and documents this API's requests.
        """
        declared = self.spec.input_adapter
        schema = self.service._api_input_schema()
        if schema is None:
            return declared
        bound = self._schema_adapter
        if bound is None or bound[0] is not schema:
            bound = self._schema_adapter = (schema, declared.with_schema(schema))
        return bound[1]

    output_adapter = property(lambda self: self.spec.output_adapter)
    doc = property(lambda self: self.spec.doc)

    def __call__(self, batch: Any) -> Any:
        return self._func(self.service, batch)

    @property
    def batch(self) -> bool:
        """Whether the function takes a batch (the default) or, with ``@api(batch=False)``, one item."""
        return self.spec.batch is not False

    def handle_batch(self, tasks: Sequence[InferenceTask],
                     answer: Optional[Callable[[Any, InferenceTask], Any]] = None) -> List[Any]:
        """Answer each task; one bad task or a failing batch never spoils the others.

        ``answer(share, task)`` makes each good task's answer from its share of
        the result (default: the output adapter's ``to_result``, an
        :class:`InferenceResult`); a task that fails is an ``InferenceResult``
        with its error status whatever ``answer`` is.  Answers of a status
        other than 200 are errors, so ``answer`` gives objects with a ``status``.

        When the API raises for a batch, each task is run again alone, so only
        the culprit fails: with 400 when the exception is bad input (a
        :class:`BadInput`, or an error an artifact class of the service marks as
        its model refusing the input, see
        :meth:`~bentoml.artifact.BentoServiceArtifact.bad_input_message`), else 500.
        """
        results: List[Optional[InferenceResult]] = [None] * len(tasks)
        good = []
        for i, task in enumerate(tasks):
            if task.error is not None:
                results[i] = InferenceResult.from_error(task.error)
            else:
                good.append(i)
        if good:
            run = self._run if self.batch else self._run_items
            run([tasks[i] for i in good], good, results, answer or self.output_adapter.to_result)
        return results

    def _run_items(self, tasks: List[InferenceTask], positions: List[int], results: list,
                   answer: Callable[[Any, InferenceTask], Any]) -> None:
        """``batch=False``: the tasks were batched together, the function is called once per item."""
        try:
            items = list(self.input_adapter.batch(tasks))
            if len(items) != len(tasks):
                raise ResultLengthMismatch(f"{self.input_adapter.input_type}.batch gave {len(items)} items "
                                           f"for {len(tasks)} requests; it cannot serve batch=False")
        except Exception as exc:
            if len(tasks) > 1:  # find the culprit: each task alone
                for task, pos in zip(tasks, positions):
                    self._run_items([task], [pos], results, answer)
                return
            results[positions[0]] = self._error_result(exc)
            return
        for task, pos, item in zip(tasks, positions, items):
            try:
                share = self.input_adapter.split([self(item)], [task])[0]
                results[pos] = answer(share, task)
            except Exception as exc:
                results[pos] = self._error_result(exc)

    def _run(self, tasks: List[InferenceTask], positions: List[int], results: list,
             answer: Callable[[Any, InferenceTask], Any]) -> None:
        try:
            shares = self.input_adapter.split(self(self.input_adapter.batch(tasks)), tasks)
            answers = [answer(s, t) for s, t in zip(shares, tasks)]
        except Exception as exc:
            if len(tasks) > 1:  # find the culprit: each task alone
                for task, pos in zip(tasks, positions):
                    self._run([task], [pos], results, answer)
                return
            answers = [self._error_result(exc)]
        for pos, given in zip(positions, answers):
            results[pos] = given

    def _error_result(self, exc: Exception) -> InferenceResult:
        """400 for bad input (a BadInput, or a model refusing its input), 500 for anything else."""
        where = f"{self.service.name} {self.name}"
        if isinstance(exc, BadInput):
            return InferenceResult.from_error(InferenceError(exc.status, f"{where}: {exc}"))
        refused = model_input_error(artifact_classes(self.service.artifacts), exc)
        if refused is not None:
            logger.debug("API %r: the model refused its input", self.name, exc_info=exc)
            return InferenceResult.from_error(InferenceError(400, f"{where}: {refused}"))
        # The traceback goes to the log, never to the client.
        logger.error("API %r failed", self.name, exc_info=exc)
        return InferenceResult.from_error(
            InferenceError(500, f"API {self.name!r} failed: {type(exc).__name__}: {exc}"))

    def describe(self) -> Dict[str, Any]:
        return {
            "name": self.name,
            "input_type": self.input_adapter.input_type,
            "output_type": self.output_adapter.output_type,
            "doc": self.doc,
        }
