"""``InputAdapterContract`` and ``OutputAdapterContract``: what every adapter plugin promises."""
from __future__ import annotations

import json
import pathlib
from typing import Any, ClassVar, List, Optional, Sequence, Tuple

import pytest

from bentoml.adapters import (HTTPRequest, InferenceResult, InferenceTask, InputAdapter, OutputAdapter,
                              ResultLengthMismatch)
from bentoml.exceptions import BentoMLException
from bentoml.testing.contracts.plugin import PluginContract


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def example_request(media_type: str, example: Any) -> HTTPRequest:
    """The request a client would send for a ``request_schema()`` example of ``media_type``.

    - ``bytes``: the body as is (binary uploads: ``image/*``, ``application/octet-stream``);
    - ``multipart/form-data`` with a dict: one part per key, ``bytes`` values as
      file uploads named after their field, other values as plain fields;
    - ``str`` for a non-JSON media type: the UTF-8 text (``text/plain``, ``text/csv``);
    - anything else: JSON.
    """
    from bentoml.multipart import MULTIPART_FORM_DATA, Part, encode_multipart

    headers = {"Content-Type": media_type}
    if isinstance(example, bytes):
        body = example
    elif media_type == MULTIPART_FORM_DATA and isinstance(example, dict):
        parts = [Part(name, value, filename=name) if isinstance(value, bytes)
                 else Part(name, (value if isinstance(value, str) else json.dumps(value)).encode("utf-8"))
                 for name, value in example.items()]
        headers["Content-Type"], body = encode_multipart(parts)
    elif isinstance(example, str) and not _is_json(media_type):
        body = example.encode("utf-8")
    else:
        body = json.dumps(example).encode("utf-8")
    return HTTPRequest(body, headers)


class InputAdapterContract(PluginContract):
    """Tests for an input adapter plugin.

    Set ``adapter`` (an instance), ``distribution``, ``good_requests`` (pairs of
    request and the task count it should parse to), ``bad_requests`` (each must
    fail with HTTP 400) and optionally ``batch_requests`` (good requests that
    batch together; defaults to ``good_requests``); implement ``check_batch``.
    Examples in ``request_schema()`` may be ``bytes`` (binary bodies) or, for
    ``multipart/form-data``, a dict of field values (see :func:`example_request`).
    """

    kind = "input_adapters"
    hook = "register_input_adapters"
    adapter: ClassVar[InputAdapter]
    good_requests: ClassVar[Sequence[Tuple[HTTPRequest, Optional[int]]]] = ()
    bad_requests: ClassVar[Sequence[HTTPRequest]] = ()
    batch_requests: ClassVar[Optional[Sequence[HTTPRequest]]] = None

    def check_batch(self, batch_value: Any, tasks: List[InferenceTask]) -> None:
        """Assert that ``batch_value`` is what the API function should get for ``tasks``."""
        raise NotImplementedError

    def registered(self, tmp_path: pathlib.Path) -> Tuple[str, type]:
        return type(self.adapter).__name__, type(self.adapter)

    def _parse_ok(self, request: HTTPRequest) -> InferenceTask:
        task = self.adapter.from_http_request(request)
        assert task.error is None, f"{request.body[:80]!r} failed: {task.error}"
        return task

    def _batch_tasks(self) -> List[InferenceTask]:
        requests = self.batch_requests
        if requests is None:
            requests = [r for r, _ in self.good_requests]
        assert len(requests) >= 2, "batch tests need at least two requests"
        return [self._parse_ok(r) for r in requests]

    def test_good_requests_parse(self) -> None:
        """Each good request parses into one task with the expected count."""
        assert self.good_requests
        for request, count in self.good_requests:
            assert self._parse_ok(request).count == count, request.body[:80]

    def test_bad_requests_fail_alone(self) -> None:
        """Each bad request yields a failed task (400, with a message) instead of raising."""
        assert self.bad_requests
        for request in self.bad_requests:
            task = self.adapter.from_http_request(request)
            assert task.error is not None, f"{request.body[:80]!r} was accepted"
            assert task.error.status == 400 and task.error.message.strip(), task.error

    def test_empty_body_is_400(self) -> None:
        """An empty body is a 400, whatever its content type."""
        headers = self.good_requests[0][0].headers
        task = self.adapter.from_http_request(HTTPRequest(b"", headers))
        assert task.error is not None and task.error.status == 400

    def test_batch_then_split(self) -> None:
        """Good tasks batch together, and a result of the total length splits back per task."""
        tasks = self._batch_tasks()
        self.check_batch(self.adapter.batch(tasks), tasks)
        total = sum(t.expected_results for t in tasks)
        shares = self.adapter.split(list(range(total)), tasks)
        assert len(shares) == len(tasks)
        for task, share in zip(tasks, shares):
            if task.count is None:
                assert isinstance(share, int)
            else:
                assert len(share) == task.count

    def test_split_rejects_wrong_length(self) -> None:
        """A result whose length is not the total count raises ResultLengthMismatch."""
        tasks = self._batch_tasks()
        total = sum(t.expected_results for t in tasks)
        with pytest.raises(ResultLengthMismatch):
            self.adapter.split(list(range(total + 1)), tasks)

    def example_request(self, media_type: str, example: Any) -> HTTPRequest:
        """How a ``request_schema()`` example becomes a request; see :func:`example_request`.

        Override it only for a media type that function cannot encode.
        """
        return example_request(media_type, example)

    def test_request_schema_examples_parse(self) -> None:
        """``request_schema()`` maps media types to a schema and an optional example; every example
        given parses (an adapter that cannot know a real request, such as ``DataframeInput`` without
        columns, shows none rather than a made-up one)."""
        schema = self.adapter.request_schema()
        assert isinstance(schema, dict) and schema
        for media_type, entry in schema.items():
            assert isinstance(media_type, str) and "/" in media_type, media_type
            assert isinstance(entry, dict) and "schema" in entry, media_type
            assert set(entry) <= {"schema", "example", "examples", "encoding"}, (media_type, sorted(entry))
            given = [entry["example"]] if "example" in entry else []
            given += [named["value"] for named in entry.get("examples", {}).values()]  # OpenAPI's named examples
            for example in given:
                self._parse_ok(self.example_request(media_type, example))

    def test_config_is_json_serializable(self) -> None:
        """``config`` survives a JSON round trip (it is stored in ``bentoml.yml``)."""
        config = self.adapter.config
        assert json.loads(json.dumps(config)) == config


class OutputAdapterContract(PluginContract):
    """Tests for an output adapter plugin.

    Set ``adapter`` (an instance), ``distribution`` and ``good_shares`` (what
    ``split`` may hand one task: a value, a list for a task of several
    results); implement ``check_result`` (the body decodes to the share).
    """

    kind = "output_adapters"
    hook = "register_output_adapters"
    adapter: ClassVar[OutputAdapter]
    good_shares: ClassVar[Sequence[Any]] = ()

    def check_result(self, share: Any, result: InferenceResult) -> None:
        """Assert that ``result`` answers ``share``."""
        raise NotImplementedError

    def registered(self, tmp_path: pathlib.Path) -> Tuple[str, type]:
        return type(self.adapter).__name__, type(self.adapter)

    def test_good_shares_answer_200(self) -> None:
        """Each share becomes a 200 result with bytes and a content type that ``check_result`` accepts."""
        assert self.good_shares
        for share in self.good_shares:
            result = self.adapter.to_result(share, InferenceTask(data=None))
            assert isinstance(result, InferenceResult) and result.status == 200, result
            assert isinstance(result.body, bytes) and result.content_type
            self.check_result(share, result)

    def test_response_schema_covers_its_results(self) -> None:
        """``response_schema()`` maps media types to schemas, including the one results are sent as."""
        schema = self.adapter.response_schema()
        assert isinstance(schema, dict) and schema
        assert all("schema" in entry for entry in schema.values())
        result = self.adapter.to_result(self.good_shares[0], InferenceTask(data=None))
        assert result.content_type.split(";")[0].strip() in schema

    def test_config_is_json_serializable(self) -> None:
        """``config`` survives a JSON round trip (it is stored in ``bentoml.yml``)."""
        config = self.adapter.config
        assert json.loads(json.dumps(config)) == config

    def test_values_are_what_the_json_body_holds(self) -> None:
        """``to_values`` (what a batch job writes) equals the decoded ``to_result`` body; a numeric
        array it gives stands for the same numbers; an answer that is not JSON is refused."""
        for share in self.good_shares:
            task = InferenceTask(data=None)
            result = self.adapter.to_result(share, task)
            if not _is_json(result.content_type.split(";")[0].strip()):
                with pytest.raises(BentoMLException, match="JSON"):
                    self.adapter.to_values(share, task)
                continue
            values = self.adapter.to_values(share, task)
            if type(values).__module__ == "numpy":
                import numpy as np

                assert values.ndim in (1, 2) and values.dtype.name in ("bool", "int64", "float64"), values.dtype
                assert values.dtype.kind != "f" or np.isfinite(values).all()
                values = values.tolist()
            assert values == json.loads(result.body), share
