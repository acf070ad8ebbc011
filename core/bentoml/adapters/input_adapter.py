"""The base class of input adapters: one request -> one task; tasks -> one batch -> shares."""
from __future__ import annotations

import abc
import json
import sys
from typing import TYPE_CHECKING, Any, ClassVar, Dict, List, Mapping, Optional, Sequence, Tuple

from bentoml.adapters.cli_input import cli_files_request, cli_request
from bentoml.adapters.split import split_named_results, split_results
from bentoml.adapters.table_rows import row_documents
from bentoml.exceptions import BadInput
from bentoml.inference import HTTPRequest, InferenceTask

if TYPE_CHECKING:
    from bentoml.schema import InputSchema


class InputAdapter(abc.ABC):
    """Base class of input adapters (``DataframeInput``, ``JsonInput``, ...).

    Subclasses implement ``_parse_http`` (may raise :class:`BadInput`),
    ``_batch`` and ``request_schema``, and report their constructor options in
    ``config`` (stored as the API's ``input_config`` in ``bentoml.yml``).
    ``split`` cuts results back per task; ``_result_value`` and
    ``named_outputs`` adjust it (see there).
    """

    requirement_imports: ClassVar[Tuple[str, ...]] = ()
    #: A dict returned by the API holds one output per name, each with one item per
    #: input (as TensorFlow signatures return): each result becomes one dict by name.
    named_outputs: ClassVar[bool] = False
    #: Whether an API may take this adapter's inputs one at a time (``@api(..., batch=False)``):
    #: each request is one input, and ``batch(tasks)`` is a sequence of one item per task, the
    #: item such an API function receives.  False where a request may carry several inputs
    #: (DataframeInput's rows, TfTensorInput's instances), as in BentoML 0.10-0.13.
    single_mode_supported: ClassVar[bool] = True
    #: What an API declared without ``batch=`` does with this adapter: None takes a batch
    #: (the spec's contract); False (BentoML 0.8's ``LegacyJsonInput``) one input per call,
    #: and such an adapter refuses ``batch=True``.
    batch_default: ClassVar[Optional[bool]] = None
    #: Whether offline batch jobs (``bentoml run --output``, :class:`bentoml.batch.BatchRunner`)
    #: can feed this adapter rows of a table (see :meth:`from_frame`); False for adapters of
    #: images and files, whose requests are no table rows.
    takes_rows: ClassVar[bool] = True

    @property
    def input_type(self) -> str:
        return type(self).__name__

    @property
    def config(self) -> Dict[str, Any]:
        """JSON-serializable constructor options, recorded in the bundle."""
        return {}

    def with_schema(self, schema: "InputSchema") -> "InputAdapter":
        """This adapter checking and documenting requests by ``schema``, or ``self`` unchanged.

        An artifact packed with ``input_example`` records the columns its model
        takes (:class:`bentoml.schema.InputSchema`); an API of the service uses
        the adapter this returns.  Override it in an adapter of tabular input
        to return a copy that refuses requests that do not fit the schema
        (``BadInput`` naming the column, width or type, from
        ``_parse_http``) and whose :meth:`request_schema` shows it.  Return
        ``self`` when the adapter does not take such a schema, or already has
        one of its own (``DataframeInput(columns=...)``); the default does.
        """
        return self

    # -- request -> task -----------------------------------------------------
    def from_http_request(self, request: HTTPRequest) -> InferenceTask:
        """Parse one request; bad input yields a failed task, never an exception."""
        if not request.body:
            return InferenceTask.failed(f"{self.input_type}: request body is empty", 400, request)
        try:
            task = self._parse_http(request)
        except BadInput as exc:
            return InferenceTask.failed(f"{self.input_type}: {exc}", exc.status, request)
        except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
            return InferenceTask.failed(f"{self.input_type} could not parse the input: {exc}", 400, request)
        except RecursionError:  # json and friends recurse once per nesting level
            return InferenceTask.failed(f"{self.input_type}: the input is nested too deeply to parse "
                                        f"(at most about {sys.getrecursionlimit()} levels)", 400, request)
        task.request = request
        return task

    def from_cli_input(self, value: str) -> InferenceTask:
        """Parse one CLI ``--input`` (literal or file path) like a request."""
        return self.from_http_request(cli_request(value))

    def from_cli_files(self, files: Sequence[Tuple[Optional[str], str]]) -> InferenceTask:
        """Parse CLI ``--input-file`` values (``(field name or None, path)`` pairs) like a request.

        See :func:`bentoml.adapters.cli_files_request` for how the files become one request body.
        """
        return self.from_http_request(cli_files_request(files))

    def from_frame(self, frame: Any) -> List[InferenceTask]:
        """Parse a chunk of a table (a pandas DataFrame) for an offline batch job.

        Returns tasks whose ``expected_results`` add up to ``len(frame)``, in
        row order; what the API function receives from them is what it
        receives when the rows are sent to the API server.  Bad input yields
        a failed task (counting every row of the chunk when it cannot tell
        which row is bad), never an exception; the batch runner then finds
        the row.  Adapters override :meth:`_frame_tasks` where a faster path
        exists (``DataframeInput`` takes the chunk as one DataFrame).
        """
        try:
            return self._frame_tasks(frame)
        except BadInput as exc:
            failed = InferenceTask.failed(f"{self.input_type}: {exc}", exc.status)
        except (ValueError, TypeError, KeyError) as exc:
            failed = InferenceTask.failed(f"{self.input_type} could not parse the input: {exc}", 400)
        failed.count = len(frame)
        return [failed]

    def _frame_tasks(self, frame: Any) -> List[InferenceTask]:
        """The default: each row is one JSON request (see :func:`bentoml.adapters.table_rows.row_documents`)."""
        return [self.from_http_request(HTTPRequest(json.dumps(doc).encode("utf-8"),
                                                   {"Content-Type": "application/json"}, source="batch"))
                for doc in row_documents(frame)]

    @abc.abstractmethod
    def _parse_http(self, request: HTTPRequest) -> InferenceTask:
        """Turn one request into one task; raise BadInput naming what is wrong."""

    # -- tasks -> API argument -> per-task results ------------------------------
    def batch(self, tasks: Sequence[InferenceTask]) -> Any:
        """The API function's argument for these (good) tasks."""
        return self._batch(tasks)

    @abc.abstractmethod
    def _batch(self, tasks: Sequence[InferenceTask]) -> Any:
        """Combine the tasks' data into one batch value."""

    def split(self, result: Any, tasks: Sequence[InferenceTask]) -> List[Any]:
        """Cut the API's return value back into one share per task.

        Each returned value first passes through :meth:`_result_value`; with
        ``named_outputs``, a dict is split per name into one dict per result.
        """
        if self.named_outputs and isinstance(result, Mapping):
            return split_named_results({name: self._result_value(value) for name, value in result.items()},
                                       tasks)
        return split_results(self._result_value(result), tasks)

    def _result_value(self, value: Any) -> Any:
        """Make one returned value indexable per result (a device tensor -> a host array)."""
        return value

    # -- documentation -----------------------------------------------------------
    @abc.abstractmethod
    def request_schema(self) -> Dict[str, Dict[str, Any]]:
        """OpenAPI ``requestBody.content``: media type -> ``{"schema": ..., "example": ...}``.

        ``example`` is optional: give one only when it is a real request this
        adapter (and the model behind it) accepts, never a made-up one.
        """

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config.items())
        return f"{self.input_type}({args})"
