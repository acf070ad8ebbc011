"""Any picklable Python object as a BentoML artifact, stored with cloudpickle.

cloudpickle serializes by value what the standard pickle stores by reference
(functions and classes defined in ``__main__`` or a notebook), so a model built
interactively still loads inside a bundle.  It is imported only on save/load.
"""
from __future__ import annotations

import os
import pickle
from typing import Any

from bentoml.artifact import BentoServiceArtifact
from bentoml.exceptions import InvalidArgument
from bentoml.hookspecs import hookimpl

__all__ = ["PickleArtifact"]


class PickleArtifact(BentoServiceArtifact):
    """Any picklable object (a model, a tokenizer, a lookup table), saved as ``<name>.pkl``.

    ::

        @bentoml.artifacts([PickleArtifact("clf")])
        class IrisClassifier(bentoml.BentoService):
            ...

    Loading a bundle unpickles this file: load only bundles you trust.

    :param name: the artifact's name (``self.artifacts.<name>``).
    :param pickle_extension: extension of the saved file.
    """

    requirement_imports = ("cloudpickle",)
    fork_safe = True

    def __init__(self, name: str, pickle_extension: str = ".pkl"):
        super().__init__(name)
        if not isinstance(pickle_extension, str) or not pickle_extension.startswith("."):
            raise InvalidArgument(
                f"PickleArtifact(pickle_extension=...) must start with '.', got {pickle_extension!r}")
        self.pickle_extension = pickle_extension

    def _file(self, path: str) -> str:
        return os.path.join(path, self.name + self.pickle_extension)

    def _save(self, obj: Any, path: str) -> None:
        import cloudpickle

        try:
            with open(self._file(path), "wb") as f:
                cloudpickle.dump(obj, f)
        except (TypeError, AttributeError, RecursionError, pickle.PicklingError) as exc:
            raise InvalidArgument(
                f"PickleArtifact {self.name!r} cannot pickle its {type(obj).__name__}: {exc}") from exc

    def _load(self, path: str) -> Any:
        import cloudpickle

        with open(self._file(path), "rb") as f:
            return cloudpickle.load(f)


@hookimpl
def register_artifacts(register):
    # where BentoML 0.9-0.13 kept it (common), and its own module in 0.9's sources (pickle)
    register(PickleArtifact, legacy_paths=("bentoml.service.artifacts.common", "bentoml.service.artifacts.pickle"))
