"""Contract test classes: each plugin's tests subclass one and fill in a few hooks.

pytest collects the subclass (name it ``Test...``) and runs every ``test_``
method below against the plugin, so all artifacts, adapters and storage
backends are held to the same promises.  Override a test only to skip it with
a reason, never to weaken it.
"""
from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys
from typing import Any, ClassVar, Dict, List, Optional, Sequence, Tuple

import importlib_metadata
import pytest

from bentoml.adapters import HTTPRequest, InferenceTask, InputAdapter, ResultLengthMismatch
from bentoml.artifact import BentoServiceArtifact
from bentoml.exceptions import ArtifactNotPacked, InvalidArgument, RepositoryError
from bentoml.hookspecs import NAME
from bentoml.plugins import PluginRegistry
from bentoml.repository.storage import StorageBackend


def _canonical(name: str) -> str:
    """PEP 503 normalized distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


class _PluginContract:
    """What every plugin promises: an installed entry point, a registry entry, a cheap import."""

    #: The distribution (folder) name, e.g. ``"bentoml-sklearn"``.
    distribution: ClassVar[str]
    #: A heavy module that importing the plugin must not import (``"sklearn"``), or None.
    framework_module: ClassVar[Optional[str]] = None
    #: The registry kind of what the plugin provides (set by each contract).
    kind: ClassVar[str]

    def registered(self, tmp_path: pathlib.Path) -> Tuple[str, type]:
        """The name the plugin registers and the class it should resolve to."""
        raise NotImplementedError

    def test_entry_point_is_installed(self) -> None:
        """The distribution is installed and declares an entry point in group ``bentoml``."""
        eps = [ep for ep in importlib_metadata.entry_points(group=NAME)
               if ep.dist is not None and _canonical(ep.dist.name) == _canonical(self.distribution)]
        assert eps, f"{self.distribution} declares no entry point in group {NAME!r}; is it installed?"

    def test_registry_resolves_name(self, plugin_registry: PluginRegistry, tmp_path: pathlib.Path) -> None:
        """A fresh registry maps the registered name to the class, provided by this distribution."""
        name, cls = self.registered(tmp_path)
        reg = plugin_registry.lookup(self.kind, name)
        assert reg.obj is cls
        assert _canonical(reg.distribution) == _canonical(self.distribution)

    def test_import_does_not_import_framework(self, tmp_path: pathlib.Path) -> None:
        """Importing the plugin package in a fresh interpreter leaves the framework unimported."""
        if not self.framework_module:
            pytest.skip("no framework_module declared")
        _, cls = self.registered(tmp_path)
        package = cls.__module__.split(".")[0]
        code = f"import sys, {package}; print({self.framework_module!r} in sys.modules)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "False", (
            f"importing {package} imported {self.framework_module}; move that import into the methods using it")


class ArtifactContract(_PluginContract):
    """Tests for an artifact plugin.

    Set ``artifact_class``, ``distribution`` and ``framework_module``; implement
    ``make_model``, ``sample_input`` and ``predict``.  Override ``wrong_object``
    (and set ``expected_type``, a word the error must contain) or make it call
    ``pytest.skip`` when the artifact packs anything.
    """

    kind = "artifacts"
    artifact_class: ClassVar[type]
    #: Text that the InvalidArgument for a wrong object must contain, e.g. "BaseEstimator".
    expected_type: ClassVar[Optional[str]] = None

    def make_model(self) -> Any:
        raise NotImplementedError

    def sample_input(self) -> Any:
        raise NotImplementedError

    def predict(self, model: Any, x: Any) -> Any:
        raise NotImplementedError

    def wrong_object(self) -> Any:
        """An object the artifact must refuse to pack."""
        return object()

    def make_artifact(self, name: str = "model") -> BentoServiceArtifact:
        return self.artifact_class(name)

    def assert_same_predictions(self, expected: Any, actual: Any) -> None:
        if hasattr(expected, "tolist"):
            expected, actual = expected.tolist(), actual.tolist()
        assert actual == expected

    def registered(self, tmp_path: pathlib.Path) -> Tuple[str, type]:
        return self.artifact_class.__name__, self.artifact_class

    def test_save_load_round_trip(self, tmp_path: pathlib.Path) -> None:
        """pack -> save -> load into a fresh declaration gives the same type and predictions."""
        model = self.make_model()
        self.make_artifact().pack(model).save(str(tmp_path))
        assert any((tmp_path / "model").iterdir()), "save wrote no files"
        loaded = self.make_artifact().load(str(tmp_path)).get()
        assert type(loaded) is type(model)
        x = self.sample_input()
        self.assert_same_predictions(self.predict(model, x), self.predict(loaded, x))

    def test_pack_wrong_object_names_expected_type(self) -> None:
        """Packing an unsuitable object raises InvalidArgument naming what was expected."""
        wrong = self.wrong_object()
        with pytest.raises(InvalidArgument) as info:
            self.make_artifact().pack(wrong)
        if self.expected_type:
            assert self.expected_type in str(info.value)

    def test_use_before_pack_raises(self, tmp_path: pathlib.Path) -> None:
        """``get()`` and ``save()`` before ``pack()`` raise ArtifactNotPacked."""
        artifact = self.make_artifact()
        with pytest.raises(ArtifactNotPacked):
            artifact.get()
        with pytest.raises(ArtifactNotPacked):
            artifact.save(str(tmp_path))

    def test_requirement_imports_are_installed(self) -> None:
        """Each name in ``requirement_imports`` maps to an installed distribution."""
        assert self.artifact_class.requirement_imports, "an artifact declares what a bundle must pin"
        known = importlib_metadata.packages_distributions()
        missing = [m for m in self.artifact_class.requirement_imports if m not in known]
        assert not missing, f"no installed distribution provides {missing}"


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


class InputAdapterContract(_PluginContract):
    """Tests for an input adapter plugin.

    Set ``adapter`` (an instance), ``distribution``, ``good_requests`` (pairs of
    request and the task count it should parse to), ``bad_requests`` (each must
    fail with HTTP 400) and optionally ``batch_requests`` (good requests that
    batch together; defaults to ``good_requests``); implement ``check_batch``.
    Examples in ``request_schema()`` may be ``bytes`` (binary bodies) or, for
    ``multipart/form-data``, a dict of field values (see :func:`example_request`).
    """

    kind = "input_adapters"
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
        """``request_schema()`` maps media types to schema + example, and each example parses."""
        schema = self.adapter.request_schema()
        assert isinstance(schema, dict) and schema
        for media_type, entry in schema.items():
            assert {"schema", "example"} <= set(entry), media_type
            self._parse_ok(self.example_request(media_type, entry["example"]))

    def test_config_is_json_serializable(self) -> None:
        """``config`` survives a JSON round trip (it is stored in ``bentoml.yml``)."""
        config = self.adapter.config
        assert json.loads(json.dumps(config)) == config


def _write_tree(root: pathlib.Path) -> Dict[str, bytes]:
    files = {
        "bentoml.yml": b"name: Svc\nversion: 20240101000000_ABCDEF\n",
        "Svc/__init__.py": b"",
        "Svc/artifacts/model/model.pkl": bytes(range(256)) * 64,
        "deep/er/and/deeper.txt": "über\n".encode("utf-8"),
    }
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def _read_tree(root: pathlib.Path) -> Dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


class StorageBackendContract(_PluginContract):
    """Tests for a storage backend plugin.

    Set ``scheme`` and ``distribution``; implement ``make_backend(tmp_path)``
    returning a backend bound to an empty base URL.
    """

    kind = "storage_backends"
    scheme: ClassVar[str]
    name, version = "Svc", "20240101000000_ABCDEF"

    def make_backend(self, tmp_path: pathlib.Path) -> StorageBackend:
        raise NotImplementedError

    def registered(self, tmp_path: pathlib.Path) -> Tuple[str, type]:
        return self.scheme, type(self.make_backend(tmp_path))

    def _stored(self, tmp_path: pathlib.Path):
        backend = self.make_backend(tmp_path)
        src = tmp_path / "src"
        files = _write_tree(src)
        return backend, backend.put_dir(str(src), self.name, self.version), files

    def test_put_then_get_round_trip(self, tmp_path: pathlib.Path) -> None:
        """put_dir stores a tree (nested dirs, binary, empty files) that get_dir brings back intact."""
        backend, uri, files = self._stored(tmp_path)
        assert backend.exists(uri)
        backend.get_dir(uri, str(tmp_path / "out"))
        assert _read_tree(tmp_path / "out") == files

    def test_local_path_holds_files(self, tmp_path: pathlib.Path) -> None:
        """When the backend offers a local path, it holds the same files."""
        backend, uri, files = self._stored(tmp_path)
        local = backend.local_path(uri)
        if local is None:
            pytest.skip("backend has no local path")
        assert _read_tree(pathlib.Path(local)) == files

    def test_delete(self, tmp_path: pathlib.Path) -> None:
        """delete removes the bundle; deleting it again is not an error."""
        backend, uri, _ = self._stored(tmp_path)
        backend.delete(uri)
        assert not backend.exists(uri)
        backend.delete(uri)

    def test_get_dir_refuses_non_empty_target(self, tmp_path: pathlib.Path) -> None:
        """get_dir into a non-empty directory raises RepositoryError and leaves it alone."""
        backend, uri, _ = self._stored(tmp_path)
        target = tmp_path / "busy"
        target.mkdir()
        (target / "mine.txt").write_text("keep")
        with pytest.raises(RepositoryError):
            backend.get_dir(uri, str(target))
        assert _read_tree(target) == {"mine.txt": b"keep"}

    def test_put_dir_never_overwrites(self, tmp_path: pathlib.Path) -> None:
        """A second put_dir to the same name and version raises RepositoryError; the first stays."""
        backend, uri, files = self._stored(tmp_path)
        other = tmp_path / "other"
        other.mkdir()
        (other / "bentoml.yml").write_text("different")
        with pytest.raises(RepositoryError):
            backend.put_dir(str(other), self.name, self.version)
        backend.get_dir(uri, str(tmp_path / "out"))
        assert _read_tree(tmp_path / "out") == files
