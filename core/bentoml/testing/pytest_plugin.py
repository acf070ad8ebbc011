"""pytest fixtures for the kernel and its plugins (registered through ``pytest11``).

- ``plugin_registry``: a fresh :class:`~bentoml.plugins.PluginRegistry` that
  loads the installed entry points, swapped in as the process-wide registry;
- ``empty_plugin_registry``: the same without entry points (only the kernel's
  built-ins), for registering test plugins by hand;
- ``bentoml_home``: a temporary ``$BENTOML_HOME`` with no cached repository;
- ``start_server``: ``start_server(*cli_args, env=None)`` starts a
  :class:`bentoml.testing.server.Server` (session scope; all stopped at the end);
- ``write_service``: ``write_service(source, module, files={...})`` writes a
  service module, and files next to it, into a fresh directory and imports it,
  as a user's module is imported.

Each restores what it replaced when the test ends.
"""
from __future__ import annotations

import itertools
import os
import pathlib
import sys
import textwrap
from typing import TYPE_CHECKING
from typing import Callable, Dict, Iterator, List, Mapping, Optional, Set, Union

import pytest

from bentoml.plugins import PluginRegistry, set_registry

if TYPE_CHECKING:
    from bentoml.testing.server import Server


def _swap_registry(registry: PluginRegistry) -> Iterator[PluginRegistry]:
    old = set_registry(registry)
    try:
        yield registry
    finally:
        set_registry(old)


@pytest.fixture
def plugin_registry() -> Iterator[PluginRegistry]:
    """A fresh registry that loads the installed plugins, used process-wide during the test."""
    yield from _swap_registry(PluginRegistry())


@pytest.fixture
def empty_plugin_registry() -> Iterator[PluginRegistry]:
    """A fresh registry with only the kernel's built-ins; add plugins with ``.register(...)``."""
    yield from _swap_registry(PluginRegistry(load_entry_points=False))


def _reset_repository() -> None:
    import bentoml.repository

    reset = getattr(bentoml.repository, "reset_repository", None)
    if reset is not None:
        reset()


@pytest.fixture
def bentoml_home(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[pathlib.Path]:
    """A temporary ``$BENTOML_HOME`` (not yet created), with the cached repository reset.

    Configuration from the environment (``BENTOML__SECTION__KEY``, ``BENTOML_CACHE_DIR``)
    is removed for the test: a developer's team server never leaks into it.
    """
    home = tmp_path / "bentoml_home"
    monkeypatch.setenv("BENTOML_HOME", str(home))
    for var in [v for v in os.environ if v.startswith("BENTOML__") or v in ("BENTOML_CACHE_DIR", "BENTOML_YATAI_TOKEN")]:
        monkeypatch.delenv(var)
    _reset_repository()
    try:
        yield home
    finally:
        # monkeypatch restores the variable after this; drop what was built on it now.
        _reset_repository()


@pytest.fixture(scope="session")
def start_server() -> Iterator[Callable[..., "Server"]]:
    """``start_server("serve-gunicorn", bundle, "--port", "0", env=None)``: a started server."""
    from bentoml.testing.server import Server

    started: List[Server] = []

    def start(*args: str, env: Optional[Mapping[str, str]] = None, **kwargs) -> Server:
        server = Server(args, env=env, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


_service_dirs = itertools.count()


@pytest.fixture
def write_service(tmp_path: pathlib.Path) -> Iterator[Callable]:
    """``write_service(source, module, files={"lib/util.py": "...", "data.bin": b"..."})``:
    write ``<module>.py`` (dedented) and ``files`` (text is dedented, bytes written as they
    are) into a fresh directory under ``tmp_path``, import the module and return it.

    The module and the ``.py`` files given leave ``sys.modules`` when the test ends, so
    a test can write another version under the same name.
    """
    from bentoml.testing.services import import_from_dir

    names: Set[str] = set()

    def write(source: str, module: str, files: Optional[Dict[str, Union[str, bytes]]] = None):
        directory = tmp_path / f"src{next(_service_dirs)}"
        directory.mkdir()
        for rel, content in (files or {}).items():
            path = directory / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(str(content)))
            if rel.endswith(".py"):
                names.add(rel[:-3].replace("/", "."))
        (directory / f"{module}.py").write_text(textwrap.dedent(source))
        names.add(module)
        for name in names:
            sys.modules.pop(name, None)
        return import_from_dir(directory, module)

    yield write
    for name in names:
        sys.modules.pop(name, None)
