"""BatchRunner: an API of a loaded service called in-process over chunks of a table."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterable, Iterator, List, Optional

from bentoml.adapters.output_adapter import NotJsonAnswer
from bentoml.batch.results import results_frame
from bentoml.batch.warnings_once import each_warning_once
from bentoml.exceptions import BadInput, BentoMLException, InvalidArgument
from bentoml.inference import InferenceResult, InferenceTask

if TYPE_CHECKING:
    from bentoml.service.bento_service import BentoService

#: Rows per call of the API: larger than the server's micro-batches, since a job wants throughput.
#: Spark's default Arrow batch (the Spark plugin's chunk) is the same.  A model's fixed cost per
#: call counts: scikit-learn checks a DataFrame for about 2.5 ms a call, 0.5 s per million rows
#: in chunks of 5000 (bench/batch_bench.py).
DEFAULT_CHUNK_SIZE = 10_000


class _Values:
    """A good task's answer in a batch job: its values (see ``OutputAdapter.to_values``), status 200;
    or why its answer makes no columns (``refused``), which stops the job without blaming the API."""

    __slots__ = ("values", "refused")
    status = 200

    def __init__(self, values: Any, refused: Optional[str] = None):
        self.values, self.refused = values, refused


def _joined(parts: List[Any]) -> Any:
    """The tasks' values in order: one array when all are arrays of one shape of row, else one list."""
    if len(parts) == 1:
        return parts[0]
    if all(hasattr(p, "ndim") for p in parts) and len({(p.dtype, p.shape[1:]) for p in parts}) == 1:
        import numpy as np

        return np.concatenate(parts)
    return [v for p in parts for v in (p.tolist() if hasattr(p, "ndim") else p)]


class BatchFailed(BentoMLException):
    """The API failed (not bad input) for some rows of a batch job; the message names them."""


def rows_text(first: int, last: int) -> str:
    """``row 7`` or ``rows 1-5000``: 1-based row numbers of the input, header not counted."""
    return f"row {first}" if first == last else f"rows {first}-{last}"


def _error_message(result: InferenceResult) -> str:
    try:
        return json.loads(result.body)["error"]
    except (ValueError, KeyError, TypeError):
        return result.body.decode("utf-8", "replace")


class BatchRunner:
    """Runs one API of a loaded service over a table, chunk by chunk, in this process.

    Each chunk (a ``pandas.DataFrame`` of input rows) goes through the API's
    input adapter (:meth:`~bentoml.adapters.InputAdapter.from_frame`) as one
    batch, so the API function receives what it receives when the same rows
    are sent to the API server (``DataframeInput``: one DataFrame with its
    ``columns``/``input_dtypes``/schema applied; ``JsonInput``: a list of one
    JSON document per row).  No HTTP is involved.  Results come back through
    the output adapter and become columns by the rule of
    :mod:`bentoml.batch.results` (a scalar -> column ``result``, a dict -> its
    keys, a list -> columns ``0..n-1``), one row per input row, in input order.

    Use::

        from bentoml.batch import BatchRunner
        service = bentoml.load(path)                  # or bentoml.bundle.load.load_from_dir
        runner = BatchRunner(service, "predict", chunk_size=10_000)
        out = runner.run_frame(df)                    # one DataFrame in, one out (same index)
        for out in runner.run_chunks(chunks):         # an iterable of DataFrames, in order
            ...

    ``run_frame(frame, first_row)`` runs ``frame`` as given (one batch);
    ``run_chunks`` cuts larger chunks to ``chunk_size`` rows and counts rows
    across chunks.  Row numbers in errors are 1-based and count data rows
    (a CSV header is not a row): the row at position ``i`` of a frame run
    with ``first_row`` (the 0-based position of its first row in the whole
    input) is ``row first_row + i + 1``.

    Errors: bad input (a value that does not parse or convert, missing
    columns, the model refusing a row with a 400) raises
    :class:`~bentoml.exceptions.BadInput` naming the first bad row and why;
    the API failing otherwise (its code raising) raises :class:`BatchFailed`
    naming the rows of the failing batch.  An adapter that takes no table
    (images, files) is refused at construction with ``InvalidArgument``.

    Results skip the JSON text where they can (``OutputAdapter.to_values``: a
    numeric array stays an array), and each distinct warning the API raises
    is shown once per runner, not once per chunk.
    """

    def __init__(self, service: "BentoService", api_name: str, chunk_size: int = DEFAULT_CHUNK_SIZE):
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise InvalidArgument(f"chunk_size must be a positive integer, got {chunk_size!r}")
        self.service = service
        self.api = service.get_inference_api(api_name)
        self.chunk_size = chunk_size
        self._warned: set = set()  # warnings shown so far: each once per runner, not once per chunk
        adapter = self.api.input_adapter
        if not adapter.takes_rows:
            raise InvalidArgument(
                f"API {api_name!r} takes {adapter.input_type}, which reads no table rows: a batch job "
                "(--output) needs a tabular or JSON input (DataframeInput, JsonInput, ...)")

    # -- public ------------------------------------------------------------------------
    def run_frame(self, frame: Any, first_row: int = 0) -> Any:
        """The API's results for the rows of ``frame``, one row each, in order, with ``frame``'s index.

        ``first_row`` is the 0-based position of ``frame``'s first row in the
        whole input; it only numbers rows in error messages.
        """
        if len(frame) == 0:
            return results_frame([], index=frame.index)
        plain = frame.reset_index(drop=True)
        values = self._values(plain, first_row)
        return results_frame(values, index=frame.index)

    def run_chunks(self, chunks: Iterable[Any]) -> Iterator[Any]:
        """:meth:`run_frame` over each chunk in turn (cut to ``chunk_size`` rows), counting rows across them."""
        done = 0
        for chunk in chunks:
            for start in range(0, len(chunk), self.chunk_size):
                part = chunk.iloc[start:start + self.chunk_size] if len(chunk) > self.chunk_size else chunk
                yield self.run_frame(part, done)
                done += len(part)

    # -- one chunk -----------------------------------------------------------------------
    def _call(self, frame: Any) -> tuple:
        with each_warning_once(self._warned):
            tasks = self.api.input_adapter.from_frame(frame)
            return tasks, self.api.handle_batch(tasks, answer=self._answer)

    def _answer(self, share: Any, task: InferenceTask) -> _Values:
        try:
            return _Values(self.api.output_adapter.to_values(share, task))
        except NotJsonAnswer as exc:  # not the API's fault: no 500, no traceback in the log
            return _Values(None, refused=str(exc))

    def _values(self, frame: Any, first_row: int) -> Any:
        """The chunk's results: a list of JSON values, or one numeric array when every task gave one."""
        tasks, results = self._call(frame)
        parts: List[Any] = []
        pos = 0
        for task, result in zip(tasks, results):
            n = task.expected_results
            if result.status != 200:
                self._raise(frame, first_row, pos, n, result)
            if result.refused:
                raise BentoMLException(result.refused)
            parts.append(self._task_values(task, result.values))
            pos += n
        if pos != len(frame):  # an adapter whose tasks do not count every row
            raise BentoMLException(f"{self.api.input_adapter.input_type}.from_frame gave tasks for {pos} "
                                   f"rows of {len(frame)}")
        return _joined(parts)

    def _task_values(self, task: InferenceTask, value: Any) -> Any:
        if task.count is None:
            return [value.tolist() if hasattr(value, "tolist") else value]
        if not isinstance(value, list) and not hasattr(value, "ndim") or len(value) != task.count:
            raise BentoMLException(f"{self.api.output_adapter.output_type} answered {task.count} rows "
                                   "with something other than a list of as many results")
        return value

    def _raise(self, frame: Any, first_row: int, pos: int, n: int, result: Any) -> None:
        """Raise for the failed rows ``pos..pos+n-1`` of ``frame``: the first bad row when it can be found."""
        first, last = first_row + pos + 1, first_row + pos + n
        message = _error_message(result)
        if result.status >= 500:
            raise BatchFailed(f"{rows_text(first, last)}: {message}")
        if n > 1:  # which row? each alone, in order: the first refused one is the culprit
            for i in range(pos, pos + n):
                tasks, results = self._call(frame.iloc[i:i + 1])
                bad: Optional[InferenceResult] = next((r for r in results if r.status != 200), None)
                if bad is not None:
                    if bad.status >= 500:
                        raise BatchFailed(f"{rows_text(first_row + i + 1, first_row + i + 1)}: "
                                          f"{_error_message(bad)}")
                    raise BadInput(f"{rows_text(first_row + i + 1, first_row + i + 1)}: {_error_message(bad)}",
                                   bad.status)
        raise BadInput(f"{rows_text(first, last)}: {message}", result.status)
