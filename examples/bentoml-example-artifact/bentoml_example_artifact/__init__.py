"""An example third-party plugin: ``NumpyArrayArtifact``.

A numpy array is a whole model for some users (the weights of a linear model,
an embedding table).  It is saved with ``numpy.save`` (``allow_pickle=False``:
a bundle never runs code when it loads) and loaded memory-mapped, so the
workers of a production server share one copy of the file's pages.

Once this distribution is installed::

    from bentoml.artifact import NumpyArrayArtifact

    @bentoml.artifacts([NumpyArrayArtifact("weights")])
    class LinearScorer(bentoml.BentoService):
        @bentoml.api(input=JsonInput())
        def score(self, rows):
            return numpy.asarray(rows) @ self.artifacts.weights
"""
from __future__ import annotations

import os
from typing import Any

from bentoml.artifact import BentoServiceArtifact
from bentoml.exceptions import InvalidArgument
from bentoml.hookspecs import hookimpl

__all__ = ["NumpyArrayArtifact"]


class NumpyArrayArtifact(BentoServiceArtifact):
    """A numpy array of numbers, stored as ``<name>.npy``.

    :param name: the artifact's name (``self.artifacts.<name>``).
    :param mmap: load the array memory-mapped and read-only (the default), so
        forked workers share it; ``False`` loads a private, writable copy.
    """

    requirement_imports = ("numpy",)  # the bundle pins the installed numpy
    fork_safe = True  # a memory map is plain data: load it once, before the fork
    thread_safe = True  # reading an array from several threads is safe

    def __init__(self, name: str, mmap: bool = True):
        super().__init__(name)
        self.mmap = mmap

    def _file(self, path: str) -> str:
        return os.path.join(path, self.name + ".npy")

    def _pack(self, obj: Any) -> Any:
        import numpy as np  # imported here: `import bentoml_example_artifact` stays cheap

        array = np.asarray(obj) if isinstance(obj, (list, tuple)) else obj
        if not isinstance(array, np.ndarray):
            raise InvalidArgument(
                f"NumpyArrayArtifact {self.name!r} packs a numpy.ndarray (or a list of numbers); "
                f"got {type(obj).__module__}.{type(obj).__qualname__}")
        if array.dtype.hasobject:
            raise InvalidArgument(
                f"NumpyArrayArtifact {self.name!r} packs numeric arrays; dtype {array.dtype} "
                "holds Python objects, which could only be saved with pickle")
        return array

    def _save(self, obj: Any, path: str) -> None:
        import numpy as np

        np.save(self._file(path), obj, allow_pickle=False)

    def _load(self, path: str) -> Any:
        import numpy as np

        return np.load(self._file(path), mmap_mode="r" if self.mmap else None, allow_pickle=False)


@hookimpl
def register_artifacts(register):
    """Make ``from bentoml.artifact import NumpyArrayArtifact`` work."""
    register(NumpyArrayArtifact)
