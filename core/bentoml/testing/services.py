"""Services written as source text, the way a user's module is saved, for tests.

``service_module(source, "my_service", directory)`` writes ``my_service.py``
into ``directory``, imports it and yields the module; afterwards it is gone
from ``sys.modules`` and ``sys.path`` again, so a test can write another
version under the same name.  :func:`bentoml.testing.server.save_service_source`
saves such a service in one call; :func:`import_from_dir` is the fresh import
underneath, for tests that write the files themselves.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import pathlib
import sys
from types import ModuleType
from typing import Iterator

#: The spec's minimal BentoService ("Core Concepts", first code block), verbatim.
IRIS_CLASSIFIER_SOURCE = '''\
import bentoml
from bentoml.adapters import DataframeInput
from bentoml.artifact import SklearnModelArtifact

@bentoml.env(auto_pip_dependencies=True)
@bentoml.artifacts([SklearnModelArtifact('model')])
class IrisClassifier(bentoml.BentoService):

    @bentoml.api(input=DataframeInput())
    def predict(self, df):
        return self.artifacts.model.predict(df)
'''

#: Two services with nothing to pack (no artifact, no API): a bundle needs no plugin.
PLAIN_SERVICES = '''\
import bentoml


class ContractAlpha(bentoml.BentoService):
    """A service with nothing to pack."""


class ContractBeta(bentoml.BentoService):
    """A second one, to list bundles by name."""
'''


def import_from_dir(directory: os.PathLike, module: str) -> ModuleType:
    """A fresh import of ``module`` from ``directory``; ``sys.path`` is as before afterwards
    (the module stays in ``sys.modules`` until the caller pops it)."""
    sys.modules.pop(module, None)
    sys.path.insert(0, str(directory))
    importlib.invalidate_caches()
    try:
        return importlib.import_module(module)
    finally:
        sys.path.remove(str(directory))


@contextlib.contextmanager
def service_module(source: str, module: str, directory: os.PathLike) -> Iterator[ModuleType]:
    """``source`` as the importable module ``module`` (a file in ``directory``) for the block."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{module}.py").write_text(source)
    try:
        yield import_from_dir(directory, module)
    finally:
        sys.modules.pop(module, None)
