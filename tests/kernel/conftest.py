"""Shared helpers for the kernel tests: they run with ONLY the kernel installed.

Nothing here imports a plugin.  The tiny artifact and adapter the tests use are
plain source text (``TINY_COMPONENTS``) that a test writes into a service module
under ``tmp_path``; a service class cannot live in ``__main__`` or in a test
module that ``save`` could not find again, so ``service_module`` writes the file,
imports it through ``sys.path`` under a unique name, and undoes both afterwards.
"""
from __future__ import annotations

import importlib
import sys
import textwrap
import uuid
from types import ModuleType
from typing import Callable, Iterator

import pytest

#: A text artifact and a JSON input adapter, defined the way a plugin would.
TINY_COMPONENTS = '''
import json
import os

import bentoml
from bentoml.adapters import InferenceTask, InputAdapter
from bentoml.artifact import BentoServiceArtifact
from bentoml.exceptions import BadInput, InvalidArgument


class TextArtifact(BentoServiceArtifact):
    """Packs a str; saved as text.txt."""

    def _pack(self, obj):
        if not isinstance(obj, str):
            raise InvalidArgument(f"TextArtifact {self.name!r} packs a str, got {type(obj).__name__}")
        return obj

    def _save(self, obj, path):
        with open(os.path.join(path, "text.txt"), "w") as f:
            f.write(obj)

    def _load(self, path):
        with open(os.path.join(path, "text.txt")) as f:
            return f.read()


class EchoInput(InputAdapter):
    """One JSON value per request; the API receives a list of them."""

    def _parse_http(self, request):
        try:
            return InferenceTask(data=json.loads(request.text()))
        except json.JSONDecodeError as exc:
            raise BadInput(f"not valid JSON: {exc}") from None

    def _batch(self, tasks):
        return [t.data for t in tasks]

    def request_schema(self):
        return {"application/json": {"schema": {}}}
'''


@pytest.fixture
def service_module(tmp_path, monkeypatch) -> Iterator[Callable[..., ModuleType]]:
    """``service_module(body, prefix="svc")`` writes ``TINY_COMPONENTS + body`` and imports it.

    Each module gets a unique name and its own directory (so bundles copy only
    it); both leave ``sys.modules`` and ``sys.path`` when the test ends.
    """
    created = []

    def make(body: str = "", prefix: str = "svc", components: bool = True,
             files: dict | None = None) -> ModuleType:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        directory = tmp_path / f"src_{name}"
        directory.mkdir()
        for rel, text in (files or {}).items():
            (directory / rel).write_text(text)
        source = (TINY_COMPONENTS if components else "") + textwrap.dedent(body)
        (directory / f"{name}.py").write_text(source)
        sys.path.insert(0, str(directory))
        created.append((name, str(directory)))
        importlib.invalidate_caches()
        return importlib.import_module(name)

    yield make
    for name, directory in created:
        sys.modules.pop(name, None)
        if directory in sys.path:
            sys.path.remove(directory)


#: A service using the tiny components: one text artifact, one API echoing it.
TEXT_SERVICE = '''
@bentoml.env(pip_dependencies=["requests>=2"])
@bentoml.artifacts([TextArtifact("greeting")])
class Greeter(bentoml.BentoService):

    @bentoml.api(input=EchoInput(), mb_max_batch_size=8)
    def greet(self, names):
        """Greets each name."""
        return [f"{self.artifacts.greeting}, {n}" for n in names]
'''


@pytest.fixture
def greeter_module(service_module) -> ModuleType:
    """A fresh module holding ``Greeter`` (``TEXT_SERVICE``)."""
    return service_module(TEXT_SERVICE, prefix="greeter")


@pytest.fixture
def tiny(service_module) -> ModuleType:
    """A module with only the tiny components (``TextArtifact``, ``EchoInput``)."""
    return service_module("", prefix="tiny")
