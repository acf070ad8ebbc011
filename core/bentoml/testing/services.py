"""Services written as source text, the way a user's module is saved, for tests.

``service_module(source, "my_service", directory)`` writes ``my_service.py``
into ``directory``, imports it and yields the module; afterwards it is gone
from ``sys.modules`` and ``sys.path`` again, so a test can write another
version under the same name.  :func:`bentoml.testing.server.save_service_source`
saves such a service in one call.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import pathlib
import sys
from types import ModuleType
from typing import Iterator

#: Two services with nothing to pack (no artifact, no API): a bundle needs no plugin.
PLAIN_SERVICES = '''\
import bentoml


class ContractAlpha(bentoml.BentoService):
    """A service with nothing to pack."""


class ContractBeta(bentoml.BentoService):
    """A second one, to list bundles by name."""
'''


@contextlib.contextmanager
def service_module(source: str, module: str, directory: os.PathLike) -> Iterator[ModuleType]:
    """``source`` as the importable module ``module`` (a file in ``directory``) for the block."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{module}.py").write_text(source)
    sys.modules.pop(module, None)
    sys.path.insert(0, str(directory))
    importlib.invalidate_caches()
    try:
        yield importlib.import_module(module)
    finally:
        sys.path.remove(str(directory))
        sys.modules.pop(module, None)
